"""The index's schema: the Whoosh fields of an article, and the storage of a generation.

The prose fields (title, body) and the exact-forms field are indexed in one pass of
:mod:`searchidx.analysis`; the pair signature and the recorded values are kept in
columns. Index files name these classes (those written before the engine owned them
name them under :mod:`searchidx.index`, which still names them).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from . import whoosh_adapter  # noqa: F401 (the version check, before any Whoosh import)
from ..analysis import (ANALYSIS_VERSION, PAIR_SIGNATURE_BYTES, Prose, WordForms, exact_terms,
                        pair_extension, pair_signature, spelling_words)
from ..settings import PLACE_BOOST, TITLE_BOOST
from .codec import Occurrences, RepeatedBytesColumn
from .pool import CountedTerms, OccurringTerms

from whoosh.fields import ID, TEXT  # noqa: E402
from whoosh.formats import Characters  # noqa: E402

__all__ = ["ExactText", "PairExtension", "PairSignature", "Recorded", "SpelledText",
           "analysis_version", "build_schema", "storage"]


class SpelledText(TEXT):
    """A prose field (title, body) indexed in one pass, its spelling words written once.

    Whoosh runs the analyzer's chain of filters once per token, then again for the
    spelling words; the same chain run in one pass (:class:`~searchidx.analysis.WordForms`)
    makes the same terms, folding and stemming each distinct word once. And Whoosh adds the words of
    every article to the field's spelling list, one posting per article and word, only
    to record which words exist: a writer gets its own copy of the schema, so here each
    word is written once per writer. With ``chars=True`` where each word occurs is kept
    as :class:`~searchidx.engine.codec.Occurrences` (an index written before keeps Whoosh's
    ``Characters``). Index files name this class: keep its name and module.

    The field records the analysis version its terms were made with (the schema is saved
    with the index, and an update keeps the saved one): see :func:`analysis_version`.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if type(self.format) is Characters:
            self.format = Occurrences(field_boost=self.format.field_boost)
        self.analysis_version = ANALYSIS_VERSION

    def index(self, value, **kwargs):
        forms = self._word_forms()
        if kwargs or not isinstance(value, str) or forms is None:
            return super().index(value, **kwargs)
        prose = forms.prose(value)
        self.__dict__["_last_prose"] = (value, prose)  # one tuple: read whole or not at all
        postings = OccurringTerms(prose.terms, self.format.field_boost, self.format.encode)
        # (a format of an index written before is another layout: its postings go as any
        # field's, through the term pool's Python loop)
        return postings if _varying(self.format) else iter(postings)

    def prose_of(self, value: str) -> Prose | None:
        """The prose this field made of ``value`` (the very object) last, if it did."""
        last_value, prose = self.__dict__.get("_last_prose", (None, None))
        return prose if last_value is value else None

    def _word_forms(self) -> WordForms | None:
        """The field's analyzer run in one pass (None if it is not a chain of word filters)."""
        if "_forms" not in self.__dict__:
            try:
                self.__dict__["_forms"] = WordForms(self.analyzer)
            except TypeError:
                self.__dict__["_forms"] = None
        return self.__dict__["_forms"]

    def spellable_words(self, value: str) -> Iterator[str]:
        prose = self.prose_of(value)
        words = prose.plain if prose is not None else spelling_words(value)
        written = self.__dict__.setdefault("_written_words", set())
        words = words - written
        written.update(words)
        return iter(sorted(words))

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        for name in ("_written_words", "_last_prose", "_forms"):  # a writer's, never saved
            state.pop(name, None)
        return state


def _varying(format_) -> bool:
    """Whether a prose field's format writes the varying layout of Occurrences."""
    return type(format_) is Occurrences and format_.varying


class ExactText(TEXT):
    """The exact-forms field, indexed in one pass like :class:`SpelledText`."""

    def index(self, value, **kwargs):
        if kwargs or not isinstance(value, str):
            return super().index(value, **kwargs)
        return CountedTerms(exact_terms(value), self.format.field_boost)


