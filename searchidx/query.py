"""The query language: turning what a reader types into a Whoosh query.

Plain words must all match, in the title or the body. Also understood: ``"exact
phrase"``, ``AND``/``OR``/``NOT``, ``-word``, ``field:value`` (title, body, place, source,
date, id), ``date:2024-03..2024-12``, ``prefix*`` and ``word~`` (fuzzy). The analysis
rules (folding, stemming) apply inside all of them. On top of Whoosh's parser:

- **aliases**: a run of query words that is a term of an alias group finds every term of
  the group ("DPRK" finds "North Korea"); a term of several words matches as a phrase;
- **joined names**: each run of two or three adjacent query words also matches the words
  written as one ("Ha Noi" finds "Hanoi", "Buon Ma Thuot" finds "Buonmathuot", "Kim
  Jongun" finds "Kim Jong-un"); the index side joins names written apart, so "Hanoi"
  finds "Hà Nội";
- **accents**: words typed with diacritics add a bonus for articles that spell them
  exactly so, so "Sơn" ranks "Bùi Thanh Sơn" above an English "son"; a query without
  diacritics treats every spelling alike.

Malformed syntax falls back to the plain words, with a notice that says so. A query of
plain words only (the common case) is built without Whoosh's parser, into the query the
parser would make (a property test compares the two).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from whoosh import qparser
from whoosh.qparser import plugins, syntax
from whoosh.query import And, AndMaybe, AndNot, MultiTerm, NullQuery, Or, Phrase, Term

from .aliases import Aliases, AliasMatch
from .analysis import JOINED_MAX_WORDS, is_acronym, tokenize
from .budget import Budget
from .engine.whoosh_adapter import FuzzyTermOfWords, expanded_words
from .settings import (ANY_WORD_COORDINATION, EXACT_SPELLING_BOOST, FUZZY_PREFIX_LETTERS,
                       HEADLINE_MIN_WORDS, MAX_FUZZY_EDITS, MAX_QUERY_CHARS, MAX_QUERY_EXPANSION,
                       MAX_TERM_EXPANSION, MIN_WILDCARD_PREFIX)

__all__ = ["ParsedQuery", "QueryBuilder", "bounded", "expanded", "has_exclusion",
           "joined_notices", "plain_words", "syntax_problem", "words_within"]

SEARCH_FIELDS = ("title", "body")
QUERY_FIELDS = frozenset({"title", "body", "place", "source", "date", "id"})
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}
_FIELD_PREFIX = re.compile(r'(?:^|[\s(+-])(\w+):(?=(\S?))')
_HYPHEN = "-"
_OPERATOR_WORD = re.compile(rf"\b(?:{'|'.join(_OPERATORS)})\b")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_PLAIN_WORD = re.compile(r"\w+")
_WILDCARD = re.compile(r"[*?]")
_FUZZY = re.compile(r"~(\d*)(?:/\d*)?\)*$")
_PARTIAL_DATE = r"\d{4}(?:-\d{1,2}){0,2}"
_DATE_VALUE = re.compile(r"\bdate:(\[[^\]]*\]?|\S+)")
_CALENDAR_DATE = re.compile(r"\b\d{4}-\d{1,2}(?:-\d{1,2})?\b")
_DATE_RANGE = re.compile(rf"\bdate:({_PARTIAL_DATE})?\.\.({_PARTIAL_DATE})?(?=\s|\)|$)")


class ParsedQuery(NamedTuple):  # not a dataclass: making one takes a cold start ~1 ms
    """A Whoosh query, and how the text was read when it was not read as written."""

    query: object
    notice: str | None = None
    exact: object | None = None
    """The query's accented words and acronyms as spelled: articles that match it rank
    above those that match only once folded. None when the query has none."""


def syntax_problem(text: str) -> str | None:
    """Why ``text`` is not well-formed query syntax, or None if it is."""
    if text.count('"') % 2:
        return "unbalanced quote"
    outside_quotes = re.sub(r'"[^"]*"', "phrase", text)
    depth = 0
    for char in outside_quotes:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
    if depth:
        return "unbalanced parenthesis"
    for match in _FIELD_PREFIX.finditer(outside_quotes):
        name, following = match[1], match[2]
        if name not in QUERY_FIELDS:
            return f"unknown field {name!r}"
        if not following or following in "()":
            return f"nothing after {name}:"
    for word in outside_quotes.split():
        problem = _wildcard_or_fuzzy_problem(word)
        if problem:
            return problem
    date_problem = _date_problem(outside_quotes)
    if date_problem:
        return date_problem
    words = outside_quotes.replace("(", " ( ").replace(")", " ) ").split()
    for before, word, after in zip(["("] + words, words, words[1:] + [")"]):
        if word in _OPERATORS - {"NOT"} and (before in _OPERATORS | {"("}
                                             or after in _OPERATORS | {")"}):
            return f"{word} needs a word on each side"
        if word == "NOT" and after in _OPERATORS | {")"}:
            return "NOT needs a word after it"
    return None


def _date_problem(text: str) -> str | None:
    """A ``date:`` value naming a month or day the calendar does not have (1987-02-30)."""
    values = " ".join(match[1] for match in _DATE_VALUE.finditer(text))
    for written in _CALENDAR_DATE.findall(values):
        year, month, day = (int(part) for part in (written + "-1-1").split("-")[:3])
        try:
            dt.date(year, month, day)
        except ValueError:
            return f"{written} is not a date"
    return None


def _wildcard_or_fuzzy_problem(word: str) -> str | None:
    """Wildcards and fuzziness that would expand to a large part of the vocabulary."""
    term = word.split(":", 1)[-1].lstrip("(+-")
    wildcard = _WILDCARD.search(term)
    if wildcard and len(re.sub(r"\W", "", term[:wildcard.start()])) < MIN_WILDCARD_PREFIX:
        return f"a wildcard needs at least {MIN_WILDCARD_PREFIX} letters before it"
    fuzzy = _FUZZY.search(term)
    if fuzzy and int(fuzzy[1] or 1) > MAX_FUZZY_EDITS:
        return f"fuzzy matching allows at most ~{MAX_FUZZY_EDITS} edits"
    return None


class QueryBuilder:
    """Builds Whoosh queries for one schema and one set of aliases (None: no aliases)."""

    def __init__(self, schema, aliases: Aliases | None, reader=None) -> None:
        self.schema = schema
        self.aliases = aliases
        self.reader = reader  # to offer only the joined words the index has; None: all
        self._indexed: dict[str, bool] = {}

    def parse(self, text: str, *, any_word: bool = False) -> ParsedQuery:
        """Parse ``text``; ``any_word=True`` lets articles match some of the words."""
        text, shortened = bounded(text)
        text = _DATE_RANGE.sub(_date_range_syntax, _headline_operators_as_words(text))
        excluded = _only_excluded(text)
        if excluded:
            return ParsedQuery(NullQuery, joined_notices(shortened, _only_exclusions(excluded)))
        problem = syntax_problem(text)
        if problem is None and not any_word and _are_plain(words := text.split()):
            return self._finished(self._plain_words_query(words), text, shortened)
        if problem is None:
            query, problem = _parse_or_why_not(self._parser(any_word), text)
            if query is not None:
                return self._finished(query, text, shortened)
        return self.plain(text, problem, any_word=any_word, shortened=shortened)

    def plain(self, text: str, problem: str, *, any_word: bool = False,
              shortened: str | None = None) -> ParsedQuery:
        """The plain words of a query that could not be read as written, and why."""
        words = plain_words(text)
        notice = (f"could not read the query {text!r} ({problem}); searching for the words: "
                  f"{' '.join(words) or '(none)'}")
        query = self._parser(any_word).parse(" ".join(words)) if words else NullQuery
        return self._finished(query, text, joined_notices(shortened, notice))

    def _parser(self, any_word: bool):
        group = qparser.OrGroup.factory(ANY_WORD_COORDINATION) if any_word else qparser.AndGroup
        parser = qparser.MultifieldParser(list(SEARCH_FIELDS), self.schema, group=group)
        # Apostrophes are part of names ("People's"), not quotes; "*:*" must not list everything.
        parser.remove_plugin_class(plugins.SingleQuotePlugin)
        parser.remove_plugin_class(plugins.EveryPlugin)
        # "-word" excludes only at the start of a word: "Jong-un" is a name, not "Jong -un".
        parser.add_plugin(plugins.PlusMinusPlugin(plusexpr=r"(?:(?<=[\s(])|^)\+(?=\S)",
                                                  minusexpr=r"(?:(?<=[\s(])|^)-(?=\S)"))
        parser.add_plugin(plugins.FuzzyTermPlugin())
        parser.add_plugin(_NamesAndAliasesPlugin(self))
        return parser

    def _plain_words_query(self, words: Sequence[str]):
        """The query Whoosh's parser (with the plugin below) makes of plain words, made
        without it: its generic machinery (taggers, filters, syntax nodes) took about a
        sixth of a typical search's time, for queries that need none of it."""
        parts = []
        for index, alternatives in self.read_run(words):
            if index is None:  # an alias group
                parts.extend(alternatives)
                continue
            (term,) = self._prose_terms(words[index])  # a plain word is one term
            word = Or([Term(field, term) for field in SEARCH_FIELDS])
            parts.append(Or([word, *alternatives]) if alternatives else word)
        return And(parts).normalize()

    def read_run(self, words: Sequence[str]) -> list[tuple[int | None, list]]:
        """How a run of plain query words is read, in order: ``(index, queries)`` for each
        word, with the queries of the joined forms it may also match ("Ha Noi" → "HaNoi",
        "Jong-un" → "Jongun"); ``(None, [query])`` for each run of words that is a term of
        an alias group ("DPRK", "North Korea"), matching the whole group."""
        matches = self.aliases.find(list(words)) if self.aliases else []
        parts: list[tuple[int | None, list]] = []
        position = 0
        for match in [*matches, None]:
            stop = match.start if match else len(words)
            parts.extend((position + index, joined) for index, joined
                         in enumerate(self._joined_forms(words[position:stop])))
            if match:
                parts.append((None, [self.alias_query(match)]))
                position = match.end
        return parts

    def _joined_forms(self, words: Sequence[str]) -> list[list]:
        """For each word, the queries of its joined forms that the index has: each run of
        two or three adjacent words it is in ("Buon Ma Thuot" → "BuonMa", "BuonMaThuot")."""
        joined = []
        for index, word in enumerate(words):
            forms = ["".join(words[start:start + length])
                     for length in range(2, JOINED_MAX_WORDS + 1)
                     for start in range(max(index - length + 1, 0),
                                        min(index, len(words) - length) + 1)]
            if _HYPHEN in word:
                forms.append(word.replace(_HYPHEN, ""))
            # A joined word the index lacks would match nothing, at the cost of a matcher.
            joined.append([self.any_field(form) for form in forms if self.is_indexed(form)])
        return joined

    def _finished(self, query, text: str, notice: str | None) -> ParsedQuery:
        """The query with a bonus for the exact spellings of its accented words and
        acronyms, which also rank first (see :attr:`ParsedQuery.exact`)."""
        words = dict.fromkeys(t.text for t in self.schema["exact"].analyzer(text, mode="query")
                              if t.text not in _OPERATORS)
        if query is NullQuery or not words:
            return ParsedQuery(query, notice)
        exact = Or([Term("exact", word, boost=EXACT_SPELLING_BOOST) for word in words])
        return ParsedQuery(AndMaybe(query, exact), notice, exact)

    # --- building blocks for the plugin -----------------------------------------------

    def any_field(self, text: str):
        """``text`` in the title or the body: a term, or a phrase if it has several words;
        an acronym ("UN") only as written in capitals."""
        if is_acronym(text):
            return Term("exact", text)
        words = self._prose_terms(text)
        if len(words) == 1:
            return Or([Term(field, words[0]) for field in SEARCH_FIELDS])
        return Or([Phrase(field, words) for field in SEARCH_FIELDS])

    def _prose_terms(self, text: str) -> list[str]:
        """The title and body terms of ``text`` as a query reads it (folded, stemmed)."""
        return list(self.schema["body"].process_text(text, mode="query"))

    def is_indexed(self, word: str) -> bool:
        """Whether ``word`` is a term of the title or the body (True without a reader)."""
        if self.reader is None:
            return True
        if word not in self._indexed:  # a joined pair is asked about from both its words
            terms = self._prose_terms(word)
            self._indexed[word] = len(terms) == 1 and any(
                (field, terms[0]) in self.reader for field in SEARCH_FIELDS)
        return self._indexed[word]

    def alias_query(self, match: AliasMatch):
        """Any term of the matched alias group, each kept apart from longer terms of other
        groups that contain it ("Republic of Korea" is not "…People's Republic of Korea")."""
        assert self.aliases is not None
        alternatives = []
        for form in match.forms:
            query = self.any_field(form)
            longer = self.aliases.longer_forms_containing(form)
            if longer:
                query = AndNot(query, Or([self.any_field(other) for other in longer]))
            alternatives.append(query)
        return Or(alternatives)


