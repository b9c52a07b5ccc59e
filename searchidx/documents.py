"""Reading articles: finding files, decoding them, and parsing news layouts into fields.

Formats: ``.txt`` and ``.md`` (plain news text), ``.html``/``.htm``, and ``.jsonl`` (one
article a line). Every text is decoded (UTF-8, else Windows-1252 with a warning) and
brought to NFC before anything else looks at it.

Modules only some files need (``json``, ``hashlib``, ``html.parser``) are imported where
they are used: every command imports this module, and start-up time counts.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .analysis import normalize
from .settings import MAX_ARTICLE_CHARS, MAX_FILE_BYTES, TITLE_MAX_CHARS

__all__ = ["Article", "FileContent", "SourceFile", "UnreadableFile", "find_files", "read_file",
           "stream_file"]

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES


class UnreadableFile(Exception):
    """A file that yields no article; the message says why, in a few words."""


@dataclass(frozen=True)
class Article:
    """One news article, its text in NFC exactly as written, minus page furniture."""

    id: str
    path: str
    title: str
    body: str
    date: dt.date | None = None
    place: str | None = None
    source: str | None = None
    url: str | None = None

    @property
    def content_hash(self) -> str:
        """A digest of everything that is indexed, to tell changed articles from unchanged."""
        import hashlib

        fields = (self.title, self.body, str(self.date or ""), self.place or "",
                  self.source or "", self.url or "")
        return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()[:32]

    def to_dict(self) -> dict[str, object]:
        """The JSON form: every field, the date as ``YYYY-MM-DD`` or null."""
        return {"id": self.id, "path": self.path, "title": self.title,
                "date": self.date.isoformat() if self.date else None, "place": self.place,
                "source": self.source, "url": self.url, "body": self.body}


@dataclass(frozen=True)
class SourceFile:
    """A file to read, with the id its article takes (its path under the folder given)."""

    path: Path
    article_id: str


@dataclass
class FileContent:
    """What one file gave: its articles, and notes on what was odd or left out.

    From :func:`stream_file` the articles may be an iterator that reads the file as it
    goes; the notes are complete once it is exhausted.
    """

    articles: list[Article] | Iterator[Article] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    bytes_read: int = 0  # how far a JSON-lines file has been read, for showing progress

    def unreadable_reason(self) -> str:
        """Why the file is unreadable, when it gave no article at all."""
        return "; ".join(self.problems[:3]) or "empty file"


def find_files(root: Path) -> Iterator[SourceFile]:
    """Yield the article files at ``root``: the file itself, or every one below a folder.

    Hidden files and folders are passed over; folders are walked in sorted order.
    """
    if not root.is_dir():
        yield SourceFile(root, root.stem)
        return
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder, name)
            if name.startswith(".") or path.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            yield SourceFile(path, path.relative_to(root).with_suffix("").as_posix())


def read_file(source: SourceFile) -> FileContent:
    """Read and parse one file into articles; raise :class:`UnreadableFile` if it has none."""
    content = stream_file(source)
    content.articles = list(content.articles)
    if not content.articles:
        raise UnreadableFile(content.unreadable_reason())
    return content


def stream_file(source: SourceFile) -> FileContent:
    """Like :func:`read_file`, but a JSON-lines file's articles are read and parsed as they
    are iterated, so memory does not grow with the file. Errors opening the file are
    raised here; a file that turns out to hold no article gives an empty iterator."""
    suffix = source.path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFile(f"unsupported file type {suffix or '(none)'!r}")
    if suffix in JSONL_SUFFIXES:
        return _stream_jsonl(source.path)
    content = FileContent()
    text = _decode(_read_bytes(source.path), source.path, content.warnings)
    text = _capped(text, f"{source.path}", content.warnings)
    parse = _parse_html if suffix in HTML_SUFFIXES else _parse_text
    content.articles.append(parse(text, source.article_id, str(source.path)))
    return content


def _capped(text: str, where: str, warnings: list[str]) -> str:
    """At most ``MAX_ARTICLE_CHARS`` of one article's text, so memory stays bounded."""
    if len(text) <= MAX_ARTICLE_CHARS:
        return text
    warnings.append(f"{where}: only the first {MAX_ARTICLE_CHARS:,} characters are indexed")
    return text[:MAX_ARTICLE_CHARS]


