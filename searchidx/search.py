"""Searching: running queries, ranking with BM25F, second chances, and snippets.

Every word of a query must match, in the title or the body (see ``query.py`` for the
query language). A title word weighs ``TITLE_BOOST`` body words. When nothing matches, a
spelling correction and then any-word matching are tried. Snippets are cut from the
stored original text using the character offsets kept in the index, so accents survive
and nothing is re-analysed.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import html
import operator
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from typing import NamedTuple, TypeVar, overload

from .analysis import normalize
from .budget import Budget
from .engine.interface import Chars, Fragment, Ranked, Ranking, Snapshot, Sort, Span
from .engine.tree import NOTHING, Or, Term
from .errors import ArticleNotFound, QueryError
from .query import (ParsedQuery, QueryBuilder, bounded, has_exclusion, joined_notices,
                    plain_words)
from .settings import (MAX_LIMIT, SEARCH_TIME_BUDGET_SECONDS, SIMILAR_KEY_TERMS,
                       SNIPPET_FRAGMENT_CHARS, SNIPPET_FRAGMENTS, SNIPPET_LEAD_CHARS,
                       SNIPPET_SEPARATOR, SNIPPET_SURROUND_CHARS)

__all__ = ["Hit", "SearchResults", "Sort", "fragments_at", "mark_html", "marked", "match_spans",
           "run_search", "run_similar"]



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


_Made = TypeVar("_Made", Hit, SearchResults)


def _made(kind: type[_Made], **fields: object) -> _Made:
    """The frozen dataclass ``kind`` of these fields (all of them, in their order), its
    attributes set at once: its ``__init__`` sets each through ``object.__setattr__``
    (for a hit, a sixth of making its snippet)."""
    made = object.__new__(kind)
    made.__dict__.update(fields)
    return made


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
    """The ranking of one attempt, and what to tell."""

    ranking: Ranking
    notice: str | None = None
    suggestion: str | None = None


def run_search(snapshot: Snapshot, builder: QueryBuilder, query: str, limit: int,
               since: dt.date | None = None, until: dt.date | None = None,
               sort: Sort = "relevance",
               time_budget: float = SEARCH_TIME_BUDGET_SECONDS) -> SearchResults:
    """Run one search on an engine's open snapshot.

    When no article has every word, a spelling correction from the index's own words is
    tried, then any-word matching (most matching words first); the notice says which.
    After ``time_budget`` seconds the search returns what it has (see ``budget.py``).
    """
    request = _Request(normalize(query).strip(), limit, since, until, sort)
    request.validate()
    budget = Budget(time_budget)
    parsed = builder.parse(request.query)
    outcome = _attempt(snapshot, builder, request, parsed, budget)
    if not outcome.ranking.total and parsed.query != NOTHING \
            and not budget.stop_if_exhausted():
        outcome = (_filtered_out(snapshot, builder, request, parsed, outcome, budget)
                   or _second_chance(snapshot, builder, request, outcome.notice, budget)
                   or outcome)
    return _made(SearchResults, query=request.query, total=outcome.ranking.total,
                 hits=_hits(snapshot, outcome.ranking.hits, budget),
                 notice=joined_notices(outcome.notice, budget.notice),
                 suggestion=outcome.suggestion)


def _attempt(snapshot: Snapshot, builder: QueryBuilder, request: _Request, parsed, budget: Budget,
             any_word: bool = False) -> _Outcome:
    """Run a parsed query; if the engine fails on it, run the query's plain words instead."""
    try:
        return _outcome(snapshot, request, parsed, budget)
    except Exception:  # noqa: BLE001 (an engine can fail deep inside on odd syntax)
        plain = builder.plain(request.text, "not valid query syntax", any_word=any_word)
        return _outcome(snapshot, request, plain, budget)


def _outcome(snapshot: Snapshot, request: _Request, parsed: ParsedQuery,
             budget: Budget) -> _Outcome:
    """The ranking of a parsed query, with the notices of its terms that stood for too
    many words."""
    ranking = snapshot.search(parsed.query, limit=request.limit, exact=parsed.exact,
                              since=request.since, until=request.until, sort=request.sort,
                              budget=budget)
    return _Outcome(ranking, joined_notices(parsed.notice, *ranking.notices))


