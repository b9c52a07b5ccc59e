"""Searching: running queries, ranking with BM25F, second chances, and snippets.

Every word of a query must match, in the title or the body (see ``query.py`` for the
query language). A title word weighs ``TITLE_BOOST`` body words. When nothing matches, a
spelling correction and then any-word matching are tried. Snippets are cut from the
stored original text using the character offsets kept in the index, so accents survive
and nothing is re-analysed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import html
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, NamedTuple, overload

from whoosh.query import NullQuery

from .analysis import normalize
from .budget import Budget
from .errors import ArticleNotFound, QueryError
from .engine.matching import Chars, Ranked, Ranking, body_chars, rank
from .query import (ParsedQuery, QueryBuilder, bounded, expanded, has_exclusion, joined_notices,
                    plain_words)
from .spelling import spelling_correction
from .settings import (MAX_LIMIT, SEARCH_TIME_BUDGET_SECONDS,
                       SIMILAR_KEY_TERMS, SNIPPET_FRAGMENT_CHARS, SNIPPET_FRAGMENTS,
                       SNIPPET_LEAD_CHARS, SNIPPET_SEPARATOR, SNIPPET_SURROUND_CHARS)

__all__ = ["Hit", "SearchResults", "Sort", "mark_html", "marked", "match_spans", "run_search",
           "run_similar"]

Sort = Literal["relevance", "date"]
Span = tuple[int, int]


# --- results ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Hit:
    """One matching article, with a snippet of its original text around the matches."""

    id: str
    path: str
    title: str
    date: dt.date | None
    score: float
    snippet: str
    highlights: tuple[Span, ...] = ()
    """``(start, end)`` offsets of the matched words within :attr:`snippet`."""
    place: str | None = None
    source: str | None = None
    url: str | None = None

    @cached_property
    def snippet_html(self) -> str:
        """The snippet as HTML: escaped text whose only tags are ``<mark>`` around matches."""
        html_text = mark_html(self.snippet, self.highlights)
        # mark_html escapes every <, > and &, so its only tags are the marks, and bleach
        # gives back the same string unless it has a control character, which it rewrites.
        # Sanitizing costs 2 ms a snippet (20 s for 10,000 hits): only where it changes.
        if not _REWRITTEN_BY_BLEACH.search(html_text):
            return html_text
        import bleach

        return bleach.clean(html_text, tags={"mark"}, attributes={}, strip=True)

    def to_dict(self) -> dict[str, object]:
        """The JSON form of a hit (a public contract: fields are added, never renamed)."""
        return {"id": self.id, "path": self.path, "title": self.title,
                "date": self.date.isoformat() if self.date else None,
                "score": round(self.score, 4), "snippet": self.snippet,
                "snippet_html": self.snippet_html, "place": self.place,
                "source": self.source, "url": self.url}


# The characters bleach.clean may change in escaped text (html5lib drops or replaces them):
# the C0 controls but tab and line feed.
_REWRITTEN_BY_BLEACH = re.compile(r"[\x00-\x08\x0b-\x1f]")


def marked(text: str, spans: Sequence[Span], plain: Callable[[str], str],
           match: Callable[[str], str]) -> str:
    """``text`` with each ``(start, end)`` span passed through ``match`` and the rest
    through ``plain``: the one way matches are marked, in HTML and on a terminal."""
    parts, position = [], 0
    for start, end in spans:
        parts += [plain(text[position:start]), match(text[start:end])]
        position = end
    parts.append(plain(text[position:]))
    return "".join(parts)


def mark_html(text: str, spans: Sequence[Span]) -> str:
    """``text`` escaped for HTML, with ``<mark>`` around each ``(start, end)`` span."""
    escape = functools.partial(html.escape, quote=False)
    return marked(text, spans, escape, lambda match: f"<mark>{escape(match)}</mark>")


@dataclass(frozen=True)
class SearchResults(Sequence[Hit]):
    """The hits of one search, best first, with the total number of matching articles."""

    query: str
    total: int
    hits: tuple[Hit, ...] = ()
    notice: str | None = None
    """Set when the query was read differently from how it was written, and why."""
    suggestion: str | None = None
    """The spelling-corrected query whose results these are, when the query found nothing."""

    @overload
    def __getitem__(self, index: int) -> Hit: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Hit]: ...

    def __getitem__(self, index):
        return self.hits[index]

    def __len__(self) -> int:
        return len(self.hits)

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def to_dict(self) -> dict[str, object]:
        """The JSON form: ``{"query", "total", "hits": [...], "suggestion", "notice"}``."""
        return {"query": self.query, "total": self.total,
                "hits": [hit.to_dict() for hit in self.hits],
                "suggestion": self.suggestion, "notice": self.notice}


# --- searching ---------------------------------------------------------------------------------

# The private records are named tuples: making a dataclass takes a cold start ~1 ms.
class _Request(NamedTuple):
    query: str
    limit: int
    since: dt.date | None
    until: dt.date | None
    sort: Sort

    @property
    def text(self) -> str:
        """The query within the length a query may have."""
        return bounded(self.query)[0]

    def validate(self) -> None:
        if not self.query.strip():
            raise QueryError("empty query: give at least one word to search for")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, not {self.limit}")
        if self.since and self.until and self.since > self.until:
            raise QueryError(f"--since {self.since} is after --until {self.until}")
        if self.sort not in ("relevance", "date"):
            raise QueryError(f"sort must be 'relevance' or 'date', not {self.sort!r}")


class _Outcome(NamedTuple):
    """The ranking of one attempt, the query that gave it, and what to tell."""

    ranking: Ranking
    query: object
    notice: str | None = None
    suggestion: str | None = None


def run_search(searcher, builder: QueryBuilder, query: str, limit: int,
               since: dt.date | None = None, until: dt.date | None = None,
               sort: Sort = "relevance",
               time_budget: float = SEARCH_TIME_BUDGET_SECONDS) -> SearchResults:
    """Run one search on an open Whoosh searcher.

    When no article has every word, a spelling correction from the index's own words is
    tried, then any-word matching (most matching words first); the notice says which.
    After ``time_budget`` seconds the search returns what it has (see ``budget.py``).
    """
    request = _Request(normalize(query).strip(), limit, since, until, sort)
    request.validate()
    budget = Budget(time_budget)
    parsed = builder.parse(request.query)
    outcome = _attempt(searcher, builder, request, parsed, budget)
    if not outcome.ranking.total and parsed.query is not NullQuery \
            and not budget.stop_if_exhausted():
        outcome = (_filtered_out(searcher, builder, request, parsed, outcome, budget)
                   or _second_chance(searcher, builder, request, outcome.notice, budget)
                   or outcome)
    return SearchResults(query=request.query, total=outcome.ranking.total,
                         hits=_hits(searcher, outcome.ranking.hits, budget),
                         notice=joined_notices(outcome.notice, budget.notice),
                         suggestion=outcome.suggestion)


def _attempt(searcher, builder: QueryBuilder, request: _Request, parsed, budget: Budget,
             any_word: bool = False) -> _Outcome:
    """Run a parsed query; if Whoosh fails on it, run the query's plain words instead."""
    try:
        return _outcome(searcher, request, parsed, budget)
    except Exception:  # noqa: BLE001 (Whoosh can fail deep inside on odd syntax)
        plain = builder.plain(request.text, "not valid query syntax", any_word=any_word)
        return _outcome(searcher, request, plain, budget)


