"""Static explorers: interactivity that survives on the website with no kernel behind it.

myst-nb embeds a widget's state as a frozen snapshot: its sliders move on the built
page but nothing recomputes. A static explorer instead precomputes one image per
point of a small parameter grid and emits a single self-contained ``text/html``
output: ``<select>``/``<input type="range">`` controls and a few lines of inline
JavaScript that swap base64 images. No external scripts, no kernel.

    explorer = static_explorer(render, {"kernel": ["blur", "sobel"], "size": [3, 5, 7]})
    explorer          # last expression of a cell: renders on the page

``render(**params)`` returns a matplotlib ``Figure`` (closed after it is encoded) or
an ``(H, W)``/``(H, W, 3)`` array in [0, 1].

Legibility: the page shows every frame at the column width (``COLUMN_PX``, 688 CSS px
in the book's theme at a 1280x800 window, as measured by the browser check). Each
``<img>`` carries ``data-min-font-px``, the height in pixels of the smallest text in its
frames at their natural size, so the browser check (``tools/browser_check.py``) can
compute the size of that text as shown and require frames at least ``MIN_FRAME_WIDTH``
px wide with text of at least 10 pt (13.3 px). A figure ``w`` inches wide (at any dpi)
shown at 688 px needs fonts of about ``1.39 * w`` pt or more (less for a tight
bounding box that trims the figure): a 7-inch figure needs 9.8 pt, a 9-inch one 12.5 pt.
Frames without text (image arrays) carry no ``data-min-font-px`` and fail the check:
draw them as figures.

Animations: ``animation_html(anim)`` is ``anim.to_jshtml()`` without the external
stylesheet that matplotlib's player links (the book's theme draws its icons), so the
page makes no request to another host.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import re

import matplotlib
import matplotlib.axes
import matplotlib.axis
import matplotlib.pyplot as plt
import matplotlib.text
import numpy as np

MIN_FRAME_WIDTH = 700  # px, natural size of every frame
COLUMN_PX = 688  # CSS px: the book's column at a 1280x800 window (tools/browser_check.py)
DEFAULT_DPI = 110


def min_font_px(figure, dpi: float) -> float | None:
    """Height in pixels, at ``dpi``, of the smallest non-empty text that ``figure`` draws."""
    sizes = [t.get_fontsize() for t in _drawn(figure)
             if isinstance(t, matplotlib.text.Text) and t.get_text().strip()]
    return min(sizes) * dpi / 72 if sizes else None


def _drawn(artist):
    """``artist`` and its descendants that are drawn: visible, and no axis (ticks and their
    labels) of an Axes that is switched off with ``set_axis_off()``."""
    if not artist.get_visible():
        return
    yield artist
    hidden_axes = isinstance(artist, matplotlib.axes.Axes) and not artist.axison
    for child in artist.get_children():
        if not (hidden_axes and isinstance(child, matplotlib.axis.Axis)):
            yield from _drawn(child)


def encode_figure(figure, fmt: str = "png", dpi: int = DEFAULT_DPI) -> str:
    """Encode a matplotlib Figure (closing it) or an image array as base64 ``fmt``."""
    return _encode(figure, fmt, dpi)[0]


def _encode(figure, fmt: str, dpi: float) -> tuple[str, float | None]:
    """``(base64 image, smallest text in px)``; arrays have no text."""
    buffer = io.BytesIO()
    if isinstance(figure, np.ndarray):
        plt.imsave(buffer, np.clip(figure, 0, 1), format=fmt)
        font = None
    else:
        kwargs = {"pil_kwargs": {"quality": 85}} if fmt in ("jpg", "jpeg") else {}
        font = min_font_px(figure, dpi)
        figure.savefig(buffer, format=fmt, dpi=dpi, bbox_inches="tight", **kwargs)
        plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii"), font


class StaticExplorer:
    """Precomputed frames over a parameter grid, rendered as self-contained HTML.

    ``frames`` maps a key (the control indices joined by ``'_'``) to a base64 image.
    """

    def __init__(self, controls: dict, frames: dict, title: str = "", fmt: str = "png",
                 initial: dict | None = None, min_font_px: float | None = None):
        self.controls = {name: list(values) for name, values in controls.items()}
        self.frames = frames
        self.min_font_px = min_font_px  # smallest text over all frames, natural size
        self.title = title
        self.fmt = fmt
        self.initial = initial or {}
        digest = hashlib.sha1("".join(sorted(frames)).encode() + title.encode())
        digest.update(next(iter(frames.values()), "").encode()[:4096])
        self.id = "convlab-explorer-" + digest.hexdigest()[:10]

    def _control_html(self, index: int, name: str, values: list) -> str:
        start = values.index(self.initial[name]) if name in self.initial else 0
        label = html.escape(str(name))
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            return (f'<label style="margin-right:1.5em">{label} '
                    f'<input type="range" min="0" max="{len(values) - 1}" step="1" '
                    f'value="{start}" data-index="{index}" aria-label="{label}"> '
                    f'<output>{html.escape(str(values[start]))}</output></label>')
        options = "".join(
            f'<option value="{i}"{" selected" if i == start else ""}>{html.escape(str(v))}'
            f"</option>" for i, v in enumerate(values))
        return (f'<label style="margin-right:1.5em">{label} <select data-index="{index}" '
                f'aria-label="{label}">{options}</select></label>')

    def to_html(self) -> str:
        names = list(self.controls)
        controls = "".join(self._control_html(i, n, self.controls[n]) for i, n in enumerate(names))
        start = "_".join(str(self.controls[n].index(self.initial[n]) if n in self.initial else 0)
                         for n in names)
        mime = "image/jpeg" if self.fmt in ("jpg", "jpeg") else f"image/{self.fmt}"
        labels = json.dumps([[str(v) for v in self.controls[n]] for n in names])
        title = f"<strong>{html.escape(self.title)}</strong><br>" if self.title else ""
        font = "" if self.min_font_px is None else f' data-min-font-px="{self.min_font_px:.1f}"'
        return f"""<div class="convlab-explorer" id="{self.id}" style="margin:1em 0">
{title}<div class="convlab-controls" style="margin-bottom:0.5em">{controls}</div>
<img class="convlab-frame" alt="{html.escape(self.title or 'explorer frame')}"{font}
 style="width:100%;height:auto" src="data:{mime};base64,{self.frames[start]}">