# --- bytes to text -------------------------------------------------------------------

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Control characters other than ESC (which terminal captures are full of) mark binary data.
_BINARY_CHARS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_BINARY_SHARE = 0.1


def _read_bytes(path: Path) -> bytes:
    """The file's bytes; FileNotFoundError passes through (the indexer tells a vanished
    file from a broken link), every other failure becomes :class:`UnreadableFile`."""
    try:
        size = path.stat().st_size
        if size >= MAX_FILE_BYTES:
            raise UnreadableFile(f"too large ({size / 2**20:.0f} MiB; the limit is "
                                 f"{MAX_FILE_BYTES / 2**20:.0f} MiB)")
        return path.read_bytes()
    except IsADirectoryError:
        raise UnreadableFile("is a folder") from None
    except FileNotFoundError:
        raise
    except OSError as error:
        raise UnreadableFile(os_error_reason(error)) from None


def os_error_reason(error: OSError) -> str:
    """A few words for why a file could not be read."""
    if error.errno == errno.ELOOP:
        return "symbolic link loop"
    if error.errno == errno.EACCES:
        return "permission denied"
    return (error.strerror or str(error)).lower()


def _decode(data: bytes, path: Path, warnings: list[str]) -> str:
    """Bytes to clean NFC text: UTF-8 (or UTF-16 with a BOM), else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="replace")
    elif b"\x00" in data[:8192]:
        raise UnreadableFile("binary file, not text")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
            warnings.append(f"{path}: not valid UTF-8; read as Windows-1252")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    head = text[:8192]
    if len(_BINARY_CHARS.findall(head)) > _BINARY_SHARE * len(head):
        raise UnreadableFile("binary file, not text")
    text = normalize(_CONTROL_CHARS.sub("", text))
    if not text.strip():
        raise UnreadableFile("empty file")
    return text


# --- plain news text -------------------------------------------------------------------

_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
_DATE_PREFIX = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*\n?")
_TIME = r"(?:\s*[/|,-]?\s*\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp]\.?[Mm]\.?)?(?:\s*(?:GMT|UTC|ICT)\s*[+-]?\d{0,2})?)?"
_TIMESTAMP_LINES = [
    re.compile(r"(?:[A-Z][a-z]+day,?\s+)?(?P<month>[A-Z][a-z]{2,8})\.?\s+(?P<day>\d{1,2}),?\s+"
               r"(?P<year>\d{4})" + _TIME),
    re.compile(r"(?:[A-Z][a-z]+day,?\s+)?(?P<day>\d{1,2})\s+(?P<month>[A-Z][a-z]{2,8})\.?,?\s+"
               r"(?P<year>\d{4})" + _TIME),
    re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?:[ T]\d{1,2}:\d{2}\S*)?" + _TIME),
    re.compile(r"(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4})" + _TIME),
]
_BREADCRUMB = re.compile(r"^(?:home|trang chủ)\b|(?:\s[|»›>]\s.*){2,}", re.IGNORECASE)
_FRONT_MATTER_KEY = re.compile(r"^(\w+)\s*:\s*(.*?)\s*$")
_DASHES = "—–"
_DATELINE = re.compile(rf"\A(?P<head>[^\n{_DASHES}]{{2,80}}?)\s+[{_DASHES}]\s+|\A(?P<hhead>[^\n]{{2,60}}?)\s+--?\s+")
_AGENCY_IN_DATELINE = re.compile(r"\s*\(([^()]{1,30})\)\s*$")
_SIGN_OFF = re.compile(rf"\s[{_DASHES}-]\s*(?P<source>[A-Z][A-Za-z]{{1,11}}(?:/[A-Z][A-Za-z]{{1,11}})*)\s*\.?\s*\Z")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[\"“‘(]?[A-ZÀ-ỸĐ0-9])|\n")


def parse_date(text: str) -> dt.date | None:
    """Parse the date formats news sites use: ISO, "Feb 14, 2019", "14 February 2019", "14/02/2019"."""
    for pattern in _TIMESTAMP_LINES:
        match = pattern.fullmatch(text.strip())
        if match:
            return _date_from_match(match)
    return None


def _date_from_match(match: re.Match[str]) -> dt.date | None:
    month = match["month"]
    month_number = int(month) if month.isdigit() else _MONTHS.get(month[:3].lower())
    try:
        return dt.date(int(match["year"]), month_number or 0, int(match["day"]))
    except ValueError:
        return None


@dataclass
class _Layout:
    """The fields found in a text as parsing goes down it."""

    lines: list[str]
    title: str | None = None
    date: dt.date | None = None
    place: str | None = None
    source: str | None = None
    url: str | None = None


def _parse_text(text: str, article_id: str, path: str, title: str | None = None,
                date: dt.date | None = None) -> Article:
    layout = _Layout(text.split("\n"), title=title, date=date)
    _take_front_matter(layout)
    _take_date_prefix(layout)
    _drop_navigation_and_timestamp(layout)
    if layout.title is None:
        _take_headline(layout)
    body = _join_paragraphs(layout.lines)
    if not body:
        raise UnreadableFile("no article text")
    layout.place = layout.place or _dateline_place(body)
    layout.source = layout.source or _sign_off_source(body)
    return Article(id=article_id, path=path, title=layout.title or _lead_title(body),
                   body=body, date=layout.date, place=layout.place, source=layout.source,
                   url=layout.url)


def _take_front_matter(layout: _Layout) -> None:
    """A ``---`` block of ``key: value`` lines at the top (Markdown front matter)."""
    lines = layout.lines
    if not lines or lines[0].strip() != "---":
        return
    try:
        end = lines.index("---", 1, 40)
    except ValueError:
        return
    for line in lines[1:end]:
        match = _FRONT_MATTER_KEY.match(line)
        if match:
            _set_metadata(layout, match[1].lower(), match[2].strip("\"'"))
    del lines[: end + 1]


def _set_metadata(layout: _Layout, key: str, value: str) -> None:
    if not value:
        return
    if key in ("title", "headline"):
        layout.title = value
    elif key in ("date", "published", "pubdate"):
        layout.date = parse_date(value[:10]) or parse_date(value) or layout.date
    elif key in ("place", "dateline", "location"):
        layout.place = value
    elif key in ("source", "agency"):
        layout.source = value
    elif key in ("url", "link"):
        layout.url = value


def _take_date_prefix(layout: _Layout) -> None:
    """The archive's `` date YYYY-MM-DD`` prefix, before the text on the same line."""
    first = _first_content_index(layout.lines)
    if first is None:
        return
    match = _DATE_PREFIX.match(layout.lines[first])
    if match:
        layout.date = layout.date or parse_date(match[1])
        layout.lines[first] = layout.lines[first][match.end():]