def bounded(text: str) -> tuple[str, str | None]:
    """The query without control characters, cut at a word if it is too long to be a
    query (with a notice saying so)."""
    text = _CONTROL.sub(" ", text).strip()
    if len(text) <= MAX_QUERY_CHARS:
        return text, None
    cut = text[:MAX_QUERY_CHARS].rsplit(" ", 1)[0] or text[:MAX_QUERY_CHARS]
    return cut, f"the query was cut to its first {len(cut)} characters"


_ONLY_EXCLUSIONS = ("nothing to search for: the query only excludes words ({words}); "
                    "add a word to look for, as in “{example} -{first}”")
# The word that example offers, unless the excluded word is that one.
_EXCLUSION_EXAMPLES = ("Korea", "Vietnam")


def _only_exclusions(excluded: list[str]) -> str:
    """The notice for a query of exclusions alone, with an example that looks for a word
    it does not exclude."""
    example = next(word for word in _EXCLUSION_EXAMPLES
                   if word.lower() != excluded[0].lower())
    return _ONLY_EXCLUSIONS.format(words=", ".join(excluded), first=excluded[0],
                                   example=example)


def _only_excluded(text: str) -> list[str]:
    """The excluded words of a query that has nothing but exclusions (``-oil``,
    ``NOT oil``, ``-oil -gas``); empty if it looks for something."""
    words = re.sub(r'"([^"]*)"', lambda match: match[1].replace(" ", "_"), text)
    words = words.replace("(", " ").replace(")", " ").split()
    excluded = []
    for before, word in zip(["", *words], words):
        if word.startswith("-") and len(word) > 1:
            excluded.append(word[1:])
        elif before == "NOT" and word not in _OPERATORS:
            excluded.append(word)
        elif word not in _OPERATORS:
            return []
    return [word.replace("_", " ") for word in excluded]