def _filtered_out(snapshot: Snapshot, builder: QueryBuilder, request: _Request,
                  parsed: ParsedQuery, outcome: _Outcome, budget: Budget) -> _Outcome | None:
    """No hits because of the date filter: how many articles match outside those days."""
    if not (request.since or request.until):
        return None
    undated = request._replace(since=None, until=None, limit=1)
    total = _attempt(snapshot, builder, undated, parsed, budget).ranking.total
    if not total:
        return None
    noun = "article matches" if total == 1 else "articles match"
    notice = f"{total:,} {noun} “{request.query}”, none {_days(request.since, request.until)}"
    return outcome._replace(notice=joined_notices(outcome.notice, notice))


def _days(since: dt.date | None, until: dt.date | None) -> str:
    if since and until:
        return f"between {since} and {until}"
    return f"on or after {since}" if since else f"on or before {until}"


def _second_chance(snapshot: Snapshot, builder: QueryBuilder, request: _Request,
                   first_notice: str | None, budget: Budget) -> _Outcome | None:
    """A spelling correction, else any-word matching, for a query that found nothing."""
    from .spelling import spelling_correction  # (only a search that found nothing needs it)

    corrected = spelling_correction(snapshot, request.text, budget)
    if corrected:
        outcome = _attempt(snapshot, builder, request, builder.parse(corrected), budget)
        if outcome.ranking.total:
            notice = f"Showing results for “{corrected}”: nothing matched “{request.query}”"
            return _Outcome(outcome.ranking, joined_notices(first_notice, notice), corrected)
    # Not with an exclusion: any-word matching would offer every article without the
    # excluded word ("Minh Vũ" NOT Kim: 19,029 of Reuters-21578's 19,043).
    if len(plain_words(request.text)) > 1 and not has_exclusion(request.text):
        if budget.stop_if_exhausted():
            return None
        any_word = builder.parse(request.text, any_word=True)
        outcome = _attempt(snapshot, builder, request, any_word, budget, any_word=True)
        if outcome.ranking.total:
            notice = "No article has all the words; showing articles that have some of them"
            return _Outcome(outcome.ranking, joined_notices(first_notice, notice))
    return None


def run_similar(snapshot: Snapshot, article_id: str, limit: int) -> SearchResults:
    """Articles that share the most telling words of an article's body, never the article."""
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    docnum = snapshot.document_number(article_id)
    if docnum is None:
        raise ArticleNotFound(f"no article with id {article_id!r}")
    key_terms = snapshot.key_terms(docnum, "body", SIMILAR_KEY_TERMS)
    query = Or(tuple(Term("body", term, weight) for term, weight in key_terms))
    ranking = snapshot.search(query, limit=limit + 1)
    others = tuple(hit for hit in ranking.hits if hit.docnum != docnum)[:limit]
    total = max(ranking.total - 1, 0)  # the article itself has all its key terms
    return SearchResults(query=article_id, total=total, hits=_hits(snapshot, others))


def match_spans(snapshot: Snapshot, builder: QueryBuilder, article_id: str,
                query: str) -> tuple[Span, ...]:
    """The ``(start, end)`` offsets in an article's body of the words ``query`` matches,
    in text order; empty for an unknown id, a blank query or no match."""
    docnum = snapshot.document_number(article_id)
    text = normalize(query).strip()
    if docnum is None or not text:
        return ()
    # Any word: an article shown by any-word matching has some words to mark, not all.
    parsed = builder.parse(text, any_word=True)
    return snapshot.match_spans(docnum, parsed.query, Budget(SEARCH_TIME_BUDGET_SECONDS))


def _hits(snapshot: Snapshot, ranked: Sequence[Ranked],
          budget: Budget | None = None) -> tuple[Hit, ...]:
    """The hits with their snippets; once the time ``budget`` is spent, those made so far."""
    hits = []
    for number, hit in enumerate(ranked):
        if number and not number % _HITS_PER_CLOCK_CHECK and budget is not None \
                and budget.stop_if_exhausted():
            break
        hits.append(_hit(snapshot, snapshot.stored_fields(hit.docnum), hit))
    return tuple(hits)


