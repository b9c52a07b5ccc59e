"""Tone placement: Vietnamese writes the tone of an open oa, oe, uy on the first vowel
(hòa, khỏe, thủy) or on the second (hoà, khoẻ, thuỷ). Both are the exact spelling."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from searchidx import SearchIndex, fold
from searchidx.analysis import exact_analyzer, exact_form, exact_terms
from syllables import spelling_pairs, syllables

PAIRS = sorted(set(spelling_pairs()))


def written(syllable: str) -> list[str]:
    """A syllable in each case and normalization form a text may write it in."""
    return [unicodedata.normalize(form, cased) for form in ("NFC", "NFD")
            for cased in (syllable, syllable.upper(), syllable.title())]


def test_the_syllables_include_both_conventions_of_the_open_glide_rhymes():
    assert {("hòa", "hoà"), ("khỏe", "khoẻ"), ("thủy", "thuỷ"), ("thụy", "thuỵ")} <= set(PAIRS)


def test_every_syllable_indexes_one_exact_spelling_in_both_conventions():
    differing = [(traditional, modern) for traditional, modern in PAIRS
                 for old, new in zip(written(traditional), written(modern))
                 if exact_terms(old) != exact_terms(new)]
    assert differing == []


def test_every_syllable_queries_one_exact_spelling_in_both_conventions():
    analyzer = exact_analyzer()

    def query_terms(text: str) -> list[str]:
        return [token.text for token in analyzer(text, mode="query")]

    differing = [(traditional, modern) for traditional, modern in PAIRS
                 for old, new in zip(written(traditional), written(modern))
                 if query_terms(old) != query_terms(new)]
    assert differing == []


def test_the_exact_spelling_still_tells_every_other_syllable_apart():
    assert len({exact_form(syllable) for syllable in syllables()}) == len(
        {traditional for traditional, _ in PAIRS})


def test_the_exact_spelling_puts_the_tone_on_the_second_vowel():
    assert [exact_form(word) for word in ("Hòa", "KHỎE", "thủy", "Thụy", "qúy")] == [
        "hoà", "khoẻ", "thuỷ", "thuỵ", "quý"]


@pytest.mark.parametrize("word", ["mùa", "hoàn", "thuyền", "Zoé", "hoài", "khuya"])
def test_other_rhymes_keep_their_tone_where_it_is(word):
    assert exact_form(word) == word.lower()


# --- ranking ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def spellings_index(tmp_path_factory) -> Path:
    """For each pair, an article in each convention and one without marks that says the
    word twice (so it outscores them on the folded word alone)."""
    folder = tmp_path_factory.mktemp("tones")
    for number, (traditional, modern) in enumerate(PAIRS_TO_RANK):
        plain = fold(traditional)
        for name, body in (("traditional", f"People said {traditional} today, reporters said."),
                           ("modern", f"People said {modern} today, reporters said."),
                           ("plain", f"People said {plain} and {plain} again.")):
            (folder / f"{number}-{name}.txt").write_text(f"Report\n\n{body}", encoding="utf-8")
    with SearchIndex.open(folder / "index", create=True) as idx:
        idx.index([folder])
    return folder / "index"


PAIRS_TO_RANK = [("hòa", "hoà"), ("khỏe", "khoẻ"), ("thủy", "thuỷ"), ("Thụy", "Thuỵ")]


@pytest.mark.parametrize("pair, query", [(number, word) for number, words
                                         in enumerate(PAIRS_TO_RANK) for word in words])
def test_a_query_in_either_convention_ranks_both_spellings_first(spellings_index, pair, query):
    with SearchIndex.open(spellings_index) as idx:
        first_two = {Path(hit.path).stem for hit in idx.search(query, limit=2)}
    assert first_two == {f"{pair}-traditional", f"{pair}-modern"}