def has_exclusion(text: str) -> bool:
    """Whether a query excludes something (``-word``, ``NOT word``; in a pasted headline,
    NOT is a word)."""
    return bool(_EXCLUSION.search(_headline_operators_as_words(text)))


_EXCLUSION = re.compile(r"(?:^|[\s(])(?:-(?=\S)|NOT\s)")


def joined_notices(*notices: str | None) -> str | None:
    """The notices that were given, in one line (None if none was)."""
    return "; ".join(notice for notice in notices if notice) or None


def _parse_or_why_not(parser, text: str):
    """``(query, None)``, or ``(None, problem)`` if Whoosh cannot make sense of ``text``."""
    try:
        query = parser.parse(text)
    except Exception as error:  # noqa: BLE001 (Whoosh raises bare Exceptions for bad dates)
        return None, str(error) or type(error).__name__
    return (query, None) if query is not NullQuery else (None, "nothing to search for")


def _are_plain(words: Sequence[str]) -> bool:
    """Whether there are words, each letters and digits only and none an operator."""
    return bool(words) and all(_PLAIN_WORD.fullmatch(word) and word not in _OPERATORS
                               for word in words)


def _headline_operators_as_words(text: str) -> str:
    """In a long query written all in capitals (a pasted headline, "BANK OF ENGLAND DOES
    NOT INTERVENE"), AND/OR/NOT are words, not operators."""
    letters = [char for char in text if char.isalpha()]
    shouted = bool(letters) and all(char.isupper() for char in letters)
    if not shouted or len(text.split()) < HEADLINE_MIN_WORDS:
        return text
    return _OPERATOR_WORD.sub(lambda match: match[0].lower(), text)


