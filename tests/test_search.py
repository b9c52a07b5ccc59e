"""Searching: folding both ways, ranking, filters, snippets, and queries gone wrong."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from conftest import SEED_IDS, ids, seed_source
from searchidx import QueryError

VU = {"000", "001", "004"}


@pytest.mark.parametrize("query", ["Vu", "vu", "Vũ", "VŨ", unicodedata.normalize("NFD", "Vũ")])
def test_vu_in_any_spelling_finds_exactly_the_three_articles_about_vu(searcher, query):
    assert set(ids(searcher.search(query))) == VU


@pytest.mark.parametrize("query", ["Nguyễn Minh Vũ", "nguyen minh vu"])
def test_the_full_name_ranks_the_three_vu_articles_first(searcher, query):
    assert set(ids(searcher.search(query))[:3]) == VU


def test_the_snippet_shows_the_original_accents_with_the_match_marked(searcher):
    hit = next(h for h in searcher.search("Vu") if h.id == SEED_IDS["001"])
    assert "Vũ" in hit.snippet
    assert "<mark>Vũ</mark>" in hit.snippet_html
    assert {hit.snippet[start:end] for start, end in hit.highlights} == {"Vũ"}


@pytest.mark.parametrize("query", ["Ha Noi", "Hà Nội", "HÀ NỘI"])
def test_ha_noi_in_any_spelling_finds_the_three_articles_that_write_it(searcher, query):
    assert set(ids(searcher.search(query))) >= {"001", "002", "004"}


@pytest.mark.parametrize("query", ["Nguyen Van An", "Nguyễn Văn An"])
def test_an_article_stored_in_nfd_is_found_and_shown_in_nfc(searcher, query):
    hits = searcher.search(query)
    assert ids(hits) == ["nfd_danang"]
    assert "Nguyễn Văn An" in hits[0].snippet
    assert unicodedata.is_normalized("NFC", hits[0].snippet)


def test_an_article_about_da_nang_is_found_by_the_plain_spelling(searcher):
    assert "nfd_danang" in ids(searcher.search("Da Nang"))


def test_words_only_in_the_navigation_line_do_not_find_the_article(searcher):
    assert searcher.search("Liberation").total == 0
    assert searcher.search("decentrialized").total == 0


def test_all_words_must_match(searcher):
    results = searcher.search("Pyongyang Trump")
    assert ids(results) == ["003"] and results.notice is None


def test_when_no_article_has_all_the_words_those_with_some_are_shown_with_a_notice(searcher):
    results = searcher.search("Pyongyang Zanzibar")
    assert ids(results) == ["003"] and results.suggestion is None
    assert results.notice == "No article has all the words; showing articles that have some of them"


def test_english_stemming_lets_relations_find_relation(searcher):
    assert searcher.search("relationship").total == searcher.search("relationships").total > 0


def test_a_title_match_outranks_a_body_match(searcher):
    assert ids(searcher.search("Pyongyang"))[0] == "003"


def test_since_keeps_articles_dated_on_or_after_the_day(searcher):
    assert ids(searcher.search("DPRK", since=dt.date(2025, 1, 1))) == ["001"]


def test_until_keeps_articles_dated_on_or_before_the_day(searcher):
    assert ids(searcher.search("WPK", until=dt.date(2024, 3, 25))) == ["002"]


def test_sorting_by_date_puts_the_newest_first_and_undated_last(searcher):
    hits = searcher.search("Korea", sort="date", limit=20)
    dates = [hit.date for hit in hits]
    dated = [d for d in dates if d]
    assert dated == sorted(dated, reverse=True)
    assert dates[-1] is None and dates.index(None) == len(dated)
    assert all(hit.score > 0 for hit in hits)


def test_limit_caps_the_hits_but_not_the_total(searcher):
    results = searcher.search("Korea", limit=2)
    assert len(results) == 2 and results.total >= 5


def test_hits_carry_title_date_place_source_and_path(searcher):
    hit = searcher.search("Pyongyang")[0]
    assert hit.title == "Hanoi advances dialogue-based peace on Korean Peninsula: FM says in Pyongyang"
    assert hit.date == dt.date(2019, 2, 14)
    assert hit.path.endswith(f"{SEED_IDS['003']}.txt")
    assert isinstance(hit.score, float) and hit.score > 0


def test_a_snippet_has_at_most_three_fragments_and_whole_words(searcher):
    for hit in searcher.search("DPRK"):
        assert hit.snippet.count(" … ") <= 2
        assert len(hit.snippet) < 600


# Every character Python counts as a space (tabs, line ends, no-break and wide spaces).
UNICODE_SPACES = [char for char in map(chr, range(0x3001)) if char.isspace()]


@settings(max_examples=500, deadline=None)
@given(st.text(st.sampled_from([*UNICODE_SPACES, "a", "é", "\u200b", "."]), max_size=12))
def test_a_snippet_makes_each_run_of_spaces_one_space(text):
    from searchidx.search import _one_space

    assert _one_space(text) == re.sub(r"\s+", " ", text)


def test_a_title_only_match_shows_the_lead_of_the_article(searcher):
    hit = searcher.search("advances")[0]
    assert hit.snippet.startswith("Hanoi is willing to contribute")


def test_hostile_html_text_is_not_searchable(searcher):
    for word in ("secretscript", "secretstyle", "secretnav", "secretonerror", "secretjs",
                 "javascript", "onerror"):
        assert searcher.search(word).total == 0, word


def test_snippet_html_has_no_tag_but_mark_and_keeps_escaped_markup_escaped(searcher):
    hit = searcher.search("tag shown")[0]
    assert "&lt;b&gt;" in hit.snippet_html
    assert set(re.findall(r"</?(\w+)", hit.snippet_html)) == {"mark"}


@pytest.mark.parametrize("query, words", [
    ('"unclosed', "unclosed"), ("AND (", "and"), ("title:", "title"),
    ("nosuchfield:Pyongyang", "nosuchfield pyongyang"), ("Pyongyang OR", "pyongyang"),
])
def test_malformed_queries_are_searched_as_plain_words_with_a_notice(searcher, query, words):
    results = searcher.search(query)
    assert results.notice is not None
    assert results.notice.split("; ")[1] == f"searching for the words: {words}"


@pytest.mark.parametrize("query, written", [
    ("date:2025-02-30 DPRK", "2025-02-30"), ("date:2024-13 DPRK", "2024-13"),
    ("date:2025-01..2025-02-31 DPRK", "2025-02-31"),
])
def test_a_date_the_calendar_lacks_is_named_in_the_notice(searcher, query, written):
    assert f"({written} is not a date)" in searcher.search(query).notice


def test_well_formed_query_syntax_gets_no_notice(searcher):
    results = searcher.search('"Korean Peninsula" AND title:Hanoi')
    assert results.notice is None and ids(results) == ["003"]


@pytest.mark.parametrize("query", ["", "   "])
def test_an_empty_query_is_an_error(searcher, query):
    with pytest.raises(QueryError, match="empty query"):
        searcher.search(query)


def test_since_after_until_is_an_error(searcher):
    with pytest.raises(QueryError, match="is after"):
        searcher.search("Korea", since=dt.date(2025, 1, 1), until=dt.date(2024, 1, 1))


def test_results_serialize_to_the_json_contract(searcher):
    data = searcher.search("Vu").to_dict()
    assert set(data) >= {"query", "total", "hits"}
    assert data["query"] == "Vu" and data["total"] == 3
    for hit in data["hits"]:
        assert set(hit) >= {"id", "path", "title", "date", "score", "snippet", "snippet_html"}
        assert hit["date"] is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", hit["date"])


def test_operators_are_not_acronyms_whose_exact_spelling_ranks_first():
    from searchidx.query import QueryBuilder

    builder = QueryBuilder(None)
    assert builder.parse("Korea NOT north").exact is None
    assert "DPRK" in repr(builder.parse("DPRK NOT Korea").exact)


SEED_WORDS = sorted(set(re.findall(r"\w+", "".join(
    path.read_text(encoding="utf-8") for path in seed_source().glob("*.txt")))))
# Names whose parts the index also holds joined ("Kim Jong un" → "kimjong", "jongun"),
# alias terms, accents, acronyms, English words that fold from Vietnamese, operators.
NAME_WORDS = ["Kim", "Jong", "un", "Un", "Nguyen", "Nguyễn", "Minh", "Vũ", "VU", "Ha", "Noi",
              "Hanoi", "Da", "Nang", "Danang", "DPRK", "RoK", "UN", "North", "Korea", "Sơn",
              "son", "the", "WPK", "People", "s", "of", "AND", "not"]


def _built_as_whoosh_parser_builds(corpus_index, text: str, parser_query) -> None:
    """``text`` built by searchidx's own reading is the query Whoosh's parser makes of it
    (``parser_query(builder, as_parsed)``): same tree, exact spellings, notice."""
    from searchidx.aliases import load_aliases
    from searchidx.index import IndexStore
    from searchidx.query import QueryBuilder, _headline_operators_as_words, syntax_problem

    as_parsed = _headline_operators_as_words(text)
    assume(syntax_problem(as_parsed) is None)
    snapshot = IndexStore(corpus_index).open_snapshot()
    try:
        builder = QueryBuilder(load_aliases(None), snapshot)
        ours = builder.parse(text)
        whoosh = parser_query(builder, as_parsed)
        assert (repr(ours.query), ours.exact, ours.notice) == (repr(whoosh.query), whoosh.exact,
                                                               whoosh.notice)
    finally:
        snapshot.close()


def _parsed_by_whoosh(builder, as_parsed):
    return builder._finished(builder.parsed_syntax(as_parsed, any_word=False), as_parsed, None)


def _phrase_parsed_by_whoosh(builder, as_parsed):
    query, problem = builder._parsed_or_why_not(as_parsed, any_word=False)
    return (builder._finished(query, as_parsed, None) if query is not None
            else builder.plain(as_parsed, problem))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(NAME_WORDS) | st.sampled_from(SEED_WORDS),
                min_size=1, max_size=5).map(" ".join))
@example("Kim Jong Un")
@example("Nguyen Minh Vu talks")
def test_plain_words_are_read_as_whoosh_parser_reads_them(corpus_index, text):
    """Plain words skip Whoosh's query parser: the query must be the one it makes
    (aliases, joined names, exact spellings, repeated words, operators)."""
    _built_as_whoosh_parser_builds(corpus_index, text, _parsed_by_whoosh)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(NAME_WORDS) | st.sampled_from(SEED_WORDS) | st.sampled_from(
    ["the", "of", "a", "UN", "DPRK", "1987", "x2", "foo_bar", "_", "straße"]),
                min_size=1, max_size=5).map(lambda words: '"' + " ".join(words) + '"'))
@example('"Hà Nội"')
@example('"the of"')
@example('"_"')
def test_quoted_phrases_of_plain_words_are_read_as_whoosh_parser_reads_them(corpus_index, text):
    """A quoted phrase of plain words skips Whoosh's query parser: the query must be the
    one it makes (one word a term, stop words kept, exact spellings, nothing left)."""
    _built_as_whoosh_parser_builds(corpus_index, text, _phrase_parsed_by_whoosh)


def test_an_excluded_word_leaves_out_the_same_articles_when_sorted_by_date(tmp_path):
    # "wheat" occurs first in an article before the first "grain" article, which has
    # "wheat" too: Whoosh's exclusion skipped that article only when both words began on it.
    from searchidx import SearchIndex

    folder = tmp_path / "news"
    folder.mkdir()
    articles = [("w1", "Wheat harvest", "wheat only"), ("gw", "Grain and wheat", "grain wheat"),
                ("g1", "Grain prices", "grain only")]
    (folder / "news.jsonl").write_text("".join(
        f'{{"id": "{id_}", "title": "{title}", "body": "{body}", "date": "2024-01-0{day}"}}\n'
        for day, (id_, title, body) in enumerate(articles, start=1)), encoding="utf-8")
    with SearchIndex.open(tmp_path / "index", create=True) as index:
        index.index([folder])
        by_relevance = index.search("grain ANDNOT wheat")
        by_date = index.search("grain ANDNOT wheat", sort="date")
    assert (by_date.total, ids(by_date)) == (by_relevance.total, ids(by_relevance)) == (1, ["g1"])


def test_results_and_hits_are_those_their_dataclasses_make_of_their_fields(searcher):
    import dataclasses

    results = searcher.search("Vu", limit=5)
    assert results.hits
    pairs = [(made, type(made)(**{field.name: getattr(made, field.name)
                                  for field in dataclasses.fields(made)}))
             for made in [results, *results.hits]]
    for made, again in pairs:  # (before to_dict() caches a hit's snippet_html)
        assert list(vars(made).items()) == list(vars(again).items())
        assert (made, hash(made), repr(made)) == (again, hash(again), repr(again))
    assert results.to_dict() == pairs[0][1].to_dict()