def _drop_navigation_and_timestamp(layout: _Layout) -> None:
    """Lines above a timestamp line near the top are site navigation, never article text."""
    lines = layout.lines
    content = [i for i, line in enumerate(lines) if line.strip()][:5]
    for position, index in enumerate(content):
        stamp = parse_date(lines[index])
        if stamp:
            layout.date = layout.date or stamp
            del lines[: index + 1]
            return
        if position == 0 and _BREADCRUMB.search(lines[index].strip()):
            lines[index] = ""


def _take_headline(layout: _Layout) -> None:
    """A first line that reads as a headline (short, no closing full stop) is the title."""
    first = _first_content_index(layout.lines)
    if first is None:
        return
    line = layout.lines[first].strip()
    heading = line.lstrip("#").strip() if line.startswith("#") else None
    rest_has_text = any(other.strip() for other in layout.lines[first + 1:])
    if heading or (rest_has_text and _looks_like_headline(line)):
        layout.title = heading or line
        layout.lines[first] = ""


def _looks_like_headline(line: str) -> bool:
    return (len(line) <= 160 and len(line.split()) <= 25 and line[-1] not in ".,;:"
            and not (_DATELINE.match(line + " ")))


def _first_content_index(lines: list[str]) -> int | None:
    return next((i for i, line in enumerate(lines) if line.strip()), None)


