"""Spelling corrections (issue 19.4): confident ones only, written as the archive writes
the words, and never touching query syntax.

The tests run on generated news (``newsgen.py``), where Nguyễn and Vũ are frequent
names, plus one article that has a rare word one letter from a frequent one ("pricers").
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from conftest import load_script
from newsgen import NewsWriter, write_jsonl

from searchidx import SearchIndex
from searchidx.analysis import fold, spelling_words

# The generated articles that have a text, with their dates.
NEWS = [{"id": a.record["id"], "title": a.record["title"], "body": a.record["text"],
         "date": a.record["date"]} for a in NewsWriter(seed=19).articles(1000) if a.record["text"]]
# In how many generated articles each (folded) word is.
ARTICLES_WITH = Counter(word for record in NEWS
                        for word in spelling_words(f"{record['title']}\n{record['body']}"))
RARE_ARTICLE = {"id": "pricers", "title": "Mill pricers meet",
                "body": "Nguyễn Văn Thắng met the pricers of the steel mill in Hải Phòng."}


@pytest.fixture(scope="module")
def news(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("spelling")
    write_jsonl(folder / "news.jsonl", [*NEWS, RARE_ARTICLE])
    with SearchIndex.open(folder / "index", create=True) as index:
        index.index([folder / "news.jsonl"])
        yield index


@pytest.fixture(scope="module")
def evaluate():
    """scripts/evaluate.py, whose misspellings the tests make too."""
    return load_script("evaluate")


def test_a_corrected_word_is_written_as_the_archive_writes_it(news):
    results = news.search("Nguyn Minh Vuu")
    assert results.suggestion == "Nguyễn Minh Vũ"
    assert results.notice.startswith("Showing results for “Nguyễn Minh Vũ”")
    assert results.total and all("Nguyễn Minh Vũ" in f"{hit.title} {hit.snippet}" for hit in results)


def test_the_words_typed_right_stay_as_typed(news):
    assert news.search("nguyn minh").suggestion == "Nguyễn minh"
    assert news.search("Nguyn MINH").suggestion == "Nguyễn MINH"


def test_a_word_the_index_has_is_never_corrected(news):
    # "pricers" is in one article, one letter from the frequent "prices".
    assert news.search("pricers").suggestion is None
    assert news.search("pricers Nguyn").suggestion == "pricers Nguyễn"


@pytest.mark.parametrize(("query", "corrected"), [
    ("title:Nguyn", "title:Nguyễn"),
    ("Nguyn AND Minh", "Nguyễn AND Minh"),
    ('"Minh Vũ" Nguyn', '"Minh Vũ" Nguyễn'),
    ("Nguy* Vuu", "Nguy* Vũ"),
    ("Nguyn -Pyongyang", "Nguyễn -Pyongyang"),
    ("Nguyn date:2018..2025", "Nguyễn date:2018..2025"),
    ("(Nguyn)  +Vuu,", "(Nguyễn)  +Vũ,"),
])
def test_only_plain_words_are_corrected_and_the_syntax_stays_byte_for_byte(news, query, corrected):
    results = news.search(query)
    assert results.suggestion == corrected and results.total


def test_syntax_with_a_misspelling_inside_is_left_alone(news):
    for query in ('"Nguyn Minh"', "Nguyn*", "place:Seuol", "title:Nguyn~"):
        assert news.search(query).suggestion is None


def test_a_word_two_letters_from_a_rare_word_is_not_corrected(news):
    # As "injected" is not "inverted": two wrong letters make a rare word no likely reading.
    rare = sorted(word for word, count in ARTICLES_WITH.items() if count == 1 and len(word) >= 8)[0]
    typed = rare[:3] + ("q" if rare[3] != "q" else "x") + rare[4:6] + ("z" if rare[6] != "z" else "x") + rare[7:]
    assert news.search(typed).total == 0 and news.search(typed).suggestion is None
    assert news.search(rare).total == 1


def test_rare_words_in_the_index_are_never_corrected(news, evaluate):
    rare = random.Random(19).sample(sorted(word for word, count in ARTICLES_WITH.items()
                                           if count <= 2 and evaluate.misspellable(word)), 100)
    for first, second in zip(rare[::2], rare[1::2]):
        suggestion = news.search(f"{first} {second}").suggestion
        assert suggestion is None or suggestion.split() == [first, second]


def test_nine_in_ten_misspellings_of_frequent_words_are_corrected_to_the_word_meant(news, evaluate):
    frequent = sorted(word for word, count in ARTICLES_WITH.items()
                      if count >= 20 and evaluate.misspellable(word))
    rng = random.Random(19)
    meant = rng.sample(frequent, 100)
    suggested = [evaluate.misspelled_search(news, word, ARTICLES_WITH, rng)[1] for word in meant]
    right = [word for word, suggestion in zip(meant, suggested)
             if suggestion is not None and fold(suggestion) == word]
    assert len(right) >= 90

