"""Indexing: adding, updating, removing, skipping, rebuilding, and the writer lock."""

from __future__ import annotations

import os
import threading
import time

import pytest
from click.testing import CliRunner

from conftest import SEED_IDS, ids
from searchidx import IndexLocked, IndexNotFound, SearchIndex
from searchidx import settings
from searchidx.cli import cli
from searchidx.errors import IndexUnusable
from searchidx.index import IndexStore, _storage, build_schema


def test_indexing_the_seeds_adds_five_articles(seed_dir, index_dir):
    with SearchIndex.open(index_dir, create=True) as idx:
        report = idx.index([seed_dir])
    assert (report.added, report.updated, report.removed, report.unchanged) == (5, 0, 0, 0)
    assert report.skipped == []


def test_indexing_again_finds_all_five_unchanged(seeded, seed_dir):
    report = seeded.index([seed_dir])
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 5)


def test_a_touched_but_unchanged_file_counts_as_unchanged(seeded, seed_dir):
    path = seed_dir / f"{SEED_IDS['000']}.txt"
    path.write_bytes(path.read_bytes())
    report = seeded.index([seed_dir])
    assert (report.added, report.updated, report.unchanged) == (0, 0, 5)


def test_editing_one_file_and_deleting_another_updates_one_and_removes_one(seeded, seed_dir):
    edited = seed_dir / f"{SEED_IDS['004']}.txt"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n\nA zanzibarian footnote.",
                      encoding="utf-8")
    (seed_dir / f"{SEED_IDS['003']}.txt").unlink()
    report = seeded.index([seed_dir])
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 1, 3)
    assert ids(seeded.search("zanzibarian")) == ["004"]
    assert seeded.search("Pyongyang").total == 0
    assert seeded.article(SEED_IDS["003"]) is None


def test_articles_outside_the_paths_given_are_left_alone(seeded, seed_dir, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "extra.txt").write_text("Seoul hosts a quiet meeting.", encoding="utf-8")
    report = seeded.index([other])
    assert (report.added, report.removed) == (1, 0)
    assert seeded.stats().articles == 6


def test_unreadable_files_are_skipped_with_a_reason_and_the_rest_indexed(seed_dir, index_dir):
    (seed_dir / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (seed_dir / "empty.txt").write_bytes(b"")
    missing = seed_dir / "missing.txt"
    with SearchIndex.open(index_dir, create=True) as idx:
        report = idx.index([seed_dir, missing])
        assert idx.stats().articles == 5
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in report.skipped}
    assert reasons == {"binary.txt": "binary file, not text", "empty.txt": "empty file",
                       "missing.txt": "no such file or folder"}
    assert report.added == 5


def test_a_file_that_goes_bad_keeps_the_articles_it_had(seeded, seed_dir):
    (seed_dir / f"{SEED_IDS['001']}.txt").write_bytes(b"")
    report = seeded.index([seed_dir])
    assert [s.reason for s in report.skipped] == ["empty file"]
    assert report.removed == 0 and SEED_IDS["001"] in [h.id for h in seeded.search("Vũ")]


def test_a_rebuild_keeps_the_phrases_of_a_file_gone_bad(seeded, seed_dir):
    (seed_dir / f"{SEED_IDS['001']}.txt").write_bytes(b"")
    seeded.rebuild([seed_dir])  # the file's articles are copied from the old index
    assert SEED_IDS["001"] in [hit.id for hit in seeded.search('"Nguyễn Minh Vũ"')]


PHRASES = ['"Minh Vu"', '"Nguyễn Minh Vũ"', '"foreign affairs"', '"Kim Jong-un"', '"Hà Nội"',
           '"the visit"']


def test_an_index_built_before_pair_signatures_finds_the_same_phrases(seed_dir, tmp_path):
    before = IndexStore(tmp_path / "before")  # no body_pairs: as versions before made it
    generation, _ = before.create_generation()
    schema = build_schema()
    schema.remove("body_pairs")
    _storage(generation).create_index(schema)
    before.publish(generation)
    with SearchIndex.open(tmp_path / "before") as old, \
            SearchIndex.open(tmp_path / "now", create=True) as new:
        old.index([seed_dir])  # written without the field it lacks
        new.index([seed_dir])
        for phrase in PHRASES:
            found, expected = old.search(phrase), new.search(phrase)
            assert [(hit.id, hit.score) for hit in found] == \
                [(hit.id, hit.score) for hit in expected] and expected.total, phrase