def _outcome(searcher, request: _Request, parsed: ParsedQuery, budget: Budget) -> _Outcome:
    """The ranking of a parsed query, its terms that stand for many expanded first."""
    query, cuts = expanded(parsed.query, searcher.reader(), budget)
    ranking = _execute(searcher, request, parsed._replace(query=query), budget)
    return _Outcome(ranking, query, joined_notices(parsed.notice, *cuts))


def _execute(searcher, request: _Request, parsed: ParsedQuery, budget: Budget) -> Ranking:
    """The best matches, from whole posting lists (``matching.py``) where the query allows,
    else from Whoosh."""
    date_filter = _date_filter(request.since, request.until)
    if request.sort == "relevance":
        allowed = frozenset(searcher.docs_for_query(date_filter)) if date_filter else None
        ranking = rank(searcher, parsed.query, request.limit, parsed.exact, allowed, budget)
        if ranking is not None:
            return ranking
    # Every match is collected (limit=None): with a limit, Whoosh prunes its matchers as
    # the top scores rise, which miscounts the total and can lose the best hits of a
    # query with an exclusion (Reuters-21578: "U.S. trade -japan" counted 397 of 865).
    collector = searcher.collector(limit=None, terms=True, filter=date_filter,
                                   **_ordering(request.sort, parsed.exact))
    with contextlib.suppress(_budget_collector().TimeLimit):
        searcher.search_with_collector(parsed.query, _budget_collector()(collector, budget))
    results = collector.results()
    exact_first = request.sort == "relevance" and parsed.exact is not None
    return _whoosh_ranking(searcher, results, request.limit, exact_first)


