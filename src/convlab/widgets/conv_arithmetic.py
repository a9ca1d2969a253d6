"""Chapter 2's conv-arithmetic explorers: where the kernel window goes, and how many times.

In the spirit of Dumoulin & Visin's figures, for one spatial dimension setting
``input_size``, ``kernel_size``, ``stride``, ``padding`` and ``dilation``:

- :func:`render_conv_arithmetic` draws the padded input grid (padding dashed), the
  dilated window of one output position (``step``) and the output grid; with
  ``step=None``, how many windows read each input pixel (the coverage map);
- :func:`conv_arithmetic_explorer` is the live widget over it (Jupyter, Colab);
- :func:`conv_arithmetic_page_explorer` is the website's explorer: a few lines of
  inline JavaScript compute the output size and draw, along one dimension, which
  padded-input cells every output reads, for every setting in :data:`LIMITS`; a
  setting that PyTorch rejects shows the error text ``F.conv1d`` raises for it.
  ``tests/site/test_arithmetic_explorer.py`` drives it in Chromium against
  :func:`convlab.conv_output_size` and torch.
"""

from __future__ import annotations

import html
import json

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from ..arithmetic import conv_output_size, effective_kernel_size
from ..viz import axis_off
from ._base import Explorer, keep_full_size

_INPUT, _PAD, _TAP, _OUT, _DONE = "#9ecae1", "#ffffff", "#08519c", "#fd8d3c", "#fdd0a2"

# The settings every explorer offers: (smallest, largest) of each argument.
LIMITS = {"input_size": (1, 16), "kernel_size": (1, 7), "stride": (1, 4), "padding": (0, 3),
          "dilation": (1, 3)}


def window_taps(out_y: int, out_x: int, kernel_size: int, stride: int, dilation: int):
    """Padded-input cells ``(row, col)`` that output ``(out_y, out_x)`` reads."""
    return [(out_y * stride + i * dilation, out_x * stride + j * dilation)
            for i in range(kernel_size) for j in range(kernel_size)]


def coverage(input_size: int, kernel_size: int, stride=1, padding=0, dilation=1) -> np.ndarray:
    """``(P, P)`` counts of how many output windows read each padded-input cell."""
    P = input_size + 2 * padding
    n_out = conv_output_size(input_size, kernel_size, stride, padding, dilation)
    counts = np.zeros((P, P), dtype=int)
    for y in range(n_out):
        for x in range(n_out):
            for r, c in window_taps(y, x, kernel_size, stride, dilation):
                counts[r, c] += 1
    return counts


def _grid(ax, size: int, colors, labels=None, title: str = "", dashed=None,
          fontsize: float = 11):
    for r in range(size):
        for c in range(size):
            ls = "--" if dashed is not None and dashed[r, c] else "-"
            ax.add_patch(Rectangle((c, size - 1 - r), 1, 1, facecolor=colors[r][c],
                                   edgecolor="#555", linestyle=ls, linewidth=0.8))
            if labels is not None and labels[r][c] != "":
                dark = colors[r][c] == _TAP or (isinstance(colors[r][c], tuple)
                                                 and sum(colors[r][c][:3]) < 1.6)
                ax.text(c + 0.5, size - 0.5 - r, labels[r][c], ha="center", va="center",
                        fontsize=fontsize, color="white" if dark else "black")
    ax.set_xlim(-0.1, size + 0.1)
    ax.set_ylim(-0.1, size + 0.1)
    ax.set_aspect("equal")
    axis_off(ax)
    ax.set_title(title, fontsize=12)


def _message_figure(text: str):
    fig, ax = plt.subplots(figsize=(7.5, 1.2))
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=12, color="#b00", wrap=True)
    axis_off(ax)
    return fig


