"""Folding Latin letters as the standard tables do (Lucene's ASCIIFoldingFilter, ICU's
Latin-ASCII), consistently in every normalization form, and the analysis version an index
records so that `stats` tells when a rebuild would bring new foldings."""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from searchidx import SearchIndex, fold
from searchidx.cli import cli
from searchidx.fold_table import LETTERS

# Latin-1 Supplement, Latin Extended-A and -B, IPA, Phonetic Extensions (and Supplement),
# Latin Extended Additional, -C, -D and -E, with the combining marks and a space between.
LATIN_BLOCKS = [(0x00C0, 0x00FF), (0x0100, 0x024F), (0x0250, 0x02AF), (0x1D00, 0x1DBF),
                (0x1E00, 0x1EFF), (0x2C60, 0x2C7F), (0xA720, 0xA7FF), (0xAB30, 0xAB6F),
                (0x0300, 0x036F)]
latin_text = st.text(st.one_of([st.characters(min_codepoint=low, max_codepoint=high)
                                for low, high in LATIN_BLOCKS] + [st.just(" ")]))


@pytest.mark.parametrize("letter, folded", [
    ("ə", "a"), ("Ə", "a"), ("ɓ", "b"), ("ᴀ", "a"), ("ʙ", "b"), ("ƀ", "b"), ("ȼ", "c"),
    ("ɇ", "e"), ("ⱥ", "a"), ("ꝺ", "d"), ("ꞇ", "t"), ("ꜳ", "aa"), ("ꜵ", "ao"), ("ȸ", "db"),
    ("ʣ", "dz"), ("ɩ", "i"), ("Ɩ", "i"),
])
def test_fold_maps_the_letters_the_standard_tables_fold(letter, folded):
    assert fold(letter) == folded


def test_azerbaijani_schwa_folds_as_english_writes_it():
    assert fold("İlham Əliyev") == "ilham aliyev"


@pytest.mark.parametrize("letters, folded", [("æǽǣÆǼǢ", "ae" * 6), ("øǿØǾ", "oooo"),
                                             ("ʣ", "dz"), ("ǅǆǄ", "dzdzdz")])
def test_a_letter_folds_like_its_forms_with_marks(letters, folded):
    assert fold(letters) == folded


# The letters that searchidx folded before its table came from Lucene and ICU (analysis
# version 1), as it folded them: a query word with them folds as the index's terms do.
VERSION_1_FOLDINGS = {
    "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l",
    "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ß": "ss", "ẞ": "ss", "þ": "th",
    "Þ": "th", "ı": "i", "ȷ": "j", "ħ": "h", "Ħ": "h", "ŧ": "t", "Ŧ": "t", "ŋ": "ng",
    "Ŋ": "ng", "ƀ": "b", "Ɓ": "b", "ɓ": "b", "ƈ": "c", "ɗ": "d", "Ɗ": "d", "ƒ": "f",
    "ɠ": "g", "ɨ": "i", "Ɨ": "i", "ƙ": "k", "ĸ": "k", "ƚ": "l", "ɲ": "n", "ƞ": "n",
    "ɵ": "o", "Ɵ": "o", "ʉ": "u", "Ʉ": "u", "ƴ": "y", "Ƴ": "y", "ƶ": "z", "Ƶ": "z",
    "é": "e", "Ñ": "n", "ş": "s", "ﬁ": "fi", "ℌ": "h", "𝐀": "a", "ᵃ": "a", "’": "'",
}


@pytest.mark.parametrize("letter", VERSION_1_FOLDINGS)
def test_letters_folded_before_fold_as_they_did(letter):
    assert fold(letter) == VERSION_1_FOLDINGS[letter]


def test_every_letter_of_the_generated_table_folds_to_small_ascii_letters():
    wrong = {chr(code): fold(chr(code)) for code, folded in LETTERS.items()
             if not (fold(chr(code)) == folded and folded.isascii() and folded.isalpha()
                     and folded.islower())}
    assert wrong == {}


