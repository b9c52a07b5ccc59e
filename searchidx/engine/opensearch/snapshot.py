"""A searchable view of an OpenSearch index: the engine's
:class:`~searchidx.engine.interface.Snapshot`.

Searches go through the alias, so an alias swap (a rebuild) never leaves a search without
an index. A document number is this snapshot's own: the order in which it first met each
article id. Which words of an article a hit matched, and where they are in its body, are
worked out in Python from the article's stored text with searchidx's own analysis (the
terms OpenSearch holds are those terms, see :mod:`.mapping`): the offsets, and so the
snippets, are exactly the local engine's.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import math
from collections import Counter
from collections.abc import Iterator

from whoosh.support.levenshtein import levenshtein

from ...analysis import exact_terms, exact_text, name_forms, prose_forms
from .. import tree
from ..interface import Chars, Ranked, Ranking, Span
from .mapping import NAME_FIELDS, PROSE_FIELDS, STORED_FIELDS
from .translate import Translation, date_bounds
from .writing import BulkWriter, document_id

# A search's exact spellings lift an article this far above the others, so that sorting
# by score puts them first; the lift is taken off again (scores stay BM25 scores).
_EXACT_LIFT = 10_000.0
_EXACT_NAME = "searchidx-exact"
_SCROLL_PAGE = 1000


class ClusterSnapshot:
    def __init__(self, client, alias: str, concrete: str) -> None:
        self.client = client
        self.alias = alias
        self.concrete = concrete
        self._ids: list[str] = []
        self._numbers: dict[str, int] = {}
        self._sources: dict[int, dict] = {}
        self._changes = self._change_count()

    # --- the index ---------------------------------------------------------------------

    def doc_count(self) -> int:
        return self.client.count(index=self.alias)["count"]

    def analysis_version(self) -> int:
        mapping = self.client.indices.get_mapping(index=self.alias)
        meta = next(iter(mapping.values()))["mappings"].get("_meta", {})
        return int(meta.get("searchidx_analysis_version", 1))

    def is_current(self) -> bool:
        """Whether the index had no write since this snapshot was opened. (The library
        asks only while the alias still names it; a rebuild deletes it, which counts.)"""
        return self._change_count() == self._changes

    def _change_count(self) -> int:
        """How many writes the index has had; -1 once it is gone (a rebuild replaced it
        between two requests: the snapshot is then simply not current)."""
        stats = self.client.indices.stats(index=self.concrete, metric="indexing",
                                          params={"ignore": 404})
        if "_all" not in stats:
            return -1
        primaries = stats["_all"]["primaries"]
        return primaries["indexing"]["index_total"] + primaries["indexing"]["delete_total"]

    def close(self) -> None:
        self._sources.clear()

    def is_empty(self) -> bool:
        return self.doc_count() == 0

    def open_writer(self, processes: int = 1, lock_fd: int | None = None,
                    memory_mb: float = 0) -> BulkWriter:
        """A writer into this very index (an update in place)."""
        return BulkWriter(self.client, self.concrete)

    # --- documents -----------------------------------------------------------------------

    def _number(self, article_id: str, source: dict | None = None) -> int:
        number = self._numbers.get(article_id)
        if number is None:
            number = self._numbers[article_id] = len(self._ids)
            self._ids.append(article_id)
        if source is not None:
            self._sources[number] = source
        return number

    def stored_fields(self, doc: int) -> dict[str, object]:
        source = self._sources.get(doc)
        if source is None:
            source = self.document(self._ids[doc]) or {}
        return _stored(source)

    def document_number(self, article_id: str) -> int | None:
        source = self._get(article_id)
        return None if source is None else self._number(article_id, source)

    def document(self, article_id: str) -> dict[str, object] | None:
        source = self._get(article_id)
        return None if source is None else _stored(source)

    def _get(self, article_id: str) -> dict | None:
        answer = self.client.get(index=self.alias, id=document_id(article_id),
                                 _source_includes=",".join(STORED_FIELDS),
                                 params={"ignore": 404})
        return answer.get("_source") if answer.get("found") else None

    # --- searching -----------------------------------------------------------------------

    def search(self, query: tree.Query, *, limit: int, exact: tree.Query | None = None,
               since: dt.date | None = None, until: dt.date | None = None,
               sort: str = "relevance", budget=None) -> Ranking:
        translation = Translation(query)
        scored: dict = {"must": [translation.dsl]}
        if since or until:
            scored["filter"] = [{"range": {"date": date_bounds(since, until)}}]
        exact_first = exact is not None and sort == "relevance"
        if exact_first:
            scored["should"] = [{"constant_score": {
                "filter": Translation(exact).dsl, "boost": _EXACT_LIFT, "_name": _EXACT_NAME}}]
        body = {"query": {"bool": scored}, "size": limit, "track_total_hits": True,
                "_source": list(STORED_FIELDS)}
        if sort == "date":
            body.update(sort=[{"date": {"order": "desc", "missing": "_last"}}, "_score"],
                        track_scores=True)
        answer = self.client.search(index=self.alias, body=body)
        hits = answer["hits"]["hits"]
        lift = _lift(hits) if exact_first else 0.0
        return Ranking(answer["hits"]["total"]["value"],
                       tuple(self._ranked(hit, translation, lift) for hit in hits))

    def _ranked(self, hit: dict, translation: Translation, lift: float) -> Ranked:
        source = hit["_source"]
        names = set(hit.get("matched_queries", ()))
        score = float(hit["_score"] or 0.0)
        if _EXACT_NAME in names:
            score += lift - _EXACT_LIFT
        leaves = [translation.leaves[name] for name in names if name in translation.leaves]
        article = ArticleTerms(source)
        terms = matched_terms(leaves, article)
        words = {text.decode("utf-8") for field, text in terms if field == "body"}
        chars = {term: tuple(occurrences)
                 for term, occurrences in article.prose("body").terms.items()
                 if term in words}
        return Ranked(self._number(source["id"], source), score, terms, chars)

    def match_spans(self, doc: int, query: tree.Query, budget=None) -> tuple[Span, ...]:
        translation = Translation(query)
        article_id = self._ids[doc]
        answer = self.client.search(index=self.alias, body={
            "query": {"bool": {"must": [translation.dsl],
                               "filter": [{"ids": {"values": [document_id(article_id)]}}]}},
            "size": 1, "_source": list(STORED_FIELDS)})
        hits = answer["hits"]["hits"]
        if not hits:
            return ()
        ranked = self._ranked(hits[0], translation, 0.0)
        return tuple(sorted((start, end) for occurrences in ranked.body_chars.values()
                            for _, start, end in occurrences))

    def key_terms(self, doc: int, field: str, count: int) -> list[tuple[str, float]]:
        """The terms of a document's field that tell most: frequent in it, rare elsewhere
        (term frequency times inverse document frequency, from OpenSearch's term vectors)."""
        answer = self.client.termvectors(
            index=self.alias, id=document_id(self._ids[doc]), fields=[f"{field}_terms"],
            term_statistics=True, field_statistics=True, positions=False, offsets=False)
        vectors = answer.get("term_vectors", {}).get(f"{field}_terms")
        if not vectors:
            return []
        documents = vectors["field_statistics"]["doc_count"]
        weights = [(term, info["term_freq"] * math.log(1 + documents / info["doc_freq"]))
                   for term, info in vectors["terms"].items()]
        return sorted(weights, key=lambda pair: (-pair[1], pair[0]))[:count]

    # --- spelling --------------------------------------------------------------------------

    def is_spelling_word(self, field: str, word: str) -> bool:
        """Whether the folded, unstemmed word is written in the field (OpenSearch's own
        folded field holds exactly those words)."""
        body = {"query": {"term": {field: word}}}
        return self.client.count(index=self.alias, body=body)["count"] > 0

    def spelling_words_within(self, field: str, word: str, max_edits: int,
                              prefix_letters: int, budget=None) -> Iterator[str]:
        """OpenSearch's term suggester over the field's folded words."""
        body = {"suggest": {"words": {"text": word, "term": {
            "field": field, "suggest_mode": "always", "max_edits": max(1, min(max_edits, 2)),
            "prefix_length": prefix_letters, "min_word_length": 1, "size": 50,
            "string_distance": "levenshtein"}}}, "size": 0}
        answer = self.client.search(index=self.alias, body=body)
        options = [option["text"] for entry in answer["suggest"]["words"]
                   for option in entry["options"]]
        yield from sorted(option for option in options
                          if levenshtein(option, word, max_edits) <= max_edits
                          and option[:prefix_letters] == word[:prefix_letters])

    def term_occurrences(self, field: str, text: str) -> Iterator[tuple[int, Chars]]:
        """The articles that have a body term, a page at a time, with where it occurs."""
        body = {"query": Translation(tree.Term(field, text)).dsl, "size": _SCROLL_PAGE,
                "_source": list(STORED_FIELDS), "sort": [{"id": "asc"}]}
        for hit in self.client.search(index=self.alias, body=body)["hits"]["hits"]:
            source = hit["_source"]
            occurrences = ArticleTerms(source).prose(field).terms.get(text)
            if occurrences:
                yield self._number(source["id"], source), tuple(occurrences)

    def most_frequent_terms(self, field: str, count: int) -> list[tuple[float, str]]:
        """The most frequent terms of the field among the first _SCROLL_PAGE articles
        (a cluster has no cheap term list: examples for a reader, not statistics)."""
        body = {"query": {"match_all": {}}, "size": _SCROLL_PAGE, "_source": [field]}
        counts: Counter[str] = Counter()
        for hit in self.client.search(index=self.alias, body=body)["hits"]["hits"]:
            counts.update(ArticleTerms(hit["_source"]).terms(field))
        return [(float(frequency), term) for term, frequency in counts.most_common(count)]

    # --- what the indexer compares -------------------------------------------------------

    def recorded_columns(self, fields: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        """Every article's recorded fields, read a page at a time (in _id order)."""
        after = None
        while True:
            body = {"size": _SCROLL_PAGE, "sort": [{"id": "asc"}], "_source": list(fields),
                    "query": {"match_all": {}}}
            if after is not None:
                body["search_after"] = after
            hits = self.client.search(index=self.alias, body=body)["hits"]["hits"]
            for hit in hits:
                yield tuple(str(hit["_source"].get(name, "")) for name in fields)
            if len(hits) < _SCROLL_PAGE:
                return
            after = hits[-1]["sort"]

    # --- vocabulary ----------------------------------------------------------------------

    def doc_frequency(self, field: str, text: str) -> int:
        query = Translation(tree.Term(field, text)).dsl
        return self.client.count(index=self.alias, body={"query": query})["count"]

    def has_term(self, field: str, text: str) -> bool:
        return self.doc_frequency(field, text) > 0


def _lift(hits: list[dict]) -> float:
    """The best score of the hits without the exact spellings (see local's lifted scores)."""
    return max((float(hit["_score"] or 0.0) for hit in hits
                if _EXACT_NAME not in hit.get("matched_queries", ())), default=0.0)


def _stored(source: dict) -> dict[str, object]:
    fields = {name: source.get(name) for name in STORED_FIELDS}
    if fields["date"]:
        fields["date"] = dt.datetime.strptime(fields["date"][:10], "%Y-%m-%d")
    return fields


class ArticleTerms:
    """The terms searchidx's analysis makes of one stored article's fields (as the engine
    indexed them), each field analysed at most once."""

    def __init__(self, source: dict) -> None:
        self.source = source
        self._prose: dict = {}

    def prose(self, field: str):
        """The analysis of a title, body, place or source field (terms with offsets)."""
        if field not in self._prose:
            forms = prose_forms() if field in PROSE_FIELDS else name_forms()
            self._prose[field] = forms.prose(self.source.get(field) or "")
        return self._prose[field]

    def terms(self, field: str) -> set[str]:
        if field == "exact":
            return set(exact_terms(exact_text(self.source.get("title") or "",
                                              self.source.get("body") or "")))
        if field in PROSE_FIELDS or field in NAME_FIELDS:
            return set(self.prose(field).terms)
        return {str(self.source.get(field) or "")}


def matched_terms(leaves, article: ArticleTerms) -> frozenset[tuple[str, bytes]]:
    """The ``(field, term)`` pairs of an article that the matched ``leaves`` stand for."""
    found = set()
    for leaf in leaves:
        if type(leaf) is tree.DateRange:
            continue
        terms = article.terms(leaf.field)
        found.update((leaf.field, term.encode("utf-8")) for term in terms
                     if _leaf_takes(leaf, term))
    return frozenset(found)


def _leaf_takes(leaf, term: str) -> bool:
    kind = type(leaf)
    if kind is tree.Term:
        return term == leaf.text
    if kind is tree.Phrase:
        return term in leaf.words
    if kind is tree.Prefix:
        return term.startswith(leaf.text)
    if kind is tree.Wildcard:
        return fnmatch.fnmatchcase(term, leaf.pattern)
    if kind is tree.TermRange:
        return ((leaf.start is None or term > leaf.start or (leaf.include_start and term == leaf.start))
                and (leaf.end is None or term < leaf.end or (leaf.include_end and term == leaf.end)))
    if kind is tree.Fuzzy:
        return (term[:leaf.prefix_letters] == leaf.text[:leaf.prefix_letters]
                and levenshtein(term, leaf.text, leaf.max_edits) <= leaf.max_edits)
    return False


