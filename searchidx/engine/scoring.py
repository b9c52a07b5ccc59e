"""BM25F, the one ranking function: the fast path (:mod:`.matching`) calls it for whole
posting lists and Whoosh's searcher calls it through :func:`weighting`, so both give the
same floats, bit for bit."""

from __future__ import annotations

from . import whoosh_adapter
from ..settings import BM25_B, BM25_K1


def length_norm(length: float, avg_length: float) -> float:
    """BM25's normalization of a document's length in a field."""
    return BM25_K1 * ((1 - BM25_B) + BM25_B * length / avg_length)


def bm25(idf: float, weight: float, norm: float) -> float:
    """The BM25F score of a term's weight in a document, given its length's ``norm``."""
    return idf * (weight * (BM25_K1 + 1) / (weight + norm))


def term_score(idf: float, weight: float, length: float, avg_length: float) -> float:
    """The BM25F score of a term's weight in a document of this length in the field."""
    return bm25(idf, weight, length_norm(length, avg_length))


def weighting():
    """The searcher's weighting for Whoosh's own matchers (the queries the fast path
    leaves to Whoosh): :func:`term_score` with Whoosh's statistics."""
    return whoosh_adapter.LengthWeighting(term_score)