def test_final_sigma_folds_as_sigma():
    assert fold("ΟΔΟΣ") == fold("οδος") == fold("οδοσ") == "οδοσ"


@given(latin_text)
def test_folding_latin_text_twice_changes_nothing(text):
    assert fold(fold(text)) == fold(text)


@given(latin_text)
def test_the_nfc_nfd_and_nfkd_forms_of_latin_text_fold_alike(text):
    folded = fold(text)
    for form in ("NFC", "NFD", "NFKD", "NFKC"):
        assert fold(unicodedata.normalize(form, text)) == folded


def test_every_character_folds_alike_in_every_form_and_once_for_all():
    wrong = []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.category(char) in ("Cn", "Co", "Cs"):
            continue  # unassigned, private or a surrogate: left as it is
        folded = fold(char)
        forms = {fold(unicodedata.normalize(form, char)) for form in ("NFD", "NFKD")}
        if fold(folded) != folded or forms != {folded}:
            wrong.append(char)
    assert wrong == []


# --- the analysis version an index records --------------------------------------------------

def write_article(folder: Path, name: str, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def as_written_before_versions(index_dir: Path) -> None:
    """Make the index look as one that searchidx wrote before it recorded the analysis
    version: its saved schema without the version."""
    from whoosh.filedb.filestore import FileStorage

    generation = index_dir / (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    writer = FileStorage(str(generation), supports_mmap=False).open_index().writer()
    for name in ("title", "body"):
        del writer.schema[name].__dict__["analysis_version"]
    writer.commit(merge=False)


@pytest.fixture
def baku_index(tmp_path: Path) -> Path:
    write_article(tmp_path / "articles", "baku.txt",
                  "Baku talks\n\nİlham Əliyev met Łukasz Ørsted.")
    index_dir = tmp_path / "index"
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([tmp_path / "articles"])
    return index_dir


@pytest.fixture
def old_index(baku_index: Path) -> Path:
    as_written_before_versions(baku_index)
    return baku_index


def stats_json(index_dir: Path) -> dict:
    result = CliRunner().invoke(cli, ["stats", "--index", str(index_dir), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_stats_of_a_new_index_tell_its_analysis_is_current(baku_index):
    stats = stats_json(baku_index)
    assert (stats["analysis_version"], stats["rebuild_needed"]) == (2, False)
    assert "Analysis: version 2 (current)" in CliRunner().invoke(
        cli, ["stats", "--index", str(baku_index)]).output


def test_stats_tell_that_an_index_built_before_needs_a_rebuild(old_index):
    stats = stats_json(old_index)
    assert (stats["analysis_version"], stats["rebuild_needed"]) == (1, True)
    text = CliRunner().invoke(cli, ["stats", "--index", str(old_index)]).output
    assert "Analysis: version 1" in text and "searchidx rebuild" in text


def test_an_update_keeps_the_version_an_index_was_built_with(old_index, tmp_path):
    write_article(tmp_path / "articles", "b.txt", "More\n\nƏliyev again.")
    with SearchIndex.open(old_index) as idx:
        idx.index([tmp_path / "articles"])
    assert stats_json(old_index)["rebuild_needed"] is True


def test_a_rebuild_brings_the_index_to_the_current_analysis(old_index, tmp_path):
    result = CliRunner().invoke(cli, ["rebuild", str(tmp_path / "articles"), "--index",
                                      str(old_index)])
    assert result.exit_code == 0, result.output
    assert stats_json(old_index)["rebuild_needed"] is False


@pytest.mark.parametrize("query", ["Aliyev", "Əliyev", "Lukasz Orsted", "Łukasz Ørsted"])
def test_names_with_special_latin_letters_are_found_written_either_way(baku_index, tmp_path,
                                                                      query):
    with SearchIndex.open(baku_index) as idx:
        assert [hit.path for hit in idx.search(query)] == [str(tmp_path / "articles" / "baku.txt")]
