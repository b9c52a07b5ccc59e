"""searchidx: full-text search for a news archive, with complete Vietnamese diacritic folding.

The library API::

    from searchidx import SearchIndex, fold
    with SearchIndex.open("my-index", create=True) as idx:
        report = idx.index(["articles/"])
        for hit in idx.search("Vu", limit=10):
            print(hit.title, hit.date, hit.score, hit.snippet)
"""

from .analysis import fold, normalize
from .documents import Article
from .errors import (ArticleNotFound, IndexLocked, IndexNotFound, IndexUnusable, QueryError,
                     SearchIdxError)
from .index import IndexReport, IndexStats, Skipped
from .integrity import CheckReport, Problem
from .library import SearchIndex, bundled_seeds
from .search import Hit, SearchResults

__all__ = [
    "Article", "ArticleNotFound", "CheckReport", "Hit", "IndexLocked", "IndexNotFound", "IndexReport", "IndexStats",
    "IndexUnusable", "Problem", "QueryError", "SearchIdxError", "SearchIndex", "SearchResults", "Skipped",
    "bundled_seeds", "fold", "normalize",
]
