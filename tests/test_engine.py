"""The storage layer (``searchidx/engine``): its fast paths run, and it refuses a Whoosh it
was not verified with."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import whoosh

from searchidx import SearchIndex, UnsupportedWhoosh, settings
from searchidx.engine import counters
from searchidx.engine.whoosh_adapter import VERIFIED, check_whoosh, installed_whoosh

from newsgen import NewsWriter, with_bodies, write_jsonl
from test_cli import installed_command

# Each fast path, and the slower path it falls back to with the same results.
FAST_PATHS = {"term_pool": None, "postings_blocks": "postings_one_at_a_time",
              "block_infos_fixed": "block_infos_pickled", "blocks_read_in_place": "blocks_split",
              "lengths_column": "lengths_per_document", "signatures_column": "signatures_none",
              "positions_packed": "positions_decoded"}


@pytest.fixture()
def counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The engine's counters after writing 120 articles in blocks of 32 postings (so that
    common words span several) and searching them for words and a phrase."""
    monkeypatch.setattr(settings, "POSTINGS_PER_BLOCK", 32)
    source = write_jsonl(tmp_path / "news.jsonl", with_bodies(NewsWriter(seed=7).articles(130)))
    counters.clear()
    with SearchIndex.open(tmp_path / "index", create=True) as idx:
        idx.index([source])
        assert idx.search("the said").hits and idx.search('"said it"').hits
    return dict(counters)


@pytest.mark.parametrize("fast", sorted(FAST_PATHS))
def test_each_fast_path_runs_on_an_index_searchidx_writes(counted, fast):
    assert counted.get(fast, 0) > 0
    assert counted.get(FAST_PATHS[fast], 0) == 0


def test_the_whoosh_installed_for_the_suite_is_a_verified_one():
    check_whoosh(installed_whoosh())
    assert installed_whoosh().items() <= VERIFIED.items()


@pytest.mark.parametrize("installed", [{"whoosh-reloaded": "2.7.5"}, {"whoosh3": "3.55.0"},
                                       {}, {**VERIFIED, "whoosh-reloaded": "2.7.5"}])
def test_any_other_whoosh_is_refused_naming_the_verified_ones(installed):
    with pytest.raises(UnsupportedWhoosh) as refused:
        check_whoosh(installed)
    message = str(refused.value)
    assert "whoosh3==3.54.0" in message and "\n" not in message


def test_the_command_refuses_another_whoosh_in_one_line_with_exit_2(tmp_path, seeded):
    """A ``whoosh`` package that whoosh-reloaded 2.7.5 installed, first on the path (the
    package itself is the installed one: the check reads which distribution put it there)."""
    site = tmp_path / "site"
    (site / "whoosh_reloaded-2.7.5.dist-info").mkdir(parents=True)
    (site / "whoosh").symlink_to(Path(whoosh.__file__).parent)
    completed = subprocess.run(
        [installed_command(), "search", "Vũ", "--index", str(seeded.location)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(site)})
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.count("\n") == 1
    assert "whoosh3==3.54.0" in completed.stderr and "whoosh-reloaded==2.7.5" in completed.stderr


@pytest.mark.parametrize("text", [
    "oil prices", '"crude oil" OR gas', "oil -gas", "oil NOT gas", "oil ANDNOT gas",
    "oil ANDMAYBE gas", "oil REQUIRE gas", "+oil gas", "minist*", "ne?s", "ministers~",
    "ministr~2", "[oil TO oily]", "title:oil^2 body:gas", "date:1987-03", "date:[1987 TO 1988]",
    "(oil OR gas) AND (price OR cost)", "place:usa source:reuter",
    "Kim Jong-un DPRK"])
def test_a_parsed_query_runs_as_whoosh_parsed_it(text):
    """The tree of a query is read from Whoosh's parser and compiled back for the local
    engine: the query that runs is the parser's, node for node (an exclusion as the
    adapter's ``AndNot``, Whoosh's with its matcher corrected)."""
    from searchidx.aliases import load_aliases
    from searchidx.engine.compile import from_whoosh, to_whoosh
    from searchidx.engine.whoosh_syntax import _parser
    from searchidx.query import SEARCH_FIELDS, QueryBuilder

    whoosh_query = _parser(SEARCH_FIELDS, QueryBuilder(load_aliases(None)).read_run,
                           any_word=False).parse(text)
    compiled = to_whoosh(from_whoosh(whoosh_query))
    assert from_whoosh(compiled) == from_whoosh(whoosh_query)
    assert repr(compiled) == repr(whoosh_query)


def test_a_snapshots_stored_fields_are_whooshs_in_every_segment_less_a_removed_field(tmp_path):
    from searchidx.index import IndexStore

    articles = with_bodies(NewsWriter(seed=5).articles(60))
    with SearchIndex.open(tmp_path / "index", create=True) as idx:
        for number in range(2):  # two updates: two segments
            idx.index([write_jsonl(tmp_path / f"news{number}.jsonl", articles[number::2])])
    store = IndexStore(tmp_path / "index")
    writer = store.open().writer()
    writer.remove_field("path")  # the documents keep their stored paths
    writer.commit()
    snapshot = store.open_snapshot()
    assert len(snapshot.reader.leaf_readers()) == 2
    stored = [snapshot.stored_fields(doc) for doc in range(snapshot.reader.doc_count_all())]
    assert stored == [snapshot.searcher.stored_fields(doc) for doc in range(len(stored))]
    assert all("path" not in fields and fields["id"] for fields in stored)
    snapshot.close()
