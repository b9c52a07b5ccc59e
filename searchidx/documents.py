"""Reading articles: finding files, decoding them, and parsing news layouts into fields.

Formats: ``.txt`` and ``.md`` (plain news text), ``.html``/``.htm``, and ``.jsonl`` (one
article a line). Every text is decoded (UTF-8, else Windows-1252 with a warning) and
brought to NFC before anything else looks at it.

Modules only some files need (``json``, ``hashlib``, python-dateutil through
:mod:`searchidx.dates`, and :mod:`searchidx.pages` with trafilatura for HTML) are imported
where they are used: every command imports this module, and start-up time counts. Only
regular files are opened (see :func:`open_regular_file`), and never read past
``settings.MAX_FILE_BYTES``.
"""

from __future__ import annotations

import datetime as dt
import errno
import functools
import hashlib
import io
import itertools
import operator
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from . import settings
from .analysis import normalize
from .dates import AmbiguousDate, UnreadableDate, read_date
from .settings import MAX_ARTICLE_CHARS, TITLE_MAX_CHARS

__all__ = ["Article", "FileContent", "KnownLine", "KnownLines", "SourceFile", "UnreadableFile",
           "clean_text", "find_files", "read_file", "stream_file"]

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
    # The digest of the JSON line it was read from, when reading that line again would
    # give the same article and no note (see :func:`_line_hasher`); else None.
    line_hash: str | None = field(default=None, compare=False, repr=False)

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


class KnownLine:
    """A JSON line whose bytes are those an indexed article was read from: it is not
    decoded or parsed again (``parse()`` does it, if the article is needed after all).
    A plain class with slots: an update makes one for every unchanged line."""

    __slots__ = ("id", "parse")

    def __init__(self, article_id: str, parse: Callable[[], Article]) -> None:
        self.id = article_id
        self.parse = parse


class KnownLines:
    """Consecutive known lines (see :class:`KnownLine`), passed on together: an update
    passes over most lines of a file, and one object a line cost more than the rest."""

    __slots__ = ("ids", "first", "raws", "_digests", "_path", "_content")

    def __init__(self, ids: list[str], first: int, raws: list[bytes], digests: list[str],
                 path: Path, content: FileContent) -> None:
        self.ids = ids  # the article id of each line
        self.first = first  # the number of the first line
        self.raws = raws
        self._digests = digests
        self._path = path
        self._content = content

    def lines(self) -> Iterator[tuple[int, KnownLine]]:
        """``(number, line)`` for each line, one :class:`KnownLine` each."""
        for number, article_id, raw, digest in zip(itertools.count(self.first), self.ids, self.raws,
                                                   self._digests):
            yield number, KnownLine(article_id, functools.partial(
                _article_from_line, raw, self._path, number, self._content, digest))


@dataclass(frozen=True)
class SourceFile:
    """A file to read, with the id its article takes (its path under the folder given)."""

    path: Path
    article_id: str


@dataclass
class DateReader:
    """Reads the dates of one file in the order given (``dmy``/``mdy``, or None: an
    ambiguous day/month is not read) and notes each date it could not read."""

    order: str | None = None
    unreadable: list[str] = field(default_factory=list)
    # The last text read as a date, and its date: an archive's articles come a day's at a
    # time (Reuters': 12 dates for 5,000 articles), and reading one took ~2 µs.
    _last_read: tuple[str | None, dt.date | None] = field(default=(None, None), repr=False,
                                                           compare=False)

    def read(self, value: object, where: str) -> dt.date | None:
        """The date ``value`` writes, or None (noted, with ``where`` it was found)."""
        last, date = self._last_read
        if value == last and type(value) is str:
            return date
        try:
            date = read_date(value, date_order=self.order)  # type: ignore[arg-type]
        except UnreadableDate as error:
            self.note(value, where, error)
            return None
        if type(value) is str:
            self._last_read = (value, date)
        return date

    def note(self, value: object, where: str, error: UnreadableDate) -> None:
        shown = value if isinstance(value, str) else repr(value)
        self.unreadable.append(f"{where}: \"{str(shown)[:60]}\" ({error})")


@dataclass
class FileContent:
    """What one file gave: its articles, and notes on what was odd or left out.

    From :func:`stream_file` the articles may be an iterator that reads the file as it
    goes; the notes are complete once it is exhausted, and ``line`` is the line of a
    JSON-lines file that the latest article came from.
    """

    articles: list[Article] | Iterator[Article] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    bytes_read: int = 0  # how far a JSON-lines file has been read, for showing progress
    dates: DateReader = field(default_factory=DateReader)
    line: int | None = None
    known_lines: Mapping[str, str] = field(default_factory=dict)  # line hash -> article id

    def note_count(self) -> int:
        """How many notes (warnings, unreadable dates) the file has given so far."""
        return len(self.warnings) + len(self.dates.unreadable)

    @property
    def unreadable_dates(self) -> list[str]:
        """Where a date could not be read (the article is kept undated), and why."""
        return self.dates.unreadable

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


