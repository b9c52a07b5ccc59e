"""Postings held term by term while a segment is written (``pool.py``): they come back
as Whoosh's own pool gives them, whether they stayed in memory or went through runs."""

from __future__ import annotations

from operator import itemgetter
from pathlib import Path

import pytest
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import PostingPool

from searchidx import SearchIndex, settings
from searchidx.index import IndexStore
from searchidx.engine import pool, whoosh_adapter
from searchidx.engine.pool import TermPool

from conftest import ids, seed_source

QUERIES = ["Vu", "Nguyễn Minh Vũ", "Hanoi", "Kim Jong-un", "DPRK", '"Bùi Thanh Sơn"']


def _postings(location: Path) -> list[tuple]:
    with IndexStore(location).open().reader() as reader:
        return list(reader.iter_postings())


@pytest.fixture(scope="module")
def seed_postings(tmp_path_factory: pytest.TempPathFactory) -> list[tuple]:
    """Every posting of an index of the seed articles, (field, term, document, weight,
    value), in the order a writer adds them: document by document."""
    location = tmp_path_factory.mktemp("seeds") / "index"
    with SearchIndex.open(location, create=True) as idx:
        idx.index([seed_source()])
    return sorted(_postings(location), key=itemgetter(2))


@pytest.fixture
def temp_storage(tmp_path: Path):
    return FileStorage(str(tmp_path)).create()


def _pooled(into, postings: list[tuple]) -> list[tuple]:
    for posting in postings:
        into.add(posting)
    return list(into.iter_postings())


def test_postings_come_back_in_the_order_whoosh_pool_gives_them(seed_postings, temp_storage):
    whoosh = _pooled(PostingPool(temp_storage, None, limitmb=64), seed_postings)
    assert len(seed_postings) > 1_500
    assert _pooled(TermPool(temp_storage, 64), seed_postings) == whoosh


@pytest.mark.parametrize("piece", [pool._RUN_CHUNK_POSTINGS, 7],
                         ids=["run in one piece", "in pieces"])
def test_postings_past_the_memory_limit_go_through_runs_and_come_back_the_same(
        seed_postings, temp_storage, monkeypatch, piece):
    monkeypatch.setattr(pool, "_RUN_CHUNK_POSTINGS", piece)
    in_memory = _pooled(TermPool(temp_storage, 64), seed_postings)
    term_pool = TermPool(temp_storage, 0.05)
    assert _pooled(term_pool, seed_postings) == in_memory
    assert len(term_pool.runs) >= 3


def test_runs_are_deleted_when_the_pool_is_cleaned_up(seed_postings, temp_storage):
    term_pool = TermPool(temp_storage, 0.05)
    _pooled(term_pool, seed_postings)
    assert list(temp_storage.list())
    term_pool.cleanup()
    assert list(temp_storage.list()) == []


def test_a_term_given_documents_out_of_order_comes_back_in_document_order(temp_storage):
    term_pool = TermPool(temp_storage, 64)
    for docnum in (5, 2, 9):
        term_pool.add(("body", b"rice", docnum, float(docnum), b"v%d" % docnum))
    term_pool.add(("body", b"corn", 1, 1.0, b""))
    assert list(term_pool.iter_postings()) == [
        ("body", b"corn", 1, 1.0, b""), ("body", b"rice", 2, 2.0, b"v2"),
        ("body", b"rice", 5, 5.0, b"v5"), ("body", b"rice", 9, 9.0, b"v9")]
    assert term_pool.fieldnames == {"body"}


@pytest.mark.parametrize("parallel", [False, True], ids=["one writer", "worker processes"])
def test_an_index_written_through_runs_is_the_index_written_in_memory(
        seed_postings, tmp_path, monkeypatch, parallel):
    monkeypatch.setattr(settings, "WRITER_MEMORY_MB", 0.05)
    if parallel:
        monkeypatch.setattr(settings, "PARALLEL_MIN_BYTES", 0)
    location = tmp_path / "index"
    with SearchIndex.open(location, create=True) as idx:
        idx.index([seed_source()])
        found = {query: ids(idx.search(query)) for query in QUERIES}
    if not parallel:  # workers number the documents in the order they take them
        assert sorted(_postings(location), key=itemgetter(2)) == seed_postings
    monkeypatch.undo()
    with SearchIndex.open(tmp_path / "in-memory", create=True) as idx:
        idx.index([seed_source()])
        assert found == {query: ids(idx.search(query)) for query in QUERIES}
    assert all(found.values())


