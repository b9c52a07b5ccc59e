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

from .documents import Article, DateReader, UnreadableFile, _parse_text, clean_text
from .settings import PAGE_MAX_ELEMENTS, PAGE_MAX_SIBLING_PAIRS

__all__ = ["parse_page"]

# htmldate reads explicit markup only (no guessing from free text), and from any year:
# its default floor of 1995 would leave an archive's older pages undated.
_EARLIEST_DATE = "1800-01-01"
# Never article text; removed first, so that a country <select> or an icon <svg> does not
# count against the page's size. <head> stays until the metadata is read.
_NEVER_TEXT = ("style", "template", "noscript", "nav", "svg", "iframe", "object", "select",
               "button", "textarea")
_NEVER_TEXT_XPATH = "//script[not(contains(@type, 'json'))] | //*[@role='navigation']"
# Nor text in the fallback that reads the whole page, once the metadata is read.
_HIDDEN_ELEMENTS = ("head", "script")
# Elements that start a paragraph of their own: HTML's, and those of the tree trafilatura
# gives (p, head, list, item, table, row, quote, lb, code). Cells are kept on one line.
_BLOCK_ELEMENTS = frozenset({
    "p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
    "article", "header", "footer", "blockquote", "pre", "figure", "figcaption", "main", "aside",
    "hr", "dd", "dt", "address", "head", "list", "item", "row", "quote", "lb", "code"})
_CELL_ELEMENTS = frozenset({"td", "th", "cell"})


def parse_page(html: str, article_id: str, path: str, warnings: list[str],
               dates: DateReader | None = None) -> Article:
    """The article of a saved page; notes on what was cut or guessed go to ``warnings``,
    dates in its text that cannot be read to ``dates``."""
    tree = _parse_tree(html, path, warnings)
    _drop_furniture(tree)
    too_large = _too_large(tree)
    if too_large:
        warnings.append(f"{path}: {too_large}; its whole text is indexed")
        return _parse_text(_plain_text(tree), article_id, path, dates=dates)
    metadata = trafilatura.extract_metadata(tree, date_config=_date_search())
    text = _main_text(tree)
    if not text:
        warnings.append(f"{path}: no article found in the page; its whole text is indexed")
        text = _plain_text(tree)
    title = clean_text(metadata.title or "").strip() or None
    article = _parse_text(_without_title(text, title), article_id, path, title=title,
                          date=_iso_date(metadata.date), dates=dates)
    return replace(article, source=article.source or metadata.sitename,
                   url=article.url or metadata.url)


def _parse_tree(html: str, path: str, warnings: list[str]) -> lxml.html.HtmlElement:
    """The page as lxml reads it, leniently; a page libxml2 had to cut short says so."""
    # Bytes in a stated encoding: lxml refuses text that declares one (<?xml … encoding=…?>).
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True,
                                  collect_ids=False, default_doctype=False)
    try:
        tree = lxml.html.document_fromstring(html.encode("utf-8"), parser=parser)
    except etree.ParserError:
        raise UnreadableFile("no article text") from None
    fatal = [error.message for error in parser.error_log if error.level_name == "FATAL"]
    if fatal:
        warnings.append(f"{path}: the page is read only up to where the HTML parser stopped "
                        f"({fatal[0]})")
    return tree


def _drop_furniture(tree: lxml.html.HtmlElement) -> None:
    """Remove what is never article text; JSON-LD metadata and the text around stay."""
    etree.strip_elements(tree, *_NEVER_TEXT, with_tail=False)
    for element in tree.xpath(_NEVER_TEXT_XPATH):
        element.drop_tree()


def _too_large(tree: lxml.html.HtmlElement) -> str | None:
    """Why trafilatura would take too long on this page, if it would."""
    widest = sibling_pairs = 0
    for count, element in enumerate(tree.iter(), start=1):
        if count > PAGE_MAX_ELEMENTS:
            return f"more than {PAGE_MAX_ELEMENTS:,} HTML elements, too many for article extraction"
        children = len(element)  # each element is counted once, as a child
        widest, sibling_pairs = max(widest, children), sibling_pairs + children * children
    if sibling_pairs > PAGE_MAX_SIBLING_PAIRS:
        return f"HTML elements with too many children for article extraction (up to {widest:,})"
    return None


def _main_text(tree: lxml.html.HtmlElement) -> str:
    """The article's text, or "" when trafilatura finds none.

    Precision, because the default (balanced) mode fills a short article out with the
    page's whole text, menus and share buttons included. Read from the tree trafilatura
    returns, not from its ``text``, which unescapes entities a second time (the text
    ``&amp;lt;b&amp;gt;`` would become ``<b>``).
    """
    found = trafilatura.bare_extraction(tree, include_comments=False, favor_precision=True)
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
    lines = (" ".join(line.split()) for line in clean_text(text).strip().split("\n"))
    return "\n\n".join(line for line in lines if line)


def _without_title(text: str, title: str | None) -> str:
    """The text without a first paragraph that repeats the title (the page's ``<h1>``)."""
    first, _, rest = text.partition("\n\n")
    return rest if title and rest and " ".join(title.split()) == first else text


def _date_search() -> dict[str, object]:
    """htmldate's options: the publication date, from markup only, up to tomorrow (a page
    may come from where the day has already begun)."""
    latest = dt.date.today() + dt.timedelta(days=1)
    return {"extensive_search": False, "original_date": True, "min_date": _EARLIEST_DATE,
            "max_date": latest.isoformat()}


def _iso_date(text: str | None) -> dt.date | None:
    """htmldate's ``YYYY-MM-DD``, as a date."""
    return dt.date.fromisoformat(text) if text else None
