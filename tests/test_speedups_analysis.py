"""The compiled analysis loops (searchidx.engine._c_analysis) give what the Python
functions they stand in for give, on every text: each compiled function is called as the
module binds it (``_prose_of_parts``, ``_signatures``, ``_porter_stem``: given first the
Python function and the module's rules), the reference its ``*_python`` (Whoosh's ``stem``
for the stem). The module is imported directly, so that these tests run whether or not
``SEARCHIDX_PURE_PYTHON`` asks the analysis for the Python functions."""

from __future__ import annotations

import unicodedata
from functools import partial

import pytest
from hypothesis import example, given, settings as hypothesis_settings
from hypothesis import strategies as st

from searchidx import analysis
from searchidx.analysis import Memo, WordForms, normalize, prose_analyzer
from searchidx.engine import speedups
from searchidx.engine.text import stem


_c = speedups.built("analysis")
compiled = pytest.mark.skipif(_c is None, reason="the compiled analysis was not built")
# The compiled functions, given what the module's bindings give them.
if _c is not None:
    prose_of_parts = partial(_c.prose_of_parts, *analysis._PROSE_GIVEN)
    signatures = partial(_c.pair_signatures, analysis._signatures_python)
    porter_stem = partial(_c.porter_stem, stem)

# Words of every kind the analysis treats apart: Vietnamese with and without marks, names
# of one syllable and longer, Korean given names, acronyms, function words, headlines.
WORDS = ["Nguyễn", "Tấn", "Dũng", "Hà", "Nội", "Buôn", "Ma", "Thuột", "Đà", "Nẵng", "thủy",
         "hoà", "khỏe", "Nguyen", "Ha", "Noi", "Viet", "Nam", "Kim", "Jong", "un", "Un", "Moon",
         "Jae", "in", "UN", "DPRK", "US", "RoK", "The", "the", "of", "Bank", "Deutsche",
         "Bundesbank", "BAHIA", "COCOA", "REVIEW", "HÀ", "NỘI", "said", "ministers", "relations",
         "1987", "5.93", "A", "x\u0301y", "Σίσυφος", "ΣΊΣΥΦΟΣ", "naïve", "Ørsted", "İstanbul"]
GAPS = [" ", " ", " ", "\u00a0", "-", "\u2010", "\u2011", ", ", ".\n", "\n", "  ", " - ", "'",
        "’", " (", ") "]


def _text(pieces: list[tuple[str, str]], form: str) -> str:
    text = "".join(word + gap for word, gap in pieces)
    return unicodedata.normalize(form, text) if form else text


news_texts = st.builds(_text, st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(GAPS)),
                                       max_size=60),
                       st.sampled_from(["", "NFC", "NFD"]))
any_texts = st.one_of(news_texts, st.text(max_size=80))


def _both_passes(value: str, join: bool = True) -> tuple[tuple, tuple]:
    """The compiled and the Python pass over ``value`` as WordForms.prose makes them, each
    with a memo of its own (the compiled one starts empty: every word is a miss once)."""
    text = normalize(value)
    parts = analysis._WORD_SPLIT.split(text)
    compiled_memo = WordForms(prose_analyzer())._forms
    python_memo = WordForms(prose_analyzer())._forms
    return (prose_of_parts(text, parts, compiled_memo, join),
            analysis._prose_of_parts_python(text, parts, python_memo, join))


def _as_compared(prose: tuple) -> tuple:
    """A pass's results with the order of its terms and its exact terms (the order the index
    is given them in)."""
    terms, plain, sequence, joined, exact = prose
    return list(terms.items()), plain, sequence, joined, list(exact.items())