# Hits with snippets are made about 1,500 a second: the clock is checked after this many.
_HITS_PER_CLOCK_CHECK = 100


def _hit(snapshot: Snapshot, stored: dict, ranked: Ranked) -> Hit:
    body = stored.get("body", "")
    fragments = fragments_at(body, ranked.body_chars) if body else []
    snippet, spans = _join_fragments(body, fragments) if fragments else (_lead(body), ())
    date = stored.get("date")
    return _made(Hit, id=stored["id"], path=stored.get("path", ""), title=stored.get("title", ""),
                 date=date.date() if date else None, score=ranked.score,
                 snippet=snippet, highlights=spans, place=stored.get("place"),
                 source=stored.get("source"), url=stored.get("url"))


# --- snippets ----------------------------------------------------------------------------------

_SPACE = re.compile(r"\s+")


# Whoosh's highlighter leaves out matches that end past this character.
_CHAR_LIMIT = 2 ** 15


def fragments_at(text: str, chars: dict[str, Chars]) -> list[Fragment]:
    """The best stretches of ``text`` around the matched words (at most
    ``SNIPPET_FRAGMENTS``, in text order), found from the words' stored character offsets
    as Whoosh's pinpoint highlighter finds and scores them (``PinpointFragmenter``,
    ``BasicFragmentScorer``, ``FIRST``), without analysing the text again and on plain
    tuples (its tokens and fragments took a third of a hit's snippet)."""
    tokens = sorted(((start, end, word) for word, occurrences in chars.items()
                     for _, start, end in occurrences if end <= _CHAR_LIMIT), key=itemgetter(0))
    cuts = _pinpointed(_longest_at_each_start(tokens), len(text))
    starts = [start for start, _, _ in cuts]
    if len(cuts) > SNIPPET_FRAGMENTS or not all(map(operator.lt, starts, starts[1:])):
        # The best by score (else all of them, already in text order). Over an iterator,
        # as Whoosh gives it: nlargest breaks ties apart otherwise.
        scored = [(_score(matches), _Cut(start, end, matches)) for start, end, matches in cuts]
        best = heapq.nlargest(SNIPPET_FRAGMENTS, iter(scored))
        cuts = sorted(((cut.start, cut.end, cut.matches) for _, cut in best), key=itemgetter(0))
    return [Fragment(start, end, [token[:2] for token in matches]) for start, end, matches in cuts]


def _score(matches: list[tuple[int, int, str]]) -> int:
    """``BasicFragmentScorer``'s score of a fragment: its matches, times a hundred times the
    different words among them."""
    return len(matches) * len({token[2] for token in matches}) * 100


class _Cut:
    """A fragment being chosen. It compares as Whoosh's ``Fragment`` does, by its start
    alone (equal starts are neither less nor equal), so that ties between fragments of
    equal score fall as in ``highlight.top_fragments``."""

    __slots__ = ("start", "end", "matches")

    def __init__(self, start: int, end: int, matches: list[tuple[int, int, str]]) -> None:
        self.start, self.end, self.matches = start, end, matches

    def __lt__(self, other: _Cut) -> bool:
        return self.start < other.start


