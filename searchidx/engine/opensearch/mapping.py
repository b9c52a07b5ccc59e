"""The index settings and mapping of an OpenSearch index, generated from searchidx's analysis.

OpenSearch's own analysis folds the text fields (title, body, place, source) as
:mod:`searchidx.analysis` does, from the NFC text the indexer sends, word for word, with the
same positions and offsets:

- a ``mapping`` char filter maps every character that :func:`~searchidx.analysis.fold`
  changes to its folding (generated here from ``fold`` itself, so the table, the
  decompositions and the variants are never written twice); a ``pattern_replace`` removes
  the combining marks a word may hold (the tokenizer's own ranges);
- a ``pattern`` tokenizer splits words as :data:`~searchidx.analysis.TOKEN_PATTERN` does;
- ``lowercase``. No stopwords.

Those fields serve the names (place, source, which searchidx does not stem) and the
highlighter (offsets into the original text). What OpenSearch's analysis cannot make is
computed in Python at index time (:func:`pre_analysed`) into fields of ready terms, split
on spaces only:

- ``title_terms``/``body_terms``: each word's English stem, one per word position (so
  phrases match as locally). searchidx stems with Whoosh's Porter stemmer, which differs
  from Lucene's ``porter_stem`` on 3 % of Reuters-21578's words ("added": ``add`` against
  ``ad``; "activated": ``activat`` against ``activ``): no filter chain reproduces it.
- ``<field>_joined``: the names written apart that searchidx also indexes joined
  ("Hà Nội" → ``hanoi``);
- ``exact``: the accented words and acronyms as spelled.
"""

from __future__ import annotations

import sys
from functools import lru_cache

from ...analysis import (_MARKS, ANALYSIS_VERSION, TOKEN_PATTERN, exact_terms, exact_text, fold,
                         name_forms, prose_forms)
from ...settings import BM25_B, BM25_K1

# The version of this mapping; an index records it with the analysis version it was made
# with (``_meta``), and `check` compares both with this searchidx's.
MAPPING_VERSION = 1
STORED_FIELDS = ("id", "path", "title", "body", "date", "place", "source", "url", "hash",
                 "stamp")
"""The fields an article is sent with and kept as written (its ``_source``); the rest of
a document is made from them (:func:`pre_analysed`)."""
PROSE_FIELDS = ("title", "body")
NAME_FIELDS = ("place", "source")
TERMS_SUFFIX, JOINED_SUFFIX = "_terms", "_joined"
# Lucene refuses a term of more than 32,766 bytes (the whole article with it): a longer
# word, which searchidx would index whole, is cut to this many characters (4 bytes each
# at most) here, on both sides of the analysis.
MAX_TERM_CHARS = 8000
FOLDED, TERMS = "searchidx_folded", "searchidx_terms"


def index_body(shards: int, replicas: int) -> dict:
    """The body of the request that creates an index: settings and mapping."""
    return {"settings": {"index": {"number_of_shards": shards,
                                   "number_of_replicas": replicas},
                         "analysis": analysis_settings(),
                         "similarity": {"default": {"type": "BM25", "k1": BM25_K1,
                                                    "b": BM25_B}}},
            "mappings": mappings()}


def mappings() -> dict:
    folded = {"type": "text", "analyzer": FOLDED}
    terms = {"type": "text", "analyzer": TERMS}
    keyword = {"type": "keyword"}
    properties = {"id": keyword, "path": keyword, "hash": keyword, "stamp": keyword,
                  "url": {"type": "keyword", "index": False},
                  "date": {"type": "date", "format": "strict_date_optional_time"},
                  "exact": {**terms, "index_options": "freqs"}}
    for name in PROSE_FIELDS + NAME_FIELDS:
        properties[name] = folded
        properties[name + JOINED_SUFFIX] = terms
    for name in PROSE_FIELDS:
        properties[name + TERMS_SUFFIX] = terms
    return {"dynamic": "strict", "properties": properties,
            "_meta": {"searchidx_analysis_version": ANALYSIS_VERSION,
                      "searchidx_mapping_version": MAPPING_VERSION}}


def analysis_settings() -> dict:
    return {
        "char_filter": {
            "searchidx_fold": {"type": "mapping", "mappings": fold_mappings()},
            "searchidx_marks": {"type": "pattern_replace", "pattern": f"[{_java(_MARKS)}]+",
                                "replacement": ""}},
        "tokenizer": {"searchidx_words": {"type": "pattern", "group": 0,
                                          "pattern": r"[\p{L}\p{N}_]+"},
                      "searchidx_spaces": {"type": "whitespace",
                                           "max_token_length": MAX_TERM_CHARS}},
        "filter": {"searchidx_cut": {"type": "truncate", "length": MAX_TERM_CHARS}},
        "analyzer": {
            FOLDED: {"type": "custom", "char_filter": ["searchidx_fold", "searchidx_marks"],
                     "tokenizer": "searchidx_words", "filter": ["lowercase", "searchidx_cut"]},
            TERMS: {"type": "custom", "tokenizer": "searchidx_spaces"}},
    }


@lru_cache(maxsize=1)
def fold_mappings() -> list[str]:
    """``"x => y"`` for each word character that :func:`fold` changes to other word
    characters (not the ASCII capitals: ``lowercase`` does those). A character that folds
    into more than one word ("½" → "1⁄2") is left as it is: a char filter runs before the
    tokenizer and would split it."""
    rules = []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if 0xD800 <= code < 0xE000 or "A" <= char <= "Z" or not TOKEN_PATTERN.fullmatch(char):
            continue
        folded = fold(char)
        if folded != char and folded and TOKEN_PATTERN.fullmatch(folded):
            rules.append(f"{_java(char)} => {_java(folded)}")
    return rules



def _java(text: str) -> str:
    """``text`` with every character but printable ASCII written as Java's ``\\uXXXX``
    (a character beyond the BMP as its two UTF-16 halves); a backslash is written so too."""
    units = text.encode("utf-16-be")
    return "".join(
        chr(unit) if 0x20 < unit < 0x7F and unit != 0x5C else f"\\u{unit:04X}"
        for unit in (int.from_bytes(units[i:i + 2], "big") for i in range(0, len(units), 2)))


def pre_analysed(document: dict) -> dict:
    """``document`` (the fields the indexer writes, text in NFC) with the fields
    OpenSearch cannot make itself, as space-separated terms: the stems of title and body
    word by word, each text field's joined names, and the exact forms of title and body."""
    extra = {}
    for field in PROSE_FIELDS + NAME_FIELDS:
        if document.get(field):
            forms = prose_forms() if field in PROSE_FIELDS else name_forms()
            prose = forms.prose(document[field])
            extra[field + JOINED_SUFFIX] = _spaced(term for _, term in prose.joined)
            if field in PROSE_FIELDS:
                extra[field + TERMS_SUFFIX] = _spaced(prose.sequence)
    exact = exact_terms(exact_text(document.get("title", ""), document.get("body", "")))
    extra["exact"] = _spaced(term for term, count in exact.items() for _ in range(count))
    return {**document, **extra}


def _spaced(terms) -> str:
    return " ".join(term[:MAX_TERM_CHARS] for term in terms)