def read_file(source: SourceFile, *, date_order: str | None = None) -> FileContent:
    """Read and parse one file into articles; raise :class:`UnreadableFile` if it has none."""
    content = stream_file(source, date_order=date_order)
    content.articles = list(content.articles)
    if not content.articles:
        raise UnreadableFile(content.unreadable_reason())
    return content


def stream_file(source: SourceFile, *, date_order: str | None = None,
                known_lines: Mapping[str, str] | None = None) -> FileContent:
    """Like :func:`read_file`, but a JSON-lines file's articles are read and parsed as they
    are iterated, so memory does not grow with the file. Errors opening the file are
    raised here; a file that turns out to hold no article gives an empty iterator.
    ``date_order`` (``"dmy"``/``"mdy"``) settles all-numeric dates such as 03/04/2024.
    JSON lines whose digest (:func:`_line_hasher`) is in ``known_lines`` (digest -> article id)
    come unparsed, each run of consecutive ones as one :class:`KnownLines`."""
    suffix = source.path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFile(f"unsupported file type {suffix or '(none)'!r}")
    content = FileContent(dates=DateReader(date_order), known_lines=known_lines or {})
    if suffix in JSONL_SUFFIXES:
        content.articles = _jsonl_articles(open_regular_file(source.path), source.path, content)
        return content
    text = _decode(_read_bytes(source.path), source.path, content.warnings)
    text = _capped(text, f"{source.path}", content.warnings)
    if suffix in HTML_SUFFIXES:
        from .pages import parse_page  # trafilatura loads only when a page is read

        article = parse_page(text, source.article_id, str(source.path), content.warnings,
                             content.dates)
    else:
        article = _parse_text(text, source.article_id, str(source.path), dates=content.dates)
    content.articles.append(article)
    return content


def _capped(text: str, where: str, warnings: list[str]) -> str:
    """At most ``MAX_ARTICLE_CHARS`` of one article's text, so memory stays bounded."""
    if len(text) <= MAX_ARTICLE_CHARS:
        return text
    warnings.append(f"{where}: only the first {MAX_ARTICLE_CHARS:,} characters are indexed")
    return text[:MAX_ARTICLE_CHARS]


# --- bytes to text -------------------------------------------------------------------

_DIGIT = re.compile(r"\d")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Control characters other than ESC (which terminal captures are full of) mark binary data.
_BINARY_CHARS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_BINARY_SHARE = 0.1


def open_regular_file(path: Path) -> BinaryIO:
    """Open a regular file (through symbolic links) for reading. Anything else (a folder,
    FIFO, socket or device) is refused as :class:`UnreadableFile` without being opened
    for good: a FIFO would block for ever and a device never ends. FileNotFoundError
    passes through (the indexer tells a vanished file from a broken link)."""
    try:
        _refuse_unless_regular(path.stat().st_mode)
        # Non-blocking, so that a FIFO put in the file's place meanwhile opens at once
        # (and is refused by the second look); regular files ignore the flag.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise
    except OSError as error:
        raise UnreadableFile(os_error_reason(error)) from None
    try:
        _refuse_unless_regular(os.fstat(descriptor).st_mode)
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