def _join_paragraphs(lines: Iterable[str]) -> str:
    """Trim lines and fold runs of blank lines into one paragraph break."""
    text = "\n".join(line.strip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _dateline_place(body: str) -> str | None:
    """The place of a dateline such as ``HÀ NỘI —`` or ``VIETNAM, March 25 - HÀ NỘI —``."""
    match = _DATELINE.match(body)
    if not match:
        return None
    head = _AGENCY_IN_DATELINE.sub("", match["head"] or match["hhead"])
    place = re.split(r"\s+-\s+", head)[-1].split(",")[0].strip()
    is_caps = place == place.upper() and any(c.isalpha() for c in place)
    return place if is_caps and len(place.split()) <= 5 else None


def _sign_off_source(body: str) -> str | None:
    """The agency of a closing sign-off such as ``— VNA/VNS``."""
    match = _SIGN_OFF.search(body[-80:])
    return match["source"] if match else None


def _lead_title(body: str) -> str:
    """The first sentence after the dateline, shortened at a word, as a stand-in title."""
    match = _DATELINE.match(body)
    if match and _dateline_place(body):
        body = body[match.end():]
    sentence = _SENTENCE_END.split(body, maxsplit=1)[0].strip()
    if len(sentence) <= TITLE_MAX_CHARS:
        return sentence
    cut = sentence[: TITLE_MAX_CHARS + 1].rsplit(" ", 1)[0].rstrip(",;:—–- ")
    return cut + "…"


# --- HTML ------------------------------------------------------------------------------

_SKIPPED_ELEMENTS = {"script", "style", "template", "noscript", "nav", "svg", "iframe",
                     "object", "select", "button", "head"}
_BLOCK_ELEMENTS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
                   "tr", "table", "section", "article", "header", "footer", "blockquote",
                   "pre", "figure", "figcaption", "main", "aside", "hr", "dd", "dt", "address"}
_VOID_ELEMENTS = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed",
                  "source", "track", "wbr", "param"}
_DATE_META = {"date", "pubdate", "publishdate", "article:published_time", "dc.date",
              "og:published_time", "datepublished"}


