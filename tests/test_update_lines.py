"""Updating a changed JSON-lines file parses only the lines whose bytes changed.

What was parsed is counted in ``searchidx.engine.counters``: ``indexer: article parsed``
for an article parsed from its file, ``indexer: known line`` for a line passed over
because an indexed article was read from the same bytes.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
from collections import Counter
from pathlib import Path

import pytest

from searchidx import SearchIndex
from searchidx.engine import counters
from searchidx.index import IndexStore

PARSED, KNOWN = "indexer: article parsed", "indexer: known line"


def _record(number: int, body: str | None = None) -> dict[str, object]:
    return {"id": f"r{number}", "title": f"Report {number}",
            "body": body or f"The harbour office logged {number} ships today."}


def _write(path: Path, records: list[dict[str, object]]) -> None:
    """Write the records, one a line, with an mtime later than the file had (a coarse
    file-system clock must not hide the change)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    if path.stat().st_mtime_ns <= before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def _update(index: Path, folder: Path, **options) -> tuple:
    """Run an update; its report and what it parsed."""
    before = Counter(counters)
    with SearchIndex.open(index) as idx:
        report = idx.index([folder], **options)
    parsed = counters[PARSED] - before[PARSED], counters[KNOWN] - before[KNOWN]
    return report, parsed


def _rewritten(index: Path, folder: Path, records: list[dict[str, object]]) -> tuple:
    """Write the records over the folder's file and update; the report and what it parsed."""
    _write(folder / "wire.jsonl", records)
    return _update(index, folder)


@pytest.fixture
def thousand(tmp_path: Path) -> tuple[Path, Path, list[dict[str, object]]]:
    """An index of a 1,000-line JSON-lines file: (index, folder, records)."""
    folder = tmp_path / "news"
    folder.mkdir()
    records = [_record(number) for number in range(1000)]
    _write(folder / "wire.jsonl", records)
    index = tmp_path / "index"
    with SearchIndex.open(index, create=True) as idx:
        idx.index([folder])
    return index, folder, records


def test_changing_one_line_of_a_thousand_parses_that_line_alone(thousand):
    index, folder, records = thousand
    records[500] = _record(500, "The harbour office logged a zeppelin today.")
    report, parsed = _rewritten(index, folder, records)
    assert (report.updated, report.unchanged, report.added, report.removed) == (1, 999, 0, 0)
    assert parsed == (1, 999)
    with SearchIndex.open(index) as idx:
        assert [hit.id for hit in idx.search("zeppelin").hits] == ["r500"]


def test_deleted_and_inserted_lines_are_removed_and_added_parsing_only_the_new(thousand):
    index, folder, records = thousand
    del records[10]
    records.insert(700, _record(1000, "A new line about a lighthouse."))
    report, parsed = _rewritten(index, folder, records)
    assert (report.added, report.removed, report.updated, report.unchanged) == (1, 1, 0, 999)
    assert parsed == (1, 999)
    with SearchIndex.open(index) as idx:
        assert idx.stats().articles == 1000
        assert [hit.id for hit in idx.search("lighthouse").hits] == ["r1000"]


def test_a_line_moved_within_the_file_is_not_parsed_again(thousand):
    index, folder, records = thousand
    records.append(records.pop(0))
    report, parsed = _rewritten(index, folder, records)
    assert (report.unchanged, report.added, report.removed) == (1000, 0, 0)
    # One known line is parsed after all, to rewrite its article with the file's new stamp.
    assert parsed == (1, 1000)


def test_a_changed_line_that_repeats_an_id_is_a_duplicate_on_every_run(tmp_path):
    folder, index = tmp_path / "news", tmp_path / "index"
    folder.mkdir()
    records = [_record(number) for number in range(3)]
    _write(folder / "wire.jsonl", records)
    with SearchIndex.open(index, create=True) as idx:
        idx.index([folder])
    _write(folder / "wire.jsonl", [*records, {**_record(1, "A second copy of report one.")}])
    _update(index, folder)
    # A file with a problem is read again, the problem told again: its line alone parsed.
    report, parsed = _update(index, folder)
    assert [skip.reason for skip in report.skipped] == [
        f"duplicate id 'r1' (already indexed from {folder / 'wire.jsonl'}, line 2)"]
    assert parsed == (1, 3)
    with SearchIndex.open(index) as idx:
        assert idx.search("second copy").total == 0


def test_a_line_that_gave_a_note_is_parsed_and_its_note_given_on_every_update(thousand):
    index, folder, records = thousand
    records[3] = {**_record(3), "date": "sometime in spring"}
    _write(folder / "wire.jsonl", records)
    first, _ = _update(index, folder)
    records[4] = _record(4, "The harbour office logged a schooner today.")
    _write(folder / "wire.jsonl", records)
    second, parsed = _update(index, folder)
    assert len(first.unreadable_dates) == len(second.unreadable_dates) == 1
    assert parsed == (2, 998)