<script>
(function () {{
  var root = document.getElementById("{self.id}");
  var frames = {json.dumps(self.frames)};
  var labels = {labels};
  var inputs = root.querySelectorAll("[data-index]");
  function update() {{
    var key = Array.prototype.map.call(inputs, function (e) {{ return e.value; }}).join("_");
    root.querySelector("img.convlab-frame").src = "data:{mime};base64," + frames[key];
    inputs.forEach(function (e) {{
      var out = e.parentNode.querySelector("output");
      if (out) {{ out.textContent = labels[+e.dataset.index][+e.value]; }}
    }});
  }}
  inputs.forEach(function (e) {{ e.addEventListener("input", update);
                                 e.addEventListener("change", update); }});
}})();
</script>
</div>"""

    def _repr_html_(self) -> str:
        return self.to_html()

    def __len__(self) -> int:
        return len(self.frames)


class _HTML(str):
    """HTML text that a notebook renders as HTML."""

    def _repr_html_(self) -> str:
        return str(self)


# The Font Awesome 4 stylesheet that matplotlib's animation player links from a CDN.
_PLAYER_CDN_LINK = re.compile(
    r'<link\s+rel="stylesheet"\s+href="https?://[^"]*font-awesome[^"]*"\s*/?>\s*')


def animation_html(animation, **kwargs) -> str:
    """``animation.to_jshtml(**kwargs)``, self-contained: no stylesheet from a CDN.

    matplotlib's player template links Font Awesome from a CDN for its button icons;
    the book's theme ships Font Awesome, which draws the same ``fa fa-*`` icons, so the
    link would only be a request to another host (and fail offline). The result is a
    ``str`` that a notebook renders as HTML (the last expression of a cell).
    """
    text = animation.to_jshtml(**kwargs)
    return _HTML(_PLAYER_CDN_LINK.sub("", text, count=1))


def static_explorer(render, controls: dict, title: str = "", fmt: str = "png",
                    dpi: int = DEFAULT_DPI, initial: dict | None = None) -> StaticExplorer:
    """Render ``render(**params)`` for every combination of ``controls`` values.

    ``controls`` maps a parameter name to its list of values (numbers become a range
    slider, anything else a drop-down). The grid is the product of the lists, so keep
    it small: every frame is embedded in the page (budget: 3 MB a page).
    """
    names = list(controls)
    frames, fonts = {}, []
    for indices in itertools.product(*(range(len(controls[n])) for n in names)):
        params = {n: controls[n][i] for n, i in zip(names, indices)}
        frames["_".join(map(str, indices))], font = _encode(render(**params), fmt, dpi)
        fonts += [] if font is None else [font]
    return StaticExplorer(controls, frames, title, fmt, initial, min(fonts, default=None))
