"""Hostile queries are bounded: a term that stands for many words searches a bounded number
of them and says which were cut; a search that runs out of time returns what it has and
says so; a query of exclusions alone finds nothing and says why. None of these tests is
timed: the cut is seen in the notice and the counts, and a time budget of 0 makes every
search stop at its first check of the clock."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from whoosh.query import Term

from searchidx import SearchIndex
from searchidx.budget import Budget
from searchidx.cli import cli
from searchidx.engine.compile import expanded, to_whoosh
from searchidx.query import QueryBuilder
from searchidx.settings import MAX_QUERY_EXPANSION, MAX_TERM_EXPANSION

# Made-up words, all beginning "zq": 7 ** 3 = 343 of them, each the only word of its own
# article, so that a search's total counts the words it searched. (Consonants only: no
# stemming rule changes them.)
LETTERS = "bcdfgkm"
WORDS = ["zq" + "".join(letters) for letters in itertools.product(LETTERS, repeat=3)]
SEGMENTS = 2


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def made_up_words(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of one article per made-up word, plus "harbour" in every article, written
    in two segments (two runs of ``index``)."""
    folder = tmp_path_factory.mktemp("hostile")
    records = [{"id": word, "title": f"Notes {number}", "date": f"2024-01-{number % 28 + 1:02}",
                "body": f"{word} harbour report"} for number, word in enumerate(WORDS)]
    half = len(records) // SEGMENTS
    with SearchIndex.open(folder / "index", create=True) as idx:
        idx.index([write_jsonl(folder / "a.jsonl", records[:half])])
        report = idx.index([folder / "a.jsonl", write_jsonl(folder / "b.jsonl", records[half:])])
    assert report.added == len(records) - half
    return folder / "index"


@pytest.fixture
def words_index(made_up_words: Path):
    with SearchIndex.open(made_up_words) as idx:
        yield idx


def test_the_index_of_made_up_words_has_more_than_one_segment(made_up_words: Path):
    from searchidx.index import IndexStore

    with IndexStore(made_up_words).open().searcher() as searcher:
        assert len(searcher.leaf_searchers()) == SEGMENTS


@pytest.mark.parametrize("query", ["zq*", "zq?*", "zq*k*", "[zqbbb TO zqmmm]",
                                   "body:[zqbbb TO zqmmm]", "zqbbb~2"])
def test_a_term_that_stands_for_too_many_words_searches_the_first_of_them_and_says_so(
        words_index, query):
    assert len(WORDS) > MAX_TERM_EXPANSION
    results = words_index.search(query, time_budget=60)
    assert results.total == MAX_TERM_EXPANSION
    shown = query.removeprefix("body:")
    assert results.notice == (f"“{shown}” stands for more words of the index than a query may "
                              f"search: only the first {MAX_TERM_EXPANSION} were searched")


def test_a_term_within_the_cap_is_searched_whole_without_a_notice(words_index):
    results = words_index.search("zqbb*", time_budget=60)  # zqbb + 7 letters
    assert results.total == len(LETTERS)
    assert results.notice is None


def test_the_words_a_whole_query_expands_to_are_capped(tmp_path: Path):
    from searchidx.index import IndexStore

    # One article of 6 ** 5 words: each of the 36 prefixes "zqbb*" … "zqkk*" stands for 216.
    vocabulary = " ".join("zq" + "".join(letters)
                          for letters in itertools.product(LETTERS[:6], repeat=5))
    source = write_jsonl(tmp_path / "words.jsonl",
                         [{"id": "1", "title": "Words", "body": vocabulary}])
    with SearchIndex.open(tmp_path / "index", create=True) as idx:
        idx.index([source])
    prefixes = ["zq" + "".join(pair) + "*" for pair in itertools.product(LETTERS[:6], repeat=2)]
    assert len(prefixes) * MAX_TERM_EXPANSION > MAX_QUERY_EXPANSION
    snapshot = IndexStore(tmp_path / "index").open_snapshot()
    parsed = QueryBuilder(None, snapshot).parse(" OR ".join(prefixes))
    query, notices = expanded(parsed.query, snapshot.reader, Budget(60))
    snapshot.close()
    searched = [part for part in to_whoosh(query).leaves() if isinstance(part, Term)]
    # Once the query's room is spent, each term keeps one word (the title has none).
    assert MAX_QUERY_EXPANSION <= len(searched) <= MAX_QUERY_EXPANSION + len(prefixes)
    assert len(notices) == len(prefixes)


def test_a_spent_time_budget_stops_a_search_after_its_first_segment_with_a_notice(words_index):
    whole = words_index.search("harbour", time_budget=60)
    cut = words_index.search("harbour", time_budget=0)
    assert whole.total == len(WORDS) and whole.notice is None
    assert 0 < cut.total < whole.total
    assert "time budget of 0 s was spent: the results may be incomplete" in cut.notice


def test_a_spent_time_budget_stops_a_search_that_whoosh_collects(words_index):
    whole = words_index.search("harbour", sort="date", time_budget=60)
    cut = words_index.search("harbour", sort="date", time_budget=0)
    assert whole.total == len(WORDS)
    assert 0 < cut.total < whole.total
    assert "time budget" in cut.notice


def test_a_spent_time_budget_stops_the_expansion_of_a_term_after_one_word(words_index):
    cut = words_index.search("zq*", time_budget=0)
    assert cut.total == 1
    assert "time budget" in cut.notice


def test_a_spent_time_budget_returns_hits_that_all_match(words_index):
    cut = words_index.search("zqb*", time_budget=0, limit=50)
    assert cut.hits and all(hit.id.startswith("zqb") for hit in cut.hits)


@pytest.mark.parametrize("query, words", [("-harbour", "harbour"), ("NOT harbour", "harbour"),
                                          ("-harbour -report", "harbour, report"),
                                          ('-"harbour report"', "harbour report")])
def test_a_query_of_exclusions_alone_finds_nothing_and_says_why(words_index, query, words):
    results = words_index.search(query)
    assert results.total == 0 and not results.hits
    assert results.notice.startswith(f"nothing to search for: the query only excludes words "
                                     f"({words})")


def test_the_example_beside_an_exclusion_alone_never_excludes_its_own_word(words_index):
    assert "as in “Vietnam -Korea”" in words_index.search("-Korea").notice
    assert "as in “Korea -oil”" in words_index.search("-oil").notice


def test_an_exclusion_beside_a_word_still_excludes(words_index):
    results = words_index.search("harbour -zqbbb", time_budget=60)
    assert results.total == len(WORDS) - 1


def test_the_cli_says_why_a_query_of_exclusions_alone_finds_nothing(made_up_words: Path):
    result = CliRunner().invoke(cli, ["search", "--index", str(made_up_words), "--", "-harbour"])
    assert result.exit_code == 1
    assert "0 results" in result.stdout
    assert "only excludes words (harbour)" in result.stderr


def test_a_fuzzy_word_keeps_its_first_letter(words_index):
    # "aqbbb" is one edit from "zqbbb": only words that begin with "a" are looked at.
    assert words_index.search("aqbbb~1").total == 0
    assert words_index.search("zqbbb~1", time_budget=60).total == 1 + 3 * (len(LETTERS) - 1)
