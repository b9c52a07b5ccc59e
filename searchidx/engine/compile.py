"""The query tree in Whoosh's terms, both ways, and the expansion of the terms that
stand for many words of the index.

:func:`to_whoosh` compiles a tree into the Whoosh query the local engine runs;
:func:`from_whoosh` reads what Whoosh's query parser made (:mod:`.whoosh_syntax`) as a
tree. Each node maps to one Whoosh query and back, so a parsed query runs exactly as
Whoosh parsed it.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Iterator

from . import whoosh_adapter
from ..budget import Budget
from ..settings import MAX_QUERY_EXPANSION, MAX_TERM_EXPANSION
from . import tree

from whoosh import query as q  # noqa: E402 (after the adapter's version check)
from whoosh.util.times import datetime_to_long, long_to_datetime  # noqa: E402

__all__ = ["expanded", "from_whoosh", "to_whoosh", "words_within"]

_SEARCH_FIELDS = ("title", "body")

# --- the tree as a Whoosh query -------------------------------------------------------------

_TO_WHOOSH: dict[type, Callable] = {
    tree.Term: lambda n: q.Term(n.field, n.text, boost=n.boost),
    tree.Phrase: lambda n: q.Phrase(n.field, list(n.words), slop=n.slop, boost=n.boost),
    tree.Prefix: lambda n: q.Prefix(n.field, n.text, boost=n.boost),
    tree.Wildcard: lambda n: q.Wildcard(n.field, n.pattern, boost=n.boost),
    tree.Fuzzy: lambda n: q.FuzzyTerm(n.field, n.text, boost=n.boost, maxdist=n.max_edits,
                                      prefixlength=n.prefix_letters),
    tree.TermRange: lambda n: q.TermRange(n.field, n.start, n.end,
                                          startexcl=not n.include_start,
                                          endexcl=not n.include_end, boost=n.boost),
    # As the date field's parser makes its ranges: numeric, of microseconds.
    tree.DateRange: lambda n: q.NumericRange(n.field, _microseconds(n.start),
                                             _microseconds(n.end), boost=n.boost),
    tree.And: lambda n: q.And([to_whoosh(part) for part in n.parts], boost=n.boost),
    tree.Or: lambda n: q.Or([to_whoosh(part) for part in n.parts], boost=n.boost,
                            scale=n.coordination or None),
    tree.Not: lambda n: q.Not(to_whoosh(n.part), boost=n.boost),
    tree.AndNot: lambda n: whoosh_adapter.AndNot(to_whoosh(n.positive), to_whoosh(n.negative)),
    tree.AndMaybe: lambda n: q.AndMaybe(to_whoosh(n.required), to_whoosh(n.optional)),
    tree.Require: lambda n: q.Require(to_whoosh(n.scored), to_whoosh(n.required)),
    tree.Nothing: lambda n: q.NullQuery,
}


def _microseconds(instant: dt.datetime | None) -> int | None:
    return None if instant is None else datetime_to_long(instant)


def to_whoosh(node: tree.Query):
    """The Whoosh query of a tree."""
    return _TO_WHOOSH[type(node)](node)


# --- a Whoosh query as a tree ---------------------------------------------------------------

def _date_or_term(query) -> tree.Query:
    # Whoosh's date field parses a date given to the microsecond as a term of that instant.
    if not isinstance(query.text, str):
        return tree.DateRange(query.fieldname, query.text, query.text, query.boost)
    return tree.Term(query.fieldname, query.text, query.boost)


def _instant(number: int | None):
    return None if number is None else long_to_datetime(number)


_FROM_WHOOSH: dict[type, Callable] = {
    q.Term: _date_or_term,
    q.Phrase: lambda w: tree.Phrase(w.fieldname, tuple(w.words), w.slop, w.boost),
    q.Prefix: lambda w: tree.Prefix(w.fieldname, w.text, w.boost),
    q.Wildcard: lambda w: tree.Wildcard(w.fieldname, w.text, w.boost),
    q.FuzzyTerm: lambda w: tree.Fuzzy(w.fieldname, w.text, w.maxdist, w.prefixlength, w.boost),
    q.TermRange: lambda w: tree.TermRange(w.fieldname, w.start, w.end, not w.startexcl,
                                          not w.endexcl, w.boost),
    # The date field's ranges (its only numeric field), inclusive as its parser makes them.
    q.NumericRange: lambda w: tree.DateRange(w.fieldname, _instant(w.start), _instant(w.end),
                                             w.boost),
    q.Every: lambda w: tree.DateRange(w.fieldname, None, None, w.boost),  # "date:[TO]"
    q.And: lambda w: tree.And(tuple(map(from_whoosh, w.subqueries)), w.boost),
    q.Or: lambda w: tree.Or(tuple(map(from_whoosh, w.subqueries)), w.scale or 0.0, w.boost),
    q.Not: lambda w: tree.Not(from_whoosh(w.query), w.boost),
    q.AndNot: lambda w: tree.AndNot(from_whoosh(w.a), from_whoosh(w.b)),
    whoosh_adapter.AndNot: lambda w: tree.AndNot(from_whoosh(w.a), from_whoosh(w.b)),
    q.AndMaybe: lambda w: tree.AndMaybe(from_whoosh(w.a), from_whoosh(w.b)),
    q.Require: lambda w: tree.Require(from_whoosh(w.a), from_whoosh(w.b)),
    # Whoosh's parser puts an "error query" (a NullQuery of its own) where it could not
    # read a part (date:someday): it matches nothing, yet the query was read.
    type(q.NullQuery): lambda w: tree.NOTHING if w is q.NullQuery else tree.Or(()),
}
_FROM_WHOOSH[q.DateRange] = _FROM_WHOOSH[q.NumericRange]


def from_whoosh(query) -> tree.Query:
    """The tree of a query Whoosh's parser made; ValueError for a kind of query the tree
    does not have."""
    reading = _FROM_WHOOSH.get(type(query))
    if reading is None:
        raise ValueError(f"the query part {query} is not one searchidx runs")
    return reading(query)


# --- expanding the terms that stand for many --------------------------------------------------

def expanded(query: tree.Query, reader, budget: Budget) -> tuple[tree.Query, list[str]]:
    """``query`` with each term that stands for many words of the index (``prefix*``,
    ``wild*card``, ``[a TO b]``, ``word~``) replaced by those words, and a notice for
    each that was cut.

    Each stands for at most ``MAX_TERM_EXPANSION`` words (the first in the index's
    order) and all of them together for about ``MAX_QUERY_EXPANSION`` (each keeps at
    least one); the expansion stops early when the search's time ``budget`` is spent.
    """
    expander = _Expander(reader, budget)
    query = expander.walk(query)
    return query, [_cut_notice(shown, cap) for shown, cap in expander.cuts.items()]


# Where each compound keeps its parts (walked in this order, as Whoosh's apply() walks them).
_PARTS = {tree.And: ("parts",), tree.Or: ("parts",), tree.Not: ("part",),
          tree.AndNot: ("positive", "negative"), tree.AndMaybe: ("required", "optional"),
          tree.Require: ("scored", "required")}


class _Expander:
    def __init__(self, reader, budget: Budget) -> None:
        self.reader, self.budget = reader, budget
        self.room = MAX_QUERY_EXPANSION  # words the rest of the query may still expand to
        self.cuts: dict[str, int] = {}  # how many words each cut term was searched for

    def walk(self, node: tree.Query) -> tree.Query:
        kind = type(node)
        if kind in tree.EXPANDING:
            return self.expand(node)
        names = _PARTS.get(kind)
        if names is None:
            return node
        changed = {}  # (a part with nothing to expand is kept, not copied)
        for name in names:
            value = getattr(node, name)
            if name == "parts":
                walked = tuple(self.walk(part) for part in value)
                if any(map(operator.is_not, walked, value)):
                    changed[name] = walked
            elif (walked := self.walk(value)) is not value:
                changed[name] = walked
        return node._replace(**changed) if changed else node

    def expand(self, node) -> tree.Query:
        """The words of the index ``node`` stands for, as an Or of terms."""
        field = node.field
        if field not in self.reader.schema:
            return tree.NOTHING
        cap = max(1, min(MAX_TERM_EXPANSION, self.room))
        words: list = []
        if type(node) is tree.Fuzzy:  # the one expansion that scans many words
            found = _stemmed_words(self.reader, node, self.budget)
        else:
            found = iter(whoosh_adapter.expanded_words(to_whoosh(node))(self.reader))
        for word in found:
            words.append(word)
            if len(words) == cap or self.budget.stop_if_exhausted():
                break
        if len(words) == cap and next(found, None) is not None:
            shown = _shown(node)  # the same for its title and its body
            self.cuts[shown] = min(cap, self.cuts.get(shown, cap))
        self.room -= len(words)
        texts = [self.reader.schema[field].from_bytes(word) if isinstance(word, bytes)
                 else word for word in words]
        return tree.normalized(tree.Or(tuple(tree.Term(field, text, node.boost)
                                             for text in texts)))


def _cut_notice(shown: str, cap: int) -> str:
    searched = f"the first {cap} were" if cap > 1 else "the first was"
    return (f"“{shown}” stands for more words of the index than a query may search: only "
            f"{searched} searched")


def _shown(node) -> str:
    """A query part as a reader typed it: without the field when it is title or body."""
    text = str(to_whoosh(node))
    return text.removeprefix(f"{node.field}:") if node.field in _SEARCH_FIELDS else text


def _stemmed_words(reader, node: tree.Fuzzy, budget: Budget | None) -> Iterator[str]:
    """The terms of a stemmed field a fuzzy word stands for, each once. Whoosh looks for
    words within the edit distance among the unstemmed words it keeps for spelling, but
    the field holds stemmed terms: each candidate is stemmed before it is looked up
    ("ministers~" finds "minist")."""
    field = reader.schema[node.field]
    seen: set[str] = set()
    for word in words_within(reader, node.field, node.text, node.max_edits,
                             node.prefix_letters, budget):
        for term in field.process_text(word, mode="query"):
            if term not in seen:
                seen.add(term)
                yield term


def words_within(reader, field: str, text: str, maxdist: int, prefix: int,
                 budget: Budget | None) -> Iterator[str]:
    """The words of ``field`` that begin with the first ``prefix`` letters of ``text`` and
    are within ``maxdist`` edits of it, in order: Whoosh's ``terms_within``, except that a
    word whose length alone puts it too far is passed over before its distance is computed
    (in Python: "the~2" looked at 124,000 words for 13 s), and that the search stops once
    the time ``budget`` is spent."""
    from whoosh.support.levenshtein import distance

    fieldobj = reader.schema[field]
    for count, btext in enumerate(reader.expand_prefix(field, text[:prefix]), start=1):
        if budget is not None and not count % _WORDS_PER_CLOCK_CHECK \
                and budget.stop_if_exhausted():
            return
        word = fieldobj.from_bytes(btext)
        if abs(len(word) - len(text)) <= maxdist and distance(word, text, maxdist) <= maxdist:
            yield word


_WORDS_PER_CLOCK_CHECK = 256
