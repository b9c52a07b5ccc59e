"""Text analysis: normalizing, tokenizing and folding, the same on the index and query sides.

The analyzers are composed from small filters with ``|`` (on the engine's base classes,
:mod:`searchidx.engine.text`)::

    NewsTokenizer() | FoldFilter()                          # names: place, source
    NewsTokenizer() | FoldFilter() | EnglishStemFilter()    # prose: title, body
    NewsTokenizer() | ExactFormsFilter()                    # accented words, acronyms

Folding is complete for Vietnamese: every tone and vowel mark goes, and so does the
stroke of đ/Đ, which Unicode does not decompose. ``fold("Nguyễn Đà Nẵng") == "nguyen da nang"``.
Other Latin letters fold as Lucene's and ICU's folding tables fold them ("ə" → "a", "ꜳ" →
"aa"), from a table generated from both (:mod:`searchidx.fold_table`).

Stopwords are never dropped: after folding, Vietnamese syllables collide with English
stopwords ("thế" → "the", "Tô" → "to"), and "US" is a country, not a pronoun.

A body's pair signature (:func:`pair_signature`) records, in a few bits, which prose terms
follow which, so that a phrase is checked only in the articles that can have it.
"""

from __future__ import annotations

import itertools
import operator
import re
import unicodedata
import zlib
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import NamedTuple

from .engine import speedups
from .engine.text import Filter, Token, Tokenizer, stem
from .fold_table import LETTERS
from . import settings
from .settings import STEM_MIN_LENGTH

__all__ = ["ANALYSIS_VERSION", "JOINED_MAX_WORDS", "exact_analyzer", "exact_form", "exact_term",
           "exact_terms", "exact_text", "fold", "is_acronym", "name_analyzer", "normalize", "prose_analyzer",
           "prose_terms", "prose_forms", "name_forms", "spelling_words", "tokenize", "words", "SIGNATURE_FIELDS",
           "EXTENSION_FIELDS", "extension_bits", "pair_code", "pair_extension", "pair_signatures"]

# The version of the terms analysis makes of a text, recorded in each index built (see
# index.analysis_version): an index of another version needs a rebuild to match as this
# one does. 1: searchidx before it was recorded. 2: folding from the Lucene and ICU tables,
# names of three syllables joined, one tone placement in the exact field.
ANALYSIS_VERSION = 2

# Characters that write the same letter or sign differently: every apostrophe-like
# character reads as the straight apostrophe, and final sigma as sigma (lower() writes a
# word's last "Σ" as "ς", and NFKD makes the lunate "ϲ" one: all fold alike).
_VARIANTS = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "\uff07": "'",
             "\u03c2": "\u03c3"}

# Combining marks that can follow a letter; included in tokens so that text which
# escaped NFC composition (or has no precomposed form) still yields whole words.
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
TOKEN_PATTERN = re.compile(rf"\w[\w{_MARKS}]*")