@functools.cache
def _budget_collector():
    """A Whoosh collector that stops at the first check after the budget is spent (its
    class is made on first use: Whoosh's collectors stay out of a plain search)."""
    from whoosh import collectors

    class BudgetCollector(collectors.WrappingCollector):
        TimeLimit = collectors.TimeLimit

        def __init__(self, child, budget: Budget) -> None:
            self.child, self.budget = child, budget
            self.segments = 0  # begun so far

        def collect_matches(self) -> None:
            child = self.child
            for count, sub_docnum in enumerate(child.matches(), start=1):
                child.collect(sub_docnum)
                if not count % _DOCUMENTS_PER_CLOCK_CHECK and self.budget.stop_if_exhausted():
                    raise collectors.TimeLimit

        def set_subsearcher(self, subsearcher, offset: int) -> None:
            if self.segments and self.budget.stop_if_exhausted():
                raise collectors.TimeLimit
            self.segments += 1
            super().set_subsearcher(subsearcher, offset)

    return BudgetCollector


# Whoosh's collection checks the clock after this many documents (about a millisecond).
_DOCUMENTS_PER_CLOCK_CHECK = 256


def _filtered_out(searcher, builder: QueryBuilder, request: _Request, parsed: ParsedQuery,
                  outcome: _Outcome, budget: Budget) -> _Outcome | None:
    """No hits because of the date filter: how many articles match outside those days."""
    if not (request.since or request.until):
        return None
    undated = request._replace(since=None, until=None, limit=1)
    total = _attempt(searcher, builder, undated, parsed, budget).ranking.total
    if not total:
        return None
    noun = "article matches" if total == 1 else "articles match"
    notice = f"{total:,} {noun} “{request.query}”, none {_days(request.since, request.until)}"
    return outcome._replace(notice=joined_notices(outcome.notice, notice))


def _days(since: dt.date | None, until: dt.date | None) -> str:
    if since and until:
        return f"between {since} and {until}"
    return f"on or after {since}" if since else f"on or before {until}"


def _whoosh_ranking(searcher, results, limit: int, exact_first: bool) -> Ranking:
    top = results[:limit]
    scores = _lifted_scores(results, top) if exact_first else _relevance_scores(top)
    matched = [frozenset(hit.matched_terms()) for hit in top]
    body_terms = [{text.decode("utf-8") for field, text in terms if field == "body"}
                  for terms in matched]
    chars = body_chars(searcher, [hit.docnum for hit in top], set().union(*body_terms))
    return Ranking(len(results), tuple(
        Ranked(hit.docnum, scores[hit.docnum], terms,
               {term: spans for term, spans in chars[hit.docnum].items() if term in words})
        for hit, terms, words in zip(top, matched, body_terms)))


def _second_chance(searcher, builder: QueryBuilder, request: _Request,
                   first_notice: str | None, budget: Budget) -> _Outcome | None:
    """A spelling correction, else any-word matching, for a query that found nothing."""
    corrected = spelling_correction(searcher.reader(), request.text, budget)
    if corrected:
        outcome = _attempt(searcher, builder, request, builder.parse(corrected), budget)
        if outcome.ranking.total:
            notice = f"Showing results for “{corrected}”: nothing matched “{request.query}”"
            return _Outcome(outcome.ranking, outcome.query, joined_notices(first_notice, notice),
                            corrected)
    # Not with an exclusion: any-word matching would offer every article without the
    # excluded word ("Minh Vũ" NOT Kim: 19,029 of Reuters-21578's 19,043).
    if len(plain_words(request.text)) > 1 and not has_exclusion(request.text):
        if budget.stop_if_exhausted():
            return None
        any_word = builder.parse(request.text, any_word=True)
        outcome = _attempt(searcher, builder, request, any_word, budget, any_word=True)
        if outcome.ranking.total:
            notice = "No article has all the words; showing articles that have some of them"
            return _Outcome(outcome.ranking, outcome.query, joined_notices(first_notice, notice))
    return None