class PairSignature(ID):
    """A prose text's pair signature (:func:`~searchidx.analysis.pair_signature`), kept
    in a column of fixed width: which articles can have a two-word phrase. It makes no
    index terms. Index files name this class: keep its name and module.

    ``prose`` is the field of the same text (saved with the schema, as a reference to
    that field): the signature is made from the terms it made of the very same value
    (Whoosh takes a document's fields in name order), else from the text again."""

    indexed = False

    def __init__(self, prose: SpelledText | None = None) -> None:
        from whoosh.columns import FixedBytesColumn

        super().__init__(sortable=FixedBytesColumn(PAIR_SIGNATURE_BYTES))
        self.prose = prose

    def to_column_value(self, value) -> bytes:
        value = str(value)
        field = getattr(self, "prose", None)  # None in an index written before it was kept
        return pair_signature(value, field.prose_of(value) if field is not None else None)


class PairExtension(ID):
    """A prose text's pair signature extension (:func:`~searchidx.analysis.pair_extension`,
    empty but for a long text), kept in a column of values of any length whose offsets are
    written (found at once, without adding up the lengths). Index files name this class:
    keep its name and module. ``prose`` as :class:`PairSignature`'s (every index that has
    this field has kept it)."""

    indexed = False

    def __init__(self, prose: SpelledText) -> None:
        super().__init__(sortable=whoosh_adapter.QuickVarBytesColumn(write_offsets_cutoff=0))
        self.prose = prose

    def to_column_value(self, value) -> bytes:
        value = str(value)
        return pair_extension(value, self.prose.prose_of(value))


class Recorded(ID):
    """A value the indexer keeps for each article (stored, in a column) but never
    searches: it makes no index terms. Index files name this class: keep its name."""

    indexed = False


def build_schema():
    """The Whoosh schema. Stored text is the original NFC text, so snippets keep accents."""
    from whoosh.columns import NumericColumn
    from whoosh.fields import DATETIME, STORED, Schema

    from ..analysis import exact_analyzer, name_analyzer, prose_analyzer

    prose, names = prose_analyzer(), name_analyzer()
    body = SpelledText(analyzer=prose, stored=True, chars=True, spelling=True)
    return Schema(
        id=ID(unique=True, stored=True, sortable=True),
        # A JSONL file's path is shared by its articles: kept once a segment.
        path=Recorded(stored=True, sortable=RepeatedBytesColumn()),
        # No spelling list of its own: corrections come from the body's words, and the
        # title's would double the terms written for a fifth more words.
        title=SpelledText(analyzer=prose, stored=True, chars=True, field_boost=TITLE_BOOST),
        body=body,
        # Phrases in the body are looked for only in the articles whose signature has
        # their pairs. An index built before has none.
        body_pairs=PairSignature(body),
        # A long body's signature fills up: its extension, of a size that grows with it,
        # rules out most of the phrases it passes. An index built before has none.
        body_pairs_long=PairExtension(body),
        # The words of title and body whose exact form matters (accented words, acronyms):
        # to rank exact spellings first, and to tell "UN" from "Jong-un". Not stored.
        exact=ExactText(analyzer=exact_analyzer(), phrase=False),
        # Undated articles sort as the oldest (Whoosh's default would make them the newest).
        date=DATETIME(stored=True, sortable=NumericColumn("Q", default=0)),
        place=TEXT(analyzer=names, stored=True, field_boost=PLACE_BOOST),
        source=TEXT(analyzer=names, stored=True),
        url=STORED(),
        hash=Recorded(stored=True, sortable=True),
        stamp=Recorded(stored=True, sortable=True),
    )


def analysis_version(schema) -> int:
    """The analysis version an index's terms were made with: 1 for an index written before
    the version was recorded."""
    return getattr(schema["body"], "analysis_version", 1)



def storage(folder: Path):
    """Whoosh's storage for a generation folder, reading files without ``mmap``.

    Whoosh copies each memory-mapped file it opens into a buffer of its own, so opening
    an index read the whole index into memory: time and memory that grew with the
    archive, for every search command and every writer. Plain reads open at once.
    """
    from whoosh.filedb.filestore import FileStorage

    return FileStorage(str(folder), supports_mmap=False)