def normalize(text: str) -> str:
    """Return ``text`` in Unicode NFC, the form every stored and searched string takes."""
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Fold ``text`` for matching: lower case, no diacritics, no special Latin letters.

    Lower-cased, decomposed (NFKD), then each character mapped once: marks go, letters of
    the generated table (:mod:`searchidx.fold_table`) become ASCII. Decomposing first makes
    the NFC, NFD and NFKD forms of a text fold alike ("ǽ" is "æ" and a mark: "ae").

    >>> fold("Nguyễn Đà Nẵng")
    'nguyen da nang'
    >>> fold("Workers’ Party")
    "workers' party"
    """
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text.lower()).translate(_FOLDINGS)


class _Foldings(dict):
    """What each character of a lower-cased, decomposed text folds to, for ``str.translate``:
    the generated table and the variants from the start, any other character worked out
    when first met (a mark: nothing; a capital, which NFKD can yield: its small letter's
    folding; else itself) and kept. At most one entry per code point."""

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        if unicodedata.category(char).startswith("M"):
            folding = None
        elif (small := char.lower()) != char:
            folding = fold(small)
        else:
            folding = char
        self[code] = folding
        return folding


_FOLDINGS = _Foldings(LETTERS)
_FOLDINGS.update({ord(char): folding for char, folding in _VARIANTS.items()})


class NewsTokenizer(Tokenizer):
    """Splits NFC text into words; when indexing, also emits names written apart joined.

    Input is brought to NFC first: Whoosh's regex tokenizer splits NFD text inside words
    ("Nguyễn" → "nguye", "n"), and the character offsets must point into the stored NFC
    text. Two or three capitalized words with one space between them ("Hà Nội", "Viet
    Nam", "Buôn Ma Thuột") and a capitalized word hyphenated to another ("Jong-un") are
    also indexed as one word, at the first word's position, so "Hanoi" finds "Hà Nội",
    "Buonmathuot" finds "Buôn Ma Thuột" and "Jongun" finds "Jong-un". An ordinary
    lowercase pair stays two words, and so does a pair led by an English function word
    ("The Bank"), one with a word longer than a name syllable ("Deutsche Bank") or one
    inside a headline set in capitals ("BAHIA COCOA REVIEW"); three words are joined only
    if both their pairs are. Queries are not joined here: the query parser offers each
    run of adjacent query words joined as an alternative instead.
    """

    def __init__(self, join: bool = True) -> None:
        self.join = join

    def __call__(self, value: str, positions: bool = False, chars: bool = False,  # type: ignore[override]
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "", **kwargs):
        value = normalize(value)
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        token.whole = not tokenize  # a wildcard or prefix term: no stemming
        token.headline = False
        if not tokenize:
            yield _set(token, value, start_pos, start_char, start_char + len(value), keeporiginal)
            return
        for text, position, start, end, kind in words(value, self.join and mode != "query"):
            token.headline = kind is HEADLINE
            yield _set(token, text, position + start_pos, start + start_char, end + start_char,
                       keeporiginal)


# The kinds of word ``words`` yields.
WORD, HEADLINE, JOINED = "word", "headline", "joined"

# A pair led by one of these is not a name, even capitalized at a sentence's start.
FUNCTION_WORDS = frozenset("""
    a about after against all also an and any are as at be because been before but by
    can could did does during each for from had has have he her his how i if in into is
    it its may might more most must no nor not of on once only or our she should since so
    some such than that the their them then there these they this those through to under
    until was we were what when where which while who why will with would you your
""".split())
# Vietnamese and Korean name syllables are at most this long ("Nguyễn", "nghiêng"); a
# longer capitalized pair ("Deutsche Bundesbank") is joined by nothing a reader would type.
NAME_SYLLABLE_MAX = 7
# Names of up to this many words written apart are also indexed joined ("Buôn Ma Thuột").
JOINED_MAX_WORDS = 3


def words(value: str, join: bool) -> Iterator[tuple[str, int, int, int, str]]:
    """``(text, position, start, end, kind)`` for each word of NFC ``value``; with
    ``join``, also each run of two or three words that form one name, at its first word's
    position.

    ``kind`` is ``WORD``, ``HEADLINE`` (a word in a run of capitals, which is no sign of
    an acronym) or ``JOINED``. Every analyzer tokenizes here; indexing in one pass
    (:class:`WordForms`, :func:`exact_terms`) finds the same words in C loops and joins
    the same names (the suite checks that they agree).
    """
    headline = _headline_starts(value)
    name: list[tuple[str, int]] = []  # the last words of a name being read, and their starts
    for position, match in enumerate(TOKEN_PATTERN.finditer(value)):
        text = match.group()
        start, end = match.span()
        yield text, position, start, end, HEADLINE if start in headline else WORD
        continued = bool(name) and _continues_name(value, name[-1], text, start, headline)
        if continued:
            for before in range(1, len(name) + 1):  # "Ma Thuột", then "Buôn Ma Thuột"
                joined = "".join(word for word, _ in name[-before:]) + text
                yield joined, position - before, name[-before][1], end, JOINED
        # Only a capitalized word goes on a name (most words do not: no join is tried).
        if join and text[0].isupper():
            if not continued:
                name = []
            name.append((text, start))
            del name[:-(JOINED_MAX_WORDS - 1)]  # the words a longer name may still join
        elif name:
            name = []


# A run of at least three words in capitals, one space apart: a headline, not a name.
# Its pattern takes ~10 ms to compile, so it is compiled only for a text that passes a
# cheap test: three words without ASCII lower case, one space apart (few queries do).
# The test looks at the first word's last letter and the third's first only: a pattern
# with a whole first word tried at every "<" of a run of 100,000 took minutes.
_MAYBE_HEADLINE = re.compile(r"[^\sa-z][ \u00a0][^\sa-z]+[ \u00a0][^\sa-z]")


@lru_cache(maxsize=None)
def _headline_run() -> re.Pattern[str]:
    upper = "".join(char for char in map(chr, range(0x2500)) if char.isupper())
    capitals_word = rf"[{upper}\d{_MARKS}]*[{upper}][{upper}\d{_MARKS}]*"
    return re.compile(rf"(?<![\w{_MARKS}]){capitals_word}(?:[ \u00a0]{capitals_word}){{2,}}"
                      rf"(?![\w{_MARKS}])")


@lru_cache(maxsize=4)
def _headline_starts(value: str) -> set[int] | frozenset[int]:
    """Where the words of headline runs ("BAHIA COCOA REVIEW") start in ``value`` (never
    to be changed: the last few texts' are kept, so that the exact field finds those its
    article's title and body fields worked out)."""
    if not _MAYBE_HEADLINE.search(value):
        return _NO_STARTS
    starts: set[int] = set()
    for run in _headline_run().finditer(value):
        starts.update(m.start() for m in TOKEN_PATTERN.finditer(value, run.start(), run.end()))
    return starts or _NO_STARTS


_NO_STARTS: frozenset[int] = frozenset()


def _continues_name(value: str, previous: tuple[str, int], text: str, start: int,
                    headline: set[int] | frozenset[int]) -> bool:
    """Whether the word ``text`` at ``start`` in ``value`` forms one name with the word
    before it, ``previous`` (with its start): not where both are in a headline."""
    word, word_start = previous
    return (_joins(word, value[word_start + len(word):start], text)
            and not (start in headline and word_start in headline))


def _joins(first: str, gap: str, second: str) -> bool:
    """Whether two adjacent words form one name: "Hà Nội", "HÀ NỘI", "Jong-un"."""
    if gap in _SPACES:
        return (first[0].isupper() and second[0].isupper() and len(first) <= NAME_SYLLABLE_MAX
                and len(second) <= NAME_SYLLABLE_MAX and first.lower() not in FUNCTION_WORDS)
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


class WordFilter(Filter):
    """A filter that changes each word on its own, as :meth:`word` says: its one definition,
    which the analyzer applies token by token and :class:`WordForms` word by word."""

    leaves_whole = False
    """Whether a term the query parser did not tokenize (a prefix, a wildcard) is kept."""

    def word(self, text: str) -> str:
        raise NotImplementedError

    def __call__(self, tokens):  # type: ignore[override]
        word, leaves_whole = self.word, self.leaves_whole
        for token in tokens:
            if not (leaves_whole and getattr(token, "whole", False)):
                token.text = word(token.text)
            yield token


class FoldFilter(WordFilter):
    """Replaces each token's text with its :func:`fold` ed form."""

    def word(self, text: str) -> str:
        return fold(text)


class ExactFormsFilter(Filter):
    """Keeps the words whose exact form tells more than their folded form: words with
    diacritics (as :func:`exact_form` writes them: "sơn", "hoà") and acronyms (as written:
    "UN", "DPRK"; not the words of a headline set in capitals).

    They make the exact field: a query written with diacritics ranks the articles that
    spell its words exactly so above those that match only once folded, and an acronym
    alias ("UN") does not match a name part ("Jong-un").
    """

    def __call__(self, tokens):  # type: ignore[override]
        for token in tokens:
            term = exact_term(token.text, HEADLINE if token.headline else WORD)
            if term is not None:
                token.text = term
                yield token


def exact_term(word: str, kind: str) -> str | None:
    """The exact field's term for a word of ``kind`` (as :func:`words` yields them), or None
    for a word it does not keep: the one definition of the exact field's terms, which
    :class:`ExactFormsFilter` applies token by token and :func:`exact_terms` word by word."""
    if is_acronym(word):
        return None if kind is HEADLINE else word
    return None if word.isascii() else exact_form(word)


def exact_form(word: str) -> str:
    """An accented NFC word as the exact field holds it: lower case, and the tone mark of
    an open "oa", "oe" or "uy" on its second vowel, where Vietnamese writes it in one
    convention ("hoà", "khoẻ", "thuỷ") and on the first vowel in the other ("hòa", "khỏe",
    "thủy"): both spellings are exact."""
    word = word.lower()
    glide = _TONED_GLIDES.get(word[-2:-1])
    if glide is None or glide[0] + word[-1] not in _GLIDE_RHYMES:
        return word
    plain, tone = glide
    return word[:-2] + plain + unicodedata.normalize("NFC", word[-1] + tone)


# The open rhymes whose tone mark goes on either vowel, and their first vowel with a tone.
_GLIDE_RHYMES = ("oa", "oe", "uy")
_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng
_TONED_GLIDES = {unicodedata.normalize("NFC", plain + tone): (plain, tone)
                 for plain in "ou" for tone in _TONE_MARKS}


def is_acronym(word: str) -> bool:
    """Two or more plain letters, all capitals: "UN", "DPRK" (not "RoK", "A" or "HÀ")."""
    return len(word) > 1 and word.isascii() and word.isalpha() and word.isupper()


class EnglishStemFilter(WordFilter):
    """Porter-stems words longer than three letters, so "relations" finds "relation".

    Short words are left alone: folded Vietnamese syllables are short, and stemming
    them against English would make "Hà" find "has" (Porter: "has" → "ha").
    """

    is_morph = True  # so that Whoosh keeps unstemmed words for spelling suggestions
    # Stemming a prefix or a wildcard ("Nguy*") would change it ("nguy" → "ngui").
    leaves_whole = True

    def word(self, text: str) -> str:
        return _stem(text)


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    """Porter's stem of a folded word longer than STEM_MIN_LENGTH; shorter words as they are."""
    return _porter_stem(word) if len(word) > STEM_MIN_LENGTH else word


# --- indexing in one pass --------------------------------------------------------------------

Occurrence = tuple[int, int, int]
"""Where a term occurs: ``(position, start, end)``, the offsets into the NFC text."""



class Prose(NamedTuple):
    """What a prose analyzer makes of a text, in one pass."""

    terms: dict[str, list[Occurrence]]
    """Each term with its occurrences: what the analyzer indexes."""
    plain: set[str]
    """The words before the analyzer's morphological filters: the spelling words."""
    sequence: list[str]
    """The term at each position (not a joined name)."""
    joined: list[tuple[int, str]]
    """Each joined name and its position."""


class Memo(dict):
    """What ``make`` gives for each key asked for, each made once: a dict whose
    ``__getitem__`` (a C call, also through ``map``) makes a missing value. Bounded: it
    forgets everything when it holds ``settings.WORD_FORMS_MEMO`` keys, and never keeps a
    key longer than ``settings.WORD_FORMS_MAX_CHARS`` (a long word is seldom met again)."""

    def __init__(self, make) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: str):
        value = self.make(key)
        if len(key) <= settings.WORD_FORMS_MAX_CHARS:
            if len(self) >= settings.WORD_FORMS_MEMO:
                self.clear()
            self[key] = value
        return value


class WordForms:
    """An analyzer of :class:`NewsTokenizer` and :class:`WordFilter` s run without Token
    objects: the text's words found in one regular-expression pass, and each distinct word
    passed through the filters once (indexing spends most of its time here), give the
    terms the analyzer gives, in the same order, at the same places."""

    def __init__(self, analyzer) -> None:
        """Raises TypeError for an analyzer of other parts."""
        tokenizer, *filters = getattr(analyzer, "items", [analyzer])
        if type(tokenizer) is not NewsTokenizer or not all(
                isinstance(part, WordFilter) for part in filters):
            raise TypeError(f"not a chain of word filters: {analyzer!r}")
        self.join = tokenizer.join
        self._filters = filters
        # word as written -> (plain, term, capitalized, its exact_term as a WORD)
        self._forms = Memo(self._form)

    def prose(self, value: str) -> Prose:
        """``value``'s terms, spelling words, and terms in order (for its signature)."""
        text = normalize(value)
        parts = _WORD_SPLIT.split(text)  # gap, word, gap, word, ..., gap
        *prose, exact = _prose_of_parts(text, parts, self._forms, self.join)
        _keep_exact_terms(text, exact)
        return Prose(*prose)

    def _form(self, text: str) -> tuple[str, str, bool, str | None]:
        plain = term = text
        for part in self._filters:
            term = part.word(term)
            if not part.is_morph:
                plain = term
        return plain, term, text[0].isupper(), exact_term(text, WORD)


_PLAIN, _TERM, _CAPITALIZED, _EXACT = map(operator.itemgetter, range(4))


def _prose_of_parts_python(text: str, parts: list[str], forms: Memo, join: bool,
                           ) -> tuple[dict[str, list[Occurrence]], set[str], list[str],
                                      list[tuple[int, str]], dict[str, int]]:
    """The fields of :class:`Prose` of NFC ``text`` split around its words (``parts``),
    the words' forms from ``forms`` (a :class:`WordForms` memo), names joined if ``join``;
    then the exact field's terms of ``text`` (:func:`_exact_counts`)."""
    texts = parts[1::2]
    words_forms = list(map(forms.__getitem__, texts))
    sequence = list(map(_TERM, words_forms))
    ends = list(itertools.accumulate(map(len, parts)))
    occurrences = list(zip(range(len(texts)), ends[::2], ends[1::2]))
    # (a list only when names go in: zip's tuples are reused as the loop below unpacks them)
    emitted: Iterable[tuple[str, Occurrence]] = zip(sequence, occurrences)
    joined: list[tuple[int, str]] = []
    if join:
        names = _joined_names(text, parts, occurrences, list(map(_CAPITALIZED, words_forms)))
        if names:
            emitted, joined = _with_names(forms, list(emitted), names)
    terms: dict[str, list[Occurrence]] = {}
    for term, occurrence in emitted:
        found = terms.get(term)
        if found is None:
            terms[term] = [occurrence]
        else:
            found.append(occurrence)
    exact = _exact_counts(text, texts, ends[::2], list(map(_EXACT, words_forms)))
    return terms, set(map(_PLAIN, words_forms)), sequence, joined, exact


def _with_names(forms: Memo, emitted: list, names: list[tuple[int, str, Occurrence]],
                ) -> tuple[list, list[tuple[int, str]]]:
    """The words' ``(term, occurrence)`` with each joined name's after the word it ends at
    (where the tokenizer yields it), and the names' ``(position, term)``."""
    merged, joined, done = [], [], 0
    for last, text, occurrence in names:
        term = forms[text][1]
        merged += emitted[done:last + 1]
        merged.append((term, occurrence))
        joined.append((occurrence[0], term))
        done = last + 1
    merged += emitted[done:]
    return merged, joined


def _joined_names(text: str, parts: list[str], occurrences: list[Occurrence],
                  capitalized: list[bool]) -> list[tuple[int, str, Occurrence]]:
    """The names :func:`words` joins in ``text``, split around its words (``parts``; the
    words at ``occurrences``, ``capitalized`` or not), in the order it yields them:
    ``(number of the word a name ends at, the name, its occurrence)``. Only a word after a
    capitalized one across a gap that can join is looked at; where headlines are is worked
    out only if a pair joins."""
    names = []
    headline = None
    joins_before: dict[int, int] = {}  # word number -> words before it its name joins
    texts, gaps = parts[1::2], parts[2:-1:2]  # gaps[number - 1] precedes word ``number``
    # a capitalized word (few are), then a space and a capitalized word, or a hyphen and
    # any word: the words after capitalized ones picked in C, the rest tested on those
    for number in itertools.compress(range(1, len(texts)), capitalized):
        if not ((capitalized[number] or gaps[number - 1] in _HYPHENS)
                and _joins(texts[number - 1], gaps[number - 1], texts[number])):
            continue
        if headline is None:
            headline = _headline_starts(text)
        start, end = occurrences[number][1:]
        if start in headline and occurrences[number - 1][1] in headline:
            continue
        before = joins_before[number] = min(JOINED_MAX_WORDS - 1,
                                            1 + joins_before.get(number - 1, 0))
        for count in range(1, before + 1):  # "Ma Thuột", then "Buôn Ma Thuột"
            position, name_start, _ = occurrences[number - count]
            names.append((number, "".join(texts[number - count:number + 1]),
                          (position, name_start, end)))
    return names


_WORD_SPLIT = re.compile(f"({TOKEN_PATTERN.pattern})")

# The compiled loops (searchidx.engine._c_analysis), where built: each compiled function
# is given first (bound here with partial) the Python function, which it calls for an input
# it leaves to it, and the rules and memos of the module it follows, then the Python
# function's arguments. The Python function is the reference and the fallback.
_c = speedups.compiled("analysis")
_PROSE_GIVEN = (_prose_of_parts_python, _headline_starts, FUNCTION_WORDS, _SPACES, _HYPHENS,
                NAME_SYLLABLE_MAX, JOINED_MAX_WORDS)  # what the compiled prose pass is given
_porter_stem = speedups.standing_in(_c, "porter_stem", stem)
_prose_of_parts = speedups.standing_in(_c, "prose_of_parts", *_PROSE_GIVEN)


# The exact field's terms of the last few texts analysed as prose, by text: the exact
# field finds those its article's title and body fields found (dicts of strings and numbers,
# which the garbage collector does not track: a program's frozen objects stay as many).
_RECENT_EXACT_TERMS: OrderedDict[str, dict[str, int]] = OrderedDict()
_RECENT_TEXTS = 4


def _keep_exact_terms(text: str, counts: dict[str, int]) -> None:
    if len(_RECENT_EXACT_TERMS) >= _RECENT_TEXTS:
        _RECENT_EXACT_TERMS.popitem(last=False)
    _RECENT_EXACT_TERMS[text] = counts


@lru_cache(maxsize=1)
def prose_forms() -> WordForms:
    """The title and body analysis, word by word, shared by the process (its memo of
    words' forms fills once)."""
    return WordForms(prose_analyzer())


@lru_cache(maxsize=1)
def name_forms() -> WordForms:
    """The place and source analysis, word by word, shared by the process."""
    return WordForms(name_analyzer())


def prose_terms(value: str) -> tuple[dict[str, list[Occurrence]], set[str]]:
    """What ``prose_analyzer()`` indexes for ``value``, each term with its occurrences,
    and the plain folded words of ``value`` (for spelling suggestions). Joined names are
    terms but not spelling words."""
    return prose_forms().prose(value)[:2]


def pair_signature(value: str, prose: Prose | None = None) -> bytes:
    """The pair signature of ``value`` (from its ``prose`` if made already): for each two
    prose terms at consecutive positions,
    their two bits (:func:`pair_bits`) set in ``PAIR_SIGNATURE_BYTES`` bytes, a Bloom
    filter. An article whose signature lacks a two-word phrase's bits does not have the
    phrase; one that has them may (positions decide)."""
    return pair_signatures(value, prose)[0]


def pair_extension(value: str, prose: Prose | None = None) -> bytes:
    """The extension of ``value``'s pair signature: for a text of more than
    ``settings.PAIR_EXTENSION_MIN_PAIRS`` distinct pairs, a second Bloom filter of
    ``settings.PAIR_EXTENSION_BITS`` bits a pair (empty for a shorter text), whose two bits
    for a pair are its :func:`extension_bits`. The fixed signature fills up in a long
    article; this one grows with it."""
    return pair_signatures(value, prose)[1]


def pair_signatures(value: str, prose: Prose | None = None) -> tuple[bytes, bytes]:
    """``value``'s pair signature and its extension, made in one pass (the last text's are
    kept: the two columns are made of the same text one after the other). All a pair's
    bits come from one number, its :func:`pair_code`."""
    latest_value, *latest = _LATEST_SIGNATURES  # (one read: writers in threads share it)
    if latest_value == value:
        return tuple(latest)
    if prose is None:
        prose = prose_forms().prose(value)
    signatures = _signatures(prose.sequence, prose.joined, settings.PAIR_EXTENSION_MIN_PAIRS,
                             settings.PAIR_EXTENSION_BITS)
    _LATEST_SIGNATURES[:] = value, *signatures
    return signatures


def _signatures_python(sequence: list[str], joined: list[tuple[int, str]], min_pairs: int,
                       bits_per_pair: int) -> tuple[bytes, bytes]:
    """The signature and the extension of the terms at each position (``sequence``) and the
    names joined at some (``joined``), the extension as :func:`_extension` makes it."""
    firsts, seconds = _pairs_with_names(sequence, joined)
    codes = list(map(operator.xor,
                     map(_AS_FIRST.__getitem__, sequence[:-1] + firsts),
                     map(_AS_SECOND.__getitem__, sequence[1:] + seconds)))
    presence = bytearray(_SIGNATURE_BITS)  # a byte for each bit
    for code in codes:
        presence[code & _SIGNATURE_MASK] = 1  # the two bits of pair_bits
        presence[code >> 10] = 1
    return _bits_of(presence), _extension(codes, min_pairs, bits_per_pair)


def _extension(codes: list[int], min_pairs: int, bits_per_pair: int) -> bytes:
    """The extension of a text whose pairs have these codes, ``bits_per_pair`` bits for each
    distinct one, or nothing for a text of ``min_pairs`` distinct pairs or fewer."""
    if len(codes) <= min_pairs:
        return b""
    distinct = set(codes)
    if len(distinct) <= min_pairs:
        return b""
    size = max(-(-len(distinct) * bits_per_pair // 8),  # bytes, rounded up
               _EXTENSION_MIN_BYTES)
    presence = bytearray(8 * size)
    modulus = _extension_modulus(size)
    other = modulus - 2
    for code in distinct:  # the two bits of extension_bits
        presence[code % modulus] = 1
        presence[code % other] = 1
    return _bits_of(presence)


def extension_bits(code: int, size: int) -> tuple[int, int]:
    """The two bits of the pair of ``code`` (:func:`pair_code`) in an extension of ``size``
    bytes: the code modulo two odd numbers below its number of bits. The modulus is odd and
    above 2**10: a pair whose signature bits another pair has set (one of the two numbers of
    ten bits in its code the same, the other not) never shares that pair's bit."""
    modulus = _extension_modulus(size)
    return code % modulus, code % (modulus - 2)


def _extension_modulus(size: int) -> int:
    """The larger of the two odd moduli of an extension of ``size`` bytes."""
    return 8 * size - 1


# The smallest extension whose two moduli exceed 2**10 (see extension_bits).
_EXTENSION_MIN_BYTES = 129


def _bits_of(presence: bytearray) -> bytes:
    """The bits of a byte-a-bit ``presence``, bit ``i`` in byte ``i >> 3`` at ``i & 7``."""
    return int(presence.translate(_AS_DIGITS)[::-1], 2).to_bytes(len(presence) // 8, "little")


# The text whose signatures were made last, and they: strings only, which the garbage
# collector does not track (a program's frozen objects stay as many).
_LATEST_SIGNATURES: list = [None, b"", b""]


def _pairs_with_names(sequence: list[str], joined: list[tuple[int, str]],
                      ) -> tuple[list[str], list[str]]:
    """The first and the second terms of the pairs a joined name makes with the terms (and
    the names) beside it; a name is at its first word's position."""
    firsts: list[str] = []
    seconds: list[str] = []
    joined_at: dict[int, list[str]] = {}
    for position, term in joined:
        joined_at.setdefault(position, []).append(term)
    for position, term in joined:
        before = sequence[position - 1:position] if position else []
        after = sequence[position + 1:position + 2] + joined_at.get(position + 1, [])
        firsts += before + [term] * len(after)
        seconds += [term] * len(before) + after
    return firsts, seconds


def pair_bits(first: str, second: str) -> tuple[int, int]:
    """The numbers of the two signature bits of two terms at consecutive positions: the
    first term's first number with the second's second, and the first's third with the
    second's first (the low and the high ten bits of their :func:`pair_code`)."""
    code = pair_code(first, second)
    return code & _SIGNATURE_MASK, code >> 10


def pair_code(first: str, second: str) -> int:
    """A pair's number of 20 bits: the numbers of its two signature bits, each one of the
    first term's numbers exclusive-or one of the second's; its bits in an extension are
    :func:`extension_bits`."""
    return _AS_FIRST[first] ^ _AS_SECOND[second]


def _term_codes(term: str) -> tuple[int, int, int]:
    """Three numbers below the number of signature bits from a hash of ``term`` that is
    the same in every process; a pair's bits mix its first term's with its second's."""
    code = zlib.crc32(term.encode())
    return code % _SIGNATURE_BITS, (code >> 10) % _SIGNATURE_BITS, (code >> 20) % _SIGNATURE_BITS


# Each term's numbers as the first or the second of a pair, in one number each, so that a
# pair's code is one exclusive-or. Made once a term (a Memo's look-up is a plain dict's:
# an lru_cache's took a fifth of the signature's time).
_AS_FIRST = Memo(lambda term: (codes := _term_codes(term))[0] | codes[2] << 10)
_AS_SECOND = Memo(lambda term: (codes := _term_codes(term))[1] | codes[0] << 10)
_signatures = speedups.standing_in(_c, "pair_signatures", _signatures_python)

_AS_DIGITS = bytes.maketrans(b"\0\1", b"01")


# 1,024 bits, two for each pair: with the ~150 pairs of a news article, an article
# without a given pair has both its bits by chance about once in twenty. Part of the
# index format.
PAIR_SIGNATURE_BYTES = 128
SIGNATURE_FIELDS = {"body": "body_pairs"}
"""The field that holds each prose field's pair signatures."""
EXTENSION_FIELDS = {"body": "body_pairs_long"}
"""The field that holds each prose field's pair signatures' extensions (its name sorts
after the signatures': Whoosh takes a document's fields in name order)."""
_SIGNATURE_BITS = 8 * PAIR_SIGNATURE_BYTES
_SIGNATURE_MASK = _SIGNATURE_BITS - 1


def spelling_words(value: str) -> set[str]:
    """The plain folded words of ``value``: what spelling suggestions choose from."""
    return {fold(text) for text, *_ in words(normalize(value), join=False)}


def exact_text(title: str, body: str) -> str:
    """The text the ``exact`` field is made of: an article's title, then its body."""
    return f"{title}\n{body}"


def exact_terms(value: str) -> dict[str, int]:
    """What ``exact_analyzer()`` indexes for ``value``, each term with its frequency (in the
    order first met): the analyzer's words (never joined) through :func:`exact_term`,
    without Token objects, line by line (no word or headline spans a line break): for
    :func:`exact_text`, its title's and its body's, which the prose fields of the same
    article may have found."""
    first, newline, rest = normalize(value).partition("\n")
    counts = dict(_line_exact_terms(first))
    for term, count in (_line_exact_terms(rest).items() if newline else ()):
        counts[term] = counts.get(term, 0) + count
    return counts


def _line_exact_terms(text: str) -> dict[str, int]:
    """:func:`_exact_counts` of ``text``, not to be changed (it may be a prose pass's kept)."""
    counts = _RECENT_EXACT_TERMS.get(text)
    if counts is None:
        matches = list(TOKEN_PATTERN.finditer(text))
        texts = [match.group() for match in matches]
        counts = _exact_counts(text, texts, [match.start() for match in matches],
                               list(map(_EXACT_WORDS.__getitem__, texts)))
    return counts


def _exact_counts(text: str, texts: list[str], starts: list[int], terms: list[str | None],
                  ) -> dict[str, int]:
    """The exact field's terms of NFC ``text``, whose words ``texts`` start at ``starts``
    and have these :func:`exact_term` s as ``WORD`` s, each with its frequency, in the order
    first met; where headlines are is worked out only if an acronym could be in one."""
    counts = Counter(filter(None, terms))
    # a word of a headline is not an acronym: one kept as one here may have to go
    if any(map(is_acronym, counts)) and (headline := _headline_starts(text)):
        kept = [None if start in headline and is_acronym(word) else term
                for word, start, term in zip(texts, starts, terms)]
        counts = Counter(filter(None, kept))
    return dict(counts)


_EXACT_WORDS = Memo(lambda word: exact_term(word, WORD))


def name_analyzer():
    """Analyzer for names and places: words are folded but not stemmed."""
    return NewsTokenizer() | FoldFilter()


def prose_analyzer():
    """Analyzer for titles and bodies: folded, then stemmed in English."""
    return NewsTokenizer() | FoldFilter() | EnglishStemFilter()


def exact_analyzer():
    """Analyzer for the exact field: accented words lower-cased with their marks, acronyms."""
    return NewsTokenizer(join=False) | ExactFormsFilter()


# A query's words are never joined (the query parser offers joined forms itself), so a
# query's terms are its words' each alone, found here without the analyzers' chain of
# Token objects (a search makes about ten such lists): the analyzers' terms, which a test
# compares them with.

def prose_query_terms(text: str) -> list[str]:
    """The title and body terms of ``text`` as a query reads it (folded, stemmed), as
    ``prose_analyzer()`` gives them in query mode."""
    return [_stem(fold(word)) for word in TOKEN_PATTERN.findall(normalize(text))]


def exact_query_terms(text: str) -> list[str]:
    """The exact-forms terms of ``text`` as a query reads it (accented words, acronyms),
    as ``exact_analyzer()`` gives them in query mode."""
    return [term for word, _, _, _, kind in words(normalize(text), join=False)
            if (term := exact_term(word, kind)) is not None]


def tokenize(text: str) -> list[str]:
    """The folded, unstemmed words of ``text``, as the query side sees them (as
    ``name_analyzer()`` gives them in query mode)."""
    return [fold(word) for word in TOKEN_PATTERN.findall(normalize(text))]
