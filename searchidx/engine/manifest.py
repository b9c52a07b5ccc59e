"""The files of one generation: a manifest of their checksums, damage found, orphans removed.

``gen-N/MANIFEST.json`` lists every file of the generation's table of contents (Whoosh's
``_MAIN_<n>.toc``) and of its segments, each with its size and SHA-256, as they were when
committed. Whoosh never rewrites a file: a commit adds segment files and a new table of
contents, so the manifest of the next commit keeps the checksums of the files it knew.

A file the manifest lists is checked against it; a segment with a file it does not list
(an index written before manifests, or a commit whose writer was killed before writing
one) is checked by reading it. Writers and checks load this module; a search only on
the way to an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from . import whoosh_adapter

__all__ = ["Damage", "find_damage", "read_toc", "readable_segments", "recorded_articles",
           "remove_orphans", "write_manifest"]

_MANIFEST_NAME = "MANIFEST.json"
_INDEX_NAME = "MAIN"  # Whoosh's name for the index in a folder (its files start with it)
_TEMPORARY_FOLDER = f"{_INDEX_NAME}.tmp"  # a writer's runs of postings, while it writes
_READ_CHUNK = 2**20


@dataclass(frozen=True)
class Damage:
    """A damaged or missing file of an index, and what is wrong with it."""

    file: str
    problem: str
    """A phrase that follows the file's name: ``is missing``, ``cannot be read (…)``…"""

    def to_dict(self) -> dict[str, str]:
        """The JSON form: ``{"file", "problem"}``."""
        return asdict(self)


def read_toc(storage):
    """The generation's latest table of contents (Whoosh raises on a damaged one)."""
    from whoosh.index import TOC

    return TOC.read(storage, _INDEX_NAME)


def find_damage(folder: Path, storage, thorough: bool) -> Iterator[Damage]:
    """The damaged or missing files of the generation in ``folder``, as they are found.

    Files the manifest lists are compared with it. A segment it does not cover is opened,
    and with ``thorough`` read to the end: every posting, stored field and column.
    """
    from whoosh.index import EmptyIndexError

    try:
        toc = read_toc(storage)
    except EmptyIndexError:
        yield Damage(str(folder / f"_{_INDEX_NAME}_*.toc"), "is missing")
        return
    except Exception as error:  # noqa: BLE001 (Whoosh raises many kinds on damaged files)
        yield Damage(str(_toc_path(folder, storage)), _cannot_read(error))
        return
    manifest = _load_manifest(folder)
    listed = [_toc_name(toc)] if _toc_name(toc) in manifest else []
    for segment in toc.segments:
        names = _segment_files(storage, segment, manifest)
        listed += sorted(names & manifest.keys())
        if not names:
            yield Damage(str(folder / f"{segment.segment_id()}.*"), "is missing")
        elif not names <= manifest.keys():
            yield from _read_segment(folder, storage, toc.schema, segment, names, thorough)
    by_size = {name: _compare(folder / name, manifest[name], checksum=False) for name in listed}
    yield from (found for found in by_size.values() if found)
    for name, found in by_size.items():  # checksums last: they read every byte
        if not found and (damaged := _compare(folder / name, manifest[name], checksum=True)):
            yield damaged


def write_manifest(folder: Path, storage) -> None:
    """Write the manifest of the generation's latest commit; atomic, so a reader sees a
    whole one or the one before. A file the previous manifest knew keeps its entry, as it
    was written, even if it is gone (Whoosh never rewrites a file: one that differs now
    is damaged)."""
    toc = read_toc(storage)
    known = _load_manifest(folder)
    names = [_toc_name(toc), *sorted(name for segment in toc.segments
                                     for name in _segment_files(storage, segment, known))]
    files = {name: known.get(name) or _entry(folder / name) for name in names}
    if files == known:
        return
    temporary = folder / f"{_MANIFEST_NAME}.tmp"
    temporary.write_text(json.dumps({"files": files}, indent=1), encoding="utf-8")
    os.replace(temporary, folder / _MANIFEST_NAME)