def render_conv_arithmetic(input_size: int = 5, kernel_size: int = 3, stride: int = 1,
                           padding: int = 0, dilation: int = 1, step: int | None = 0,
                           fig=None, input_values=None, weight_values=None):
    r"""Figure: padded input with the window of output position ``step``, and the output.

    ``step`` counts output positions row by row (clipped to the last one); ``None``
    draws the coverage map instead (how many windows read each cell). A kernel larger
    than the padded input draws a message instead of raising. ``fig``: draw into this
    (cleared) figure instead of a new one (the animation reuses one figure).

    ``input_values`` (``input_size x input_size``) and ``weight_values``
    (``kernel_size x kernel_size``) print the numbers: every input cell its pixel, every
    cell of the window its pixel and the weight that multiplies it, and the outputs done
    so far their value, :math:`\sum_{u, v} x_p[s i + d u, s j + d v]\, w[u, v]`.
    With no padding, stride or dilation the titles say so ("input", ``5 − 3 + 1``).
    """
    P, k_eff = input_size + 2 * padding, effective_kernel_size(kernel_size, dilation)
    if P < k_eff:
        return _message_figure(f"no output: the dilated kernel ({k_eff} pixels) is larger "
                               f"than the padded input ({P} pixels)")
    n_out = conv_output_size(input_size, kernel_size, stride, padding, dilation)
    is_pad = np.ones((P, P), dtype=bool)
    is_pad[padding:padding + input_size, padding:padding + input_size] = False
    if fig is None:
        fig = plt.figure(figsize=(7.5, 4.0))
    fig.clear()
    ax_in, ax_out = fig.subplots(1, 2, gridspec_kw={"width_ratios": [P, max(n_out, 2)]})
    plain = (stride, padding, dilation) == (1, 0, 1)  # nothing but the kernel: k_eff = k
    formula = (f"output size {input_size} − {kernel_size} + 1 = {n_out}" if plain else
               f"output size ⌊({input_size} + 2·{padding} − {k_eff}) / {stride}⌋ + 1 = {n_out}"
               f"   (k_eff = {dilation}·({kernel_size}−1)+1 = {k_eff})")
    name = f"input {P}×{P}" if padding == 0 else f"padded input {P}×{P} (dashed: padding)"
    if step is None:
        counts = coverage(input_size, kernel_size, stride, padding, dilation)
        top = counts.max()
        cmap = plt.get_cmap("Blues")
        colors = [[cmap(0.2 + 0.55 * v / top) if v else ("#eeeeee" if is_pad[r, c] else "#fff5eb")
                   for c, v in enumerate(row)] for r, row in enumerate(counts)]
        _grid(ax_in, P, colors, [[str(v) if v else "" for v in row] for row in counts],
              f"{name.split(' (')[0]}: windows reading each cell", is_pad, _cell_font(P))
        _grid(ax_out, n_out, [[_DONE] * n_out] * n_out, title=f"output {n_out}×{n_out}")
    else:
        step = min(max(step, 0), n_out * n_out - 1)
        oy, ox = divmod(step, n_out)
        taps = window_taps(oy, ox, kernel_size, stride, dilation)  # (u, v) in row order
        colors = [[_TAP if (r, c) in taps else (_PAD if is_pad[r, c] else _INPUT)
                   for c in range(P)] for r in range(P)]
        labels, out_labels, out_title = _arithmetic_labels(
            P, n_out, step, taps, kernel_size, stride, dilation, padding, input_values,
            weight_values)
        _grid(ax_in, P, colors, labels, name, is_pad, _cell_font(P))
        out_colors = [[_OUT if (r, c) == (oy, ox) else (_DONE if r * n_out + c < step
                                                         else "#ffffff")
                       for c in range(n_out)] for r in range(n_out)]
        _grid(ax_out, n_out, out_colors, out_labels, out_title or
              f"output {n_out}×{n_out}: ({oy}, {ox})")
    fig.suptitle(formula, fontsize=12)
    fig.tight_layout()
    keep_full_size(fig)
    return fig