def plain_words(text: str) -> list[str]:
    """The folded words of a query, without its operators (unless nothing else is left)."""
    words = [word for word in text.split() if word.strip("()") not in _OPERATORS]
    return tokenize(" ".join(words)) or tokenize(text)


def _date_range_syntax(match: re.Match[str]) -> str:
    """``date:2024-03..2024-12`` in Whoosh's range syntax, ``date:[2024-03 TO 2024-12]``;
    either end may be left open (``date:2024..``)."""
    start, end = match[1], match[2]
    if not (start or end):
        return match[0]
    return f"date:[{start + ' ' if start else ''}TO{' ' + end if end else ''}]"


# --- expanding the terms that stand for many --------------------------------------------------

def expanded(query, reader, budget: Budget) -> tuple[object, list[str]]:
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


class _Expander:
    def __init__(self, reader, budget: Budget) -> None:
        self.reader, self.budget = reader, budget
        self.room = MAX_QUERY_EXPANSION  # words the rest of the query may still expand to
        self.cuts: dict[str, int] = {}  # how many words each cut term was searched for

    def walk(self, query):
        if isinstance(query, MultiTerm):
            return self.expand(query)
        if not query.children():
            return query
        rebuilt = query.apply(self.walk)
        for setting in ("scale", "minmatch"):  # Whoosh's apply() keeps only the boost
            if hasattr(query, setting):
                setattr(rebuilt, setting, getattr(query, setting))
        return rebuilt

    def expand(self, query):
        """The words of the index ``query`` stands for, as an Or of terms."""
        field = query.field()
        if field not in self.reader.schema:
            return NullQuery
        cap = max(1, min(MAX_TERM_EXPANSION, self.room))
        words: list = []
        if isinstance(query, _StemmedFuzzyTerm):  # the one expansion that scans many words
            found = query.stemmed_words(self.reader, self.budget)
        else:
            found = iter(expanded_words(query)(self.reader))
        for word in found:
            words.append(word)
            if len(words) == cap or self.budget.stop_if_exhausted():
                break
        if len(words) == cap and next(found, None) is not None:
            shown = _shown(query)  # the same for its title and its body
            self.cuts[shown] = min(cap, self.cuts.get(shown, cap))
        self.room -= len(words)
        texts = [self.reader.schema[field].from_bytes(word) if isinstance(word, bytes)
                 else word for word in words]
        return Or([Term(field, text, boost=query.boost) for text in texts]).normalize()