_FILE_KINDS = ((stat.S_ISDIR, "is a folder"), (stat.S_ISFIFO, "a FIFO"),
               (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"))


def _refuse_unless_regular(mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _FILE_KINDS if test(mode)), "an unknown kind of file")
    raise UnreadableFile(kind if kind == "is a folder" else f"not a regular file ({kind})")


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, read no further than the size limit whatever the file's size
    says (a file in /proc says 0); see :func:`open_regular_file` for the errors."""
    limit = settings.MAX_FILE_BYTES
    with open_regular_file(path) as handle:
        try:
            size = os.fstat(handle.fileno()).st_size
            data = handle.read(limit) if size < limit else b""
        except OSError as error:
            raise UnreadableFile(os_error_reason(error)) from None
    if max(size, len(data)) >= limit:
        raise UnreadableFile(f"too large ({max(size, len(data)) / 2**20:.0f} MiB; "
                             f"the limit is {limit / 2**20:.0f} MiB)")
    return data


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
            text = data.decode("utf-8")  # (a codec call; "utf-8-sig" is a Python function)
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
            warnings.append(f"{path}: not valid UTF-8; read as Windows-1252")
        else:
            text = text[1:] if text.startswith(_BYTE_ORDER_MARK) else text
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    cleaned = _CONTROL_CHARS.sub("", text)
    # Binary characters are control characters: only a text that had some is looked at
    # (one pass over a clean text, which most are).
    if len(cleaned) != len(text) and _is_binary(text[:8192]):
        raise UnreadableFile("binary file, not text")
    text = normalize(cleaned)
    if not text or text.isspace():  # (as ``not text.strip()``, without a copy)
        raise UnreadableFile("empty file")
    return text


_BYTE_ORDER_MARK = "\ufeff"


def _is_binary(head: str) -> bool:
    return len(_BINARY_CHARS.findall(head)) > _BINARY_SHARE * len(head)


# --- plain news text -------------------------------------------------------------------

_DATE_PREFIX = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*\n?")
# A timestamp line's date and time may be parted by a bar, as in "14/02/2019 | 10:00".
_TIMESTAMP_SEPARATOR = re.compile(r"\s+\|\s+")
_BREADCRUMB = re.compile(r"^(?:home|trang chủ)\b|(?:\s[|»›>]\s.*){2,}", re.IGNORECASE)
_FRONT_MATTER_KEY = re.compile(r"^(\w+)\s*:\s*(.*?)\s*$")
_DASHES = "—–"
_DATELINE = re.compile(rf"\A(?P<head>[^\n{_DASHES}]{{2,80}}?)\s+[{_DASHES}]\s+|\A(?P<hhead>[^\n]{{2,60}}?)\s+--?\s+")
_AGENCY_IN_DATELINE = re.compile(r"\s*\(([^()]{1,30})\)\s*$")
_SIGN_OFF = re.compile(rf"\s[{_DASHES}-]\s*(?P<source>[A-Z][A-Za-z]{{1,11}}(?:/[A-Z][A-Za-z]{{1,11}})*)\s*\.?\s*\Z")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[\"“‘(]?[A-ZÀ-ỸĐ0-9])|\n")


@dataclass
class _Layout:
    """The fields found in a text as parsing goes down it."""

    lines: list[str]
    dates: DateReader
    path: str
    title: str | None = None
    date: dt.date | None = None
    place: str | None = None
    source: str | None = None
    url: str | None = None


def _parse_text(text: str, article_id: str, path: str, title: str | None = None,
                date: dt.date | None = None, dates: DateReader | None = None) -> Article:
    layout = _Layout(text.split("\n"), dates or DateReader(), path, title=title, date=date)
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
        layout.date = layout.dates.read(value, f"{layout.path}, {key}") or layout.date
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
        layout.date = layout.date or layout.dates.read(match[1], f"{layout.path}, date")
        layout.lines[first] = layout.lines[first][match.end():]


def _drop_navigation_and_timestamp(layout: _Layout) -> None:
    """Lines above a timestamp line near the top are site navigation, never article text."""
    lines = layout.lines
    content = [i for i, line in enumerate(lines) if line.strip()][:5]
    for position, index in enumerate(content):
        if _take_timestamp(layout, lines[index]):
            del lines[: index + 1]
            return
        if position == 0 and _BREADCRUMB.search(lines[index].strip()):
            lines[index] = ""


def _take_timestamp(layout: _Layout, line: str) -> bool:
    """Whether ``line`` is a date line (its date, if readable, becomes the article's)."""
    if not _DIGIT.search(line):  # a date has a year and a day: no digit, no date to try
        return False
    written = _TIMESTAMP_SEPARATOR.sub(" ", line.strip())
    try:
        stamp = read_date(written, date_order=layout.dates.order, trailing_text=False)
    except AmbiguousDate as error:
        layout.dates.note(written, f"{layout.path}, date line", error)
        return True
    except UnreadableDate:
        return False
    layout.date = layout.date or stamp
    return True


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
    text = "\n".join([line.strip() for line in lines])
    if "\n\n\n" in text:  # (a scan for the string is many times one for the pattern)
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


_BLANK_LINES = re.compile(r"\n{3,}")


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


# --- JSON lines -----------------------------------------------------------------------------

def _jsonl_articles(handle: BinaryIO, path: Path,
                    content: FileContent) -> Iterator[Article | KnownLines]:
    """One article per line; a bad line is noted in ``problems`` and the others are kept.
    Consecutive known lines (see :func:`stream_file`) are passed on unparsed, together."""
    hasher = _line_hasher(content.dates.order)
    number = 0  # of the line before the chunk
    with handle:
        for lines in _line_chunks(handle):
            yield from _chunk_articles(lines, number, path, content, hasher)
            number += len(lines)


def _chunk_articles(lines: list[bytes | int], before: int, path: Path, content: FileContent,
                    hasher: Callable) -> Iterator[Article | KnownLines]:
    """The articles of a chunk of lines (numbered from ``before + 1``): each run of known
    lines as one :class:`KnownLines`, the other lines one by one. Every line's digest and
    lookup are made in C, a chunk at a time: most lines of an update are known."""
    if int in map(type, lines):  # a line too large: rare, one by one
        digests: list[str | None] = [
            None if type(line) is int else hasher(line).hexdigest() for line in lines]
    else:
        digests = _line_digests(lines, hasher)
    ids = list(map(content.known_lines.get, digests))
    unknown = itertools.compress(itertools.count(), map(operator.is_, ids, itertools.repeat(None)))
    done = 0
    for at in unknown:
        if at > done:
            yield _known_run(lines, digests, ids, before, done, at, path, content)
        done = at + 1
        content.line = before + done
        line = lines[at]
        content.bytes_read += _size_of(line)
        try:
            article = _line_article(line, digests[at], path, before + done, content)
        except (UnreadableFile, ValueError, RecursionError) as error:
            content.problems.append(f"line {before + done}: {_json_problem(error)}")
            continue
        if article is not None:
            yield article
    if len(lines) > done:
        yield _known_run(lines, digests, ids, before, done, len(lines), path, content)


def _known_run(lines: list, digests: list, ids: list, before: int, start: int, end: int,
               path: Path, content: FileContent) -> KnownLines:
    """The known lines ``lines[start:end]`` (numbered from ``before + 1``) as one run."""
    run = KnownLines(ids[start:end], before + start + 1, lines[start:end], digests[start:end],
                     path, content)
    content.line = before + end
    content.bytes_read += sum(map(len, run.raws))
    return run


def _line_article(line: bytes | int, digest: str | None, path: Path, number: int,
                  content: FileContent) -> Article | None:
    """A line that is not known, parsed with its digest if it gave no note (a line that
    did is parsed on every read, so that its notes are given again); None if blank."""
    if type(line) is int:
        raise UnreadableFile(f"too large (the limit is {settings.MAX_FILE_BYTES / 2**20:.0f} MiB)")
    if not line or line.isspace():  # (as ``not line.strip()``, without a copy)
        return None
    notes = content.note_count()
    article = _article_from_line(line, path, number, content, digest)
    return article if content.note_count() == notes else replace(article, line_hash=None)


def _line_hasher(date_order: str | None) -> Callable[[bytes], hashlib.blake2b]:
    """The hash that tells a JSON line from any other: of its bytes and the date order they
    are read in (the same bytes read in another order may give another date); a C call."""
    return functools.partial(hashlib.blake2b, digest_size=8, person=(date_order or "").encode())


def _line_digests(lines: list[bytes], hasher: Callable[[bytes], hashlib.blake2b]) -> list[str]:
    """The digest of each line (see :func:`_line_hasher`), made by C calls alone."""
    return list(map(_HEXDIGEST, map(hasher, lines)))


_HEXDIGEST = operator.methodcaller("hexdigest")


def _line_chunks(handle: BinaryIO) -> Iterator[list[bytes | int]]:
    """The file's lines, each with its line break, in lists of about
    ``settings.JSONL_READ_BYTES``: one read and one split for many lines. A line of the size
    limit or more (its line break aside) is passed over to its end and given as its size
    in bytes, an int, never held whole."""
    limit = settings.MAX_FILE_BYTES
    pieces: list[bytes] = []  # the start of a line that a read cut short
    dropped = 0  # the bytes of a line too large to hold, passed over so far
    size = settings.JSONL_FIRST_READ_BYTES
    while data := handle.read(size):
        size = settings.JSONL_READ_BYTES
        if b"\n" not in data:
            pieces.append(data)
            held = sum(map(len, pieces))
            if dropped or held > limit:
                dropped, pieces = dropped + held, []
            continue
        lines = io.BytesIO(b"".join([*pieces, data])).readlines()
        pieces = [] if lines[-1].endswith(b"\n") else [lines.pop()]
        if dropped:
            lines[0], dropped = dropped + len(lines[0]), 0
        yield _within_limit(lines, limit)
    if dropped or pieces:
        yield _within_limit([dropped + sum(map(len, pieces)) if dropped else b"".join(pieces)],
                            limit)


def _within_limit(lines: list[bytes | int], limit: int) -> list[bytes | int]:
    """``lines`` with each one too large (see :func:`_line_chunks`) given as its size (the
    first may be one already, the rest are bytes)."""
    if type(lines[0]) is bytes and max(map(len, lines)) < limit:
        return lines
    return [line if type(line) is bytes and _fits(line, limit) else _size_of(line)
            for line in lines]


def _fits(line: bytes, limit: int) -> bool:
    """Whether a line is within the limit (as ``readline(limit)`` reads a whole line)."""
    return len(line) < limit or (len(line) == limit and line.endswith(b"\n"))


def _size_of(line: bytes | int) -> int:
    return line if type(line) is int else len(line)


def _article_from_line(raw: bytes, path: Path, number: int, content: FileContent,
                       line_hash: str | None = None) -> Article:
    import json

    record = json.loads(_decode(raw, path, content.warnings))
    if _SURROGATE_ESCAPE.search(raw):  # (a C pass; such a line is rare)
        record = _lone_surrogates_replaced(record, f"{path} line {number}", content.warnings)
    return _article_from_json(record, path, number, content, line_hash)


# A JSON escape of a surrogate: a pair of them is one character, one alone is none (no
# UTF-8 holds it), which JSON allows and the index cannot store.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogates_replaced(record: object, where: str, warnings: list[str]) -> object:
    """``record`` with each lone surrogate replaced by U+FFFD and a warning, as undecodable
    bytes are (see :func:`_decode`): the article is kept, its broken text marked."""
    import json

    text = json.dumps(record, ensure_ascii=False)  # (a pair is one character in it)
    if not _LONE_SURROGATE.search(text):
        return record
    warnings.append(f"{where}: a \\u escape that is no character (a lone surrogate); "
                    f"replaced with U+FFFD")
    return json.loads(_LONE_SURROGATE.sub("\ufffd", text))


def _json_problem(error: Exception) -> str:
    import json

    if isinstance(error, json.JSONDecodeError):
        return f"not valid JSON ({error.msg})"
    if isinstance(error, RecursionError):
        return "not read: nested too deeply"
    return str(error)


# An id names an article in links (/articles/<id>): no path step up, no control character.
_UNSAFE_ID = re.compile(r"(?:\A|[/\\])\.\.?(?:\Z|[/\\])|[\x00-\x1f\x7f-\x9f]")


def _json_id(value: object) -> str:
    """A record's id: a string or an integer, safe to put in a link."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError('no "id"')
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f'the "id" must be a string or an integer, not {_json_kind(value)}')
    article_id = str(value)
    if _UNSAFE_ID.search(article_id):
        raise ValueError(f'the "id" {article_id.encode("unicode_escape").decode()[:60]!r} has '
                         f'a "." or ".." path step or a control character')
    return article_id


def clean_text(text: str) -> str:
    """``text`` in NFC, without control characters (tab and line breaks kept)."""
    return normalize(_CONTROL_CHARS.sub("", text))


def _json_text(record: dict, key: str) -> str | None:
    """A text field of a record, cleaned; None when absent or null."""
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f'"{key}" must be text, not {_json_kind(value)}')
    return clean_text(value).strip()


def _json_kind(value: object) -> str:
    import json

    kinds = {dict: "an object", list: "a list", bool: "true/false", float: "a number",
             int: "a number", str: "text"}
    shown = json.dumps(value, ensure_ascii=False, default=str)
    return f"{kinds.get(type(value), type(value).__name__)} ({shown[:40]})"


def _article_from_json(record: object, path: Path, number: int, content: FileContent,
                       line_hash: str | None = None) -> Article:
    """An article from a record: an id, a title or a body (a title alone is its text)."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    article_id = _json_id(record.get("id"))
    body_key = "body" if record.get("body") is not None else "text"
    fields = {key: _json_text(record, key) for key in (body_key, "title", "place", "source",
                                                       "url")}
    body, title = fields[body_key], fields["title"]
    if not body and not title:
        raise ValueError(f"article {article_id}: no title or text")
    body = _capped(body or title or "", f"{path}, article {article_id}", content.warnings)
    body = _join_paragraphs(body.split("\n"))
    date = record.get("date")
    return Article(
        id=article_id, path=str(path), body=body,
        title=title or _lead_title(body),
        date=None if date in (None, "") else content.dates.read(date, f"{path} line {number}"),
        place=fields["place"] or _dateline_place(body),
        source=fields["source"] or _sign_off_source(body),
        url=fields["url"],
        line_hash=line_hash,
    )
