"""searchidx: full-text search for a news archive, with complete Vietnamese diacritic folding.

The library API::

    from searchidx import SearchIndex, fold
    with SearchIndex.open("my-index", create=True) as idx:
        report = idx.index(["articles/"])
        for hit in idx.search("Vu", limit=10):
            print(hit.title, hit.date, hit.score, hit.snippet)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .errors import (ArticleNotFound, IndexDamaged, IndexLocked, IndexNotFound, IndexUnusable,
                     IndexWouldShrink, QueryError, SearchIdxError, UnsupportedWhoosh)

if TYPE_CHECKING:
    from .analysis import fold, normalize
    from .documents import Article
    from .index import IndexStats
    from .indexer import IndexProgress, IndexReport, Skipped
    from .integrity import CheckReport, Problem
    from .library import SearchIndex, bundled_seeds
    from .search import Hit, SearchResults

__all__ = [
    "Article", "ArticleNotFound", "CheckReport", "Hit", "IndexLocked", "IndexNotFound", "IndexReport", "IndexStats",
    "IndexUnusable", "Problem", "QueryError", "SearchIdxError", "SearchIndex", "SearchResults", "Skipped",
    "bundled_seeds", "fold", "normalize",
    "IndexDamaged", "IndexProgress", "IndexWouldShrink",
    "UnsupportedWhoosh",
]

# The rest of the API is imported on first use, so that the `searchidx` command (which
# imports this package first) loads only the modules its subcommand needs.
_LAZY = {
    "fold": "analysis", "normalize": "analysis", "Article": "documents",
    "IndexReport": "indexer", "IndexStats": "index", "Skipped": "indexer",
    "CheckReport": "integrity", "Problem": "integrity",
    "SearchIndex": "library", "bundled_seeds": "library",
    "Hit": "search", "SearchResults": "search",
    "IndexProgress": "indexer",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
