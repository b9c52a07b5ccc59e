"""Search quality: joined and split names, aliases, accent-aware ranking, the query
language, second chances when nothing matches, and more-like-this."""

from __future__ import annotations

import pytest

from conftest import SEED_IDS, ids
from searchidx import ArticleNotFound, SearchIndex

SEEDS = set(SEED_IDS)


# --- joined and split names -------------------------------------------------------------

@pytest.mark.parametrize("query", ["Hanoi", "Ha Noi", "Hà Nội", "HANOI"])
def test_hanoi_written_joined_or_apart_finds_every_spelling(searcher, query):
    assert set(ids(searcher.search(query))) >= {"001", "002", "003", "004", "joined_places"}


@pytest.mark.parametrize("query", ["Viet Nam", "Vietnam", "Việt Nam"])
def test_viet_nam_in_any_form_finds_all_five_seeds(searcher, query):
    assert set(ids(searcher.search(query, limit=20))) >= SEEDS


@pytest.mark.parametrize("query", ["Danang", "Da Nang", "Đà Nẵng"])
def test_da_nang_written_joined_or_apart_finds_both_articles(searcher, query):
    assert set(ids(searcher.search(query))) == {"nfd_danang", "joined_places"}


@pytest.mark.parametrize("query", ["Kim Jong-un", "Kim Jong Un", "Kim Jongun", "Jong"])
def test_kim_jong_un_hyphenated_spaced_or_joined_finds_both_articles(searcher, query):
    assert set(ids(searcher.search(query))) == {"002", "003"}


@pytest.mark.parametrize("query", ["Chang Ho-jin", "Chang Ho Jin", "Hojin"])
def test_chang_ho_jin_in_any_form_finds_his_article(searcher, query):
    assert ids(searcher.search(query)) == ["004"]


def test_an_ordinary_lowercase_pair_is_not_joined(searcher):
    assert searcher.search("weatherstation").total == 0


# --- aliases --------------------------------------------------------------------------------

def test_an_acronym_finds_an_article_that_writes_the_long_form(searcher):
    assert "003" in ids(searcher.search("DPRK"))


def test_a_long_form_finds_articles_that_write_the_acronym(searcher):
    assert set(ids(searcher.search("North Korea"))) >= {"000", "001", "002"}


def test_the_matched_alias_is_highlighted_in_the_snippet(searcher):
    hit = next(h for h in searcher.search("DPRK") if h.id == SEED_IDS["003"])
    assert "<mark>North</mark> <mark>Korea</mark>" in hit.snippet_html


def test_without_aliases_only_the_words_typed_are_searched(searcher):
    assert "003" not in ids(searcher.search("DPRK", expand_aliases=False))


def test_republic_of_korea_is_not_the_democratic_peoples_republic(searcher):
    assert ids(searcher.search("RoK")) == ["004"]
    assert ids(searcher.search("Republic of Korea")) == ["004"]


def test_an_acronym_alias_does_not_match_a_name_part(searcher):
    assert not {"002", "003"} & set(ids(searcher.search("UN")))


def test_a_users_aliases_file_adds_groups(corpus_index, tmp_path):
    extra = tmp_path / "aliases.txt"
    extra.write_text("# mine\nweather station, meteorological post\n", encoding="utf-8")
    with SearchIndex.open(corpus_index, aliases_file=extra) as idx:
        assert ids(idx.search("meteorological post")) == ["farm_son"]


@pytest.mark.parametrize("form", ["Thành phố Hồ Chí Minh", "HO CHI MINH CITY", "Jong-un",
                                  "People's  Republic\u00a0of Korea", "BAHIA COCOA REVIEW"])
def test_an_alias_term_is_read_as_a_query_reads_its_words(form):
    from searchidx.aliases import _key
    from searchidx.analysis import tokenize

    assert _key(form) == tuple(tokenize(form))


def test_the_aliases_environment_variable_names_a_users_file(corpus_index, tmp_path, monkeypatch):
    extra = tmp_path / "aliases.txt"
    extra.write_text("barn, granary\n", encoding="utf-8")
    monkeypatch.setenv("SEARCHIDX_ALIASES", str(extra))
    with SearchIndex.open(corpus_index) as idx:
        assert ids(idx.search("granary")) == ["farm_son"]


# --- accent-aware ranking -----------------------------------------------------------------

def test_a_query_with_diacritics_ranks_the_exact_spelling_first(searcher):
    ranked = ids(searcher.search("Sơn"))
    assert ranked.index("004") < ranked.index("farm_son")


def test_a_query_without_diacritics_finds_every_spelling(searcher):
    assert {"004", "farm_son"} <= set(ids(searcher.search("son")))


# --- the query language ---------------------------------------------------------------------

@pytest.mark.parametrize("query, expected", [
    ('"Korean Peninsula" Pyongyang', ["003"]),
    ('"Pyongyang Korean"', []),
    ("Pyongyang OR Iowa", ["003", "farm_son"]),
    ("Korea AND Iowa", []),
    ("Korea NOT Hanoi", ["000"]),
    ("Korea -Hanoi", ["000"]),
    ("title:Pyongyang", ["003"]),
    ("title:son", ["004", "farm_son"]),
    ('place:"Hà Nội" Trump', []),
    ("place:hanoi Sơn", ["004"]),
    ("source:VNA", ["001"]),
    ("date:2024-03..2024-12 WPK", ["002", "000"]),
    ("date:2025 WPK", ["001"]),
    ("Pyong*", ["003"]),
    ("Nguyễ* Lâm", ["001"]),
    ("Pyongyng~", ["003"]),
])
def test_query_syntax(searcher, query, expected):
    results = searcher.search(query, limit=20)
    if expected:
        assert sorted(ids(results)) == sorted(expected) and results.notice is None
    else:
        assert results.notice is not None or results.total == 0


# --- when nothing matches ------------------------------------------------------------------

def test_a_misspelled_name_is_corrected_from_the_index_vocabulary(searcher):
    results = searcher.search("Nguyn Minh Vu")
    assert set(ids(results)) == {"000", "001", "004"}
    assert results.suggestion == "Nguyễn Minh Vu"
    assert results.notice.startswith("Showing results for “Nguyễn Minh Vu”")


def test_results_json_carries_suggestion_and_notice(searcher):
    data = searcher.search("Pyongyang").to_dict()
    assert data["suggestion"] is None and data["notice"] is None


# --- more like this --------------------------------------------------------------------------

def test_similar_articles_never_include_the_article_itself(searcher):
    results = searcher.similar(SEED_IDS["002"])
    assert results.hits and SEED_IDS["002"] not in [hit.id for hit in results]


def test_similar_articles_share_its_subject(searcher):
    assert ids(searcher.similar(SEED_IDS["000"], limit=2))[0] in {"001", "002"}


def test_similar_to_an_unknown_id_is_an_error(searcher):
    with pytest.raises(ArticleNotFound, match="no article with id 'nope'"):
        searcher.similar("nope")


def test_a_pasted_headline_in_capitals_reads_not_as_a_word(searcher):
    # As an operator, NOT would exclude the article, which says "won".
    assert ids(searcher.search("SCIENCE PRIZE NOT WON BY FARMER'S SON"))[0] == "farm_son"


def test_a_short_query_in_capitals_keeps_its_operators(searcher):
    assert ids(searcher.search("Korea NOT HANOI")) == ["000"]


def test_articles_that_spell_the_accented_query_so_rank_above_all_folded_matches(searcher):
    ranked = ids(searcher.search("Nguyễn Minh Vũ"))
    assert ranked[:3] and ranked.index("000") > max(ranked.index("001"), ranked.index("004"))
