"""The building blocks of the analysis (:mod:`searchidx.analysis`): the token, filter and
tokenizer base classes its filters subclass and compose with ``|`` into the analyzers the
index's fields keep, and the Porter stemmer. They are Whoosh's, so the analyzers are
Whoosh's own kind and the stems are those every index was built with.
"""

from __future__ import annotations

from . import whoosh_adapter  # noqa: F401 (the version check, before any Whoosh import)

from whoosh.analysis import Filter, Token, Tokenizer  # noqa: E402
from whoosh.lang.porter import stem  # noqa: E402

__all__ = ["Filter", "Token", "Tokenizer", "stem"]
