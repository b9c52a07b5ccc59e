"""The query tree (:mod:`searchidx.engine.tree`) in OpenSearch's Query DSL.

A leaf's text is already as searchidx's analysis made it, so every leaf queries terms, not
text: ``title``/``body`` terms are looked for among the stems made in Python
(``<field>_terms``) and the joined names (``<field>_joined``), the better of the two
counting (``dis_max``); a fuzzy word, folded but not stemmed, among the words OpenSearch
folded itself (``<field>``). Each leaf is named (``_name``: its number in the tree), so
that a hit says which leaves it matched. BM25 with searchidx's k1 and b is the index's
similarity; the title and place count TITLE_BOOST and PLACE_BOOST times, as locally.
"""

from __future__ import annotations

import datetime as dt

from ...settings import MAX_TERM_EXPANSION, PLACE_BOOST, TITLE_BOOST
from .. import tree
from .mapping import JOINED_SUFFIX, NAME_FIELDS, PROSE_FIELDS, TERMS_SUFFIX

FIELD_BOOSTS = {"title": TITLE_BOOST, "place": PLACE_BOOST}
_EXPANSION = f"top_terms_{MAX_TERM_EXPANSION}"  # as locally, an expanding term searches
# at most MAX_TERM_EXPANSION terms (OpenSearch keeps the best-scoring, not the first)


class Translation:
    """One tree's query, and its leaves by name (``matched_queries`` names them)."""

    def __init__(self, query: tree.Query) -> None:
        self.leaves: dict[str, tree.Query] = {}
        self.dsl = self._node(query)

    def _node(self, node: tree.Query) -> dict:
        kind = type(node)
        if kind in _LEAF_QUERIES:
            name = str(len(self.leaves))
            self.leaves[name] = node
            dsl = _LEAF_QUERIES[kind](node)
            return {"bool": {"should": [dsl], "_name": name,
                             "boost": node.boost * FIELD_BOOSTS.get(node.field, 1.0)}}
        if kind is tree.And:
            must = [self._node(part) for part in node.parts if type(part) is not tree.Not]
            must_not = [self._node(part.part) for part in node.parts if type(part) is tree.Not]
            return _bool(node.boost, must=must or [{"match_all": {}}], must_not=must_not)
        if kind is tree.Or:
            return _bool(node.boost, should=[self._node(part) for part in node.parts],
                         minimum_should_match=1)
        if kind is tree.Not:
            return _bool(node.boost, must=[{"match_all": {}}], must_not=[self._node(node.part)])
        if kind is tree.AndNot:
            return _bool(node.boost, must=[self._node(node.positive)],
                         must_not=[self._node(node.negative)])
        if kind is tree.AndMaybe:
            return _bool(node.boost, must=[self._node(node.required)],
                         should=[self._node(node.optional)])
        if kind is tree.Require:
            return _bool(node.boost, must=[self._node(node.scored)],
                         filter=[self._node(node.required)])
        return {"match_none": {}}


def _bool(boost: float, **clauses) -> dict:
    return {"bool": {**{name: value for name, value in clauses.items() if value},
                     "boost": boost}}


def term_fields(field: str) -> tuple[str, ...]:
    """The OpenSearch fields that hold a tree field's terms."""
    if field in PROSE_FIELDS:
        return field + TERMS_SUFFIX, field + JOINED_SUFFIX
    if field in NAME_FIELDS:
        return field, field + JOINED_SUFFIX
    return (field,)


def _each_field(field: str, make) -> dict:
    queries = [make(name) for name in term_fields(field)]
    return queries[0] if len(queries) == 1 else {"dis_max": {"queries": queries}}


def _term(node: tree.Term) -> dict:
    return _each_field(node.field, lambda name: {"term": {name: node.text}})


def _phrase(node: tree.Phrase) -> dict:
    """The words in order, at most ``slop`` positions apart (slop 1: adjacent), among the
    words (joined names are not in phrases)."""
    name = term_fields(node.field)[0]
    return {"span_near": {"clauses": [{"span_term": {name: word}} for word in node.words],
                          "slop": max(node.slop - 1, 0), "in_order": True}}


def _prefix(node: tree.Prefix) -> dict:
    return _each_field(node.field, lambda name: {
        "prefix": {name: {"value": node.text, "rewrite": _EXPANSION}}})


def _wildcard(node: tree.Wildcard) -> dict:
    return _each_field(node.field, lambda name: {
        "wildcard": {name: {"value": node.pattern, "rewrite": _EXPANSION}}})


def _fuzzy(node: tree.Fuzzy) -> dict:
    """Among the folded, unstemmed words (OpenSearch's own analysis of the field)."""
    return {"fuzzy": {node.field: {"value": node.text, "fuzziness": node.max_edits,
                                   "prefix_length": node.prefix_letters,
                                   "max_expansions": MAX_TERM_EXPANSION,
                                   "transpositions": False, "rewrite": _EXPANSION}}}


def _term_range(node: tree.TermRange) -> dict:
    bounds = {}
    if node.start is not None:
        bounds["gte" if node.include_start else "gt"] = node.start
    if node.end is not None:
        bounds["lte" if node.include_end else "lt"] = node.end
    return _each_field(node.field, lambda name: {"range": {name: bounds}})


def _date_range(node: tree.DateRange) -> dict:
    return {"range": {"date": date_bounds(node.start, node.end)}}


def date_bounds(start: dt.date | None, end: dt.date | None) -> dict:
    """A date range's bounds, both days included."""
    bounds = {"format": "yyyy-MM-dd"}
    if start is not None:
        bounds["gte"] = start.strftime("%Y-%m-%d")
    if end is not None:
        bounds["lte"] = end.strftime("%Y-%m-%d")
    return bounds


_LEAF_QUERIES = {tree.Term: _term, tree.Phrase: _phrase, tree.Prefix: _prefix,
                 tree.Wildcard: _wildcard, tree.Fuzzy: _fuzzy, tree.TermRange: _term_range,
                 tree.DateRange: _date_range}