def test_the_analysis_uses_the_compiled_functions_unless_the_python_ones_are_asked_for():
    chosen = speedups.compiled("analysis")  # None under SEARCHIDX_PURE_PYTHON
    if chosen is None:
        assert (analysis._prose_of_parts, analysis._signatures, analysis._porter_stem) == (
            analysis._prose_of_parts_python, analysis._signatures_python, stem)
        return
    for bound, function, arguments in [
            (analysis._prose_of_parts, chosen.prose_of_parts, analysis._PROSE_GIVEN),
            (analysis._signatures, chosen.pair_signatures, (analysis._signatures_python,)),
            (analysis._porter_stem, chosen.porter_stem, (stem,))]:
        assert (bound.func, bound.args, bound.keywords) == (function, arguments, {})


@compiled
@given(any_texts, st.booleans())
@example("", True)
@example("Buôn Ma Thuột Buôn Ma Thuột Hà Nội", True)
@example("BAHIA COCOA REVIEW Hà Nội", True)
@example("HÀ NỘI HÀ NỘI Kim Jong-un", True)
@example("UN DPRK BAHIA COCOA REVIEW UN thủy DPRK", False)
@example("The Bank of Deutsche Bundesbank Kim Jong\u2011un", True)
@example(unicodedata.normalize("NFD", "Nguyễn Tấn Dũng thuỷ"), True)
@example("Hà\ud800 Nội UN \udfff", True)
def test_a_compiled_prose_pass_makes_the_python_one_s_terms_words_names_and_exact_terms(
        value, join):
    made, reference = _both_passes(value, join)
    assert _as_compared(made) == _as_compared(reference)


@compiled
def test_a_compiled_prose_pass_keeps_each_occurrence_as_a_tuple_of_ints():
    (terms, *_), _ = _both_passes("Hà Nội, Hà Nội")
    assert terms["hanoi"] == [(0, 0, 6), (2, 8, 14)]
    assert all(type(number) is int for occurrences in terms.values()
               for occurrence in occurrences for number in occurrence)


@compiled
def test_a_compiled_prose_pass_hands_a_memo_of_other_forms_to_the_python_one():
    memo = Memo(lambda word: word.upper())  # forms not (plain, term, capitalized, exact)
    text = "Ha Noi"
    parts = analysis._WORD_SPLIT.split(text)
    with pytest.raises(Exception) as python_error:
        analysis._prose_of_parts_python(text, parts, memo, True)
    with pytest.raises(type(python_error.value)):
        prose_of_parts(text, parts, memo, True)


# Texts of more distinct pairs than an extension needs (settings.PAIR_EXTENSION_MIN_PAIRS).
long_texts = st.lists(st.sampled_from(WORDS + [f"word{n}" for n in range(300)]),
                      min_size=150, max_size=900).map(" ".join)


def _assert_alike(compiled_call, python_call) -> None:
    """The compiled call returns what the Python call returns, or raises its error."""
    try:
        expected = python_call()
    except Exception as error:
        with pytest.raises(type(error)):
            compiled_call()
    else:
        assert compiled_call() == expected


@compiled
@hypothesis_settings(max_examples=60)
@given(st.one_of(any_texts, long_texts), st.integers(-2, 400), st.integers(-3, 40),
       st.sampled_from([list, tuple]))
@example("", 150, 6, list)
@example("", -1, 6, list)
@example("Hà", -2, 40, list)
@example("Hà Nội", 0, 6, list)
@example("Hà Nội", 0, 6, tuple)
@example(" ".join(f"word{n} Kim Jong-un" for n in range(200)), 150, 6, list)
def test_compiled_signatures_are_the_python_ones(value, min_pairs, bits_per_pair, joined_as):
    prose = WordForms(prose_analyzer()).prose(value)
    joined = joined_as(prose.joined)  # (the Python takes any sequence of names)
    _assert_alike(lambda: signatures(prose.sequence, joined, min_pairs, bits_per_pair),
                  lambda: analysis._signatures_python(prose.sequence, joined, min_pairs,
                                                      bits_per_pair))


@compiled
def test_a_long_text_s_compiled_extension_is_the_python_one():
    prose = WordForms(prose_analyzer()).prose(" ".join(f"Word{n} Hà Nội" for n in range(400)))
    made = signatures(prose.sequence, prose.joined, 150, 6)
    assert made[1] and made == analysis._signatures_python(prose.sequence, prose.joined, 150, 6)