class _HTMLText:
    """Collects the visible text of a page; script, style and navigation never become text,
    and attribute values are read only for the date and URL metadata.

    It handles the events of an :class:`html.parser.HTMLParser` (a parser it holds
    rather than a subclass, so that ``html.parser`` is imported only for HTML files).
    """

    def __init__(self) -> None:
        from html.parser import HTMLParser

        self._parser = HTMLParser(convert_charrefs=True)
        self._parser.handle_starttag = self.handle_starttag  # type: ignore[method-assign]
        self._parser.handle_endtag = self.handle_endtag  # type: ignore[method-assign]
        self._parser.handle_data = self.handle_data  # type: ignore[method-assign]
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self.h1_parts: list[str] = []
        self.metadata: dict[str, str] = {}
        self._skip_depth = 0
        self._open: list[str] = []

    def feed(self, html: str) -> None:
        self._parser.feed(html)

    def close(self) -> None:
        self._parser.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "meta":
            self._read_meta(values)
        elif tag == "time" and values.get("datetime"):
            self.metadata.setdefault("date", values["datetime"])
        elif tag == "link" and values.get("rel") == "canonical" and values.get("href"):
            self.metadata.setdefault("url", values["href"])
        if tag in _VOID_ELEMENTS:
            self._break(tag)
            return
        self._open.append(tag)
        if tag in _SKIPPED_ELEMENTS:
            self._skip_depth += 1
        self._break(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self._open:
            return  # a stray end tag in broken HTML
        while self._open:
            closed = self._open.pop()
            if closed in _SKIPPED_ELEMENTS:
                self._skip_depth -= 1
            if closed == tag:
                break
        self._break(tag)

    def handle_data(self, data: str) -> None:
        if "title" in self._open:
            self.title_parts.append(data)
        elif self._skip_depth == 0:
            self.parts.append(data)
            if "h1" in self._open:
                self.h1_parts.append(data)

    def _read_meta(self, values: dict[str, str]) -> None:
        key = (values.get("name") or values.get("property") or values.get("itemprop") or "")
        if key.lower() in _DATE_META and values.get("content"):
            self.metadata.setdefault("date", values["content"])

    def _break(self, tag: str) -> None:
        if tag in _BLOCK_ELEMENTS and self._skip_depth == 0:
            self.parts.append("\n\n" if tag != "br" else "\n")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _parse_html(html: str, article_id: str, path: str) -> Article:
    page = _HTMLText()
    page.feed(html)
    page.close()
    text = "\n".join(_squash(line) for line in "".join(page.parts).split("\n"))
    title = _squash("".join(page.h1_parts)) or _squash("".join(page.title_parts)) or None
    if title and text.lstrip().startswith(title):
        text = text.lstrip()[len(title):]
    date_text = page.metadata.get("date", "")
    date = parse_date(date_text[:10]) or parse_date(date_text)
    article = _parse_text(text, article_id, path, title=title, date=date)
    url = page.metadata.get("url")
    return Article(**{**article.__dict__, "url": url}) if url else article


# --- JSON lines -----------------------------------------------------------------------------

def _stream_jsonl(path: Path) -> FileContent:
    """A JSON-lines file, opened now and read line by line as its articles are iterated."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise
    except OSError as error:
        raise UnreadableFile(os_error_reason(error)) from None
    content = FileContent()
    content.articles = _jsonl_articles(handle, path, content)
    return content


def _jsonl_articles(handle: BinaryIO, path: Path, content: FileContent) -> Iterator[Article]:
    """One article per line; a bad line is noted in ``problems`` and the others are kept."""
    with handle:
        for number, raw in enumerate(handle, start=1):
            content.bytes_read += len(raw)
            if not raw.strip():
                continue
            try:
                article = _article_from_line(raw, path, content.warnings)
            except (UnreadableFile, ValueError) as error:
                content.problems.append(f"line {number}: {_json_problem(error)}")
                continue
            yield article


def _article_from_line(raw: bytes, path: Path, warnings: list[str]) -> Article:
    import json

    if len(raw) >= MAX_FILE_BYTES:
        raise UnreadableFile(f"too large ({len(raw) / 2**20:.0f} MiB)")
    record = json.loads(_decode(raw, path, warnings))
    return _article_from_json(record, str(path), warnings)


def _json_problem(error: Exception) -> str:
    import json

    if isinstance(error, json.JSONDecodeError):
        return f"not valid JSON ({error.msg})"
    return str(error)


def _article_from_json(record: object, path: str, warnings: list[str]) -> Article:
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    article_id = record.get("id")
    body = record.get("body", record.get("text"))
    if article_id in (None, "") or not isinstance(article_id, (str, int)):
        raise ValueError("no \"id\"")
    if not isinstance(body, str) or not body.strip():
        raise ValueError(f"article {article_id}: no \"body\" text")
    strings = {key: normalize(str(record[key])).strip() for key in
               ("title", "place", "source", "url", "date") if record.get(key)}
    body = _capped(body, f"{path}, article {article_id}", warnings)
    body = _join_paragraphs(normalize(_CONTROL_CHARS.sub("", body)).split("\n"))
    date_text = strings.get("date", "")
    return Article(
        id=str(article_id), path=path, body=body,
        title=strings.get("title") or _lead_title(body),
        date=parse_date(date_text[:10]) or parse_date(date_text),
        place=strings.get("place") or _dateline_place(body),
        source=strings.get("source") or _sign_off_source(body),
        url=strings.get("url"),
    )