def _cut_notice(shown: str, cap: int) -> str:
    searched = f"the first {cap} were" if cap > 1 else "the first was"
    return (f"“{shown}” stands for more words of the index than a query may search: only "
            f"{searched} searched")


def _shown(query) -> str:
    """A query part as a reader typed it: without the field when it is title or body."""
    text = str(query)
    field = query.field()
    return text.removeprefix(f"{field}:") if field in SEARCH_FIELDS else text


# --- the parser plugin ------------------------------------------------------------------------

class _StemmedFuzzyTerm(FuzzyTermOfWords):
    """A fuzzy term on a stemmed field. Whoosh looks for words within the edit distance
    among the unstemmed words it keeps for spelling, but the field holds stemmed terms:
    each candidate is stemmed before it is looked up ("ministers~" finds "minist")."""

    def words(self, reader):
        return self.stemmed_words(reader, None)

    def stemmed_words(self, reader, budget: Budget | None) -> Iterator[str]:
        """The field's terms this fuzzy word stands for, each once (see :func:`words_within`)."""
        field = reader.schema[self.fieldname]
        seen: set[str] = set()
        for word in words_within(reader, self.fieldname, self.text, self.maxdist,
                                 self.prefixlength, budget):
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


class _BuiltQuery(syntax.SyntaxNode):
    """A syntax node that carries a query built here (Whoosh's own nodes build theirs)."""

    def __init__(self, query) -> None:
        self.built = query
        self.startchar = self.endchar = None

    def r(self) -> str:
        return repr(self.built)

    def query(self, parser):  # noqa: ARG002 (Whoosh's signature)
        return self.built