@compiled
@pytest.mark.parametrize("sequence, joined, min_pairs, bits_per_pair", [
    (["ha", "noi", "x"], ((0, "hanoi"),), 0, 6), (("ha", "noi"), [], 0, 6),
    (("ha", "noi"), (), -1, 6), (["ha", "noi"], [(0, "hanoi")], 0.5, 6),
    (["ha", "noi"], [], 0, 6.0), (["ha", "noi"], [], -(10**30), 6),
    (["ha", "noi"], [], 10**30, 6), (["ha", "noi"], [], 0, 10**30), (["ha", "noi"], [], True, 6)])
def test_compiled_signatures_hand_other_kinds_of_input_to_the_python_ones(
        sequence, joined, min_pairs, bits_per_pair):
    _assert_alike(lambda: signatures(sequence, joined, min_pairs, bits_per_pair),
                  lambda: analysis._signatures_python(sequence, joined, min_pairs, bits_per_pair))


@compiled
@pytest.mark.parametrize("joined", [[(-1, "hanoi")], [(2, "hanoi")], [(10**30, "hanoi")],
                                    [("0", "hanoi")], [(0, "hanoi", 1)], [(0, "hanoi"), (-3, "x")]])
def test_compiled_signatures_hand_names_at_no_word_s_position_to_the_python_ones(joined):
    sequence = ["ha", "noi"]
    _assert_alike(lambda: signatures(sequence, joined, 150, 6),
                  lambda: analysis._signatures_python(sequence, joined, 150, 6))


@compiled
@pytest.mark.parametrize("sequence", [["ha", 5], [b"ha", "noi"], ["\ud800", "noi"],
                                      ["ha", "n\udfffoi"], ["ǽ", "Nguyễn", "𝔘𝔑"]])
def test_compiled_signatures_of_terms_of_any_kind_are_the_python_ones(sequence):
    _assert_alike(lambda: signatures(sequence, [], 0, 6),
                  lambda: analysis._signatures_python(sequence, [], 0, 6))


@compiled
@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1), max_size=200))
def test_compiled_signatures_number_every_term_as_the_python_ones(sequence):
    assert (signatures(sequence, [], 10, 6)
            == analysis._signatures_python(sequence, [], 10, 6))


# Porter's suffixes and the endings its steps test, so that generated words reach every step.
SUFFIXES = ["ational", "tional", "enci", "anci", "izer", "bli", "alli", "entli", "eli", "ousli",
            "ization", "ation", "ator", "alism", "iveness", "fulness", "ousness", "aliti", "iviti",
            "biliti", "logi", "icate", "ative", "alize", "iciti", "ical", "ful", "ness", "al",
            "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ou", "ism",
            "ate", "iti", "ous", "ive", "ize", "sion", "tion", "e", "ll", "s", "sses", "ies", "eed",
            "ed", "ing", "y", "at", "bl", "iz"]
english_words = st.builds(lambda stem, endings: stem + "".join(endings),
                          st.text("abcdefghijklmnopqrstuvwxyz", max_size=8),
                          st.lists(st.sampled_from(SUFFIXES), max_size=3))


@compiled
@hypothesis_settings(max_examples=2000)
@given(english_words)
@example("")
@example("yes")
@example("yyyyyying")
@example("hopping")
@example("bled")
@example("izing")
@example("relational")
@example("generalizations")
def test_a_compiled_porter_stem_is_whoosh_s(word):
    assert porter_stem(word) == stem(word)


@compiled
@pytest.mark.parametrize("word", ["Running", "naïve", "café's", "o'neill", "1987s",
                                  "x" * 65 + "ing", "ﬁshing", "\ud800ing", "YESes"])
def test_a_compiled_porter_stem_hands_other_words_to_whoosh_s(word):
    assert porter_stem(word) == stem(word)