def test_of_two_files_with_one_id_the_first_by_name_is_kept_and_the_other_skipped(
        seed_dir, index_dir):
    first = seed_dir / f"{SEED_IDS['000']}.md"
    first.write_text("# Duplicate\n\nOther text.", encoding="utf-8")
    with SearchIndex.open(index_dir, create=True) as idx:
        report = idx.index([seed_dir])
    assert report.added == 5
    assert [(s.path, s.reason) for s in report.skipped] == [
        (str(first.with_suffix(".txt")), f"duplicate id '{SEED_IDS['000']}' (already indexed "
                                        f"from {first})")]


def test_jsonl_articles_use_their_own_ids_and_bad_lines_are_skipped(index_dir, tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"id": "k-1", "title": "Seoul talks", "body": "Talks in Seoul."}\n'
                    '{"id": "k-2"\n', encoding="utf-8")
    with SearchIndex.open(index_dir, create=True) as idx:
        report = idx.index([feed])
        assert [hit.id for hit in idx.search("Seoul")] == ["k-1"]
    assert report.added == 1
    assert [s.reason for s in report.skipped] == [
        "line 2: not valid JSON (Expecting ',' delimiter)"]


def test_rebuild_reports_against_the_old_index_and_replaces_it(seeded, seed_dir):
    (seed_dir / f"{SEED_IDS['002']}.txt").unlink()
    report = seeded.rebuild([seed_dir])
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 1, 4)
    assert seeded.stats().articles == 4


def test_rebuild_swaps_generations_and_keeps_only_the_previous_one(seeded, seed_dir, index_dir):
    for _ in range(3):
        seeded.rebuild([seed_dir])
    generations = sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-"))
    assert len(generations) == 2
    assert (index_dir / "CURRENT").read_text().strip() == generations[-1]


