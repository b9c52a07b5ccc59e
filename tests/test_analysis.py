"""Analysis: NFC, case folding, complete Vietnamese diacritic folding, stemming."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchidx import fold, normalize, settings
from searchidx.analysis import (PAIR_SIGNATURE_BYTES, Memo, WordForms, exact_analyzer,
                                exact_query_terms, exact_terms, exact_text, name_analyzer,
                                pair_bits, pair_signature, prose_analyzer, prose_forms,
                                prose_query_terms, prose_terms, tokenize)
from searchidx.index import build_schema
from newsgen import NewsWriter
from syllables import VOWELS, syllables

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def words(analyzer, text: str, mode: str = "query") -> list[str]:
    return [token.text for token in analyzer(text, mode=mode)]


def test_fold_removes_every_vietnamese_mark_and_the_stroke_of_d():
    assert fold("Nguyễn Đà Nẵng") == "nguyen da nang"


@pytest.mark.parametrize("accented, plain", [
    ("Vũ", "vu"), ("VŨ", "vu"), ("Tô Lâm", "to lam"), ("Bùi Thanh Sơn", "bui thanh son"),
    ("Hà Nội", "ha noi"), ("HÀ NỘI", "ha noi"), ("Việt Nam", "viet nam"), ("đ", "d"),
    ("Đ", "d"), ("Ưng Ước Ơn", "ung uoc on"), ("ỹỷỵỳý", "yyyyy"),
])
def test_fold_maps_vietnamese_spellings_to_plain_letters(accented, plain):
    assert fold(accented) == plain


@pytest.mark.parametrize("letter, plain", [
    ("ø", "o"), ("Ø", "o"), ("ł", "l"), ("Ł", "l"), ("æ", "ae"), ("Œ", "oe"), ("ß", "ss"),
    ("þ", "th"), ("ı", "i"), ("İ", "i"), ("ð", "d"), ("ħ", "h"), ("ŧ", "t"), ("ﬁ", "fi"),
])
def test_fold_maps_latin_letters_that_unicode_does_not_decompose(letter, plain):
    assert fold(letter) == plain


def test_fold_treats_curly_and_straight_apostrophes_alike():
    assert fold("Workers’ Party") == fold("Workers' Party") == "workers' party"


def test_fold_gives_the_same_result_for_nfd_and_nfc_text():
    text = "Nguyễn Phú Trọng, Đà Nẵng"
    assert fold(unicodedata.normalize("NFD", text)) == fold(text)


def test_the_generated_syllables_cover_both_tone_placements_and_every_toned_vowel():
    generated = set(syllables())
    assert {"hòa", "khỏe", "thủy", "hoà", "khoẻ", "thuỷ", "nguyễn", "người", "quýt"} <= generated
    letters = {char for syllable in generated for char in syllable}
    toned = {unicodedata.normalize("NFC", vowel + tone) for vowel in VOWELS
             for tone in ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")}
    assert toned | {"đ"} <= letters and len(generated) > 15000


def test_every_vietnamese_syllable_in_every_case_and_form_folds_to_ascii_letters():
    failures = []
    for syllable in syllables():
        for cased in (syllable.lower(), syllable.upper(), syllable.title()):
            for form in ("NFC", "NFD"):
                folded = fold(unicodedata.normalize(form, cased))
                if not (folded.isascii() and folded.isalpha() and folded.islower()):
                    failures.append((form, cased, folded))
    assert failures == []


@given(st.text())
def test_fold_is_idempotent_and_leaves_no_combining_marks(text):
    folded = fold(text)
    assert fold(folded) == folded
    assert not any(unicodedata.combining(char) for char in folded)


@given(st.text())
def test_fold_does_not_depend_on_the_normalization_form(text):
    assert fold(unicodedata.normalize("NFD", text)) == fold(unicodedata.normalize("NFC", text))


def test_normalize_composes_nfd_text():
    assert normalize(unicodedata.normalize("NFD", "Nguyễn")) == "Nguyễn"


def test_analyzer_keeps_nfd_words_whole():
    assert words(name_analyzer(), unicodedata.normalize("NFD", "Nguyễn Văn")) == ["nguyen", "van"]


def test_analyzer_offsets_point_into_the_nfc_text():
    text = "Bộ trưởng Bùi Thanh Sơn"
    tokens = [(t.startchar, t.endchar) for t in name_analyzer()(text, chars=True, mode="query")]
    assert [text[start:end] for start, end in tokens] == ["Bộ", "trưởng", "Bùi", "Thanh", "Sơn"]


def test_prose_analyzer_stems_english_so_relations_meets_relation():
    analyzer = prose_analyzer()
    assert words(analyzer, "relations") == words(analyzer, "relation")


def test_short_words_are_not_stemmed_so_ha_never_meets_has():
    analyzer = prose_analyzer()
    assert words(analyzer, "Hà") != words(analyzer, "has")


def test_stopwords_are_kept_because_folded_vietnamese_collides_with_them():
    assert words(prose_analyzer(), "thế Tô US the") == ["the", "to", "us", "the"]


def test_hyphenated_names_split_into_their_parts():
    assert words(name_analyzer(), "Kim Jong-un") == ["kim", "jong", "un"]


def test_indexing_also_joins_capitalized_words_written_apart():
    assert words(name_analyzer(), "in Hà Nội and Viet Nam", mode="index") == [
        "in", "ha", "noi", "hanoi", "and", "viet", "nam", "vietnam"]


def test_indexing_joins_a_capitalized_word_to_its_hyphenated_part():
    assert words(name_analyzer(), "Kim Jong-un", mode="index") == [
        "kim", "jong", "kimjong", "un", "jongun", "kimjongun"]


def test_indexing_never_joins_an_ordinary_lowercase_pair():
    assert words(name_analyzer(), "the co-chaired talks ended", mode="index") == [
        "the", "co", "chaired", "talks", "ended"]


def test_a_joined_name_spans_both_words_and_takes_the_first_position():
    tokens = [(t.text, t.pos, t.startchar, t.endchar)
              for t in name_analyzer()("HÀ NỘI —", positions=True, chars=True, mode="index")]
    assert tokens == [("ha", 0, 0, 2), ("noi", 1, 3, 6), ("hanoi", 0, 0, 6)]


def test_the_exact_analyzer_keeps_accented_words_with_their_marks_and_acronyms():
    assert words(exact_analyzer(), "Bùi Thanh SƠN, his son, the UN and Kim Jong-un") == [
        "bùi", "sơn", "UN"]


def test_indexing_does_not_join_a_pair_led_by_a_function_word():
    assert words(name_analyzer(), "The Bank met In Seoul", mode="index") == [
        "the", "bank", "met", "in", "seoul"]


def test_indexing_does_not_join_words_longer_than_a_name_syllable():
    assert words(name_analyzer(), "Deutsche Bundesbank", mode="index") == [
        "deutsche", "bundesbank"]


def test_a_headline_in_capitals_is_neither_joined_nor_read_as_acronyms():
    assert words(name_analyzer(), "BAHIA COCOA REVIEW", mode="index") == [
        "bahia", "cocoa", "review"]
    assert words(exact_analyzer(), "BAHIA COCOA REVIEW by the UN", mode="index") == ["UN"]


def test_a_dateline_in_capitals_is_still_joined():
    assert "hanoi" in words(name_analyzer(), "HÀ NỘI — Officials", mode="index")


INDEXED_TEXTS = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]


def index_entries(field, text: str, fast: bool) -> list:
    from whoosh.fields import TEXT

    entries = field.index(text) if fast else TEXT.index(field, text)
    return sorted(entries)


@pytest.mark.parametrize("field_name", ["title", "body", "exact"])
@pytest.mark.parametrize("text", INDEXED_TEXTS + [unicodedata.normalize("NFD", INDEXED_TEXTS[0])])
def test_one_pass_indexing_makes_exactly_the_analyzers_terms(field_name, text):
    field = build_schema()[field_name]
    assert index_entries(field, text, fast=True) == index_entries(field, text, fast=False)


@given(st.lists(st.sampled_from(["Hà", "Nội", "HÀ", "NỘI", "UN", "un", "The", "Jong", "-",
                                  "—", "’s", " ", " ", "\n", ".", "Đà", "x1", "Ma\u0301"]),
                max_size=30).map("".join))
def test_one_pass_indexing_matches_the_analyzers_on_any_text(text):
    schema = build_schema()
    for name in ("title", "body", "exact"):
        assert index_entries(schema[name], text, True) == index_entries(schema[name], text, False)



# Texts that exercise every rule of the tokenizer: names written apart and hyphenated,
# headlines in capitals, acronyms, function words, marks, no-break spaces and hyphens.
NEWS_PIECES = ["Hà", "Nội", "HÀ", "NỘI", "UN", "un", "The", "Jong", "Buôn", "Ma", "Thuột", "-",
               "\u2010", "—", "’s", " ", " ", " ", "\u00a0", "\n", ".", "Đà", "x1", "Ma\u0301",
               "OPEC", "EC", "Deutsche", "Kim", "said", "hoà", "Hòa", "A", "OPEC SEES EC TALKS",
               "HÀ NỘI HUẾ", "Buôn Ma Thuột"]
news_texts = st.lists(st.sampled_from(NEWS_PIECES), max_size=40).map("".join)


def analyzer_prose(text: str) -> tuple[list, list[str], list[tuple[int, str]], set[str]]:
    """What the prose analyzer's token stream holds, in its order: each term with its
    occurrences, the terms at the word positions, the joined names (a token at a position
    already passed) and the folded words."""
    terms: dict[str, list[tuple[int, int, int]]] = {}
    sequence, joined, last = [], [], -1
    for token in prose_analyzer()(text, positions=True, chars=True, mode="index"):
        terms.setdefault(token.text, []).append((token.pos, token.startchar, token.endchar))
        if token.pos <= last:
            joined.append((token.pos, token.text))
        else:
            sequence.append(token.text)
            last = token.pos
    plain = set(words(name_analyzer(), text.replace("-", " ").replace("\u2010", " ")))
    return list(terms.items()), sequence, joined, plain


def one_pass_prose(text: str) -> tuple[list, list[str], list[tuple[int, str]], set[str]]:
    prose = prose_forms().prose(text)
    return list(prose.terms.items()), prose.sequence, prose.joined, prose.plain


def analyzer_exact_terms(text: str) -> list[tuple[str, int]]:
    tokens = [token.text for token in exact_analyzer()(text, mode="index")]
    return [(term, tokens.count(term)) for term in dict.fromkeys(tokens)]


@given(news_texts)
def test_one_pass_prose_is_the_analyzers_token_stream_in_its_order(text):
    assert one_pass_prose(text) == analyzer_prose(text)


@given(news_texts)
def test_one_pass_exact_terms_are_the_exact_analyzers_in_their_order(text):
    assert list(exact_terms(text).items()) == analyzer_exact_terms(text)


@given(news_texts, news_texts)
def test_exact_terms_of_an_article_whose_title_and_body_were_analysed_are_the_analyzers(
        title, body):
    for text in (body, title):  # as a writer takes the fields (the exact field reuses words)
        prose_forms().prose(text)
    text = exact_text(title, body)
    assert list(exact_terms(text).items()) == analyzer_exact_terms(text)


HEADLINED = "OPEC SEES EC TALKS\nThe OPEC and EC met in HÀ NỘI, KIM JONG UN SAID; Kim Jong-un"


@pytest.mark.parametrize("text", INDEXED_TEXTS + [HEADLINED] + [
    article.record["text"] for article in NewsWriter(seed=3).articles(20)])
def test_one_pass_analysis_of_news_is_the_analyzers(text):
    assert one_pass_prose(text) == analyzer_prose(text)
    assert list(exact_terms(text).items()) == analyzer_exact_terms(text)


def analyzers_query_terms(text: str) -> tuple[list[str], list[str], list[str]]:
    return (words(prose_analyzer(), text), words(exact_analyzer(), text),
            words(name_analyzer(), text))


@given(news_texts)
def test_a_querys_terms_are_the_analyzers_in_query_mode(text):
    assert (prose_query_terms(text), exact_query_terms(text), tokenize(text)) \
        == analyzers_query_terms(text)


@pytest.mark.parametrize("text", [HEADLINED, "BANK OF ENGLAND DOES NOT INTERVENE", "Sơn UN",
                                  "Nguyễn Tấn Dũng", "ministers' relations", "Ha Noi Jong-un",
                                  unicodedata.normalize("NFD", "Hà Nội Thuỷ"), "x\u0301y UN"])
def test_the_query_terms_of_news_words_are_the_analyzers(text):
    assert (prose_query_terms(text), exact_query_terms(text), tokenize(text)) \
        == analyzers_query_terms(text)


def test_a_memo_of_word_forms_stays_within_its_bounds(monkeypatch):
    monkeypatch.setattr(settings, "WORD_FORMS_MEMO", 10)
    monkeypatch.setattr(settings, "WORD_FORMS_MAX_CHARS", 8)
    memo = Memo(str.upper)
    words = [f"word{number}" for number in range(25)] + ["extraordinarily"]
    assert list(map(memo.__getitem__, words)) == [word.upper() for word in words]
    assert 0 < len(memo) <= 10 and "extraordinarily" not in memo


def test_analysis_with_a_small_memo_makes_the_same_terms(monkeypatch):
    monkeypatch.setattr(settings, "WORD_FORMS_MEMO", 3)
    text = HEADLINED + " ".join(f"Word{number}" for number in range(25))
    assert WordForms(prose_analyzer()).prose(text).terms == prose_forms().prose(text).terms


def test_the_exact_field_indexes_an_acronym_after_a_lone_mark_as_the_analyzer_reads_it():
    field = build_schema()["exact"]
    assert index_entries(field, "Kim \u0301UN", True) == index_entries(field, "Kim \u0301UN", False)
    assert words(exact_analyzer(), "Kim \u0301UN", mode="index") == ["UN"]

# --- pair signatures (phrases are looked for only where an article's signature allows) --

SEED_TEXTS = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]
NAMES_TEXT = "Kim Jong-un met Nguyễn Minh Vũ and Tô Lâm in Hà Nội; KIM JONG UN SAID SO."


def _consecutive_terms(text: str) -> set[tuple[str, str]]:
    at: dict[int, set[str]] = {}
    for term, occurrences in prose_terms(text)[0].items():
        for position, _, _ in occurrences:
            at.setdefault(position, set()).add(term)
    return {(first, second) for position, firsts in at.items()
            for first in firsts for second in at.get(position + 1, ())}


def _has_bits(signature: bytes, bits) -> bool:
    return all(signature[bit >> 3] & (1 << (bit & 7)) for bit in bits)


@pytest.mark.parametrize("text", [*SEED_TEXTS, NAMES_TEXT])
def test_a_pair_signature_has_the_bits_of_every_two_terms_at_consecutive_positions(text):
    signature = pair_signature(text)
    pairs = _consecutive_terms(text)
    assert pairs and all(_has_bits(signature, pair_bits(*pair)) for pair in pairs)


@pytest.mark.parametrize("text", [*SEED_TEXTS, NAMES_TEXT])
def test_a_pair_signature_has_no_bits_but_those_of_its_pairs(text):
    expected = bytearray(PAIR_SIGNATURE_BYTES)
    for bit in (bit for pair in _consecutive_terms(text) for bit in pair_bits(*pair)):
        expected[bit >> 3] |= 1 << (bit & 7)
    assert pair_signature(text) == bytes(expected)


def test_a_pair_signature_has_the_bits_of_joined_names_beside_their_neighbours():
    signature = pair_signature(NAMES_TEXT)
    assert _has_bits(signature, pair_bits("kimjong", "jongun"))
    assert _has_bits(signature, pair_bits("met", "nguyenminh"))


@pytest.mark.parametrize("text", SEED_TEXTS)
def test_a_pair_signature_rules_out_most_pairs_a_news_article_does_not_have(text):
    text = " ".join(text.split()[:150])  # a wire article's length (long ones fill up more)
    signature = pair_signature(text)
    present = _consecutive_terms(text)
    absent = [(second, first) for first, second in present if (second, first) not in present]
    passing = sum(_has_bits(signature, pair_bits(*pair)) for pair in absent)
    assert len(signature) == PAIR_SIGNATURE_BYTES and passing < len(absent) / 5


def test_a_text_without_words_has_an_empty_pair_signature():
    assert pair_signature("") == bytes(PAIR_SIGNATURE_BYTES)


def test_a_pair_signature_is_the_same_in_every_process():
    script = ("import sys; from searchidx.analysis import pair_signature; "
              "print(pair_signature(sys.stdin.read()).hex())")
    outputs = {subprocess.run([sys.executable, "-c", script], input=NAMES_TEXT, text=True,
                              capture_output=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip()
               for seed in ("1", "2")}
    assert outputs == {pair_signature(NAMES_TEXT).hex()}
