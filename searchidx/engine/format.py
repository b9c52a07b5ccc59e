"""The name and version of the on-disk format, written by searchidx in each generation.

A generation folder holds ``FORMAT.json``, ``{"format": "searchidx", "version": N}``,
written when the folder is made, before any of Whoosh's files. A folder without it was
written in version 1 (before the file existed), which :mod:`.legacy` reads. An update
keeps a generation's format as it is: only a rebuild makes a generation of the current one.

Versions: 1, the Whoosh files of searchidx 0.1 (classes pickled as ``searchidx.codec``);
2, the same files with classes pickled as ``searchidx.engine.codec``, and this file;
3, occurrences in the varying layout (``codec.Occurrences``) and a rare term's postings
inlined in its term info (``whoosh_adapter.InliningTermInfo``); 4, the terms file as a
compact table (:mod:`.terms`), and a file's path kept once a segment
(``codec.RepeatedBytesColumn``); 5, a long body's pair signature extended (the column
``body_pairs_long``, :class:`.schema.PairExtension`). Each is read by this searchidx as
written.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import IndexUnusable

FORMAT_NAME = "searchidx"
FORMAT_VERSION = 5
READABLE_VERSIONS = range(1, FORMAT_VERSION + 1)
_FORMAT_FILE = "FORMAT.json"
_BEFORE_THE_FILE = 1  # the version of a folder without one
# What this version writes, byte for byte: a search that finds it need not import json (1 ms).
_CURRENT = f'{{"format": "{FORMAT_NAME}", "version": {FORMAT_VERSION}}}\n'.encode()


def write_format(folder: Path) -> None:
    """Say in a new generation folder that it is written in the current format."""
    (folder / _FORMAT_FILE).write_bytes(_CURRENT)


def format_of(folder: Path) -> tuple[str, object]:
    """The format name and version a generation folder says it was written in."""
    try:
        written = (folder / _FORMAT_FILE).read_bytes()
    except FileNotFoundError:
        return FORMAT_NAME, _BEFORE_THE_FILE
    except OSError:
        return "unknown", "unknown"
    if written == _CURRENT:
        return FORMAT_NAME, FORMAT_VERSION
    import json

    try:
        said = json.loads(written)
    except ValueError:
        return "unknown", "unknown"
    if not isinstance(said, dict):
        return "unknown", "unknown"
    return str(said.get("format")), said.get("version")


def is_readable(folder: Path) -> bool:
    """Whether the generation in ``folder`` is in a format this searchidx reads."""
    name, version = format_of(folder)
    return name == FORMAT_NAME and type(version) is int and version in READABLE_VERSIONS


def check_readable(folder: Path, remedy: str) -> None:
    """Raise :class:`IndexUnusable` (one line, ending with ``remedy``) unless the
    generation in ``folder`` is in a format this searchidx reads."""
    if is_readable(folder):
        return
    name, version = map(_shown, format_of(folder))
    raise IndexUnusable(f"the index at {folder.parent} was written in format {name} version "
                        f"{version}; this searchidx reads {FORMAT_NAME} versions "
                        f"{READABLE_VERSIONS[0]}–{READABLE_VERSIONS[-1]}: {remedy}")


def _shown(said: object) -> str:
    """What a file said, fit for a one-line message."""
    text = str(said)
    return text if text.isprintable() and len(text) <= 40 else "unknown"
