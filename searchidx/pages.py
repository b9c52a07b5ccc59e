"""Reading saved news pages: the article of the page, not the page around it.

trafilatura finds the main text (leaving out navigation, related links, comments, cookie
banners and share buttons) and the page's metadata: title, publication date (htmldate
reads ``article:published_time``, JSON-LD ``datePublished``, ``<time datetime>``…), site
name and URL. The text then goes through the same layout reading as a text file (dateline
place, sign-off agency, a timestamp line near the top). A page where trafilatura finds no
article is indexed by its plain text, with a warning, so that no page is lost.

lxml parses the page once, in C and in time linear in its size; script, style and
attributes never become text, and escaped markup (``&lt;b&gt;``) stays literal text.
This module is imported only when an HTML file is read: a search never loads trafilatura.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import lxml.html
import trafilatura
from lxml import etree

from .analysis import normalize
from .documents import _CONTROL_CHARS, Article, UnreadableFile, _parse_text

__all__ = ["parse_page"]

# htmldate reads explicit markup only (no guessing from free text), and from any year:
# its default floor of 1995 would leave an archive's older pages undated.
_DATE_SEARCH = {"extensive_search": False, "original_date": True, "min_date": "1800-01-01"}
# Navigation is never article text; trafilatura's comparison with other extractors can
# otherwise bring a short page's menu back.
_NAVIGATION = ["//nav", "//*[@role='navigation']"]
# Never text, in the fallback that reads the whole page.
_HIDDEN_ELEMENTS = ("head", "script", "style", "template", "noscript", "nav", "svg", "iframe",
                    "object", "select", "button", "textarea")
# Elements that start a paragraph of their own: HTML's, and those of the tree trafilatura
# gives (p, head, list, item, table, row, quote, lb, code). Cells are kept on one line.
_BLOCK_ELEMENTS = frozenset({
    "p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
    "article", "header", "footer", "blockquote", "pre", "figure", "figcaption", "main", "aside",
    "hr", "dd", "dt", "address", "head", "list", "item", "row", "quote", "lb", "code"})
_CELL_ELEMENTS = frozenset({"td", "th", "cell"})


def parse_page(html: str, article_id: str, path: str, warnings: list[str]) -> Article:
    """The article of a saved page; notes on what was cut or guessed go to ``warnings``."""
    tree = _parse_tree(html, path, warnings)
    metadata = trafilatura.extract_metadata(tree, date_config=_DATE_SEARCH)
    text = _main_text(tree)
    if not text:
        warnings.append(f"{path}: no article found in the page; its whole text is indexed")
        text = _plain_text(tree)
    title = _clean(metadata.title or "") or None
    article = _parse_text(_without_title(text, title), article_id, path, title=title,
                          date=_iso_date(metadata.date))
    return replace(article, source=article.source or metadata.sitename,
                   url=article.url or metadata.url)


def _parse_tree(html: str, path: str, warnings: list[str]) -> lxml.html.HtmlElement:
    """The page as lxml reads it, leniently; a page libxml2 had to cut short says so."""
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False,
                                  default_doctype=False)
    try:
        tree = lxml.html.document_fromstring(html, parser=parser)
    except etree.ParserError:
        raise UnreadableFile("no article text") from None
    fatal = [error.message for error in parser.error_log if error.level_name == "FATAL"]
    if fatal:
        warnings.append(f"{path}: the page is read only up to where the HTML parser stopped "
                        f"({fatal[0]})")
    return tree


def _main_text(tree: lxml.html.HtmlElement) -> str:
    """The article's text, or "" when trafilatura finds none.

    Precision, because the default (balanced) mode fills a short article out with the
    page's whole text, menus and share buttons included. Read from the tree trafilatura
    returns, not from its ``text``, which unescapes entities a second time (the text
    ``&amp;lt;b&amp;gt;`` would become ``<b>``).
    """
    found = trafilatura.bare_extraction(tree, include_comments=False, favor_precision=True,
                                        prune_xpath=_NAVIGATION)
    return _block_text(found.body) if found is not None and found.body is not None else ""


def _plain_text(tree: lxml.html.HtmlElement) -> str:
    """Every visible text of the page."""
    etree.strip_elements(tree, *_HIDDEN_ELEMENTS, with_tail=False)
    return _block_text(tree)


def _block_text(tree: etree._Element) -> str:
    """The text of ``tree``, a paragraph per block element, table cells on one line."""
    parts: list[str] = []
    for event, element in etree.iterwalk(tree, events=("start", "end")):
        if element.tag in _BLOCK_ELEMENTS:
            parts.append("\n")
        if event == "start":
            if isinstance(element.tag, str):  # a comment's text is not the page's text
                parts.append(element.text or "")
            continue
        if element.tag in _CELL_ELEMENTS:
            parts.append(" ")
        if element is not tree:
            parts.append(element.tail or "")
    return _paragraphs("".join(parts))


def _paragraphs(text: str) -> str:
    """Clean NFC text, every line its own paragraph, with spaces squashed."""
    lines = (" ".join(line.split()) for line in _clean(text).split("\n"))
    return "\n\n".join(line for line in lines if line)


def _clean(text: str) -> str:
    return normalize(_CONTROL_CHARS.sub("", text)).strip()


def _without_title(text: str, title: str | None) -> str:
    """The text without a first paragraph that repeats the title (the page's ``<h1>``)."""
    first, _, rest = text.partition("\n\n")
    return rest if title and rest and " ".join(title.split()) == first else text


def _iso_date(text: str | None) -> dt.date | None:
    """htmldate's ``YYYY-MM-DD``, as a date."""
    return dt.date.fromisoformat(text) if text else None
