"""Names written apart and joined: runs of up to three capitalized name syllables are also
indexed as one word, and a query's runs of two or three words also match them joined."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsgen import FAMILY, GIVEN, MIDDLE, NewsWriter, with_bodies, write_jsonl
from searchidx import SearchIndex, fold
from searchidx.analysis import JOINED, words


def joined(text: str) -> list[str]:
    return [word for word, *_, kind in words(text, join=True) if kind is JOINED]


def test_three_capitalized_syllables_are_also_indexed_joined():
    assert joined("in Buôn Ma Thuột province") == ["BuônMa", "MaThuột", "BuônMaThuột"]


def test_a_joined_name_of_three_words_spans_them_at_the_first_words_position():
    text = "in Ban Mê Thuột province"
    (position, start, end), = [(p, s, e) for word, p, s, e, _ in words(text, join=True)
                               if word == "BanMêThuột"]
    assert (position, text[start:end]) == (1, "Ban Mê Thuột")


def test_four_capitalized_syllables_are_joined_three_at_most():
    assert max(map(len, joined("Nguyễn Thị Minh Khai"))) == len("NguyễnThịMinh")


def test_a_hyphenated_given_name_joins_with_the_family_name():
    assert "KimJongun" in joined("Kim Jong-un")


@pytest.mark.parametrize("text", [
    "buôn ma thuột coffee",         # lowercase: ordinary words
    "The Buôn Ma",                  # led by an English function word
    "Morrison Ma Thuột",            # a word longer than a name syllable
    "BUÔN MA THUỘT COFFEE PRICES",  # a headline set in capitals
    "Buôn Ma, Thuột",               # not one space apart
])
def test_three_words_are_joined_only_if_both_their_pairs_are(text):
    assert not [word for word in joined(text) if len(fold(word)) >= len("buonmathuot")]


# --- searching -------------------------------------------------------------------------------

ARTICLES = {
    "apart": "Coffee prices in Buôn Ma Thuột\n\nGrowers in Buôn Ma Thuột sold beans on Monday.",
    "joined": "Buonmathuot growers\n\nTraders in Buonmathuot said the harvest was late.",
    "banme": "Old maps\n\nThe town was called Ban Mê Thuột before 1975.",
    "other": "Rice in Cần Thơ\n\nFarmers in the Mekong delta sold rice.",
}


@pytest.fixture(scope="module")
def names_index(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("names")
    for name, text in ARTICLES.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    with SearchIndex.open(folder / "index", create=True) as idx:
        idx.index([folder])
    return folder / "index"


def found(index: Path, query: str) -> set[str]:
    with SearchIndex.open(index) as idx:
        return {Path(hit.path).stem for hit in idx.search(query, limit=20)}


@pytest.mark.parametrize("query", ["Buonmathuot", "BuonMaThuot", "Buon Ma Thuot",
                                   "Buôn Ma Thuột", "buon ma thuot"])
def test_buon_ma_thuot_written_apart_or_joined_finds_both_spellings(names_index, query):
    assert found(names_index, query) == {"apart", "joined"}


@pytest.mark.parametrize("query", ["Banmethuot", "Ban Me Thuot", "Ban Mê Thuột"])
def test_ban_me_thuot_written_apart_or_joined_finds_it(names_index, query):
    assert found(names_index, query) == {"banme"}


# Generated news: Vietnamese names of three syllables, in titles and text.
NEWS = with_bodies(NewsWriter(seed=19).articles(400))


@pytest.fixture(scope="module")
def news_index(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("news")
    write_jsonl(folder / "news.jsonl", NEWS)
    with SearchIndex.open(folder / "index", create=True) as idx:
        idx.index([folder / "news.jsonl"])
    return folder / "index"


def names_in_the_news() -> list[str]:
    names = {f"{family} {middle} {given}" for family in FAMILY for middle in MIDDLE
             for given in GIVEN}
    return sorted(name for name in names if any(name in record["body"] for record in NEWS))[:25]


def test_every_three_syllable_name_written_joined_finds_the_articles_that_write_it_apart(
        news_index):
    missed = {}
    for name in names_in_the_news():
        writing = {record["id"] for record in NEWS if name in record["body"]}
        with SearchIndex.open(news_index) as idx:
            hits = {hit.id.rsplit("#", 1)[-1] for hit in idx.search(fold(name).replace(" ", ""),
                                                                    limit=len(NEWS))}
        if not writing <= hits:
            missed[name] = sorted(writing - hits)
    assert len(names_in_the_news()) >= 10 and missed == {}

