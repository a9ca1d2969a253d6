"""The book in two languages from one source: Sphinx hooks for the Chinese edition.

Loaded by ``convlab_sphinx`` (so ``_config.yml`` lists one local extension). The English
edition is the site's root (``_build/html/``), the Simplified Chinese edition is built
from the same notebooks and pages with ``language = "zh_CN"`` and the translations in
``locales/zh_CN/LC_MESSAGES/`` into ``_build/html/zh_CN/`` (``tools/i18n.py build``).

- **A language switch on every page.** ``convlab-language-switch.html`` (in
  ``templates/``) sits in the article header, before the theme's buttons: an ordinary
  link (focusable, followed with Enter) to the same page in the other edition, with
  ``hreflang``/``lang`` set. Every page also declares its twin with
  ``<link rel="alternate" hreflang=...>``. The twin's address is relative: English
  ``book/01_x.html`` -> ``zh_CN/book/01_x.html``; Chinese ``zh_CN/book/01_x.html`` ->
  ``../book/01_x.html``. ``tests/site/test_editions.py`` checks every page links a twin
  that exists.
- **Chinese is tagged as Chinese.** Sphinx writes ``<html lang="zh_CN">``, which is not a
  BCP 47 tag, so neither ``:lang(zh)`` in CSS nor the browser's font fallback sees
  Chinese; pages get ``lang="zh-CN"``.
- **Docstrings are code documentation, not prose.** The API page's autodoc content
  (every node whose source is ``[<file>:]docstring of <name>``) is marked untranslatable before
  Sphinx extracts or applies messages, so only ``book/api.md``'s own text is in the
  ``.po`` files and the docstrings read the same in both editions.
- **myst-nb's toggles speak the page's language.** The buttons of hidden cells read
  "Show code cell source" (myst-nb's ``code_prompt_show``, whose ``{type}`` it fills with
  an English word), so on a Chinese page their text is replaced by ``TOGGLE_PROMPTS``.
"""

from __future__ import annotations

import logging
import pathlib

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.locale import init as init_locale
from sphinx.transforms import SphinxTransform
from sphinx.util.i18n import docname_to_domain

TEMPLATES = pathlib.Path(__file__).resolve().parent / "templates"
SWITCH_TEMPLATE = "convlab-language-switch.html"
# sphinx-book-theme's default article_header_end (its theme.conf)
THEME_HEADER_END = ["article-header-buttons.html"]


# language -> where its edition lives under the site root, and how the switch names it
EDITIONS = {
    "en": {"dir": "", "hreflang": "en", "label": "English",
           "title": "Read this page in English"},
    "zh_CN": {"dir": "zh_CN", "hreflang": "zh-CN", "label": "中文",
              "title": "阅读本页的中文版（简体中文）"},
}


def edition_of(config: Config) -> str:
    """The edition a build makes: its ``language`` (English when unset)."""
    return config.language if config.language in EDITIONS else "en"


def twin_url(pagename: str, this: str, other: str, suffix: str = ".html") -> str:
    """Relative URL, from page ``pagename`` of edition ``this``, of the same page in ``other``."""
    up_to_edition_root = "../" * pagename.count("/")
    up_to_site_root = "../" * len([p for p in EDITIONS[this]["dir"].split("/") if p])
    other_dir = EDITIONS[other]["dir"]
    return up_to_edition_root + up_to_site_root + (f"{other_dir}/" if other_dir else "") \
        + pagename + suffix


class KeepDocstringsUntranslated(SphinxTransform):
    """Mark autodoc's docstring text untranslatable (runs before ``Locale``, priority 20)."""

    default_priority = 10

    def apply(self, **kwargs) -> None:
        for node in self.document.findall(nodes.TextElement):
            source = node.source or ""
            if source.startswith("docstring of ") or ":docstring of " in source:
                node["translatable"] = False


