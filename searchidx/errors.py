"""The errors the library raises on purpose; each message is one line meant for a person."""


class SearchIdxError(Exception):
    """Base class of every error searchidx raises on purpose."""


class IndexNotFound(SearchIdxError):
    """There is no index at the location given."""


class IndexUnusable(SearchIdxError):
    """An index is there but cannot be read (damaged, or made by an incompatible version)."""


class IndexDamaged(IndexUnusable):
    """A file of the index is damaged or missing (the message names it); ``searchidx
    rebuild PATH…`` builds the index afresh from its files."""


class IndexLocked(SearchIdxError):
    """Another process is writing the index and did not finish in time."""


class QueryError(SearchIdxError):
    """A search that cannot be run at all, such as an empty query."""


class ArticleNotFound(SearchIdxError):
    """No article has the id given."""


class IndexWouldShrink(SearchIdxError):
    """A run would leave the index with fewer than half of its articles while their files
    are still on disk; it stopped before changing anything (``force=True`` goes on)."""


class UnsupportedWhoosh(SearchIdxError):
    """The installed Whoosh is not one this searchidx was verified with (the message names
    those it was); searchidx reads Whoosh's internals, which change between releases."""
