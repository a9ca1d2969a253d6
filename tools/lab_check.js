// Page-side helpers of tools/lab_check.py, injected into a Jupyter front end's page.
// `window.__labcheck` is (re)defined with the selectors of the front end (FRONT_END is
// replaced by a JSON object before injection). Nothing here changes the notebook: it
// reads the DOM, records timestamps and finds the controls the driver then moves with
// real keyboard and mouse events (DevTools Input.*).
(function (FE) {
  "use strict";
  const lc = window.__labcheck = window.__labcheck || {inputs: [], status: [], observers: []};
  lc.fe = FE;

  if (!lc.listening) {  // the times of the user's input events (the start of a redraw)
    for (const type of ["keydown", "mousedown", "input", "change"]) {
      window.addEventListener(type, function (e) { lc.inputs.push(e.timeStamp); }, true);
    }
    lc.listening = true;
  }

  lc.kernelStatus = function () {  // "busy", "idle" or what the front end shows
    const el = document.querySelector(FE.kernel_status);
    if (!el) { return "unknown"; }
    const text = (el.className + " " + el.textContent).toLowerCase();
    return /busy/.test(text) ? "busy" : (/idle/.test(text) ? "idle" : text.trim());
  };
  if (!lc.statusTimer) {  // record busy/idle transitions as they happen
    lc.statusTimer = setInterval(function () {
      const now = lc.kernelStatus();
      const last = lc.status.length ? lc.status[lc.status.length - 1][1] : null;
      if (now !== last) { lc.status.push([performance.now(), now]); }
    }, 10);
  }

  function cells() { return Array.from(document.querySelectorAll(FE.cell)); }

  function digest(bytes) {  // FNV-1a over the bytes: tells two pictures apart
    let h = 0x811c9dc5;
    for (let k = 0; k < bytes.length; k++) { h = Math.imul(h ^ bytes[k], 0x01000193); }
    return bytes.length + ":" + (h >>> 0).toString(16);
  }

  lc.cellSummary = function () {  // per cell: prompt, outputs, stderr, widget views
    return cells().map(function (cell, index) {
      const prompt = cell.querySelector(FE.prompt);
      const outputs = cell.querySelectorAll(FE.output);
      const widgets = Array.from(outputs).filter(function (o) {
        return o.querySelector(".jupyter-widgets");
      });
      return {
        index: index,
        code: cell.matches(FE.code_cell),
        prompt: prompt ? prompt.textContent.trim() : "",
        outputs: outputs.length,
        images: Array.from(outputs).reduce(function (n, o) {
          return n + o.querySelectorAll("img").length; }, 0),
        widget_views: widgets.length,
        stderr: Array.from(cell.querySelectorAll(FE.stderr)).map(function (e) {
          return e.textContent.trim().slice(0, 800); }),
      };
    });
  };

  lc.pageErrors = function () {  // errors a learner sees on the page
    const found = [];
    document.querySelectorAll(".jupyter-widgets-error-widget").forEach(function (e) {
      found.push("widget error box: " + e.textContent.trim().slice(0, 200));
    });
    const text = document.body.innerText;
    for (const marker of ["Error displaying widget", "A Jupyter widget could not be displayed",
                          "Error rendering output item"]) {
      if (text.indexOf(marker) >= 0) { found.push("page shows: " + marker); }
    }
    for (const [sel, what] of FE.extra_error_selectors) {
      document.querySelectorAll(sel).forEach(function (e) {
        if (e.offsetParent !== null) { found.push(what + ": " + e.textContent.trim().slice(0, 200)); }
      });
    }
    return found;
  };

  function isRed(el) {
    const m = getComputedStyle(el).color.match(/\d+(\.\d+)?/g);
    return m && +m[0] >= 150 && +m[1] < 100 && +m[2] < 100;
  }

  function label(container) {
    const l = container.querySelector(".widget-label");
    return l && l.textContent.trim() ? l.textContent.trim() : "";
  }

  function describeControls(root) {  // the controls a learner can move, in page order
    const found = [];
    root.querySelectorAll(".widget-slider").forEach(function (c) {
      const handle = c.querySelector(".noUi-handle, .ui-slider-handle");
      const readout = c.querySelector(".widget-readout");
      if (handle) { found.push({kind: "slider", el: c, target: handle, label: label(c),
                                value: function () { return readout ? readout.textContent.trim() : ""; }}); }
    });
    root.querySelectorAll(".widget-dropdown select, .widget-select select").forEach(function (s) {
      found.push({kind: "dropdown", el: s.parentElement, target: s, label: label(s.parentElement),
                  value: function () { return s.value; },
                  options: Array.from(s.options).map(function (o) { return o.value; })});
    });
    root.querySelectorAll(".widget-text input, .widget-textarea textarea").forEach(function (i) {
      found.push({kind: "text", el: i.parentElement, target: i, label: label(i.parentElement),
                  value: function () { return i.value; }});
    });
    root.querySelectorAll(".widget-toggle-buttons").forEach(function (g) {
      found.push({kind: "toggle_buttons", el: g, target: g, label: label(g),
                  value: function () {
                    const on = g.querySelector("button.mod-active");
                    return on ? on.textContent.trim() : ""; }});
    });
    root.querySelectorAll(".widget-checkbox input[type=checkbox]").forEach(function (i) {
      found.push({kind: "checkbox", el: i.parentElement, target: i, label: label(i.parentElement),
                  value: function () { return String(i.checked); }});
    });
    root.querySelectorAll("button.widget-toggle-button").forEach(function (b) {
      if (b.closest(".widget-toggle-buttons")) { return; }  // one of a ToggleButtons group
      found.push({kind: "toggle_button", el: b, target: b, label: b.textContent.trim(),
                  value: function () { return String(b.classList.contains("mod-active")); }});
    });
    found.sort(function (a, b) {  // page order
      return a.el.compareDocumentPosition(b.el) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
    });
    const seen = {};
    found.forEach(function (c) {  // a name per control: kind, label, and a number if repeated
      const base = c.kind + (c.label ? " '" + c.label + "'" : "");
      seen[base] = (seen[base] || 0) + 1;
      c.name = base + (c.label ? "" : " #" + seen[base]);
    });
    found.forEach(function (c) {
      const same = found.filter(function (o) { return o.name === c.name; });
      if (c.label && same.length > 1) { c.name += " #" + (same.indexOf(c) + 1); }
    });
    return found;
  }

  // Every widget view on the page (a widget output of a cell) and what it holds.
  lc.findExplorers = function () {
    lc.explorers = [];
    lc.observers.forEach(function (o) { o.disconnect(); });
    lc.observers = [];
    cells().forEach(function (cell, cellIndex) {
      cell.querySelectorAll(FE.output).forEach(function (out) {
        const root = out.querySelector(".jupyter-widgets");
        if (!root) { return; }
        const explorer = {root: root, cell: cellIndex, output: out, mutations: [], loads: []};
        const observer = new MutationObserver(function (records) {
          const now = performance.now();
          records.forEach(function (r) {
            const el = r.target;
            if (r.type === "attributes" && el.tagName === "IMG") { explorer.mutations.push(now); }
            if (r.type === "childList") {
              r.addedNodes.forEach(function (n) {
                if (n.tagName === "IMG" || (n.querySelector && n.querySelector("img"))) {
                  explorer.mutations.push(now);
                }
              });
            }
          });
        });
        observer.observe(root, {attributes: true, attributeFilter: ["src"], childList: true,
                                subtree: true});
        root.addEventListener("load", function (e) {
          if (e.target.tagName === "IMG") { explorer.loads.push(performance.now()); }
        }, true);
        lc.observers.push(observer);
        lc.explorers.push(explorer);
      });
    });
    return lc.explorers.map(function (e, i) { return lc.describe(i); });
  };

  lc.describe = function (i) {
    const e = lc.explorers[i];
    const r = e.root.getBoundingClientRect();
    return {
      index: i, cell: e.cell,
      controls: describeControls(e.root).map(function (c) {
        const box = c.el.getBoundingClientRect();
        return {name: c.name, kind: c.kind, label: c.label, value: c.value(),
                options: c.options || null, width: Math.round(box.width),
                visible: box.width > 0 && box.height > 0};
      }),
      images: e.root.querySelectorAll("img").length,
      image_sizes: Array.from(e.root.querySelectorAll("img")).map(function (im) {
        return [im.naturalWidth, im.naturalHeight, Math.round(im.getBoundingClientRect().width)];
      }),
      width: Math.round(r.width), height: Math.round(r.height),
      output_width: Math.round(e.output.getBoundingClientRect().width),
      clipped: lc.clipped(i),
      // labels cut off with an ellipsis (a description longer than its box)
      cut_labels: Array.from(e.root.querySelectorAll(".widget-label")).filter(function (l) {
        return l.offsetParent !== null && l.scrollWidth > l.clientWidth + 1;
      }).map(function (l) { return l.textContent.trim(); }),
      status_errors: Array.from(e.root.querySelectorAll(".widget-html, .widget-html-content, .widget-label"))
        .filter(function (h) { return h.textContent.trim() && isRed(h); })
        .map(function (h) { return h.textContent.trim().slice(0, 300); })
        .concat(Array.from(e.root.querySelectorAll(".widget-html span, .widget-html div"))
          .filter(function (h) { return h.textContent.trim() && isRed(h); })
          .map(function (h) { return h.textContent.trim().slice(0, 300); }))
        .filter(function (v, k, all) { return all.indexOf(v) === k; }),
    };
  };

  // Controls whose box sticks out of the output area (a learner cannot see or reach them).
  lc.clipped = function (i) {
    const e = lc.explorers[i];
    const area = e.output.getBoundingClientRect();
    return describeControls(e.root).filter(function (c) {
      const b = c.el.getBoundingClientRect();
      return b.right > area.right + 1 || b.left < area.left - 1 || b.width === 0;
    }).map(function (c) { return c.name; });
  };

  lc.pictureDigest = async function (i) {  // digest of the bytes of every picture
    const imgs = Array.from(lc.explorers[i].root.querySelectorAll("img"));
    const parts = [];
    for (const img of imgs) {
      try {
        const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
        parts.push(digest(bytes));
      } catch (err) {
        parts.push("unreadable:" + img.src.slice(0, 40));
      }
    }
    return parts.join("|");
  };

  function control(i, name) {
    const found = describeControls(lc.explorers[i].root).filter(function (c) { return c.name === name; });
    if (!found.length) { throw new Error("no control " + name + " in explorer " + i); }
    return found[0];
  }

  lc.controlValue = function (i, name) { return control(i, name).value(); };

  function scroller(el) {  // the element that scrolls the notebook
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (/(auto|scroll)/.test(getComputedStyle(p).overflowY) && p.scrollHeight > p.clientHeight) {
        return p;
      }
    }
    return document.scrollingElement;
  }

  // Scroll a control (or the explorer) into view; "start": its top a little below the
  // top of the notebook's view, so that the cell's prompt shows too.
  lc.scrollTo = function (i, name, block) {
    const el = name ? control(i, name).target : lc.explorers[i].root;
    el.scrollIntoView({block: block || "center", inline: "nearest"});
    if (block === "start") { scroller(el).scrollBy(0, -40); }
    return true;
  };

  // Prepare a move: focus the control (keyboard) and return the point to click (mouse).
  lc.prepare = function (i, name, focus) {
    const c = control(i, name);
    c.target.scrollIntoView({block: "center", inline: "nearest"});
    if (focus) { c.target.focus(); }
    let target = c.target;
    if (c.kind === "toggle_buttons") {  // the first button that is not active
      target = Array.from(c.target.querySelectorAll("button")).filter(function (b) {
        return !b.classList.contains("mod-active"); })[0] || c.target;
    }
    const r = target.getBoundingClientRect();
    const now = target.getAttribute("aria-valuenow"), max = target.getAttribute("aria-valuemax");
    return {x: r.left + r.width / 2, y: r.top + r.height / 2,
            at_max: now !== null && max !== null && +now >= +max,
            focused: document.activeElement === c.target, value: c.value(),
            index: c.options ? c.options.indexOf(c.value()) : null,
            count: c.options ? c.options.length : null};
  };

  lc.mark = function (i) {  // forget earlier events; the move starts now
    if (document.visibilityState !== "visible") {  // timers of hidden pages are throttled
      throw new Error("the page is hidden (" + document.visibilityState + ")");
    }
    const e = lc.explorers[i];
    e.mutations = [];
    e.loads = [];
    lc.inputs = [];
    lc.status = [[performance.now(), lc.kernelStatus()]];
    return performance.now();
  };

  // Resolve when the redraw of a move has settled: after the kernel went back to idle and
  // no picture changed for `quiet` ms; or when nothing happened `react` ms after the input;
  // or after `timeout` ms.
  lc.waitMove = function (i, since, quiet, react, timeout) {
    const e = lc.explorers[i];
    return new Promise(function (resolve) {
      const started = performance.now();
      const timer = setInterval(function () {
        const now = performance.now();
        const inputs = lc.inputs.filter(function (t) { return t >= since - 1; });
        const lastInput = inputs.length ? inputs[inputs.length - 1] : since;
        const busy = lc.status.some(function (s) { return s[0] >= since && s[1] === "busy"; });
        const idle = lc.kernelStatus() !== "busy";
        const lastEvent = Math.max(lastInput, e.mutations.length ? e.mutations[e.mutations.length - 1] : 0,
          lc.status.length ? lc.status[lc.status.length - 1][0] : 0);
        const reacted = e.mutations.length > 0 || busy;
        const settled = reacted && idle && now - lastEvent >= quiet;
        const silent = !reacted && now - lastInput >= react;
        if (settled || silent || now - started >= timeout) {
          clearInterval(timer);
          const first = e.mutations.length ? e.mutations[0] : null;
          const before = inputs.filter(function (t) { return first === null || t <= first; });
          const input = before.length ? before[before.length - 1] : lastInput;
          const load = first === null ? null : e.loads.filter(function (t) { return t >= first; })[0];
          resolve({redraws: e.mutations.length,
                   redraw_ms: first === null ? null : +(first - input).toFixed(1),
                   loaded_ms: load === undefined || load === null ? null : +(load - input).toFixed(1),
                   kernel_busy_seen: busy, timed_out: !(settled || silent),
                   waited_ms: Math.round(now - since)});
        }
      }, 5);
    });
  };
  // One round trip per half move: prepare + mark (+ the picture before) ...
  lc.begin = async function (i, name, focus) {
    const prep = lc.prepare(i, name, focus);
    prep.picture = await lc.pictureDigest(i);
    prep.since = lc.mark(i);
    return prep;
  };
  // ... and wait + the control's value + the picture after.
  lc.finish = async function (i, name, since, quiet, react, timeout) {
    const result = await lc.waitMove(i, since, quiet, react, timeout);
    result.value = lc.controlValue(i, name);
    result.picture = await lc.pictureDigest(i);
    result.status_errors = lc.describe(i).status_errors;
    return result;
  };
  return true;
})(FRONT_END);
