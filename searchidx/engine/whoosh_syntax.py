"""Reading the query language's syntax with Whoosh's query parser, into the query tree.

The parser reads operators, fields, phrases, ranges, wildcards and fuzzy words; searchidx
rewrites each run of plain words itself (aliases, joined names) through ``read_run``, a
callback of :class:`searchidx.query.QueryBuilder`, and gets back a tree
(:mod:`.tree`). Only the syntax is Whoosh's: the tree is what every engine runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from . import tree
from .compile import from_whoosh, to_whoosh
from .schema import build_schema
from ..settings import ANY_WORD_COORDINATION, FUZZY_PREFIX_LETTERS

from whoosh import qparser  # noqa: E402 (after the adapter's version check, in .compile)
from whoosh.qparser import plugins, syntax  # noqa: E402

__all__ = ["ReadRun", "parse"]

ReadRun = Callable[[Sequence[str]], list[tuple["int | None", list[tree.Query]]]]
"""How a run of plain words is read: ``(index, queries)`` for each word, with the
queries it may also match; ``(None, [query])`` for a run of words that stands for a
query of its own (see :meth:`searchidx.query.QueryBuilder.read_run`)."""


def parse(text: str, fields: Sequence[str], read_run: ReadRun,
          any_word: bool = False) -> tree.Query:
    """The tree of a query's ``text``: its plain words searched in ``fields`` (all of
    them, or, with ``any_word``, some), each run of them read by ``read_run``.
    Raises an exception (Whoosh's, or ValueError) for text it cannot read."""
    return from_whoosh(_parser(fields, read_run, any_word).parse(text))


# The fields' analyzers are the parser's: those of the current schema (made once).
_schema = functools.cache(build_schema)


def _parser(fields: Sequence[str], read_run: ReadRun, any_word: bool):
    group = qparser.OrGroup.factory(ANY_WORD_COORDINATION) if any_word else qparser.AndGroup
    parser = qparser.MultifieldParser(list(fields), _schema(), group=group)
    # Apostrophes are part of names ("People's"), not quotes; "*:*" must not list everything.
    parser.remove_plugin_class(plugins.SingleQuotePlugin)
    parser.remove_plugin_class(plugins.EveryPlugin)
    # "-word" excludes only at the start of a word: "Jong-un" is a name, not "Jong -un".
    parser.add_plugin(plugins.PlusMinusPlugin(plusexpr=r"(?:(?<=[\s(])|^)\+(?=\S)",
                                              minusexpr=r"(?:(?<=[\s(])|^)-(?=\S)"))
    parser.add_plugin(plugins.FuzzyTermPlugin())
    parser.add_plugin(_PlainRunsPlugin(read_run))
    return parser


class _BuiltQuery(syntax.SyntaxNode):
    """A syntax node that carries a query built by searchidx (Whoosh's own nodes build
    theirs)."""

    def __init__(self, query: tree.Query) -> None:
        self.built = to_whoosh(query)
        self.startchar = self.endchar = None

    def r(self) -> str:
        return repr(self.built)

    def query(self, parser):  # noqa: ARG002 (Whoosh's signature)
        return self.built


class _PlainRunsPlugin(plugins.Plugin):
    """Rewrites runs of plain query words through ``read_run``: alias terms become their
    whole group, and each word may also match joined to its neighbour. Runs after field
    names are assigned (priority 100) and before words are spread over the fields (110)."""

    def __init__(self, read_run: ReadRun) -> None:
        self.read_run = read_run

    def filters(self, parser):  # noqa: ARG002 (Whoosh's plugin interface)
        return [(self.rewrite, 105)]

    def rewrite(self, parser, group):
        for index, node in enumerate(group.nodes):
            if isinstance(node, syntax.GroupNode):
                group.nodes[index] = self.rewrite(parser, node)
            elif isinstance(node, plugins.FuzzyTermPlugin.FuzzyTermNode):
                node.prefixlength = max(node.prefixlength, FUZZY_PREFIX_LETTERS)
        for start, end in reversed(_plain_runs(group.nodes)):
            words = [n for n in group.nodes[start:end] if not n.is_ws()]
            group.nodes[start:end] = self._expand(words)
        return group

    def _expand(self, words: list) -> list:
        """The nodes that replace a run of plain word nodes."""
        nodes = []
        for index, alternatives in self.read_run([word.text for word in words]):
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
