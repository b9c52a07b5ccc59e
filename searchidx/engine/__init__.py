"""The storage layer: everything below the query, on Whoosh's index files.

The layers above speak to :mod:`.interface` with the query tree of :mod:`.tree`; only
the modules here import Whoosh, and only :mod:`.whoosh_adapter` names its private parts.

- :mod:`.interface`: the protocols an engine implements (a snapshot to search and read,
  a writer) and their results, in searchidx's own types.
- :mod:`.tree`: the query tree, what a search asks any engine for.
- :mod:`.local`: the local engine, those protocols on Whoosh's index files.
- :mod:`.compile`: the tree as a Whoosh query and back, and the expansion of the terms
  that stand for many words of the index.
- :mod:`.whoosh_syntax`: the query language's syntax, read by Whoosh's parser into a tree.
- :mod:`.schema`: the fields of an article as the index keeps them.
- :mod:`.text`: the base classes of the analysis's filters, and the Porter stemmer.
- :mod:`.codec`: the on-disk format of postings and field lengths.
- :mod:`.pool`: the postings held term by term while a segment is written.
- :mod:`.parallel`: the writer that splits a large batch over processes.
- :mod:`.matching`: matching and scoring over whole posting lists.
- :mod:`.scoring`: BM25F, the one ranking function of the fast path and of Whoosh's matchers.
- :mod:`.manifest`: the checksums of a generation's files, and finding damage.
- :mod:`.whoosh_adapter`: every private name of Whoosh used, and the version check.
- :mod:`.format`: the format name and version each generation folder says it is in.
- :mod:`.legacy`: what it takes to read indexes written in an earlier format.
"""

from collections import Counter

# How often each fast path (and each slower path it falls back to) ran in this process:
# the fallbacks give the same results, so only these counts tell them apart.
counters: Counter[str] = Counter()

from .legacy import register_moved_classes  # noqa: E402 (needs ``counters``)

# Before any index file is unpickled: files of format version 1 name old module paths.
register_moved_classes()