class TranslateTocCaptions(SphinxTransform):
    """Translate the part captions of ``_toc.yml`` (the sidebar's "Appendix", ...).

    sphinx-external-toc inserts the toctrees (priority 100) after Sphinx's ``Locale``
    transform has translated the page (priority 20): the gettext builder extracts their
    captions into the root page's .po, but ``Locale`` never sees them. This applies them.
    """

    default_priority = 101

    def apply(self, **kwargs) -> None:
        if edition_of(self.config) == "en":
            return
        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        dirs = [str(pathlib.Path(self.env.srcdir, d)) for d in self.config.locale_dirs]
        catalog, has_catalog = init_locale(dirs, self.config.language, domain)
        if not has_catalog:
            return
        for toctree in self.document.findall(addnodes.toctree):
            caption = toctree.get("rawcaption") or toctree.get("caption")
            if caption and catalog.gettext(caption) != caption:
                toctree.apply_translated_message(caption, catalog.gettext(caption))


def add_switch_to_header(app: Sphinx, config: Config) -> None:
    config.templates_path.append(str(TEMPLATES))
    options = config.html_theme_options
    end = options.get("article_header_end", THEME_HEADER_END)
    end = [end] if isinstance(end, str) else list(end)
    if SWITCH_TEMPLATE not in end:
        options["article_header_end"] = [SWITCH_TEMPLATE, *end]


def quiet_jieba(app: Sphinx, config: Config) -> None:
    """jieba (Sphinx's Chinese word splitter) logs its start-up to stderr at DEBUG level."""
    if edition_of(config) != "zh_CN":
        return
    try:
        import jieba  # its import sets its logger to DEBUG: quiet it after
    except ImportError:  # Sphinx then splits Chinese text at punctuation only
        return
    jieba.setLogLevel(logging.WARNING)


def add_twin_to_page(app: Sphinx, pagename: str, templatename: str, context: dict,
                     doctree) -> None:
    this = edition_of(app.config)
    twins = []
    for other in EDITIONS:
        if other == this:
            continue
        info = EDITIONS[other]
        twins.append({"url": twin_url(pagename, this, other, app.builder.out_suffix),
                      "hreflang": info["hreflang"], "label": info["label"],
                      "title": info["title"]})
    context["convlab_twins"] = twins
    context["language"] = EDITIONS[this]["hreflang"]  # <html lang="zh-CN">
    context["metatags"] = context.get("metatags", "") + "".join(
        f'\n<link rel="alternate" hreflang="{t["hreflang"]}" href="{t["url"]}" />'
        for t in twins)


# the text of myst-nb's toggles of hidden cells (code_prompt_show/hide after {type})
TOGGLE_PROMPTS = {
    "zh_CN": {f"{verb} code cell {kind}": f"{zh_verb}{zh_kind}"
              for verb, zh_verb in (("Show", "显示"), ("Hide", "隐藏"))
              for kind, zh_kind in (("source", "代码"), ("outputs", "输出"), ("output", "输出"),
                                    ("content", "单元格"))},
}


def translate_toggles(app: Sphinx, pagename: str, templatename: str, context: dict,
                      doctree) -> None:
    """The hidden cells' toggle texts in the edition's language (``TOGGLE_PROMPTS``)."""
    prompts = TOGGLE_PROMPTS.get(edition_of(app.config))
    if not prompts or "body" not in context:
        return
    body = context["body"]
    for english, translated in prompts.items():
        body = body.replace(f">{english}<", f">{translated}<")
    body = body.replace('aria-label="Toggle hidden content"',
                        f'aria-label="{prompts["Show code cell content"]}"')
    context["body"] = body


def setup(app: Sphinx) -> dict:
    app.add_transform(KeepDocstringsUntranslated)
    app.add_transform(TranslateTocCaptions)
    app.connect("config-inited", add_switch_to_header)
    app.connect("config-inited", quiet_jieba)
    app.connect("html-page-context", add_twin_to_page)
    app.connect("html-page-context", translate_toggles)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
