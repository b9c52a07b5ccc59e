"""Text analysis: normalizing, tokenizing and folding, the same on the index and query sides.

The analyzers are Whoosh analyzers composed from small filters with ``|``::

    NFCTokenizer() | FoldFilter()                  # exact-word fields: place, source
    NFCTokenizer() | FoldFilter() | EnglishStemFilter()   # prose: title, body

Folding is complete for Vietnamese: every tone and vowel mark goes, and so does the
stroke of đ/Đ, which Unicode does not decompose. ``fold("Nguyễn Đà Nẵng") == "nguyen da nang"``.

Stopwords are never dropped: after folding, Vietnamese syllables collide with English
stopwords ("thế" → "the", "Tô" → "to"), and "US" is a country, not a pronoun.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from whoosh.analysis import Filter, RegexTokenizer
from whoosh.lang.porter import stem

from .settings import STEM_MIN_LENGTH

__all__ = ["fold", "normalize", "prose_analyzer", "name_analyzer", "tokenize"]

# Latin letters whose marks are part of the letter itself, so NFKD leaves them alone.
_UNDECOMPOSED = {
    "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
    "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "ẞ": "SS", "þ": "th",
    "Þ": "TH", "ı": "i", "ȷ": "j", "ħ": "h", "Ħ": "H", "ŧ": "t", "Ŧ": "T", "ŋ": "ng",
    "Ŋ": "NG", "ƀ": "b", "Ɓ": "B", "ɓ": "b", "ƈ": "c", "ɗ": "d", "Ɗ": "D", "ƒ": "f",
    "ɠ": "g", "ɨ": "i", "Ɨ": "I", "ƙ": "k", "ĸ": "k", "ƚ": "l", "ɲ": "n", "ƞ": "n",
    "ɵ": "o", "Ɵ": "O", "ʉ": "u", "Ʉ": "U", "ƴ": "y", "Ƴ": "Y", "ƶ": "z", "Ƶ": "Z",
}
# Every apostrophe-like character reads as the straight apostrophe.
_APOSTROPHES = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "\uff07": "'"}

# Combining marks that can follow a letter; included in tokens so that text which
# escaped NFC composition (or has no precomposed form) still yields whole words.
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
TOKEN_PATTERN = re.compile(rf"\w[\w{_MARKS}]*")


def normalize(text: str) -> str:
    """Return ``text`` in Unicode NFC, the form every stored and searched string takes."""
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if char in _UNDECOMPOSED:
        return _UNDECOMPOSED[char]
    if char in _APOSTROPHES:
        return _APOSTROPHES[char]
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))


def fold(text: str) -> str:
    """Fold ``text`` for matching: lower case, no diacritics, no special Latin letters.

    >>> fold("Nguyễn Đà Nẵng")
    'nguyen da nang'
    >>> fold("Workers’ Party")
    "workers' party"
    """
    if text.isascii():
        return text.lower()
    folded = "".join(_fold_char(char) for char in text.lower())
    # Lower-casing after folding too: NFKD can yield capitals (e.g. from "ℌ").
    return folded.lower()


class NFCTokenizer(RegexTokenizer):
    """A regex tokenizer that first brings its input to NFC.

    Whoosh's tokenizer splits NFD text inside words ("Nguyễn" → "nguye", "n"), and the
    character offsets it records must point into the NFC text that is stored.
    """

    def __init__(self) -> None:
        super().__init__(expression=TOKEN_PATTERN, gaps=False)

    def __call__(self, value: str, **kwargs):  # type: ignore[override]
        return super().__call__(normalize(value), **kwargs)


class FoldFilter(Filter):
    """Replaces each token's text with its :func:`fold` ed form."""

    def __call__(self, tokens):  # type: ignore[override]
        for token in tokens:
            token.text = fold(token.text)
            yield token


class EnglishStemFilter(Filter):
    """Porter-stems words longer than three letters, so "relations" finds "relation".

    Short words are left alone: folded Vietnamese syllables are short, and stemming
    them against English would make "Hà" find "has" (Porter: "has" → "ha").
    """

    def __call__(self, tokens):  # type: ignore[override]
        for token in tokens:
            if len(token.text) > STEM_MIN_LENGTH:
                token.text = _stem(token.text)
            yield token


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    return stem(word)


def name_analyzer():
    """Analyzer for names and places: words are folded but not stemmed."""
    return NFCTokenizer() | FoldFilter()


def prose_analyzer():
    """Analyzer for titles and bodies: folded, then stemmed in English."""
    return NFCTokenizer() | FoldFilter() | EnglishStemFilter()


def tokenize(text: str) -> list[str]:
    """The folded, unstemmed words of ``text``, as the query side sees them."""
    return [token.text for token in name_analyzer()(text)]