def run_similar(searcher, article_id: str, limit: int) -> SearchResults:
    """Articles that share the most telling words of an article's body, never the article."""
    from whoosh.query import Or, Term

    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    docnum = searcher.document_number(id=article_id)
    if docnum is None:
        raise ArticleNotFound(f"no article with id {article_id!r}")
    key_terms = searcher.key_terms([docnum], "body", numterms=SIMILAR_KEY_TERMS)
    query = Or([Term("body", term, boost=weight) for term, weight in key_terms])
    ranking = rank(searcher, query, limit + 1)
    others = tuple(hit for hit in ranking.hits if hit.docnum != docnum)[:limit]
    total = max(ranking.total - 1, 0)  # the article itself has all its key terms
    return SearchResults(query=article_id, total=total, hits=_hits(searcher, others))


def match_spans(searcher, builder: QueryBuilder, article_id: str, query: str) -> tuple[Span, ...]:
    """The ``(start, end)`` offsets in an article's body of the words ``query`` matches,
    in text order; empty for an unknown id, a blank query or no match."""
    docnum = searcher.document_number(id=article_id)
    text = normalize(query).strip()
    if docnum is None or not text:
        return ()
    # Any word: an article shown by any-word matching has some words to mark, not all.
    parsed = builder.parse(text, any_word=True)
    query, _ = expanded(parsed.query, searcher.reader(), Budget(SEARCH_TIME_BUDGET_SECONDS))
    for hit in searcher.search(query, filter={docnum}, limit=1, terms=True):
        terms = {_text(term) for field, term in hit.matched_terms() if field == "body"}
        tokens = searcher.schema["body"].analyzer(hit["body"], chars=True)
        return tuple((t.startchar, t.endchar) for t in tokens if t.text in terms)
    return ()


def _text(term: bytes | str) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


def _hits(searcher, ranked: Sequence[Ranked], budget: Budget | None = None) -> tuple[Hit, ...]:
    """The hits with their snippets; once the time ``budget`` is spent, those made so far."""
    hits = []
    for number, hit in enumerate(ranked):
        if number and not number % _HITS_PER_CLOCK_CHECK and budget is not None \
                and budget.stop_if_exhausted():
            break
        hits.append(_hit(searcher.stored_fields(hit.docnum), hit))
    return tuple(hits)


# Hits with snippets are made about 1,500 a second: the clock is checked after this many.
_HITS_PER_CLOCK_CHECK = 100


def scoring():
    """The ranking function: BM25F, with field boosts from the schema (the fast path's
    own, for the queries Whoosh's matchers run)."""
    from .engine.scoring import weighting

    return weighting()


def _date_filter(since: dt.date | None, until: dt.date | None):
    if not since and not until:
        return None
    from whoosh.query import DateRange

    start = dt.datetime.combine(since, dt.time.min) if since else None
    end = dt.datetime.combine(until, dt.time.max) if until else None
    return DateRange("date", start, end)


_EXACT = "exact"


def _ordering(sort: Sort, exact) -> dict[str, object]:
    """Newest first; or by relevance, where articles with the query's exact spellings
    come before those that match only once folded."""
    from whoosh import sorting

    if sort == "date":
        first = sorting.FieldFacet("date", reverse=True)
    elif exact is not None:
        first = sorting.QueryFacet({_EXACT: exact}, other="folded")  # "exact" sorts first
    else:
        return {}
    return {"sortedby": sorting.MultiFacet([first, sorting.ScoreFacet()])}


def _lifted_scores(results, top) -> dict[int, float]:
    """The scores of results ranked exact spellings first (sort keys ``(category,
    -score)``, see :func:`_ordering`): an exact one's score is lifted by the best score of
    the others, so that scores fall with the rank (as ``matching.rank`` lifts them)."""
    lift = max((-score for (category, score), _ in results.top_n if category != _EXACT),
               default=0.0)
    return {hit.docnum: -hit.score[1] + (lift if hit.score[0] == _EXACT else 0.0)
            for hit in top}


def _relevance_scores(top) -> dict[int, float]:
    """BM25F score of each hit; results sorted by date carry a sort key instead, whose last
    part is the negated score (see :func:`_ordering`)."""
    return {hit.docnum: -hit.score[-1] if isinstance(hit.score, tuple) else float(hit.score or 0)
            for hit in top}


def _hit(stored: dict, ranked: Ranked) -> Hit:
    body = stored.get("body", "")
    fragments = _fragments(body, ranked.body_chars) if body else []
    snippet, spans = _join_fragments(body, fragments) if fragments else (_lead(body), ())
    date = stored.get("date")
    return Hit(id=stored["id"], path=stored.get("path", ""), title=stored.get("title", ""),
               date=date.date() if date else None, score=ranked.score,
               snippet=snippet, highlights=spans, place=stored.get("place"),
               source=stored.get("source"), url=stored.get("url"))


