"""The index: its schema, where it lives, its generations and its writer lock.

On disk an index is a folder holding the local engine's indexes (Whoosh's files) in
generations::

    DIR/CURRENT          names the live generation ("gen-000002")
    DIR/gen-000002/      a complete Whoosh index
    DIR/write.lock       held by the one process writing

``index`` updates the live generation in place (Whoosh commits atomically). ``rebuild``
writes a new generation beside it and swaps ``CURRENT`` with an atomic rename, so a
search sees the old index or the new one, never a half-built one. The generation before
the live one is kept, so a reader that was opening it when the swap came still succeeds.
Each generation holds a manifest of its files' checksums (:mod:`searchidx.engine.manifest`),
brought up to date whenever a writer lets go of the lock; a writer first removes the
files that a cancelled or killed writer left.

Building and updating are :mod:`searchidx.indexer`'s; the schema is the engine's
(:mod:`searchidx.engine.schema`). Every search loads this module: it holds only what a
search needs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from .analysis import ANALYSIS_VERSION
from .engine.format import check_readable, is_readable, write_format
# The schema's field classes are named here too: index files written before they moved to
# the engine name them under this module.
from .engine.schema import (ExactText, PairSignature, Recorded, SpelledText,  # noqa: F401
                            analysis_version, build_schema)
from .engine.schema import storage as _storage
from .errors import IndexDamaged, IndexLocked, IndexNotFound, IndexUnusable, SearchIdxError
from .settings import LOCK_WAIT_SECONDS

if TYPE_CHECKING:
    from .engine.local import LocalSnapshot
    from .engine.manifest import Damage

__all__ = ["IndexStats", "IndexStore", "analysis_version", "build_schema", "default_location"]

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

# The per-user default ends so everywhere (platformdirs' folder of the app, then the index).
_DEFAULT_END = PurePath("searchidx", "index")


def default_location() -> tuple[Path, bool]:
    """The index folder to use when none is given, and whether it is the per-user default.

    ``SEARCHIDX_INDEX`` wins; otherwise the per-user data folder (``platformdirs``).
    """
    configured = os.environ.get("SEARCHIDX_INDEX")
    if configured:
        return Path(configured).expanduser(), False
    import platformdirs

    return Path(platformdirs.user_data_dir("searchidx", appauthor=False)) / _DEFAULT_END.name, True


def may_be_default_location(location: object) -> bool:
    """Whether ``location`` could be the per-user default (:func:`default_location`): a
    look at its last two names, before importing platformdirs (2-7 ms) to be sure."""
    return isinstance(location, PurePath) and PurePath(*location.parts[-2:]) == _DEFAULT_END


# --- the folder of generations ------------------------------------------------------------------

def _read_bytes(path: Path) -> bytes:
    """A file's bytes, read with plain system calls (every search reads CURRENT, and
    ``Path.read_bytes`` took five times the instructions)."""
    descriptor = os.open(path, _READ_FLAGS)
    try:
        return b"".join(iter(functools.partial(os.read, descriptor, _READ_BYTES), b""))
    finally:
        os.close(descriptor)


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)  # (Windows would turn \r\n into \n)
_READ_BYTES = 4096


class IndexStore:
    """An index folder: its generations, the pointer to the live one, and the writer lock."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self._pointer = location / "CURRENT"
        self.lock_fd: int | None = None  # the open lock file's descriptor, while writing
        self._live: tuple[str, Path] | None = None  # the live generation's name and folder

    def exists(self) -> bool:
        """Whether the folder holds a usable index."""
        return self._pointer.is_file()

    def live_generation(self) -> Path:
        """The folder of the live Whoosh index."""
        name = self._pointer_name()
        if not _is_generation_name(name):
            raise self._damaged(self._bad_pointer(name))
        live = self._live  # (every search asks: the folder's path is made once a name)
        if live is None or live[0] != name:
            self._live = live = (name, self.location / name)
        return live[1]

    def _pointer_name(self) -> str:
        """What CURRENT says."""
        try:
            return _read_bytes(self._pointer).decode("utf-8", errors="replace").strip()
        except FileNotFoundError:
            raise IndexNotFound(f"no index at {self.location}") from None
        except OSError as error:
            raise IndexUnusable(f"cannot read the index at {self.location}: {error}") from None

    def _bad_pointer(self, name: str) -> Damage:
        from .engine.manifest import Damage

        readable = name.isprintable() and len(name) <= 40
        return Damage(str(self._pointer), f"names {name!r}, which is not a generation"
                      if readable else "does not name a generation")

    def open(self):
        """Open the live index (the local engine's handle on it), retrying once if a
        rebuild swapped it meanwhile."""
        from .engine.local import OPEN_RACES, open_index

        for attempt in range(3):
            generation = self.live_generation()
            check_readable(generation, self._rebuild_remedy())
            try:
                return open_index(generation)
            except OPEN_RACES:
                if attempt == 2:
                    break
                time.sleep(0.05)
            except Exception:  # noqa: BLE001 (Whoosh raises many kinds on damaged files)
                break
        raise self._damaged(*self.damage()[:1])

    def open_snapshot(self) -> LocalSnapshot:
        """A snapshot of the live index, to read and search it (see :meth:`open`)."""
        from .engine.local import LocalSnapshot

        return LocalSnapshot(self.open())

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Report an error met while reading the index as :class:`IndexDamaged`, naming the
        damaged file, when a file is damaged; on sound files the error passes unchanged."""
        try:
            yield
        except SearchIdxError:
            raise
        except Exception as error:
            found = self.damage()
            if not found:
                raise
            raise self._damaged(found[0]) from error

    def damage(self, thorough: bool = False) -> list[Damage]:
        """The damaged or missing files of the live generation (see :mod:`searchidx.engine.manifest`);
        with ``thorough``, the segments no manifest covers are read to the end."""
        from .engine.manifest import Damage, find_damage

        for _attempt in range(3):  # a writer that commits meanwhile removes files: look again
            before = self._state()
            name = self._pointer_name()
            generation = self.location / name
            if not _is_generation_name(name):
                found = [self._bad_pointer(name)]
            elif not generation.is_dir():
                found = [Damage(str(self._pointer), f"names {name}, which is missing")]
            else:  # on the way to an error, the first damage found is enough
                damage = find_damage(generation, _storage(generation), thorough)
                found = list(damage if thorough else itertools.islice(damage, 1))
            if not found or self._state() == before:
                break
        return found

    def recorded_articles(self) -> int:
        """How many articles the live generation's table of contents counts (0 if it
        cannot be read): what a damaged index held."""
        from .engine.manifest import recorded_articles

        generation = self._live_or_none()
        return recorded_articles(_storage(generation)) if generation else 0

    def _damaged(self, damage: Damage | None = None) -> IndexDamaged:
        """The one-line error for a damaged index: which file, and the remedy."""
        what = f": {damage.file} {damage.problem}" if damage else " (it cannot be opened)"
        return IndexDamaged(f"the index at {self.location} is damaged{what}; "
                            f"{self._rebuild_remedy()}")

    def _rebuild_remedy(self) -> str:
        return (f"build it afresh from your files with "
                f"`searchidx rebuild PATH… --index {self.location}`")

    def _state(self) -> tuple[str, ...]:
        """What changes when a writer commits or publishes: CURRENT and the files it leads to."""
        try:
            generation = self.live_generation()
            return (generation.name, *sorted(p.name for p in generation.iterdir()))
        except (OSError, SearchIdxError):
            return ()

    def open_readable(self) -> LocalSnapshot | None:
        """A snapshot of what can still be read of the live index, or None (see
        :func:`~searchidx.engine.manifest.readable_segments`): a rebuild keeps from a damaged
        index what it can, and needs nothing from it."""
        from .engine.local import readable_snapshot

        generation = self._live_or_none()
        if generation is None or not is_readable(generation):
            return None
        return readable_snapshot(generation)

    def create_generation(self) -> tuple[Path, LocalSnapshot]:
        """Make a new, empty generation folder and return ``(path, snapshot)``, a snapshot
        of its empty index (to open its writer)."""
        from .engine.local import LocalSnapshot

        folder, index = self._new_generation()
        return folder, LocalSnapshot(index)

    def create_empty(self, wait: float = LOCK_WAIT_SECONDS) -> None:
        """Make an empty index where there is none: a generation whose index has no
        segment, published as it is (no writer is opened: there is nothing to write)."""
        with self.writing(wait):
            if self.exists():  # another process made one while we waited
                return
            folder, index = self._new_generation()
            index.close()
            self.publish(folder)

    def _new_generation(self):
        """A new generation folder and its new, empty Whoosh index."""
        from .engine.local import create_index

        self.location.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.name[len(_GENERATION_PREFIX):]) for p in self._generations()]
        folder = self.location / f"{_GENERATION_PREFIX}{max(numbers, default=0) + 1:06d}"
        folder.mkdir()
        write_format(folder)
        return folder, create_index(folder)

    def publish(self, generation: Path) -> None:
        """Make ``generation`` the live one (an atomic rename), then drop the older ones."""
        from .engine.manifest import write_manifest

        write_manifest(generation, _storage(generation))
        previous = self._live_or_none()
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
        """Remove every generation but the live one and the newest before it (the one
        :meth:`publish` keeps for readers still open): a killed rebuild left newer ones,
        a publish killed while it removed the older ones left those."""
        live = self._live_or_none()
        if live is None:
            return
        older = [folder for folder in self._generations() if folder.name < live.name]
        keep = {live, max(older, key=lambda folder: folder.name, default=None)}
        for folder in self._generations():
            if folder not in keep:
                self.discard(folder)

    def _tidy_live(self, manifest: bool) -> None:
        """Remove from the live generation the files a cancelled or killed writer left; with
        ``manifest``, bring its manifest up to date. Best effort: what cannot be tidied
        (a damaged generation, a full disk) is left as it is, for ``check`` to judge."""
        from .engine.manifest import remove_orphans, write_manifest

        generation = self._live_or_none()
        if generation is None or not generation.is_dir():
            return
        storage = _storage(generation)
        with contextlib.suppress(Exception):
            remove_orphans(generation, storage)
            if manifest:
                write_manifest(generation, storage)

    def _live_or_none(self) -> Path | None:
        """The live generation's folder; None when there is no index or CURRENT is damaged."""
        try:
            return self.live_generation()
        except SearchIdxError:
            return None

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
                self._tidy_live(manifest=False)
                yield
            finally:
                self._tidy_live(manifest=True)
                self.lock_fd = None
                _unlock(handle)

    def stats(self, articles: int, version: int = ANALYSIS_VERSION) -> IndexStats:
        """Size and last update of the live generation, built with analysis ``version``."""
        files = [p for p in self.live_generation().iterdir() if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        newest = max((p.stat().st_mtime for p in files), default=time.time())
        updated = dt.datetime.fromtimestamp(newest, tz=dt.timezone.utc).replace(microsecond=0)
        return IndexStats(str(self.location), articles, size, updated, version)


def _is_generation_name(name: str) -> bool:
    return name.startswith(_GENERATION_PREFIX) and "/" not in name and "\\" not in name


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

