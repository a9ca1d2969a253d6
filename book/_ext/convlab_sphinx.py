"""The book's own Sphinx hooks, loaded from ``_config.yml`` (``sphinx.local_extensions``).

- **Live widgets are not shown on the website.** A live ipywidget needs a kernel to
  recompute; myst-nb would embed a frozen snapshot of its state whose sliders move but
  change nothing. ``RemoveLiveWidgetOutputs`` drops every output whose mime bundle holds
  ``application/vnd.jupyter.widget-view+json`` (the whole output, not only that mime
  type, so no ``VBox(...)`` text is left), and ``drop_widget_scripts`` drops the embedded
  widget state and the widget manager / require.js that myst-nb would load from a CDN.
  The notebooks keep their widget cells: they run live in Jupyter and Colab.
- **No duplicate inline scripts.** Sphinx turns an inline script (``filename=None``) into
  ``filename=''`` when it re-initialises the builder's script list, so an extension that
  adds an inline script on every ``env-before-read-docs`` (sphinx-thebe 0.3.1; Jupyter
  Book reads twice) gets it twice on every page: ``const THEBE_JS_URL`` declared twice
  is a SyntaxError in the console. ``drop_duplicate_assets`` keeps the first copy (and
  of a stylesheet listed twice: a single-page build also lists ``book/_static``).
- **A lean offline MathJax.** sphinx-mathjax-offline copies all of MathJax 3 (24 MB)
  into ``_static/mathjax``; ``prune_mathjax`` deletes what the page's component
  (``tex-chtml.js``, which bundles the loader and TeX input) never loads: the other
  combined components, the SVG output, MathML and AsciiMath input. What it loads on
  demand stays: TeX extensions, CHTML fonts, the menu, accessibility and speech.
- **Wrapped code.** ``book/_static/convlab.css`` wraps long lines of code cells and
  outputs so that no code block scrolls sideways.
- **Two editions.** ``convlab_i18n`` (next to this file, set up from here) adds the
  language switch and what the Simplified Chinese edition needs.
"""

from __future__ import annotations

import pathlib
import shutil

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
STATIC = pathlib.Path(__file__).resolve().parents[1] / "_static"
CSS_FILES = ("convlab.css",)
# parts of MathJax 3 that tex-chtml.js never loads (other input and output processors)
UNUSED_MATHJAX = ("node-main.js", "output/svg", "output/svg.js", "input/mml",
                  "input/mml.js", "input/asciimath.js", "input/tex-full.js",
                  "input/tex-base.js", "input/tex.js")


def _is_mime_bundle(node: nodes.Node) -> bool:
    return isinstance(node, nodes.container) and node.get("nb_element") == "mime_bundle"


def _is_empty(nb_element: str):
    return lambda node: (isinstance(node, nodes.container) and not node.children
                         and node.get("nb_element") == nb_element)


class RemoveLiveWidgetOutputs(SphinxPostTransform):
    """Remove outputs that show a live ipywidget (runs before myst-nb picks a mime type)."""

    default_priority = 3  # myst_nb.sphinx_.SelectMimeType runs at 4

    def run(self, **kwargs) -> None:
        for bundle in list(self.document.findall(_is_mime_bundle)):
            if any(child.get("mime_type") == WIDGET_VIEW for child in bundle.children):
                bundle.parent.remove(bundle)
        # then the outputs left empty, and the cells left empty (input removed by a tag)
        for nb_element in ("cell_code_output", "cell_code"):
            for node in list(self.document.findall(_is_empty(nb_element))):
                node.parent.remove(node)


def drop_widget_scripts(app: Sphinx, doctree: nodes.document) -> None:
    """Forget the widget state and widget-manager scripts myst-nb registered for this page."""
    metadata = getattr(app.env, "nb_metadata", {}).get(app.env.docname, {})
    js_files = metadata.get("js_files", {})
    for key in [k for k in js_files if k.startswith("ipywidgets")]:
        del js_files[key]


def drop_duplicate_assets(app: Sphinx, pagename: str, templatename: str, context: dict,
                          doctree) -> None:
    """Keep one copy of each script and stylesheet of the page (inline scripts by body)."""
    for name in ("script_files", "css_files"):
        assets = context.get(name)
        if not isinstance(assets, list):
            continue
        seen, unique = set(), []
        for asset in assets:
            key = (asset.filename or "", tuple(sorted(asset.attributes.items())))
            if key not in seen:
                seen.add(key)
                unique.append(asset)
        assets[:] = unique


def prune_mathjax(app: Sphinx, exc: Exception | None) -> None:
    """Delete the parts of the site's copy of MathJax that its component never loads."""
    component = app.config.mathjax_path
    root = pathlib.Path(app.outdir) / "_static" / "mathjax"
    if exc is not None or "://" in component or not root.is_dir():
        return
    for path in root.glob("*.js"):  # combined components: a page loads one
        if path.name != pathlib.PurePosixPath(component).name:
            path.unlink()
    for name in UNUSED_MATHJAX:
        path = root / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def add_static_path(app: Sphinx) -> None:
    app.config.html_static_path.append(str(STATIC))


def setup(app: Sphinx) -> dict:
    app.setup_extension("convlab_i18n")
    app.add_post_transform(RemoveLiveWidgetOutputs)
    app.connect("doctree-read", drop_widget_scripts)
    # after every handler that adds page scripts (myst-nb, sphinx.ext.mathjax: 500)
    app.connect("html-page-context", drop_duplicate_assets, priority=900)
    app.connect("builder-inited", add_static_path)
    # after sphinx-mathjax-offline has copied MathJax (its build-finished runs at 500)
    app.connect("build-finished", prune_mathjax, priority=800)
    for css in CSS_FILES:
        app.add_css_file(css)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