def remove_orphans(folder: Path, storage) -> None:
    """Remove the files that no commit of the generation names: those of a writer that
    cancelled (Whoosh leaves them) or was killed. Only a writer holding the lock may
    call this; a generation whose table of contents cannot be read is left as it is."""
    from whoosh.index import clean_files

    try:
        toc = read_toc(storage)
    except Exception:  # noqa: BLE001 (a damaged generation: `check` and `rebuild` see to it)
        return
    clean_files(storage, _INDEX_NAME, toc.generation, toc.segments)
    shutil.rmtree(folder / _TEMPORARY_FOLDER, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        (folder / f"{_MANIFEST_NAME}.tmp").unlink()


def readable_segments(storage) -> list:
    """Readers of the generation's segments whose columns read to the end (every segment,
    in a sound index; none if its table of contents is damaged)."""
    try:
        toc = read_toc(storage)
    except Exception:  # noqa: BLE001 (nothing can be read without the table of contents)
        return []
    return [reader for segment in toc.segments
            if (reader := _readable_segment(storage, toc.schema, segment))]


def recorded_articles(storage) -> int:
    """How many articles the table of contents counts; 0 if it cannot be read."""
    try:
        return sum(segment.doc_count() for segment in read_toc(storage).segments)
    except Exception:  # noqa: BLE001 (Whoosh raises many kinds on damaged files)
        return 0


def _readable_segment(storage, schema, segment):
    from whoosh.reading import SegmentReader

    reader = None
    try:
        reader = SegmentReader(storage, schema, segment)
        _read_columns(reader)
    except Exception:  # noqa: BLE001 (Whoosh raises many kinds on damaged files)
        if reader is not None:
            with contextlib.suppress(Exception):
                reader.close()
        return None
    return reader


def _toc_name(toc) -> str:
    return whoosh_adapter.toc_file_name(_INDEX_NAME, toc.generation)


def _toc_path(folder: Path, storage) -> Path:
    """The table of contents a reader opens: the latest one."""
    generation = whoosh_adapter.latest_toc_generation(storage, _INDEX_NAME)
    return folder / whoosh_adapter.toc_file_name(_INDEX_NAME, generation)


def _load_manifest(folder: Path) -> dict[str, dict]:
    """The files the manifest lists; none for an index without one (or with a torn one)."""
    try:
        files = json.loads((folder / _MANIFEST_NAME).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return files if isinstance(files, dict) else {}


def _segment_files(storage, segment, manifest: dict[str, dict]) -> set[str]:
    """The files of a segment: those on disk and those the manifest expects."""
    prefix = f"{segment.segment_id()}."
    return set(segment.list_files(storage)) | {name for name in manifest if name.startswith(prefix)}


def _compare(path: Path, expected: dict, checksum: bool) -> Damage | None:
    """The damage of a file the manifest lists: its size, and with ``checksum`` its bytes."""
    try:
        size = path.stat().st_size
        if size != expected.get("size"):
            written = expected.get("size", 0)
            return Damage(str(path), f"has {size:,} bytes, {written:,} when written")
        if checksum and _sha256(path) != expected.get("sha256"):
            return Damage(str(path), "changed since it was written (its checksum differs)")
    except FileNotFoundError:
        return Damage(str(path), "is missing")
    except OSError as error:
        return Damage(str(path), _cannot_read(error))
    return None


def _read_segment(folder: Path, storage, schema, segment, names: set[str],
                  thorough: bool) -> list[Damage]:
    """Open a segment (``thorough``: read all of it); its damage if that fails."""
    from whoosh.reading import SegmentReader

    try:
        reader = SegmentReader(storage, schema, segment)
        try:
            if thorough:
                _read_everything(reader)
        finally:
            reader.close()
    except Exception as error:  # noqa: BLE001 (Whoosh raises many kinds on damaged files)
        where = folder / (next(iter(names)) if len(names) == 1 else f"{segment.segment_id()}.*")
        return [Damage(str(where), _cannot_read(error))]
    return []


def _read_everything(reader) -> None:
    for fieldname, term in reader.all_terms():
        for _ in reader.postings(fieldname, term).all_items():
            pass
    for _ in reader.iter_docs():
        pass
    _read_columns(reader)


def _read_columns(reader) -> None:
    for name in reader.schema.names():
        if reader.has_column(name):
            for _ in reader.column_reader(name, translate=False):
                pass


def _cannot_read(error: BaseException) -> str:
    reason = " ".join(str(error).split()) or "no detail"
    return f"cannot be read ({type(error).__name__}: {reason[:200]})"


def _entry(path: Path) -> dict[str, object]:
    return {"size": path.stat().st_size, "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
