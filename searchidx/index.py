"""The index: its schema, where it lives, its generations and its writer lock.

On disk an index is a folder holding Whoosh indexes in generations::

    DIR/CURRENT          names the live generation ("gen-000002")
    DIR/gen-000002/      a complete Whoosh index
    DIR/write.lock       held by the one process writing

``index`` updates the live generation in place (Whoosh commits atomically). ``rebuild``
writes a new generation beside it and swaps ``CURRENT`` with an atomic rename, so a
search sees the old index or the new one, never a half-built one. The generation before
the live one is kept, so a reader that was opening it when the swap came still succeeds.

Building and updating are :mod:`searchidx.indexer`'s. Whoosh imports this module to read
an index's schema, so every search loads it: it holds only what a search needs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from whoosh.fields import ID, TEXT
from whoosh.formats import Characters
from whoosh.system import pack_uint

from .analysis import (ANALYSIS_VERSION, PAIR_SIGNATURE_BYTES, exact_terms, pair_signature,
                       prose_terms, spelling_words)
from .codec import Occurrences
from .errors import IndexLocked, IndexNotFound, IndexUnusable
from .settings import LOCK_WAIT_SECONDS, PLACE_BOOST, TITLE_BOOST

__all__ = ["SIGNATURE_FIELDS", "IndexStats", "IndexStore", "analysis_version", "build_schema",
           "default_location"]

SIGNATURE_FIELDS = {"body": "body_pairs"}
"""The field that holds each prose field's pair signatures."""

_GENERATION_PREFIX = "gen-"

# --- statistics ---------------------------------------------------------------------------

@dataclass(frozen=True)
class IndexStats:
    """Where an index is and what it holds."""

    location: str
    articles: int
    size_bytes: int
    updated: dt.datetime
    analysis_version: int = ANALYSIS_VERSION
    """The analysis the index was built with (see :func:`analysis_version`)."""

    @property
    def rebuild_needed(self) -> bool:
        """Whether the index was built with another analysis than this searchidx's: only a
        ``rebuild`` gives it the current foldings and joined names."""
        return self.analysis_version != ANALYSIS_VERSION

    def to_dict(self) -> dict[str, object]:
        """The JSON form: ``{"index", "articles", "size_bytes", "updated",
        "analysis_version", "rebuild_needed"}``."""
        return {"index": self.location, "articles": self.articles,
                "size_bytes": self.size_bytes, "updated": self.updated.isoformat(),
                "analysis_version": self.analysis_version, "rebuild_needed": self.rebuild_needed}


# --- schema and location -----------------------------------------------------------------