def test_the_same_line_read_in_another_date_order_is_parsed_again(tmp_path):
    folder, index = tmp_path / "news", tmp_path / "index"
    folder.mkdir()
    records = [{**_record(0), "date": "03/04/2024"}, _record(1)]
    _write(folder / "wire.jsonl", records)
    with SearchIndex.open(index, create=True) as idx:
        idx.index([folder], date_order="dmy")
    _write(folder / "wire.jsonl", [records[0], _record(1, "Changed.")])
    report, parsed = _update(index, folder, date_order="mdy")
    assert (report.updated, parsed) == (2, (2, 0))
    with SearchIndex.open(index) as idx:
        assert idx.article("r0").date.isoformat() == "2024-03-04"


def _forget_line_digests(index: Path) -> None:
    """Make the index as searchidx wrote it before line digests: each article records
    its content hash alone (the other recorded values kept)."""
    from whoosh.query import Every

    from searchidx.engine.codec import Codec

    store = IndexStore(index)
    with store.writing():
        whoosh_index = store.open()
        with whoosh_index.searcher() as searcher:
            stored = [dict(fields) for fields in searcher.search(Every(), limit=None)]
        writer = whoosh_index.writer(codec=Codec())
        for fields in stored:
            fields["hash"] = fields["hash"].partition("+")[0]
            writer.update_document(**fields, exact=f"{fields['title']}\n{fields['body']}",
                                   body_pairs=fields["body"])
        writer.commit(merge=True)
        whoosh_index.close()


def test_an_index_without_line_digests_updates_by_content_as_before(thousand):
    index, folder, records = thousand
    _forget_line_digests(index)
    records[20] = _record(20, "The harbour office logged a catamaran today.")
    report, parsed = _rewritten(index, folder, records)
    assert (report.updated, report.unchanged, report.added, report.removed) == (1, 999, 0, 0)
    assert parsed == (1000, 0)
    with SearchIndex.open(index) as idx:
        assert [hit.id for hit in idx.search("catamaran").hits] == ["r20"]
        assert idx.stats().articles == 1000


def test_an_update_leaves_no_object_frozen_from_the_garbage_collector(thousand):
    index, folder, records = thousand
    records[30] = _record(30, "The harbour office logged a schooner today.")
    _write(folder / "wire.jsonl", records)
    assert gc.get_freeze_count() == 0
    report, _ = _update(index, folder)
    assert report.updated == 1
    assert gc.get_freeze_count() == 0


def test_an_update_keeps_the_objects_a_program_froze_itself_frozen(thousand):
    index, folder, records = thousand
    records[40] = _record(40, "The harbour office logged a trawler today.")
    _write(folder / "wire.jsonl", records)
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        report, _ = _update(index, folder)
        assert report.updated == 1
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


@pytest.fixture
def small_reads(monkeypatch):
    """JSON-lines files read 7 bytes at a time: every line spans reads."""
    from searchidx import settings

    monkeypatch.setattr(settings, "JSONL_READ_BYTES", 7)
    monkeypatch.setattr(settings, "JSONL_FIRST_READ_BYTES", 7)


def test_lines_that_span_reads_are_read_and_updated_as_whole_lines(thousand, small_reads):
    index, folder, records = thousand
    records[0] = _record(0, "The harbour office logged a zeppelin today.")
    records[999] = _record(999, "The harbour office logged a hovercraft today.")
    report, parsed = _rewritten(index, folder, records)
    assert (report.updated, report.unchanged, report.added, report.removed) == (2, 998, 0, 0)
    assert parsed == (2, 998)
    with SearchIndex.open(index) as idx:
        found = idx.search("zeppelin OR hovercraft").hits
        assert sorted(hit.id for hit in found) == ["r0", "r999"]


def test_a_line_over_the_size_limit_is_skipped_by_number_and_the_lines_around_it_kept(
        tmp_path, monkeypatch, small_reads):
    from searchidx import settings

    folder, index = tmp_path / "news", tmp_path / "index"
    folder.mkdir()
    monkeypatch.setattr(settings, "MAX_FILE_BYTES", 200)
    records = [_record(0), _record(1, "A long report. " * 20), _record(2)]
    _write(folder / "wire.jsonl", records)
    with SearchIndex.open(index, create=True) as idx:
        report = idx.index([folder])
        assert sorted(hit.id for hit in idx.search("harbour").hits) == ["r0", "r2"]
    assert [skip.reason for skip in report.skipped] == ["line 2: too large (the limit is 0 MiB)"]


def test_a_line_repeated_byte_for_byte_is_a_duplicate_on_every_update(thousand):
    index, folder, records = thousand
    _write(folder / "wire.jsonl", [*records, records[5]])
    for _ in range(2):
        report, parsed = _update(index, folder)
        assert [skip.reason for skip in report.skipped] == [
            f"duplicate id 'r5' (already indexed from {folder / 'wire.jsonl'}, line 6)"]
        assert (report.unchanged, report.added, report.removed) == (1000, 0, 0)


def test_an_update_tells_the_progress_watcher_after_each_article(thousand):
    index, folder, records = thousand
    records[500] = _record(500, "The harbour office logged a zeppelin today.")
    _write(folder / "wire.jsonl", records)
    states = []
    with SearchIndex.open(index) as idx:
        idx.index([folder], on_progress=states.append)
    per_article = [state for state in states if state.files_done == 0]
    assert [state.articles for state in per_article] == list(range(1, 1001))
    sizes = [len(json.dumps(r, ensure_ascii=False)) + 1 for r in records]
    assert [state.bytes_done for state in per_article] == list(itertools.accumulate(sizes))