class _NamesAndAliasesPlugin(plugins.Plugin):
    """Rewrites runs of plain query words: alias terms become their whole group, and each
    word may also match joined to its neighbour. Runs after field names are assigned
    (priority 100) and before words are spread over title and body (110)."""

    def __init__(self, builder: QueryBuilder) -> None:
        self.builder = builder

    def filters(self, parser):  # noqa: ARG002 (Whoosh's plugin interface)
        return [(self.rewrite, 105)]

    def rewrite(self, parser, group):
        for index, node in enumerate(group.nodes):
            if isinstance(node, syntax.GroupNode):
                group.nodes[index] = self.rewrite(parser, node)
            elif isinstance(node, plugins.FuzzyTermPlugin.FuzzyTermNode):
                node.qclass = _StemmedFuzzyTerm
                node.prefixlength = max(node.prefixlength, FUZZY_PREFIX_LETTERS)
        for start, end in reversed(_plain_runs(group.nodes)):
            words = [n for n in group.nodes[start:end] if not n.is_ws()]
            group.nodes[start:end] = self._expand(words)
        return group

    def _expand(self, words: list) -> list:
        """The nodes that replace a run of plain word nodes."""
        nodes = []
        for index, alternatives in self.builder.read_run([word.text for word in words]):
            built = [_BuiltQuery(query) for query in alternatives]
            if index is None:
                nodes.extend(built)
            else:
                nodes.append(syntax.OrGroup([words[index], *built]) if built else words[index])
        return nodes


def _plain_runs(nodes: list) -> list[tuple[int, int]]:
    """``(start, end)`` of each run of plain words (no field, no operator, not negated)."""
    runs: list[tuple[int, int]] = []
    start = last_word = None
    previous = None
    for index, node in enumerate(nodes):
        if node.is_ws():
            continue
        plain = (type(node) is syntax.WordNode and node.fieldname is None
                 and not _negates(previous))
        if plain:
            start = index if start is None else start
            last_word = index
        elif start is not None:
            runs.append((start, last_word + 1))
            start = None
        previous = node
    if start is not None:
        runs.append((start, last_word + 1))
    return runs


def _negates(node) -> bool:
    """Whether ``node`` applies to the word after it (NOT, -, +)."""
    return isinstance(node, syntax.PrefixOperator) or (
        isinstance(node, syntax.MarkerNode) and not node.is_ws())