def test_a_writer_removes_older_generations_a_killed_publish_left_and_keeps_the_previous(
        seeded, seed_dir, index_dir):
    seeded.rebuild([seed_dir])  # the live generation and the previous one
    kept = sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-"))
    leftover = index_dir / "gen-000000"  # half removed when a publish was killed
    leftover.mkdir()
    (leftover / "MAIN_1.toc").write_bytes(b"")
    result = CliRunner().invoke(cli, ["index", str(seed_dir), "--index", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-")) == kept


def test_searches_during_rebuilds_never_fail_or_come_back_empty(seeded, seed_dir, index_dir):
    failures: list[str] = []
    stop = threading.Event()

    def search_in_a_loop() -> None:
        with SearchIndex.open(index_dir) as reader:
            while not stop.is_set():
                try:
                    if reader.search("Vũ").total != 3:
                        failures.append("wrong total")
                except Exception as error:  # noqa: BLE001 (collecting any failure)
                    failures.append(repr(error))

    threads = [threading.Thread(target=search_in_a_loop) for _ in range(2)]
    for thread in threads:
        thread.start()
    for _ in range(4):
        seeded.rebuild([seed_dir])
    stop.set()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_second_writer_waits_then_gives_up_naming_the_index_and_lock(seeded, seed_dir, index_dir):
    with IndexStore(index_dir).writing():
        with pytest.raises(IndexLocked, match=f"{index_dir}.*write.lock"):
            seeded.index([seed_dir], wait=0.3)


def test_opening_a_missing_index_without_create_is_an_error(index_dir):
    with pytest.raises(IndexNotFound, match=f"no index at {index_dir}"):
        SearchIndex.open(index_dir)


def test_opening_with_create_makes_an_empty_index_without_opening_a_writer(index_dir):
    from searchidx.engine import counters

    writers_before = counters["term_pool"]  # each writer of one process takes a term pool
    with SearchIndex.open(index_dir, create=True) as idx:
        assert counters["term_pool"] == writers_before
        assert idx.stats().articles == 0 and idx.search("Hanoi").total == 0
        assert idx.check().damaged == []


def test_stats_count_articles_and_bytes(seeded, index_dir):
    stats = seeded.stats()
    assert (stats.location, stats.articles) == (str(index_dir), 5)
    assert stats.size_bytes > 10_000 and stats.updated.tzinfo is not None


def test_a_large_fresh_build_runs_in_worker_processes_and_finds_the_same(
        corpus, corpus_index, tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "PARALLEL_MIN_BYTES", 0)
    with SearchIndex.open(tmp_path / "parallel", create=True) as idx:
        assert idx.index([corpus]).added == 9
        parallel = {query: ids(idx.search(query)) for query in QUERIES}
    with SearchIndex.open(corpus_index) as idx:
        assert parallel == {query: ids(idx.search(query)) for query in QUERIES}


QUERIES = ["Vu", "Nguyễn Minh Vũ", "Hanoi", "Kim Jong-un", "DPRK", "Sơn", "son"]


def _parallel_writer(location):
    """A writer of two worker processes into a new generation of the index at ``location``."""
    store = IndexStore(location)
    folder, fresh = store.create_generation()
    return store, folder, fresh, fresh.open_writer(2, None, settings.WRITER_MEMORY_MB)


def _add_articles(writer, count: int) -> None:
    for number in range(count):
        writer.add_document(id=f"a{number}", title=f"Talks {number}",
                            body=f"Harbour talks resume in Hanoi, round {number}.")


def _committed_articles(store, folder, fresh, writer) -> int:
    writer.commit(optimize=True)
    fresh.close()
    store.publish(folder)
    with SearchIndex.open(store.location) as idx:
        return idx.stats().articles


def test_a_parallel_build_starts_its_workers_with_small_first_jobs(tmp_path):
    import multiprocessing

    store, folder, fresh, writer = _parallel_writer(tmp_path / "index")
    first, second = settings.WRITER_SMALL_JOB_ARTICLES, 2 * settings.WRITER_SMALL_JOB_ARTICLES
    _add_articles(writer, first)
    assert len(multiprocessing.active_children()) == 1 and writer.held_documents() == 0
    _add_articles(writer, second + first)  # the second job is sent with the first's size held
    assert len(multiprocessing.active_children()) == 2 and writer.held_documents() == first
    assert _committed_articles(store, folder, fresh, writer) == 2 * first + second


def test_a_parallel_build_of_one_job_writes_one_segment(tmp_path):
    store, folder, fresh, writer = _parallel_writer(tmp_path / "index")
    _add_articles(writer, 5)
    assert _committed_articles(store, folder, fresh, writer) == 5
    assert len(list(folder.glob("*.seg"))) == 1  # no worker without articles wrote one


def test_a_parallel_build_holds_articles_back_to_share_out_in_small_jobs_at_the_end(tmp_path):
    store, folder, fresh, writer = _parallel_writer(tmp_path / "index")
    _add_articles(writer, 1000)
    assert settings.WRITER_JOB_ARTICLES <= writer.held_documents() < 2 * settings.WRITER_JOB_ARTICLES
    assert _committed_articles(store, folder, fresh, writer) == 1000


KILLED = "a worker process failed while indexing: killed by signal 9"


def test_a_worker_killed_before_the_commit_fails_the_build_in_one_line(tmp_path):
    """(The second worker waited for the first for ever.)"""
    store, folder, fresh, writer = _parallel_writer(tmp_path / "index")
    _add_articles(writer, settings.WRITER_SMALL_JOB_ARTICLES + 5)  # the commit starts the second
    _kill_first_worker(writer)
    assert _error_within_a_guard(_commit, writer) == [KILLED]
    assert not any(task.is_alive() for task in writer.tasks)


def test_a_worker_killed_while_articles_are_still_sent_fails_the_build_in_one_line(tmp_path):
    """A worker killed while it waits for a job holds the job queue's lock: the other worker
    takes none, and the parent, sending more, waited for room in the queue for ever."""
    store, folder, fresh, writer = _parallel_writer(tmp_path / "index")
    _add_articles(writer, settings.WRITER_SMALL_JOB_ARTICLES)  # the first worker's first job
    _wait_until_no_job_is_left(writer)  # then it waits for the next one
    _kill_first_worker(writer)
    assert _error_within_a_guard(_add_more_and_commit, writer) == [KILLED]
    writer.cancel()
    assert not any(task.is_alive() for task in writer.tasks)


def _kill_first_worker(writer) -> None:
    import signal

    first = writer.tasks[0]
    os.kill(first.pid, signal.SIGKILL)
    first.join(timeout=60)


def _error_within_a_guard(action, writer) -> list[str]:
    """What :class:`IndexUnusable` ``action(writer)`` raised, run in a thread given 120 s at
    most (a guard: where it waits for ever, the list is empty)."""
    errors: list[str] = []

    def run() -> None:
        try:
            action(writer)
        except IndexUnusable as error:
            errors.append(str(error))

    acting = threading.Thread(target=run, daemon=True)
    acting.start()
    acting.join(timeout=120)
    return errors


def _commit(writer) -> None:
    writer.commit(optimize=True)


def _add_more_and_commit(writer) -> None:
    _add_articles(writer, 20 * settings.WRITER_JOB_ARTICLES)  # more jobs than the queue holds
    writer.commit(optimize=True)


def _wait_until_no_job_is_left(writer) -> None:
    """Wait (60 s at most, a guard) until the workers have read every job sent: a worker
    deletes a job's file once it has added its articles."""
    storage = writer.temp_storage()
    deadline = time.monotonic() + 60
    while any(name.endswith(".doclist") for name in storage.list()):
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_a_fresh_build_collects_garbage_less_often_then_restores_the_callers_setting(
        seed_dir, index_dir):
    import gc

    before = gc.get_threshold()
    during = []
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([seed_dir], on_progress=lambda state: during.append(gc.get_threshold()))
    assert during and all(seen[0] == settings.WRITER_GC_THRESHOLD for seen in during)
    assert gc.get_threshold() == before


# --- the one-pass analysis keeps no state between indexes ----------------------------------

def _index_in_thread(location, jsonl, start: threading.Barrier) -> None:
    with SearchIndex.open(location, create=True) as idx:
        start.wait(timeout=60)
        idx.index([jsonl])


def _terms_and_signatures_are_each_body_s_own(location) -> None:
    """Each body term's document frequency, and each article's pair signature, are the
    ones its own stored body makes."""
    from collections import Counter

    from searchidx.analysis import pair_signature, prose_terms

    with IndexStore(location).open().reader() as reader:
        signatures = reader.column_reader("body_pairs", translate=False)
        frequencies: Counter = Counter()
        for docnum, stored in reader.iter_docs():
            frequencies.update(prose_terms(stored["body"])[0].keys())
            assert signatures[docnum] == pair_signature(stored["body"]), stored["id"]
        indexed = {term.decode(): reader.doc_frequency("body", term)
                   for term in reader.lexicon("body")}
    assert indexed == dict(frequencies)


def test_two_indexes_written_at_once_in_one_process_each_get_their_own_terms(tmp_path):
    from newsgen import NewsWriter, with_bodies, write_jsonl

    locations = [tmp_path / "first", tmp_path / "second"]
    files = [write_jsonl(tmp_path / f"{seed}.jsonl", with_bodies(NewsWriter(seed).articles(150)))
             for seed in (1, 2)]
    start = threading.Barrier(2)
    threads = [threading.Thread(target=_index_in_thread, args=(location, jsonl, start))
               for location, jsonl in zip(locations, files)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for location in locations:
        _terms_and_signatures_are_each_body_s_own(location)


def test_the_signature_field_is_made_from_the_body_field_s_own_terms(tmp_path):
    with SearchIndex.open(tmp_path / "index", create=True):
        pass
    schema = IndexStore(tmp_path / "index").open().schema  # as saved with the index
    assert schema["body_pairs"].prose is schema["body"]


def test_worker_processes_write_one_segment_that_searches_as_one_writer_s_index(
        tmp_path, monkeypatch):
    import json

    # (a "pier" word is in two articles 300 apart, most often taken by different workers:
    # a rare term in pieces)
    records = [{"id": f"a{i}", "title": f"Harbour talks {i}",
                "body": " ".join(f"harbour{i % 50 + j} rice{(j * 13 + i) % 90}"
                                 for j in range(30)) + f" pier{i % 300}"}
               for i in range(600)]  # six jobs of a hundred: both workers take some
    jsonl = tmp_path / "feed.jsonl"
    jsonl.write_text("".join(json.dumps(record) + "\n" for record in records))
    queries = ["harbour7 rice3", '"harbour12 rice5"', "talks", "harbur7", "rice89",
               *(f"pier{i}" for i in range(0, 300, 7))]
    found = {}
    for name, minimum in (("workers", 0), ("one writer", 10**12)):
        monkeypatch.setattr(settings, "PARALLEL_MIN_BYTES", minimum)
        location = tmp_path / name
        with SearchIndex.open(location, create=True) as idx:
            assert idx.index([jsonl]).added == 600
            # (workers number the articles in the order they take them: ties may swap)
            found[name] = [sorted((hit.id, hit.score, hit.snippet)
                                  for hit in idx.search(query, limit=1000).hits)
                           + [idx.search(query).suggestion] for query in queries]
        with IndexStore(location).open().reader() as reader:
            assert len(list(reader.leaf_readers())) == 1
    assert found["workers"] == found["one writer"] and all(found["workers"])
