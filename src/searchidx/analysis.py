"""Text analysis: normalizing, tokenizing and folding, the same on the index and query sides.

The analyzers are Whoosh analyzers composed from small filters with ``|``::

    NewsTokenizer() | FoldFilter()                          # names: place, source
    NewsTokenizer() | FoldFilter() | EnglishStemFilter()    # prose: title, body
    NewsTokenizer() | ExactFormsFilter()                    # accented words, acronyms

Folding is complete for Vietnamese: every tone and vowel mark goes, and so does the
stroke of đ/Đ, which Unicode does not decompose. ``fold("Nguyễn Đà Nẵng") == "nguyen da nang"``.

Stopwords are never dropped: after folding, Vietnamese syllables collide with English
stopwords ("thế" → "the", "Tô" → "to"), and "US" is a country, not a pronoun.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from whoosh.analysis import Filter, Token, Tokenizer
from whoosh.lang.porter import stem

from .settings import STEM_MIN_LENGTH

__all__ = ["exact_analyzer", "fold", "is_acronym", "name_analyzer", "normalize",
           "prose_analyzer", "tokenize"]

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


class NewsTokenizer(Tokenizer):
    """Splits NFC text into words; when indexing, also emits names written apart joined.

    Input is brought to NFC first: Whoosh's regex tokenizer splits NFD text inside words
    ("Nguyễn" → "nguye", "n"), and the character offsets must point into the stored NFC
    text. Two capitalized words with one space between them ("Hà Nội", "Viet Nam") and a
    capitalized word hyphenated to another ("Jong-un") are also indexed as one word, at
    the first word's position, so "Hanoi" finds "Hà Nội" and "Jongun" finds "Jong-un". An
    ordinary lowercase pair stays two words. Queries are not joined here: the query
    parser offers each adjacent pair of query words joined as an alternative instead.
    """

    def __init__(self, join: bool = True) -> None:
        self.join = join

    def __call__(self, value: str, positions: bool = False, chars: bool = False,  # type: ignore[override]
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "", **kwargs):
        value = normalize(value)
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        token.whole = not tokenize  # a wildcard or prefix term: no stemming
        if not tokenize:
            yield _set(token, value, start_pos, start_char, start_char + len(value), keeporiginal)
            return
        join = self.join and mode != "query"
        previous: tuple[str, int, int] | None = None  # text, start, position
        for position, match in enumerate(TOKEN_PATTERN.finditer(value), start=start_pos):
            text, start, end = match.group(), match.start(), match.end()
            yield _set(token, text, position, start_char + start, start_char + end, keeporiginal)
            if join and previous and _joins(previous[0], value[previous[1] + len(previous[0]):start], text):
                yield _set(token, previous[0] + text, previous[2], start_char + previous[1],
                           start_char + end, keeporiginal)
            previous = (text, start, position)


def _joins(first: str, gap: str, second: str) -> bool:
    """Whether two adjacent words form one name: "Hà Nội", "HÀ NỘI", "Jong-un"."""
    if gap in _SPACES:
        return first[0].isupper() and second[0].isupper()
    return gap in _HYPHENS and first[0].isupper()


_SPACES = {" ", "\u00a0"}
_HYPHENS = {"-", "\u2010", "\u2011"}


def _set(token: Token, text: str, position: int, start: int, end: int, keeporiginal: bool) -> Token:
    """Fill Whoosh's reused token object (one object serves the whole stream)."""
    token.text = text
    token.boost = 1.0
    token.stopped = False
    if keeporiginal:
        token.original = text
    if token.positions:
        token.pos = position
    if token.chars:
        token.startchar, token.endchar = start, end
    return token


class FoldFilter(Filter):
    """Replaces each token's text with its :func:`fold` ed form."""

    def __call__(self, tokens):  # type: ignore[override]
        for token in tokens:
            token.text = fold(token.text)
            yield token


class ExactFormsFilter(Filter):
    """Keeps the words whose exact form tells more than their folded form: words with
    diacritics (lower-cased: "sơn") and acronyms (as written: "UN", "DPRK").

    They make the exact field: a query written with diacritics ranks the articles that
    spell its words exactly so above those that match only once folded, and an acronym
    alias ("UN") does not match a name part ("Jong-un").
    """

    def __call__(self, tokens):  # type: ignore[override]
        for token in tokens:
            if is_acronym(token.text):
                yield token
            elif not token.text.isascii():
                token.text = token.text.lower()
                yield token


def is_acronym(word: str) -> bool:
    """Two or more plain letters, all capitals: "UN", "DPRK" (not "RoK", "A" or "HÀ")."""
    return len(word) > 1 and word.isascii() and word.isalpha() and word.isupper()


class EnglishStemFilter(Filter):
    """Porter-stems words longer than three letters, so "relations" finds "relation".

    Short words are left alone: folded Vietnamese syllables are short, and stemming
    them against English would make "Hà" find "has" (Porter: "has" → "ha").
    """

    is_morph = True  # so that Whoosh keeps unstemmed words for spelling suggestions

    def __call__(self, tokens):  # type: ignore[override]
        for token in tokens:
            # A term the query parser did not tokenize is a prefix or wildcard ("Nguy*"):
            # stemming it would change the prefix ("nguy" → "ngui").
            if len(token.text) > STEM_MIN_LENGTH and not getattr(token, "whole", False):
                token.text = _stem(token.text)
            yield token


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    return stem(word)


def name_analyzer():
    """Analyzer for names and places: words are folded but not stemmed."""
    return NewsTokenizer() | FoldFilter()


def prose_analyzer():
    """Analyzer for titles and bodies: folded, then stemmed in English."""
    return NewsTokenizer() | FoldFilter() | EnglishStemFilter()


def exact_analyzer():
    """Analyzer for the exact field: accented words lower-cased with their marks, acronyms."""
    return NewsTokenizer(join=False) | ExactFormsFilter()


def tokenize(text: str) -> list[str]:
    """The folded, unstemmed words of ``text``, as the query side sees them."""
    return [token.text for token in name_analyzer()(text, mode="query")]