def _segment_files(location: Path) -> dict[str, bytes]:
    """Each file of the index's one segment, by its kind (its name after the segment id),
    as its compound file holds them (that file also records when each was written)."""
    with IndexStore(location).open().reader() as reader:
        ((segment, _),) = reader.leaf_readers()
        storage, prefix = segment.storage(), segment.segment().segment_id() + "."
        return {name[len(prefix):]: storage.open_file(name).read(storage.file_length(name))
                for name in storage.list()
                if name.startswith(prefix) and not name.endswith(".seg")}


def _seeds_segment_files(location: Path) -> dict[str, bytes]:
    """The files of the one segment of a new index of the seeds (:func:`_segment_files`)."""
    with SearchIndex.open(location, create=True) as idx:
        idx.index([seed_source()])
    return _segment_files(location)


@pytest.mark.parametrize(("memory_mb", "block"), [(settings.WRITER_MEMORY_MB, 512), (0.05, 512),
                                                 (settings.WRITER_MEMORY_MB, 7)],
                         ids=["in memory", "through runs", "in blocks of 7"])
def test_postings_written_a_term_at_a_time_make_the_files_written_a_posting_at_a_time(
        tmp_path, monkeypatch, memory_mb, block):
    monkeypatch.setattr(settings, "WRITER_MEMORY_MB", memory_mb)
    monkeypatch.setattr(settings, "POSTINGS_PER_BLOCK", block)
    by_term = _seeds_segment_files(tmp_path / "by-term")
    monkeypatch.delattr(pool.PooledPostings, "terms")  # Whoosh's loop, a posting at a time
    assert {"pst", "trm"} <= by_term.keys()
    assert by_term == _seeds_segment_files(tmp_path / "by-posting")


@pytest.mark.parametrize(("memory_mb", "dates_kept"), [
    (settings.WRITER_MEMORY_MB, settings.WRITER_NUMBER_TERMS_MEMO), (0.05, 1)],
    ids=["in memory", "through runs, one date's terms kept"])
def test_documents_added_a_field_at_a_time_make_the_files_whoosh_add_document_makes(
        tmp_path, monkeypatch, memory_mb, dates_kept):
    monkeypatch.setattr(settings, "WRITER_MEMORY_MB", memory_mb)
    monkeypatch.setattr(settings, "WRITER_NUMBER_TERMS_MEMO", dates_kept)
    by_field = _seeds_segment_files(tmp_path / "by-field")
    monkeypatch.setattr(whoosh_adapter, "add_fields_at_once", lambda writer: None)
    assert {"pst", "trm"} <= by_field.keys()
    assert by_field == _seeds_segment_files(tmp_path / "by-posting")


def test_a_field_given_no_postings_is_not_held(temp_storage):
    term_pool = TermPool(temp_storage, 64)
    assert term_pool.add_field("exact", 0, iter(()), 1.0, b"last") == (0, b"last")
    term_pool.add_field("body", 0, iter([(b"rice", 2, 2.0, b"v")]), 1.5)
    assert term_pool.fieldnames == {"body"}
    assert list(term_pool.iter_postings()) == [("body", b"rice", 0, 3.0, b"v")]


def test_ranges_share_out_terms_as_well_as_postings(temp_storage):
    """A range of many one-posting terms (the spelling words) costs more to write than
    its postings alone say: the bounds count each term as a posting more."""
    term_pool = TermPool(temp_storage, 64)
    for number in range(90):  # 90 terms of one posting each: 180 to write
        term_pool.add(("a", b"w%03d" % number, number, 1.0, b"v"))
    for docnum in range(90):  # one term of 90 postings: 91 to write
        term_pool.add(("b", b"common", docnum, 1.0, b"v"))
    [(fieldname, text)] = term_pool.even_bounds(2)
    assert (fieldname, text) < ("b", b"")
    assert b"w060" < text < b"w080"