# --- snippets ----------------------------------------------------------------------------------

class _Fragment(NamedTuple):
    """A stretch of the original text and the matched words in it, as offsets."""

    start: int
    end: int
    matches: list[Span]


def _fragments(text: str, chars: dict[str, Chars]) -> list[_Fragment]:
    """The best stretches of ``text`` around the matched words (at most
    ``SNIPPET_FRAGMENTS``, in text order), found from the words' stored character offsets
    as Whoosh's pinpoint highlighter finds them, without analysing the text again."""
    from whoosh import highlight

    fragmenter = highlight.PinpointFragmenter(maxchars=SNIPPET_FRAGMENT_CHARS,
                                              surround=SNIPPET_SURROUND_CHARS)
    limit = fragmenter.charlimit
    tokens = sorted((highlight.Token(text=word, pos=pos, startchar=start, endchar=end)
                     for word, occurrences in chars.items() for pos, start, end in occurrences
                     if not (limit and end > limit)), key=lambda token: token.startchar)
    # Where matches start at the same character (a joined name and its first word), the
    # longer one is marked.
    tokens = [max(group, key=lambda token: token.endchar - token.startchar)
              for _, group in itertools.groupby(tokens, lambda token: token.startchar)]
    best = highlight.top_fragments(fragmenter.fragment_matches(text, tokens), SNIPPET_FRAGMENTS,
                                   highlight.BasicFragmentScorer(), highlight.FIRST)
    return [_Fragment(f.startchar, f.endchar, [(t.startchar, t.endchar) for t in f.matches])
            for f in best]


_SPACE = re.compile(r"\s+")


def _snap_to_words(text: str, fragment: _Fragment) -> _Fragment:
    """Move a fragment's ends inwards to whole words, never past a match."""
    start, end = fragment.start, fragment.end
    first, last = fragment.matches[0][0], fragment.matches[-1][1]
    if start > 0 and not text[start - 1].isspace():
        space = _SPACE.search(text, start, first)
        start = space.end() if space else first
    if end < len(text) and not text[end].isspace():
        spaces = list(_SPACE.finditer(text, last, end))
        end = spaces[-1].start() if spaces else last
    while start < first and text[start].isspace():
        start += 1
    return _Fragment(start, end, fragment.matches)


def _merge_overlapping(fragments: list[_Fragment]) -> list[_Fragment]:
    """Fragments in text order, those that overlap or touch joined into one."""
    merged: list[_Fragment] = []
    for fragment in sorted(fragments, key=lambda f: f.start):
        if merged and fragment.start <= merged[-1].end + 1:
            last = merged[-1]
            merged[-1] = _Fragment(last.start, max(last.end, fragment.end),
                                   sorted(set(last.matches) | set(fragment.matches)))
        else:
            merged.append(fragment)
    return merged


def _join_fragments(text: str, fragments: list[_Fragment]) -> tuple[str, tuple[Span, ...]]:
    """One snippet string from the fragments, with the matches' offsets within it."""
    pieces: list[str] = []
    spans: list[Span] = []
    length = 0

    def add(piece: str, matched: bool = False) -> None:
        nonlocal length
        if matched:
            spans.append((length, length + len(piece)))
        pieces.append(piece)
        length += len(piece)

    snapped = [_snap_to_words(text, f) for f in fragments if f.matches]
    merged = _merge_overlapping(snapped)
    for number, fragment in enumerate(merged):
        add(SNIPPET_SEPARATOR if number else ("…" if fragment.start > 0 else ""))
        position = fragment.start
        for match_start, match_end in fragment.matches:
            if match_start < position:
                continue
            add(_SPACE.sub(" ", text[position:match_start]))
            add(text[match_start:match_end], matched=True)
            position = match_end
        add(_SPACE.sub(" ", text[position:fragment.end]).rstrip())
    if merged and merged[-1].end < len(text.rstrip()):
        add("…")
    return "".join(pieces), tuple(spans)


def _lead(text: str) -> str:
    """The opening of ``text``, cut at a word, for hits with no match in the body."""
    flat = _SPACE.sub(" ", text).strip()
    if len(flat) <= SNIPPET_LEAD_CHARS:
        return flat
    return flat[:SNIPPET_LEAD_CHARS].rsplit(" ", 1)[0] + "…"