def _arithmetic_labels(P, n_out, step, taps, kernel_size, stride, dilation, padding,
                       input_values, weight_values):
    """Cell labels of the input and output grids, and the output's title (or None).

    Without values a tap is named by its weight, ``w01``; with values every input cell
    shows its pixel, a tap ``pixel`` over ``× weight``, and each finished output its sum.
    """
    labels = [["" for _ in range(P)] for _ in range(P)]
    if input_values is None or weight_values is None:
        for n, (r, c) in enumerate(taps):
            labels[r][c] = f"w{n // kernel_size}{n % kernel_size}"
        return labels, None, None
    x_p = np.pad(np.asarray(input_values, dtype=float), padding)  # (P, P)
    w = np.asarray(weight_values, dtype=float)  # (k, k)

    def number(value: float) -> str:
        return f"{value:g}".replace("-", "−")  # a minus sign, not a hyphen

    for r in range(P):
        for c in range(P):
            labels[r][c] = number(x_p[r, c])
    for n, (r, c) in enumerate(taps):
        labels[r][c] = f"{number(x_p[r, c])}\n×{number(w[n // kernel_size, n % kernel_size])}"
    out = [["" for _ in range(n_out)] for _ in range(n_out)]
    for done in range(step + 1):  # every output up to this one, as the sum of its window
        i, j = divmod(done, n_out)
        value = sum(x_p[r, c] * w[n // kernel_size, n % kernel_size] for n, (r, c) in
                    enumerate(window_taps(i, j, kernel_size, stride, dilation)))
        out[i][j] = number(value)
    oy, ox = divmod(step, n_out)
    return labels, out, f"output {n_out}×{n_out}: y[{oy}, {ox}] = {out[oy][ox]}"


def _cell_font(cells: int) -> float:
    """Label size that fits a grid of ``cells`` cells across about half the figure."""
    return max(6.0, min(11.0, 110 / cells))


def conv_arithmetic_explorer(input_size: int = 5, kernel_size: int = 3) -> Explorer:
    """Live explorer: sliders for the five arguments and the output position ``step``.

    ``controls``: ``input_size``, ``kernel_size``, ``stride``, ``padding``, ``dilation``,
    ``step`` (IntSliders). ``step``'s range follows the number of output positions.
    """
    def slider(name, value, lo, hi):
        return widgets.IntSlider(value=value, min=lo, max=hi, description=name,
                                 continuous_update=False)

    controls = {"input_size": slider("input", input_size, *LIMITS["input_size"]),
                "kernel_size": slider("kernel", kernel_size, *LIMITS["kernel_size"]),
                "stride": slider("stride", 1, *LIMITS["stride"]),
                "padding": slider("padding", 0, *LIMITS["padding"]),
                "dilation": slider("dilation", 1, *LIMITS["dilation"]),
                "step": slider("step", 0, 0, 80)}

    def render(step, **args):
        return render_conv_arithmetic(step=step, **args)

    explorer = Explorer(render, controls)

    def update_step_range(change=None):
        args = {n: c.value for n, c in controls.items() if n != "step"}
        P = args["input_size"] + 2 * args["padding"]
        fits = P >= effective_kernel_size(args["kernel_size"], args["dilation"])
        n_out = conv_output_size(**args) if fits else 1
        controls["step"].max = max(n_out * n_out - 1, 0)

    for name, control in controls.items():
        if name != "step":
            control.observe(update_step_range, names="value")
    update_step_range()
    return explorer


_STYLE = """
#{id} .convlab-arith-controls label {{ margin-right: 1.2em; white-space: nowrap; }}
#{id} .convlab-arith-controls input {{ vertical-align: middle; width: 7em; }}
#{id} .convlab-arith-size {{ font-family: monospace; margin: 0.4em 0; }}
#{id} .convlab-arith-error {{ color: #b00; font-family: monospace; margin: 0.4em 0; }}
#{id} svg text {{ font: 17px sans-serif; text-anchor: middle; fill: #222; }}
#{id} svg text.label {{ text-anchor: start; }}
#{id} svg text.count {{ font-size: 16px; fill: #555; }}
#{id} svg text.on-dark {{ fill: #fff; }}
#{id} svg rect {{ stroke: #555; stroke-width: 1; }}
#{id} svg rect.in {{ fill: #c6dbef; }}
#{id} svg rect.unread {{ fill: #fee0d2; stroke: #b00; }}
#{id} svg rect.pad {{ fill: #fff; stroke-dasharray: 4 3; }}
#{id} svg rect.chosen {{ fill: #08519c; }}
#{id} svg rect.out {{ fill: #fdd0a2; cursor: pointer; }}
#{id} svg rect.out.chosen {{ fill: #d94801; }}
#{id} svg line.link {{ stroke: #bbb; stroke-width: 1; }}
#{id} svg line.tap {{ stroke: #08519c; stroke-width: 2.5; }}
"""

# Draws the explorer from its controls; __ID__ is replaced by the explorer's element id.
_SCRIPT = r"""
(function () {
  var root = document.getElementById("__ID__");
  var svg = root.querySelector("svg"), NS = "http://www.w3.org/2000/svg";
  var size = root.querySelector(".convlab-arith-size");
  var error = root.querySelector(".convlab-arith-error");
  var inputs = {};
  root.querySelectorAll("input[data-param]").forEach(function (e) {
    inputs[e.dataset.param] = e;
  });

  function value(name) { return parseInt(inputs[name].value, 10); }
  function add(tag, attrs, text) {  // append one SVG element
    var e = document.createElementNS(NS, tag);
    for (var a in attrs) { e.setAttribute(a, attrs[a]); }
    if (text !== undefined) { e.textContent = text; }
    return svg.appendChild(e);
  }

  function draw() {
    var n = value("input_size"), k = value("kernel_size"), s = value("stride"),
        p = value("padding"), d = value("dilation");
    var P = n + 2 * p, kEff = d * (k - 1) + 1;  // padded input, dilated kernel
    root.querySelectorAll("output[data-for]").forEach(function (o) {
      o.textContent = inputs[o.dataset.for].value;
    });
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    if (P < kEff) {  // no window fits: show what F.conv1d raises for this setting
      error.hidden = false;
      svg.style.display = "none";
      error.querySelector(".message").textContent = "Calculated padded input size per " +
        "channel: (" + P + "). Kernel size: (" + kEff + "). Kernel size can't be greater " +
        "than actual input size";
      size.dataset.outputSize = "";
      size.textContent = "no output: the dilated kernel spans " + kEff +
        " cells, the padded input has " + P;
      return;
    }
    error.hidden = true;
    svg.style.display = "";
    var nOut = Math.floor((P - kEff) / s) + 1;  // the output-size formula
    var pick = inputs.position;
    pick.max = nOut - 1;
    var chosen = Math.min(value("position"), nOut - 1);
    pick.value = chosen;
    root.querySelector("output[data-for=position]").textContent = chosen;

    var reads = new Array(P).fill(0);  // how many windows read each padded cell
    for (var i = 0; i < nOut; i++) {
      for (var u = 0; u < k; u++) { reads[s * i + d * u] += 1; }
    }
    var unread = [];
    for (var c = p; c < p + n; c++) { if (!reads[c]) { unread.push(c - p); } }
    size.dataset.outputSize = nOut;
    size.textContent = "output size = ⌊(" + n + " + 2·" + p + " − " + kEff + ") / " + s +
      "⌋ + 1 = " + nOut + "   (k_eff = " + d + "·(" + k + " − 1) + 1 = " + kEff + ")" +
      (unread.length ? ";  never read: x[" + unread.join("], x[") + "]" : "");

    var cell = Math.min(60, 720 / P), left = (760 - cell * P) / 2, top = 82, low = 238;
    var taps = {};  // padded cell -> tap u of the chosen output
    for (u = 0; u < k; u++) { taps[s * chosen + d * u] = u; }
    function centre(i) { return left + (s * i + (kEff - 1) / 2 + 0.5) * cell; }

    add("text", {x: 8, y: 22, "class": "label"},
        "padded input: the cells of x numbered i′, padding dashed;");
    add("text", {x: 8, y: 46, "class": "label"},
        "under each cell: the number of windows reading it");
    for (i = 0; i < nOut; i++) {  // lines first, so that cells are drawn over them
      for (u = 0; u < k; u++) {
        add("line", {x1: left + (s * i + d * u + 0.5) * cell, y1: top + cell + 24,
                     x2: centre(i), y2: low, "class": i === chosen ? "tap" : "link"});
      }
    }
    for (c = 0; c < P; c++) {
      var pad = c < p || c >= p + n, tap = c in taps;
      var kind = pad ? "pad" : (reads[c] ? "in" : "in unread");
      add("rect", {x: left + c * cell, y: top, width: cell, height: cell,
                   "class": (tap ? "chosen " : "") + kind, "data-cell": c, "data-reads": reads[c]});
      add("text", {x: left + (c + 0.5) * cell, y: top + cell / 2 + 5,
                   "class": tap ? "on-dark" : ""}, pad ? "" : c - p);
      if (tap) { add("text", {x: left + (c + 0.5) * cell, y: top - 8}, "w" + taps[c]); }
      add("text", {x: left + (c + 0.5) * cell, y: top + cell + 18, "class": "count"},
          reads[c]);
    }
    for (i = 0; i < nOut; i++) {
      var box = add("rect", {x: centre(i) - 0.45 * cell, y: low, width: 0.9 * cell,
                             height: 0.9 * cell, "data-position": i,
                             "class": "out" + (i === chosen ? " chosen" : "")});
      box.addEventListener("click", function (event) {
        pick.value = event.target.dataset.position;
        draw();
      });
      add("text", {x: centre(i), y: low + 0.45 * cell + 5,
                   "class": i === chosen ? "on-dark" : ""}, i);
    }
    var terms = Object.keys(taps).map(function (c) {  // the sum y[chosen] is
      return "w" + taps[c] + "·" + (c < p || c >= p + n ? "0" : "x[" + (c - p) + "]");
    });
    add("text", {x: 8, y: low + cell + 28, "class": "label"},
        "output y (click a cell to choose it):");
    add("text", {x: 8, y: low + cell + 54, "class": "label"},
        "y[" + chosen + "] = " + terms.join(" + "));
    svg.setAttribute("viewBox", "0 0 760 " + (low + cell + 66));
  }

  Object.keys(inputs).forEach(function (name) {
    inputs[name].addEventListener("input", draw);
  });
  draw();
})();
"""


class ArithmeticExplorer:
    """The website's conv-arithmetic explorer: HTML controls, an SVG and inline JS.

    Nothing is precomputed: the page computes the output size and the windows for every
    setting within :data:`LIMITS`, so any combination can be explored without a kernel.
    """

    def __init__(self, input_size: int = 6, kernel_size: int = 3, stride: int = 3,
                 padding: int = 1, dilation: int = 1, position: int = 0):
        self.initial = {"input_size": input_size, "kernel_size": kernel_size,
                        "stride": stride, "padding": padding, "dilation": dilation}
        for name, value in self.initial.items():
            lo, hi = LIMITS[name]
            if not lo <= value <= hi:
                raise ValueError(f"{name}={value} is outside the explorer's range {lo}..{hi}")
        self.position = position
        self.id = "convlab-arith-" + "-".join(str(v) for v in self.initial.values())

    def _slider(self, name: str, label: str, value: int, lo: int, hi: int) -> str:
        return (f'<label>{html.escape(label)} <input type="range" data-param="{name}" '
                f'min="{lo}" max="{hi}" step="1" value="{value}" aria-label="{label}"> '
                f'<output data-for="{name}">{value}</output></label>')

    def to_html(self) -> str:
        labels = {"input_size": "input size", "kernel_size": "kernel size", "stride": "stride",
                  "padding": "padding", "dilation": "dilation"}
        sliders = "".join(self._slider(name, labels[name], value, *LIMITS[name])
                          for name, value in self.initial.items())
        sliders += self._slider("position", "output position", self.position, 0, 15)
        settings = html.escape(json.dumps(self.initial))
        return f"""<div class="convlab-arithmetic" id="{self.id}" data-settings="{settings}">
<style>{_STYLE.format(id=self.id)}</style>
<div class="convlab-arith-controls">{sliders}</div>
<p class="convlab-arith-size" data-output-size=""></p>
<p class="convlab-arith-error" role="alert" hidden>
<span class="type">RuntimeError</span>: <span class="message"></span></p>
<svg class="convlab-arith-figure" viewBox="0 0 760 260" width="100%" role="img"
 aria-label="which padded-input cells each output reads"></svg>
<script>{_SCRIPT.replace("__ID__", self.id)}</script>
</div>"""

    def _repr_html_(self) -> str:
        return self.to_html()


def conv_arithmetic_page_explorer(input_size: int = 6, kernel_size: int = 3, stride: int = 3,
                                  padding: int = 1, dilation: int = 1):
    """The website twin of :func:`conv_arithmetic_explorer`, computed in the page.

    Returns an ``ArithmeticExplorer``: display it as a cell's last expression. Controls:
    input size 1-16, kernel size 1-7, stride 1-4, padding 0-3, dilation 1-3 (``LIMITS``)
    and the output position whose window is highlighted (or click an output cell).
    """
    return ArithmeticExplorer(input_size, kernel_size, stride, padding, dilation)
