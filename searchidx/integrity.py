"""Checking an index: its own files (damaged or missing), then its articles against the
files they came from, and repairing what differs."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .documents import SourceFile, UnreadableFile, os_error_reason, read_file
from .index import IndexStore
from .indexer import (IndexedFile, IndexReport, RunOptions, file_stamp, indexed_files,
                      reindex_files)
from .engine.manifest import Damage
from .settings import LOCK_WAIT_SECONDS

if TYPE_CHECKING:
    from .engine.interface import Snapshot

__all__ = ["CheckReport", "Problem", "check", "repair"]


@dataclass(frozen=True)
class Problem:
    """An article whose index entry no longer matches its file."""

    id: str
    path: str
    problem: str
    """``missing`` (the file is gone), ``changed`` (the file says something else now),
    ``not in the file`` (a JSONL line is gone), ``not indexed`` (a new JSONL line),
    ``duplicate id`` or ``unreadable: <reason>``."""


@dataclass
class CheckReport:
    """The outcome of ``check``: how many articles, and what is wrong with which."""

    location: str
    articles: int
    problems: list[Problem] = field(default_factory=list)
    repaired: IndexReport | None = None
    damaged: list[Damage] = field(default_factory=list)
    """The index's own files that are damaged or missing; then ``problems`` is not looked
    for (the articles cannot be trusted) and only a rebuild helps."""

    def to_dict(self) -> dict[str, object]:
        """The JSON form: ``{"index", "articles", "problems": [...], "repaired",
        "damaged": [{"file", "problem"}, ...]}``."""
        return {"index": self.location, "articles": self.articles,
                "problems": [asdict(problem) for problem in self.problems],
                "repaired": self.repaired.to_dict() if self.repaired else None,
                "damaged": [damage.to_dict() for damage in self.damaged]}


def check(store: IndexStore, options: RunOptions = RunOptions()) -> CheckReport:
    """Read every file of the index (against its checksum, where it has one); if all are
    sound, compare every indexed article with its file: gone, changed, unreadable,
    duplicated."""
    damaged = store.damage(thorough=True)
    if damaged:
        return CheckReport(str(store.location), store.recorded_articles(), damaged=damaged)
    snapshot = store.open_snapshot()
    try:
        files = indexed_files(snapshot)
        articles = snapshot.doc_count()
        duplicates = _duplicate_ids(snapshot)
    finally:
        snapshot.close()
    report = CheckReport(str(store.location), articles)
    for path, entry in sorted(files.items()):
        report.problems.extend(_file_problems(path, entry, options.date_order))
    report.problems.extend(Problem(article_id, path, "duplicate id")
                           for article_id, path in duplicates)
    return report


def repair(store: IndexStore, report: CheckReport, wait: float = LOCK_WAIT_SECONDS,
           options: RunOptions = RunOptions()) -> CheckReport:
    """Re-index the files behind ``report``'s problems (removing the articles of files
    that are gone), then check again; the new report carries what the repair did. A
    damaged index is left as it is: only a rebuild from its files helps."""
    if report.damaged:
        return report
    files = {problem.path: problem.id for problem in report.problems}
    repaired = reindex_files(store, files, wait, options) if files else IndexReport()
    after = check(store, options)
    after.repaired = repaired
    return after


def _file_problems(path: str, entry: IndexedFile, date_order: str | None) -> list[Problem]:
    source = Path(path)
    if not source.exists():
        return [Problem(article_id, path, "missing") for article_id in entry.hashes]
    try:
        if file_stamp(source) == entry.stamp:
            return []
        # Read through the same guard as indexing: a FIFO or device is refused, not opened.
        articles = read_file(SourceFile(source, next(iter(entry.hashes))),
                             date_order=date_order).articles
    except UnreadableFile as error:
        return [Problem(article_id, path, f"unreadable: {error}") for article_id in entry.hashes]
    except OSError as error:
        return [Problem(article_id, path, f"unreadable: {os_error_reason(error)}")
                for article_id in entry.hashes]
    now = {article.id: article.content_hash for article in articles}
    problems = [Problem(i, path, "changed") for i, digest in entry.hashes.items()
                if i in now and now[i] != digest]
    problems += [Problem(i, path, "not in the file") for i in entry.hashes if i not in now]
    problems += [Problem(i, path, "not indexed") for i in now if i not in entry.hashes]
    return problems


def _duplicate_ids(snapshot: Snapshot) -> list[tuple[str, str]]:
    """``(id, path)`` of each id that more than one live article has."""
    rows = list(snapshot.recorded_columns(("id", "path")))
    counts = Counter(article_id for article_id, _ in rows)
    return sorted({(article_id, path) for article_id, path in rows if counts[article_id] > 1})