class SpelledText(TEXT):
    """A prose field (title, body) indexed in one pass, its spelling words written once.

    Whoosh runs the analyzer's chain of filters once per token, then again for the
    spelling words; :func:`~searchidx.analysis.prose_terms` makes the same terms in one
    pass, folding and stemming each distinct word once. And Whoosh adds the words of
    every article to the field's spelling list, one posting per article and word, only
    to record which words exist: a writer gets its own copy of the schema, so here each
    word is written once per writer. With ``chars=True`` where each word occurs is kept
    as :class:`~searchidx.codec.Occurrences` (an index written before keeps Whoosh's
    ``Characters``). Index files name this class: keep its name and module.

    The field records the analysis version its terms were made with (the schema is saved
    with the index, and an update keeps the saved one): see :func:`analysis_version`.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if type(self.format) is Characters:
            self.format = Occurrences(field_boost=self.format.field_boost)
        self.analysis_version = ANALYSIS_VERSION

    def index(self, value, **kwargs):
        if kwargs or not isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        terms, plain = prose_terms(value)
        if self.spelling:
            self.__dict__["_last_words"] = (value, plain)
        encode = self.format.encode
        boost = self.format.field_boost
        for term, occurrences in terms.items():
            yield term.encode("utf-8"), len(occurrences), boost * len(occurrences), encode(occurrences)

    def spellable_words(self, value: str) -> Iterator[str]:
        last_value, plain = self.__dict__.pop("_last_words", (None, None))
        words = plain if last_value is value else spelling_words(value)
        written = self.__dict__.setdefault("_written_words", set())
        words = words - written
        written.update(words)
        return iter(sorted(words))

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        state.pop("_written_words", None)  # the words of one writer, never saved
        state.pop("_last_words", None)
        return state


class ExactText(TEXT):
    """The exact-forms field, indexed in one pass like :class:`SpelledText`."""

    def index(self, value, **kwargs):
        if kwargs or not isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        boost = self.format.field_boost
        for term, frequency in exact_terms(value).items():
            yield term.encode("utf-8"), frequency, boost * frequency, pack_uint(frequency)


class PairSignature(ID):
    """A prose text's pair signature (:func:`~searchidx.analysis.pair_signature`), kept
    in a column of fixed width: which articles can have a two-word phrase. It makes no
    index terms. Index files name this class: keep its name and module."""

    indexed = False

    def __init__(self) -> None:
        from whoosh.columns import FixedBytesColumn

        super().__init__(sortable=FixedBytesColumn(PAIR_SIGNATURE_BYTES))

    def to_column_value(self, value) -> bytes:
        return pair_signature(str(value))


class Recorded(ID):
    """A value the indexer keeps for each article (stored, in a column) but never
    searches: it makes no index terms. Index files name this class: keep its name."""

    indexed = False


def build_schema():
    """The Whoosh schema. Stored text is the original NFC text, so snippets keep accents."""
    from whoosh.columns import NumericColumn
    from whoosh.fields import DATETIME, STORED, Schema

    from .analysis import exact_analyzer, name_analyzer, prose_analyzer

    prose, names = prose_analyzer(), name_analyzer()
    return Schema(
        id=ID(unique=True, stored=True, sortable=True),
        path=Recorded(stored=True, sortable=True),
        # No spelling list of its own: corrections come from the body's words, and the
        # title's would double the terms written for a fifth more words.
        title=SpelledText(analyzer=prose, stored=True, chars=True, field_boost=TITLE_BOOST),
        body=SpelledText(analyzer=prose, stored=True, chars=True, spelling=True),
        # Phrases in the body are looked for only in the articles whose signature has
        # their pairs. (Whoosh takes a document's fields in name order: the signature is
        # made from the body's terms just made.) An index built before has none.
        body_pairs=PairSignature(),
        # The words of title and body whose exact form matters (accented words, acronyms):
        # to rank exact spellings first, and to tell "UN" from "Jong-un". Not stored.
        exact=ExactText(analyzer=exact_analyzer(), phrase=False),
        # Undated articles sort as the oldest (Whoosh's default would make them the newest).
        date=DATETIME(stored=True, sortable=NumericColumn("Q", default=0)),
        place=TEXT(analyzer=names, stored=True, field_boost=PLACE_BOOST),
        source=TEXT(analyzer=names, stored=True),
        url=STORED(),
        hash=Recorded(stored=True, sortable=True),
        stamp=Recorded(stored=True, sortable=True),
    )


def analysis_version(schema) -> int:
    """The analysis version an index's terms were made with: 1 for an index written before
    the version was recorded."""
    return getattr(schema["body"], "analysis_version", 1)


def default_location() -> tuple[Path, bool]:
    """The index folder to use when none is given, and whether it is the per-user default.

    ``SEARCHIDX_INDEX`` wins; otherwise the per-user data folder (``platformdirs``).
    """
    configured = os.environ.get("SEARCHIDX_INDEX")
    if configured:
        return Path(configured).expanduser(), False
    import platformdirs

    return Path(platformdirs.user_data_dir("searchidx", appauthor=False)) / "index", True


# --- the folder of generations ------------------------------------------------------------------

class IndexStore:
    """An index folder: its generations, the pointer to the live one, and the writer lock."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self._pointer = location / "CURRENT"
        self.lock_fd: int | None = None  # the open lock file's descriptor, while writing

    def exists(self) -> bool:
        """Whether the folder holds a usable index."""
        return self._pointer.is_file()

    def live_generation(self) -> Path:
        """The folder of the live Whoosh index."""
        try:
            name = self._pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise IndexNotFound(f"no index at {self.location}") from None
        except OSError as error:
            raise IndexUnusable(f"cannot read the index at {self.location}: {error}") from None
        if not name.startswith(_GENERATION_PREFIX) or "/" in name or "\\" in name:
            raise IndexUnusable(f"the index at {self.location} is damaged "
                                f"(CURRENT names {name!r}); run `searchidx rebuild`")
        return self.location / name

    def open(self):
        """Open the live Whoosh index, retrying once if a rebuild swapped it meanwhile."""
        from whoosh import index as whoosh_index

        for attempt in range(3):
            generation = self.live_generation()
            try:
                return _storage(generation).open_index()
            except (FileNotFoundError, whoosh_index.EmptyIndexError):
                if attempt == 2:
                    break
                time.sleep(0.05)
            except Exception as error:  # Whoosh raises many kinds on damaged files
                raise IndexUnusable(f"cannot open the index at {self.location}: {error}") from None
        raise IndexUnusable(f"the index at {self.location} is damaged; run `searchidx rebuild`")

    def create_generation(self):
        """Make a new, empty generation folder and return ``(path, whoosh_index)``."""
        self.location.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.name[len(_GENERATION_PREFIX):]) for p in self._generations()]
        folder = self.location / f"{_GENERATION_PREFIX}{max(numbers, default=0) + 1:06d}"
        folder.mkdir()
        return folder, _storage(folder).create_index(build_schema())

    def publish(self, generation: Path) -> None:
        """Make ``generation`` the live one (an atomic rename), then drop the older ones."""
        previous = self.live_generation() if self.exists() else None
        temporary = self._pointer.with_name("CURRENT.tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(generation.name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self._pointer)
        keep = {generation, previous}
        for folder in self._generations():
            if folder not in keep:
                self.discard(folder)

    def discard(self, generation: Path) -> None:
        """Remove a generation folder (one never published, or one no longer needed)."""
        import shutil  # only writers remove folders: kept out of start-up

        shutil.rmtree(generation, ignore_errors=True)

    def _discard_unpublished(self) -> None:
        """Remove generations newer than the live one: a rebuild that was killed left them."""
        if not self.exists():
            return
        live = self.live_generation().name
        for folder in self._generations():
            if folder.name > live:
                self.discard(folder)

    def _generations(self) -> list[Path]:
        if not self.location.is_dir():
            return []
        return [p for p in self.location.iterdir() if p.is_dir()
                and p.name.startswith(_GENERATION_PREFIX)
                and p.name[len(_GENERATION_PREFIX):].isdigit()]

    @contextlib.contextmanager
    def writing(self, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
        """Hold the writer lock; raise :class:`IndexLocked` after ``wait`` seconds.

        The lock is an OS file lock, so the kernel drops it when its process dies:
        a killed writer never leaves a stale lock behind.
        """
        self.location.mkdir(parents=True, exist_ok=True)
        lock_path = self.location / "write.lock"
        with open(lock_path, "a+b") as handle:
            self.lock_fd = handle.fileno()
            deadline = time.monotonic() + wait
            while not _try_lock(handle):
                if time.monotonic() >= deadline:
                    raise IndexLocked(f"the index at {self.location} is being written by "
                                      f"another process (lock {lock_path}); try again later")
                time.sleep(0.1)
            try:
                self._discard_unpublished()
                yield
            finally:
                self.lock_fd = None
                _unlock(handle)

    def stats(self, articles: int, version: int = ANALYSIS_VERSION) -> IndexStats:
        """Size and last update of the live generation, built with analysis ``version``."""
        files = [p for p in self.live_generation().iterdir() if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        newest = max((p.stat().st_mtime for p in files), default=time.time())
        updated = dt.datetime.fromtimestamp(newest, tz=dt.timezone.utc).replace(microsecond=0)
        return IndexStats(str(self.location), articles, size, updated, version)


def _storage(folder: Path):
    """Whoosh's storage for a generation folder, reading files without ``mmap``.

    Whoosh copies each memory-mapped file it opens into a buffer of its own, so opening
    an index read the whole index into memory: time and memory that grew with the
    archive, for every search command and every writer. Plain reads open at once.
    """
    from whoosh.filedb.filestore import FileStorage

    return FileStorage(str(folder), supports_mmap=False)


def _try_lock(handle) -> bool:
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(handle) -> None:
    if os.name == "nt":
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

