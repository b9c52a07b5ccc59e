"""Faults on the real 3-node cluster (shards with one replica each): a node killed with
SIGKILL while clients search and one indexes, and a rebuild while clients search. The
tests wait for what the cluster reports (its health), never for a fixed time."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import seed_source
from newsgen import NewsWriter, with_bodies, write_jsonl
from opensearch_cluster import (NODES, dropped_afterwards, start_cluster, stop_cluster,
                                wait_for_health)

from searchidx import SearchIndex

SEARCHERS = 4
# The longest a searcher may see its searches fail in a row: the client tries another node
# at once, so a failure at all means that retrying did not work.
RETRY_WINDOW_SECONDS = 10.0
GUARD_SECONDS = 300  # a failure guard only: every wait below ends on an event


dropped = dropped_afterwards("faults-")


@pytest.fixture(scope="module")
def killable_cluster(opensearch_cluster, tmp_path_factory):
    """The suite's cluster when its nodes can be killed and started again (the suite or
    .ci/run started it with scripts/opensearch-cluster), else one of this module's own."""
    if opensearch_cluster.folder is not None:
        yield opensearch_cluster
        return
    folder = tmp_path_factory.mktemp("killable-cluster")
    try:
        yield start_cluster(folder)
    finally:
        stop_cluster(folder)


def every_node_url(cluster, name: str) -> str:
    """The index URL naming every node, so the client can turn to another one."""
    port = int(cluster.url.rsplit(":", 1)[1])
    hosts = ",".join(f"127.0.0.1:{port + node}" for node in range(NODES))
    return f"opensearch://{hosts}/{name}-{uuid.uuid4().hex[:8]}"


@dataclass
class Searchers:
    """Threads searching one index in a loop, each noting its searches and failures."""

    url: str
    stop: threading.Event = field(default_factory=threading.Event)
    counts: list[int] = field(default_factory=lambda: [0] * SEARCHERS)
    failures: list[tuple[int, float, str]] = field(default_factory=list)
    longest_outage: float = 0.0
    progress: threading.Condition = field(default_factory=threading.Condition)

    def __enter__(self) -> Searchers:
        self.threads = [threading.Thread(target=self._search, args=(number,), daemon=True)
                        for number in range(SEARCHERS)]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(GUARD_SECONDS)

    def _search(self, number: int) -> None:
        failing_since = None
        with SearchIndex.open(self.url) as idx:
            while not self.stop.is_set():
                try:
                    assert idx.search("Vu").total >= 3
                except Exception as error:  # noqa: BLE001 (every failure counts)
                    self.failures.append((number, time.monotonic(), repr(error)[:200]))
                    failing_since = failing_since or time.monotonic()
                    continue
                if failing_since is not None:
                    self.longest_outage = max(self.longest_outage,
                                              time.monotonic() - failing_since)
                    failing_since = None
                with self.progress:
                    self.counts[number] += 1
                    self.progress.notify_all()

    def wait_for_searches(self, each: int) -> None:
        """Until every searcher has done ``each`` more searches."""
        targets = [count + each for count in self.counts]
        with self.progress:
            assert self.progress.wait_for(
                lambda: all(c >= t for c, t in zip(self.counts, targets)), GUARD_SECONDS)


def write_news(folder: Path, name: str, count: int, seed: int) -> Path:
    """A JSON-lines file of ``count`` generated articles, their ids unique to ``name``."""
    records = with_bodies(NewsWriter(seed=seed).articles(count))
    for record in records:
        record["id"] = f"{name}-{record['id']}"
    return write_jsonl(folder / f"{name}.jsonl", records)


def test_a_killed_node_fails_no_search_for_long_and_loses_no_article(killable_cluster, tmp_path):
    url = every_node_url(killable_cluster, "faults")
    articles = tmp_path / "articles"
    articles.mkdir()
    for path in seed_source().iterdir():
        (articles / path.name).write_bytes(path.read_bytes())
    with SearchIndex.open(url, create=True, shards=3, replicas=1) as idx:
        idx.index([articles])
        client = idx._store.index.client
    wait_for_health(client, "green")
    index_errors: list[str] = []
    stop_indexing = threading.Event()

    def index_in_a_loop() -> None:
        with SearchIndex.open(url) as idx:
            for batch in range(1000):
                if stop_indexing.is_set():
                    return
                write_news(articles, f"batch{batch}", 20, seed=batch)
                # A failed run is run again, even once told to stop: a batch written is
                # indexed (stopping between writing and indexing it left files unindexed).
                deadline = time.monotonic() + GUARD_SECONDS
                while time.monotonic() < deadline:
                    try:
                        idx.index([articles])
                        break
                    except Exception as error:  # noqa: BLE001
                        index_errors.append(repr(error)[:200])

    indexer = threading.Thread(target=index_in_a_loop, daemon=True)
    with Searchers(url) as searchers:
        indexer.start()
        searchers.wait_for_searches(5)
        killable_cluster.script("kill", "1")
        wait_for_health(client, "yellow", nodes=NODES - 1)
        searchers.wait_for_searches(10)
        killable_cluster.script("start")  # returns once the node is back and all is green
        searchers.wait_for_searches(5)
        stop_indexing.set()
        indexer.join(GUARD_SECONDS)
    wait_for_health(client, "green")
    assert searchers.longest_outage < RETRY_WINDOW_SECONDS, searchers.failures[:5]
    assert not searchers.failures or searchers.failures[-1][1] < time.monotonic()
    # Every article of the files is there: the same as a local index of them holds.
    with SearchIndex.open(url) as remote, \
            SearchIndex.open(tmp_path / "local", create=True) as local:
        local.index([articles])
        assert article_ids(remote) == article_ids(local)
    print(f"\nsearches: {sum(searchers.counts)}, failed: {len(searchers.failures)}, "
          f"longest outage {searchers.longest_outage:.2f} s; index runs tried again: "
          f"{len(index_errors)}; articles: {len(article_ids(local))}")


def article_ids(idx: SearchIndex) -> set[str]:
    snapshot = idx._store.open_snapshot()
    try:
        return {row[0] for row in snapshot.recorded_columns(("id",))}
    finally:
        snapshot.close()


def test_a_rebuild_during_searches_fails_no_search(opensearch_cluster, tmp_path):
    url = every_node_url(opensearch_cluster, "faults-rebuild")
    with SearchIndex.open(url, create=True, shards=2, replicas=1) as idx:
        idx.index([seed_source()])
        with Searchers(url) as searchers:
            for _ in range(3):
                searchers.wait_for_searches(3)
                idx.rebuild([seed_source()])
            searchers.wait_for_searches(3)
        assert searchers.failures == []
        assert idx.stats().articles == 5