def _longest_at_each_start(tokens: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Of the matches that start at the same character (a joined name and its first word),
    the longer one, which is marked (the first of equals)."""
    kept: list[tuple[int, int, str]] = []
    for token in tokens:
        if kept and kept[-1][0] == token[0]:
            if token[1] - token[0] > kept[-1][1] - kept[-1][0]:
                kept[-1] = token
        else:
            kept.append(token)
    return kept


def _pinpointed(tokens: list[tuple[int, int, str]], length: int
                ) -> list[tuple[int, int, list[tuple[int, int, str]]]]:
    """``(start, end, matches)`` of each fragment, as Whoosh's
    ``PinpointFragmenter.fragment_matches`` cuts them: a match, the next ones while they
    end within the surround of the last and the fragment's width, then the surround on
    each side."""
    maxchars, surround, count = SNIPPET_FRAGMENT_CHARS, SNIPPET_SURROUND_CHARS, len(tokens)
    cuts = []
    at = 0
    while at < count:
        last = at
        left, right, _ = tokens[at]
        width = right - left
        while last < count - 1 and width < maxchars:
            start, end, _ = tokens[last + 1]
            if end - right > surround or end - left > maxchars:
                break
            last, right, width = last + 1, end, width + end - start
        cuts.append((max(0, left - surround), min(length, right + surround),
                     tokens[at:last + 1]))
        at = last + 1
    return cuts


# A fragment as a plain tuple, ``(start, end, matches)``: making a Fragment costs a call.
_Stretch = tuple[int, int, list[Span]]


def _snap_to_words(text: str, fragment: Fragment) -> _Stretch:
    """Move a fragment's ends inwards to whole words, never past a match."""
    start, end, matches = fragment
    first, last = matches[0][0], matches[-1][1]
    if start > 0 and not text[start - 1].isspace():
        space = _SPACE.search(text, start, first)
        start = space.end() if space else first
    if end < len(text) and not text[end].isspace():
        end = _last_space_start(text, last, end)
    while start < first and text[start].isspace():
        start += 1
    return start, end, matches


def _last_space_start(text: str, start: int, end: int) -> int:
    """Where the last run of spaces in ``text[start:end]`` begins (``start`` if none):
    walked back from the end, over a word or two, not found over the whole stretch."""
    at = end - 1
    while at >= start and not text[at].isspace():
        at -= 1
    if at < start:
        return start
    while at >= start and text[at].isspace():
        at -= 1
    return at + 1


def _merge_overlapping(fragments: list[_Stretch]) -> list[_Stretch]:
    """Fragments in text order, those that overlap or touch joined into one."""
    merged: list[_Stretch] = []
    for start, end, matches in sorted(fragments, key=itemgetter(0)):
        if merged and start <= merged[-1][1] + 1:
            last_start, last_end, last_matches = merged[-1]
            merged[-1] = (last_start, max(last_end, end), sorted({*last_matches, *matches}))
        else:
            merged.append((start, end, matches))
    return merged


def _join_fragments(text: str, fragments: list[Fragment]) -> tuple[str, tuple[Span, ...]]:
    """One snippet string from the fragments, with the matches' offsets within it."""
    pieces: list[str] = []
    spans: list[Span] = []
    length = 0  # of the pieces so far
    merged = _merge_overlapping([_snap_to_words(text, f) for f in fragments if f.matches])
    for number, (start, end, matches) in enumerate(merged):
        opening = SNIPPET_SEPARATOR if number else ("…" if start > 0 else "")
        pieces.append(opening)
        length += len(opening)
        position = start
        for match_start, match_end in matches:
            if match_start < position:
                continue
            between = _one_space(text[position:match_start])
            length += len(between)
            spans.append((length, length + match_end - match_start))
            length += match_end - match_start
            pieces += (between, text[match_start:match_end])
            position = match_end
        closing = _one_space(text[position:end]).rstrip()
        pieces.append(closing)
        length += len(closing)
    if merged and merged[-1][1] < len(text.rstrip()):
        pieces.append("…")
    return "".join(pieces), tuple(spans)


def _one_space(text: str) -> str:
    """``text`` with each run of spaces made one space, as ``_SPACE.sub(" ", text)`` makes
    it (``str.split`` and ``\\s`` know the same spaces), in a third of the time."""
    words = text.split()
    if not words:
        return " " if text else ""
    return "".join((" " if text[0].isspace() else "", " ".join(words),
                    " " if text[-1].isspace() else ""))


def _lead(text: str) -> str:
    """The opening of ``text``, cut at a word, for hits with no match in the body."""
    flat = " ".join(text.split())
    if len(flat) <= SNIPPET_LEAD_CHARS:
        return flat
    return flat[:SNIPPET_LEAD_CHARS].rsplit(" ", 1)[0] + "…"
