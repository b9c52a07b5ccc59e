"""Vietnamese syllables generated from the orthography itself: onsets × rhymes × tones.

The tests' stand-in for a dictionary's syllable list (hunspell-vi is GPL-2 and stays out of
the project). Every syllable is written in both tone-placement conventions where they
differ: on the first vowel of an open oa/oe/uy (``hòa``, ``khỏe``, ``thủy``, the
traditional spelling) and on the main vowel (``hoà``, ``khoẻ``, ``thuỷ``, the 1980s rule).
Spelling rules keep it to syllables a Vietnamese writer would write: k/gh/ngh before a
front vowel and c/g/ng elsewhere, a stop final (c, ch, p, t) only with the sắc or nặng
tone, ``gi`` + ``i…`` written ``gi…``. It errs on the side of too many syllables: a
folding test only gains from rare ones.
"""

from __future__ import annotations

import unicodedata

ONSETS = ["", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng",
          "ngh", "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x"]

# Rhymes without a tone; an open rhyme has no final consonant.
OPEN_RHYMES = ["a", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y",
               "ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iu", "oa", "oe", "oi", "ôi",
               "ơi", "ua", "uê", "ui", "uơ", "ưa", "ưi", "ưu", "uy", "iêu", "yêu", "oai", "oay",
               "oeo", "uây", "uôi", "ươi", "ươu", "uya", "uyu"]
_FINALS = {
    "a": "c ch m n ng nh p t", "ă": "c m n ng p t", "â": "c m n ng p t", "e": "c m n ng p t",
    "ê": "ch m n nh p t", "i": "ch m n nh p t", "o": "c m n ng p t", "ô": "c m n ng p t",
    "ơ": "m n p t", "u": "c m n ng p t", "ư": "c n ng t", "iê": "c m n ng p t",
    "yê": "m n ng t", "oa": "c ch m n ng nh p t", "oă": "c m n ng t", "oe": "n t",
    "uâ": "n ng t", "uê": "ch nh", "uô": "c m n ng t", "ươ": "c m n ng p t",
    "uy": "ch n nh t", "uyê": "n t", "y": "ch nh t", "oo": "c ng",  # quýt, quỳnh; xoong
}
CLOSED_RHYMES = [nucleus + final for nucleus, finals in _FINALS.items() for final in finals.split()]
STOP_FINALS = ("c", "ch", "p", "t")

# The six tones: ngang (no mark), huyền, sắc, hỏi, ngã, nặng, as combining marks.
TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
STOP_TONES = ["\u0301", "\u0323"]  # a syllable ending in a stop takes sắc or nặng only

VOWELS = "aăâeêioôơuưy"
_MARKED_VOWELS = "ăâêôơư"  # vowels that carry a hat, a horn or a breve
_FRONT = ("i", "e", "ê", "y")
# Where the conventions differ: an open rhyme of a glide and a vowel.
_GLIDE_RHYMES = ("oa", "oe", "uy")


def syllables() -> list[str]:
    """Every generated syllable, NFC, lower case, sorted, each once."""
    return sorted({spelling for pair in spelling_pairs() for spelling in pair})


def spelling_pairs() -> list[tuple[str, str]]:
    """Each syllable once, as ``(traditional, modern)`` spellings (``("hòa", "hoà")``); the
    two are the same where the conventions agree."""
    pairs = []
    for onset in ONSETS:
        for rhyme in OPEN_RHYMES + CLOSED_RHYMES:
            if not _spelled_together(onset, rhyme):
                continue
            tones = STOP_TONES if rhyme.endswith(STOP_FINALS) else TONES
            for tone in tones:
                pairs.append((_write(onset, rhyme, tone, True), _write(onset, rhyme, tone, False)))
    return pairs


def _spelled_together(onset: str, rhyme: str) -> bool:
    """Vietnamese spelling: k, gh, ngh before a front vowel; c, g, ng elsewhere; q as qu."""
    front = rhyme.startswith(_FRONT)
    if onset in ("k", "gh", "ngh"):
        return front
    if onset in ("c", "g", "ng"):
        return not front
    if onset == "qu":  # the u belongs to the onset: quá, quý, quân
        return not rhyme.startswith(("o", "u"))
    return True


def _write(onset: str, rhyme: str, tone: str, traditional: bool) -> str:
    if onset == "gi" and rhyme.startswith("i"):
        onset = "g"  # gi + ì is written gì, gi + iêng giêng, gi + in gìn
    position = _tone_position(rhyme, traditional)
    return unicodedata.normalize("NFC", onset + rhyme[:position + 1] + tone + rhyme[position + 1:])


def _tone_position(rhyme: str, traditional: bool) -> int:
    """The index in ``rhyme`` of the vowel that carries the tone mark."""
    vowels = [index for index, char in enumerate(rhyme) if char in VOWELS]
    marked = [index for index in vowels if rhyme[index] in _MARKED_VOWELS]
    if marked:
        return marked[-1]  # ươ, iê, uô, uyê: the last vowel with a hat or horn
    if vowels[-1] < len(rhyme) - 1:
        return vowels[-1]  # a closed rhyme: the last vowel (oán, uỳnh)
    if rhyme in _GLIDE_RHYMES:
        return vowels[0] if traditional else vowels[1]
    return vowels[len(vowels) // 2] if len(vowels) == 3 else vowels[0]  # hoài, mía, tái
