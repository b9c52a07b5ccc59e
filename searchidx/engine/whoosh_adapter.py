"""Every private name of Whoosh that searchidx uses, in one module.

searchidx reaches its speed below Whoosh's public API: it subclasses whoosh3's postings
writer and per-document reader, hooks the multiprocessing writer's workers and the expansion
of multi-term queries, and reads a reader's postings file and column files directly. Those
internals change between releases, so this module is checked at import against the
Whoosh distributions it was verified with (:data:`VERIFIED`) and refuses any other in one
line (:class:`~searchidx.errors.UnsupportedWhoosh`), rather than failing later with an
``AttributeError`` or falling back, unnoticed, to a slow path.
"""

from __future__ import annotations

import array
import contextlib
import importlib
import importlib.machinery
import importlib.util
import itertools
import os
import pickle
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import attrgetter, itemgetter
from pathlib import Path

from ..errors import UnsupportedWhoosh

# The distributions (and releases) that install the ``whoosh`` package and that the suite
# passed with (whoosh-reloaded 2.7.5 failed three tests: date ranges among them).
VERIFIED = {"whoosh3": "3.54.0"}
_KNOWN_DISTRIBUTIONS = frozenset({"whoosh3", "whoosh-reloaded", "whoosh"})


def installed_whoosh() -> dict[str, str]:
    """The distributions of Whoosh installed where the ``whoosh`` package that Python
    imports lies, with their versions, from the names of their ``.dist-info`` folders (one
    folder listing, 0.1 ms: asking ``importlib.metadata`` for each name took 2.4 ms of
    every command)."""
    spec = importlib.util.find_spec("whoosh")
    if spec is None or spec.origin is None:
        return {}
    found = {}
    for info in Path(spec.origin).parent.parent.glob("[Ww]hoosh*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").partition("-")
        name = name.lower().replace("_", "-")  # as a wheel's folder spells it
        if name in _KNOWN_DISTRIBUTIONS:
            found[name] = version
    return found


def check_whoosh(installed: dict[str, str]) -> None:
    """Raise :class:`UnsupportedWhoosh` unless exactly one verified Whoosh is installed."""
    if len(installed) == 1 and installed.items() <= VERIFIED.items():
        return
    found = ", ".join(f"{name}=={version}" for name, version in installed.items()) or "none"
    supported = " or ".join(f"{name}=={version}" for name, version in VERIFIED.items())
    raise UnsupportedWhoosh(f"searchidx works only with Whoosh as {supported} (installed: "
                            f"{found}); install that one alone")


check_whoosh(installed_whoosh())


class _DeferredModule(types.ModuleType):
    """A Whoosh module that is run only when one of its names is first used: the names that
    importers take at once are functions that load it then."""

    def __init__(self, name: str, called: Sequence[str]) -> None:
        super().__init__(name)
        self.__loaded = None
        self.__loading = threading.RLock()  # the web server's threads may use it at once
        for attribute in called:
            setattr(self, attribute, self.__calling(attribute))

    def __calling(self, attribute: str) -> Callable:
        return lambda *args, **kwargs: getattr(self.__module(), attribute)(*args, **kwargs)

    def __module(self) -> types.ModuleType:
        with self.__loading:
            if self.__loaded is None:  # found on its package's path: sys.modules holds this
                package = importlib.import_module(self.__name__.rpartition(".")[0])
                spec = importlib.machinery.PathFinder.find_spec(self.__name__, package.__path__)
                loaded = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(loaded)
                self.__loaded = loaded
        return self.__loaded

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):  # the import system's questions are not a use
            raise AttributeError(attribute)
        return getattr(self.__module(), attribute)


# The Whoosh modules a search imports and never runs, with the functions importers take
# from them at once: ``whoosh.query`` imports the English word-variation rules (``morph_en``:
# ~4 ms of regular expressions, a twentieth of a cold search) for ``Variations``, a query
# searchidx never makes; whoosh3 imports the hash tables of its own term dictionary
# (``filetables``), which searchidx's replaces, and with them ``hashlib``, whose loading
# of OpenSSL was ~3 % of a cold search.
_UNUSED_MODULES = {"whoosh.lang.morph_en": ["variations"], "whoosh.filedb.filetables": []}


def defer_unused_modules() -> None:
    """Load the modules of :data:`_UNUSED_MODULES` only if something uses them."""
    for name, called in _UNUSED_MODULES.items():
        if name not in sys.modules:  # (as an import would, in sys.modules and its package)
            package, _, leaf = name.rpartition(".")
            sys.modules[name] = deferred = _DeferredModule(name, called)
            setattr(importlib.import_module(package), leaf, deferred)


defer_unused_modules()

# Imported once the installed Whoosh is known to have the internals used below.
from whoosh.codec import whoosh3  # noqa: E402
from whoosh.columns import (FixedBytesColumn, RefBytesColumn, VarBytesColumn,  # noqa: E402
                            WrappedColumnWriter)
from whoosh.filedb.compound import CompoundStorage, SubFile  # noqa: E402
from whoosh import matching as matching_module, query as query_module  # noqa: E402
from whoosh.index import TOC  # noqa: E402
from whoosh.scoring import WeightingModel, WeightLengthScorer, WeightScorer  # noqa: E402
from whoosh.system import pack_ushort  # noqa: E402
from whoosh.util.numeric import byte_to_length  # noqa: E402

# --- scoring -----------------------------------------------------------------------------------


class LengthWeighting(WeightingModel):
    """A Whoosh weighting whose score of a term in a document is ``term_score(idf, weight,
    length, avg_length)``, with the statistics Whoosh's ``BM25F`` reads (a field that is
    not scorable scores its weight, as there)."""

    def __init__(self, term_score: Callable[[float, float, float, float], float]) -> None:
        self.term_score = term_score

    def supports_block_quality(self) -> bool:
        return True

    def scorer(self, searcher, fieldname: str, text, qf: int = 1):
        if not searcher.schema[fieldname].scorable:
            return WeightScorer.for_(searcher, fieldname, text)
        return _LengthScorer(searcher, fieldname, text, self.term_score)


class _LengthScorer(WeightLengthScorer):
    def __init__(self, searcher, fieldname: str, text, term_score) -> None:
        parent = searcher.get_parent()  # the statistics of the whole index
        self.idf = parent.idf(fieldname, text)
        self.avg_length = parent.avg_field_length(fieldname) or 1
        self.term_score = term_score
        self.setup(searcher, fieldname, text)

    def _score(self, weight: float, length: int) -> float:
        return self.term_score(self.idf, weight, length, self.avg_length)


# --- writing postings ------------------------------------------------------------------------


BaseCodec = whoosh3.W3Codec
"""The codec searchidx's own (:class:`~searchidx.engine.codec.Codec`) extends."""


def codec_settings(codec: whoosh3.W3Codec) -> dict:
    """The block size, compression level and inline limit a whoosh3 codec was made with."""
    return {"blocklimit": codec._blocklimit, "compression": codec._compression,
            "inlinelimit": codec._inlinelimit}


class PostingsWriter(whoosh3.W3PostingsWriter):
    """Writes blocks laid out as ``W3PostingsWriter`` lays them out (magic, then per block
    a length, the info and the data), each block's info and data made by ``encode_block``
    (see :func:`searchidx.engine.codec.encoded_block`)."""

    def __init__(self, postfile, encode_block: Callable[..., bytes], inline_max: int,
                 encode_tail: Callable[[list[Sequence[int]]], bytes], **settings) -> None:
        """``encode_tail``, given the document numbers of each of a term's blocks, makes
        the bytes written after its last block, within its extent (whoosh3 reads no
        further than the last block)."""
        super().__init__(postfile, **settings)
        self._encode_block = encode_block
        self._encode_tail = encode_tail
        self._inline_max = inline_max
        self._term_ids: list[Sequence[int]] = []
        self.term_info_class: type = InliningTermInfo
        """The kind of term info made: its ``to_bytes`` is what the terms file keeps."""

    def start_postings(self, format_, terminfo) -> None:
        # whoosh3's field writer makes a W3TermInfo (and keeps only what finish_postings
        # returns): it becomes this writer's kind, a subclass that adds no state
        terminfo.__class__ = self.term_info_class
        self._fixed_value = _fixed_value(format_)
        self._term_ids = []
        super().start_postings(format_, terminfo)

    def finish_postings(self):
        """As ``W3PostingsWriter.finish_postings``, but a term of at most ``inline_max``
        postings is kept in its term info, not in the postings file (whoosh3 3.54 calls
        ``set_inline``, which its term info lacks, so it only works with no inlining)."""
        if self.written() or len(self) > self._inline_max:
            return super().finish_postings()
        terminfo, self._terminfo = self._terminfo, None
        terminfo.add_block(self)
        # a format without values reads None for each posting, as from a block
        values = (None,) * len(self) if self._format.fixed_value_size() == 0 else self._values
        terminfo.set_inlined(self._ids, self._weights, values)
        return terminfo

    def inlines(self, count: int) -> bool:
        """Whether a term of ``count`` postings keeps them in its term info."""
        return count <= self._inline_max

    def _inlined_fields(self, format_, ids: Sequence[int], weights: Sequence[float],
                        values: Sequence[bytes | None], length_codes: bytes | None) -> tuple:
        """The fields (:func:`term_info_fields`) of the term info that ``start_postings``,
        ``add_postings`` and ``finish_postings`` make for a term of these postings, which
        it keeps (:meth:`inlines`), with no block filled and read back."""
        kept_weights = array.array("f", weights)  # whoosh3 keeps weights as 32-bit floats
        minlength, maxlength = None, 0
        if length_codes is not None:
            codes = bytes(map(length_codes.__getitem__, ids)).translate(None, b"\0")
            if codes:  # codes rise with lengths; 0 is none
                minlength, maxlength = byte_to_length(min(codes)), byte_to_length(max(codes))
        # the inlined postings as set_inlined keeps them
        inlined = (tuple(ids), counts_as_integers(tuple(kept_weights)),
                   tuple(self._kept_values(format_, values)))
        return (sum(kept_weights), len(ids), minlength, maxlength, max(0, max(weights)),
                ids[0], ids[-1], None, None, inlined)

    def _kept_values(self, format_, values: Sequence[bytes | None]) -> Sequence[bytes | None]:
        """The values the inlined postings of ``format_`` keep: as ``_fitted`` keeps them,
        or None each in a format without values."""
        self._fixed_value = _fixed_value(format_)
        if format_.fixed_value_size() == 0:
            return (None,) * len(values)
        return list(self._fitted(values))

    def inlined_term_bytes(self, format_, ids: Sequence[int], weights: Sequence[float],
                           values: Sequence[bytes | None], length_codes: bytes | None) -> bytes:
        """The bytes of the term info that ``start_postings``, ``add_postings`` and
        ``finish_postings`` make for a term of these postings, which it keeps
        (:meth:`inlines`), made at once (about 4 µs less a term, and nine terms in ten are
        this rare): from its one posting or its counted postings where the kind of term
        info can (``one_posting_bytes``, ``counted_postings_bytes``), else from its fields
        (``fields_bytes``)."""
        kind = self.term_info_class
        if len(ids) == 1:
            info = kind.one_posting_bytes(
                ids[0], weights[0], _kept_value(format_.fixed_value_size(), values[0]),
                0 if length_codes is None else length_codes[ids[0]])
        else:
            info = kind.counted_postings_bytes(
                ids, weights, self._kept_values(format_, values),
                b"" if length_codes is None else bytes(map(length_codes.__getitem__, ids)))
        if info is not None:
            return info
        return _term_info_bytes(kind,
                                self._inlined_fields(format_, ids, weights, values, length_codes))

    def add_posting(self, id_, weight, vbytes, length=None) -> None:
        """``W3PostingsWriter.add_posting`` without its four type assertions per posting
        (5 % of a build): our fields make the postings, with the types it asserts."""
        if len(self._ids) >= self._blocklimit:
            self._write_block()
        self._ids.append(id_)
        self._weights.append(weight)
        if weight > self._maxweight:
            self._maxweight = weight
        if vbytes:
            self._values.extend(self._fitted((vbytes,)))
        if length:
            if self._minlength is None or length < self._minlength:
                self._minlength = length
            if length > self._maxlength:
                self._maxlength = length

    def add_postings(self, ids: Sequence[int], weights: Sequence[float],
                     values: Sequence[bytes | None], length_codes: bytes | None) -> None:
        """:meth:`add_posting` for each of a term's postings (``ids`` ascending), a block's
        worth at a time; ``length_codes`` is each document's length as whoosh3 codes it in
        a byte (0: none), indexed by document number, or None if the field keeps none."""
        start, count = 0, len(ids)
        while start < count:
            if len(self._ids) >= self._blocklimit:
                self._write_block()
            end = min(count, start + self._blocklimit - len(self._ids))
            block_ids, block_weights = ids[start:end], weights[start:end]
            self._ids.extend(block_ids)
            self._weights.extend(block_weights)
            self._maxweight = max(self._maxweight, max(block_weights))
            self._values.extend(self._fitted(values[start:end]))
            if length_codes is not None:
                self._note_lengths(bytes(map(length_codes.__getitem__, block_ids)))
            start = end

    def _fitted(self, values: Iterable[bytes | None]) -> Iterable[bytes]:
        """The values a block keeps: none empty, and in a format of fixed size each of that
        size. whoosh3 3.54's writer gives each spelling word's posting the last value its
        field wrote, of any size: whoosh3 joins a block's values of a fixed size and splits
        them back by size, so that a posting's value could be missing (a merge failed)."""
        values = filter(None, values)
        fixed = self._fixed_value
        if fixed is None:
            return values
        return (value if len(value) == len(fixed) else fixed for value in values)

    def _note_lengths(self, codes: bytes) -> None:
        """Widen the block's shortest and longest length to these length bytes' (codes
        rise with lengths; 0 is none)."""
        codes = codes.translate(None, b"\0")
        if codes:
            shortest, longest = byte_to_length(min(codes)), byte_to_length(max(codes))
            if self._minlength is None or shortest < self._minlength:
                self._minlength = shortest
            self._maxlength = max(self._maxlength, longest)

    def _write_block(self, last: bool = False) -> None:
        if not self._blockcount:
            self._postfile.write(whoosh3.WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        block = self._encode_block(self._ids, self._mini_ids, self._mini_weights(),
                                   self._mini_values(), self._compression, self._maxweight,
                                   self._minlength, self._maxlength)
        self._postfile.write_int(-len(block) if last else len(block))  # negative: the last
        self._postfile.write(block)
        self._term_ids.append(self._ids)  # (a new list for each block)
        if last:
            self._postfile.write(self._encode_tail(self._term_ids))
        self._blockcount += 1
        self._new_block()


def replace_pool(segment_writer, pool) -> None:
    """Make ``pool`` the pool a ``SegmentWriter`` (not yet given documents) hands every
    posting to (its own is made in its constructor, which takes no other)."""
    segment_writer.pool = pool


def add_fields_at_once(segment_writer) -> None:
    """Make a ``SegmentWriter`` whose pool has ``add_field`` (a
    :class:`~searchidx.engine.pool.TermPool`) hand it each field's postings of a document
    at once: Whoosh's ``add_document`` makes a tuple and a call of every posting (about
    5 % of a worker's CPU on 2,000 Reuters articles). It does what Whoosh's does, in its
    order; a schema with term vectors (ours has none) keeps Whoosh's."""
    from whoosh.fields import NUMERIC

    if any(field.vector for field in segment_writer.schema):
        return
    number_fields = {name for name, field in segment_writer.schema.items()
                     if isinstance(field, NUMERIC)}
    numbers = _NumberTerms(number_fields)

    def add_document(**fields) -> None:
        _add_document(segment_writer, fields, numbers)

    segment_writer.add_document = add_document


def _add_document(writer, fields: dict, numbers: _NumberTerms) -> None:
    """whoosh3 3.54's ``SegmentWriter.add_document``, each field's postings added by the
    pool's ``add_field`` (a number field's made once a value: see :class:`_NumberTerms`). A
    spelling word's posting takes the value the document's last posting had (as whoosh3's
    does: see ``PostingsWriter._fitted``)."""
    writer._check_state()
    perdocwriter, schema, pool = writer.perdocwriter, writer.schema, writer.pool
    docnum = writer.docnum
    docboost = writer._doc_boost(fields)
    fieldnames = sorted([name for name in fields if not name.startswith("_")])
    writer._check_fields(schema, fieldnames)
    perdocwriter.start_doc(docnum)
    value_bytes = None
    try:
        for fieldname in fieldnames:
            value = fields.get(fieldname)
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                boost = writer._field_boost(fields, fieldname, docboost)
                terms = numbers.of(field, fieldname, value)
                frequencies, value_bytes = pool.add_field(fieldname, docnum, terms, boost,
                                                          value_bytes)
                length = frequencies if field.scorable else 0
            if field.separate_spelling():
                spelling = field.spelling_fieldname(fieldname)
                for word in field.spellable_words(value):
                    pool.add((spelling, word.encode("utf-8"), 0, 1, value_bytes))
            stored = fields.get(f"_stored_{fieldname}", value)
            perdocwriter.add_field(fieldname, field, stored if field.stored else None, length)
            if field.column_type and stored is not None:
                perdocwriter.add_column_value(fieldname, field.column_type,
                                              field.to_column_value(stored))
    except ValueError:
        perdocwriter.cancel_doc()
        raise
    perdocwriter.finish_doc()
    writer._added = True
    writer.docnum += 1


class _NumberTerms(dict):
    """A writer's terms of the values of its number fields (an article's date: eight, one
    per precision, from a few hundred dates), made once a value, by field name and value:
    at most ``settings.WRITER_NUMBER_TERMS_MEMO`` values, then it starts again."""

    def __init__(self, number_fields: set[str]) -> None:
        super().__init__()
        self.number_fields = number_fields

    def of(self, field, fieldname: str, value) -> Iterable[tuple]:
        """What ``field.index(value)`` gives (kept if a number field's)."""
        if fieldname not in self.number_fields or isinstance(value, (list, tuple)):
            return field.index(value)
        terms = self.get((fieldname, value))
        if terms is None:
            from ..settings import WRITER_NUMBER_TERMS_MEMO

            if len(self) >= WRITER_NUMBER_TERMS_MEMO:
                self.clear()
            terms = self[fieldname, value] = list(field.index(value))
        return terms


def merge_postings_in_order(segment_writer) -> None:
    """Make a ``SegmentWriter`` read the postings of each segment it merges term by term
    as the segment's terms file lists them (see :func:`_kept_postings`). Whoosh's
    ``iter_postings`` looks every term up again and wraps its postings to skip deleted
    documents: 2.8 s of CPU for the 323,000 postings of 14 small segments (a merge after
    15 small updates), 1.1 s read this way."""
    from whoosh.reading import SegmentReader

    whooshs_own = segment_writer.add_postings_to_pool

    def add_postings_to_pool(reader, startdoc: int, docmap: dict[int, int] | None) -> None:
        if type(reader) is not SegmentReader:
            return whooshs_own(reader, startdoc, docmap)
        add = segment_writer.pool.add
        for fieldname, text, docnum, weight, value in _kept_postings(reader,
                                                                     segment_writer.schema):
            newdoc = startdoc + docnum if docmap is None else docmap[docnum]
            add((fieldname, text, newdoc, weight, value))

    segment_writer.add_postings_to_pool = add_postings_to_pool


def _kept_postings(reader, schema) -> Iterator[tuple[str, bytes, int, float, bytes]]:
    """A segment's postings of the documents not deleted and of the fields ``schema`` still
    has (as Whoosh's own merge: a field dropped since is left out), as ``iter_postings``
    gives them, but each spelling word at the segment's first live document. A spelling word is posted
    once a segment, at its first document, only to say that the word exists: Whoosh's
    merge dropped every spelling word of a segment whose first document was deleted, so
    corrections to words of the articles left were no longer found."""
    from whoosh.fields import SpellField

    terms, deleted = reader._terms, deleted_documents(reader)
    first_live = next((docnum for docnum in range(reader.doc_count_all())
                       if docnum not in deleted), None)
    for (fieldname, text), terminfo in terms.items():
        if fieldname not in schema:
            continue
        field = reader.schema[fieldname]
        postings = terms._codec.postings_reader(terms._postfile, terminfo, field.format,
                                                term=(fieldname, text))
        if isinstance(field, SpellField):
            if first_live is not None:
                yield fieldname, text, first_live, postings.weight(), postings.value()
            continue
        while postings.is_active():
            docnum = postings.id()
            if docnum not in deleted:
                yield fieldname, text, docnum, postings.weight(), postings.value()
            postings.next()


def counts_as_integers(weights: tuple) -> tuple:
    """A block's weights as integers when they are all whole (counts: smaller pickles, and
    quicker to read); as they are otherwise."""
    if all(float(weight).is_integer() for weight in weights):
        return tuple(map(int, weights))
    return weights


def _kept_value(size: int | None, value: bytes | None) -> bytes | None:
    """A posting's value as ``_fitted`` keeps it in a format of values of ``size`` (None
    in a format without values; b"" where none is kept)."""
    if size == 0:
        return None
    if not value:
        return b""
    return value if size is None or len(value) == size else bytes(size)


def _fixed_value(format_) -> bytes | None:
    """The value a posting of ``format_`` has when its own does not fit (None: any fits)."""
    size = format_.fixed_value_size()
    return bytes(size) if size and size > 0 else None


class InliningTermInfo(whoosh3.W3TermInfo):
    """whoosh3's term info, whose inlined postings (a rare term's, kept in the terms file)
    are pickled in protocol 3 with counts as integers: whoosh3 pickles them in protocol 2,
    which writes each ``bytes`` value as a call, and reads any protocol back (as a
    ``W3TermInfo``); protocols 4 and 5 would add a 9-byte frame header to each."""

    def set_inlined(self, ids, weights, values) -> None:
        self._inlined = (tuple(ids), counts_as_integers(tuple(weights)), tuple(values))

    @staticmethod
    def one_posting_bytes(docnum: int, weight, value: bytes | None, length_code: int
                          ) -> bytes | None:
        """The bytes of the term info of one inlined posting, made at once; None: made
        as a term info (this kind has no quicker way)."""
        return None

    @staticmethod
    def counted_postings_bytes(ids: Sequence[int], weights: Sequence[float],
                               values: Sequence[bytes | None], codes: bytes) -> bytes | None:
        """The bytes of the term info of these inlined postings (``values`` as it keeps
        them, ``codes`` the documents' length bytes or nothing), made at once where their
        weights are counts; None: made as a term info (this kind has no quicker way)."""
        return None

    @staticmethod
    def fields_bytes(fields: tuple) -> bytes | None:
        """The bytes of the term info of these fields (:func:`term_info_fields`), made at
        once; None: made as a term info (this kind has no quicker way)."""
        return None

    def to_bytes(self) -> bytes:
        inlined = self._inlined
        if inlined is None:
            return super().to_bytes()
        # whoosh3's fixed fields as it packs them, then the flag set and the pickle
        self._inlined, self._offset, self._length = None, 0, 0
        fixed = super().to_bytes()[1:self._struct.size]
        self._inlined = inlined
        return _INLINED_FLAGS + fixed + pickle.dumps(inlined, protocol=3)


_INLINED_FLAGS = b"\x01"  # the flags byte of a term info with inlined postings


# --- reading columns and postings ------------------------------------------------------------

class FieldWriter(whoosh3.W3FieldWriter):
    """whoosh3's field writer, which also takes postings a term at a time."""

    _term_info_class: type = InliningTermInfo

    def replace_terms_table(self, make_table: Callable, term_info_class: type) -> None:
        """Write the terms file with ``make_table(dbfile)`` (``OrderedHashWriter``'s
        ``add``, ``close`` and ``extras``) in place of whoosh3's hash file, which has only
        written its header yet (the table writes over it), and each term's info as a
        ``term_info_class`` (an :class:`InliningTermInfo`) gives its bytes."""
        dbfile = self._tindex.dbfile
        dbfile.seek(self._tindex.startoffset)
        self._tindex = make_table(dbfile)
        self._fieldmap = self._tindex.extras["fieldmap"] = {}
        self._term_info_class = term_info_class

    def start_field(self, fieldname, fieldobj) -> None:
        super().start_field(fieldname, fieldobj)
        self._postwriter.term_info_class = self._term_info_class
        self._key_start = pack_ushort(self._fieldid)  # each of the field's keys starts so
        # whether a term of one posting has the info any other of that posting has
        self._shares_infos = self._postwriter.inlines(1) \
            and self._format.fixed_value_size() is not None

    def add_terms(self, schema, lengths, terms: Iterable[tuple]) -> None:
        """``add_postings`` of the postings in ``terms``, ``(field, term, documents,
        weights, values)`` in the order of field and term (a term may come in several
        pieces, one after another, its documents ascending throughout), each piece given
        to the postings writer at once; ``lengths`` is the segment's per-document reader."""
        field = None
        for (fieldname, term), pieces in itertools.groupby(terms, key=_field_and_term):
            if fieldname != field:
                if field is not None:
                    self.finish_field()
                self.start_field(fieldname, schema[fieldname])
                field, shared_infos = fieldname, {}
                length_codes = lengths.length_bytes(fieldname)
                if length_codes is not None:  # as far as the last document with a length
                    length_codes = length_codes.ljust(lengths.document_count(), b"\0")
            self._add_term(term, list(pieces), length_codes, shared_infos)
        if field is not None:
            self.finish_field()

    def _add_term(self, term: bytes, pieces: list[tuple], length_codes: bytes | None,
                  shared_infos: dict) -> None:
        """Write a term of the current field from its pieces. A term of one posting, in a
        field whose values have a fixed size, is kept inline, so its term info's bytes
        follow from that posting alone: they are made once a field for each posting. A
        segment's spelling words (four in ten of an update's terms) are all posted at its
        first document, with weight 1 and one of a few values. A rare term in several
        pieces (one a worker of a parallel build) is kept inline as one in one piece."""
        shared = None
        if self._shares_infos and len(pieces) == 1 and len(pieces[0][2]) == 1:
            _, _, (docnum,), (weight,), (value,) = pieces[0]
            shared = (docnum, weight, type(weight), value)
            if (info := shared_infos.get(shared)) is not None:
                self._add_row(term, info)
                return
        if self._postwriter.inlines(sum(len(piece[2]) for piece in pieces)):
            docnums, weights, values = _joined_pieces(pieces)
            info = self._postwriter.inlined_term_bytes(self._format, docnums, weights, values,
                                                        length_codes)
            self._add_row(term, info)
        else:
            self.start_term(term)
            for _, _, docnums, weights, values in pieces:
                self._postwriter.add_postings(docnums, weights, values, length_codes)
            info = self.finish_term()
        if shared is not None:
            if len(shared_infos) >= _SHARED_INFOS_HELD:
                shared_infos.clear()
            shared_infos[shared] = info

    def finish_term(self) -> bytes:
        """whoosh3's ``finish_term``, which also gives the bytes of the term's info."""
        terminfo = self._postwriter.finish_postings()
        if self._held is not None and not terminfo.is_inlined():
            self._held.add_moved(self._key_start + self._btext, term_info_fields(terminfo))
            return b""  # (shared infos are inlined ones)
        info = terminfo.to_bytes()
        self._add_row(self._btext, info)
        return info

    _held: _HeldRows | None = None

    def hold_terms(self, fieldnames: Iterable[str]) -> None:
        """Number the fields ``fieldnames`` in order and keep the terms table's rows
        (whose postings extents are not known yet) until :meth:`write_terms`."""
        self._fieldmap.update((name, number) for number, name in enumerate(fieldnames))
        self._held = _HeldRows()

    def postings_length(self) -> int:
        """The bytes written to the postings file so far."""
        return self._postfile.tell()

    def write_terms(self, postings_start: int) -> None:
        """Write the rows held (:meth:`hold_terms`) as if the postings file started
        ``postings_start`` bytes further on, then close the files."""
        for key, info in self._held.rows(postings_start, self._term_info_class):
            self._tindex.add(key, info)
        self._held = None
        self.close()

    def _add_row(self, term: bytes, info: bytes) -> None:
        """Add a term of the current field, with its info's bytes, to the terms table."""
        if self._held is not None:
            self._held.add(self._key_start + term, info)
        else:
            self._tindex.add(self._key_start + term, info)


class _HeldRows:
    """A terms table's rows kept in little memory (at ten times Reuters a worker held
    about 290,000, which as objects took 100 MB): the keys and the infos' bytes each
    joined, with where each ends; the infos of postings not kept inline, whose extent
    moves, as their fields (:func:`term_info_fields`) by row."""

    def __init__(self) -> None:
        self._keys, self._infos = bytearray(), bytearray()
        self._key_ends, self._info_ends = array.array("Q"), array.array("Q")
        self._moved: dict[int, tuple] = {}  # a moved info's fields by row

    def add(self, key: bytes, info: bytes) -> None:
        self._keys += key
        self._key_ends.append(len(self._keys))
        self._infos += info
        self._info_ends.append(len(self._infos))

    def add_moved(self, key: bytes, fields: tuple) -> None:
        self._moved[len(self._key_ends)] = fields
        self.add(key, b"")

    def rows(self, postings_start: int, kind: type) -> Iterator[tuple[bytes, bytes]]:
        """Each row's key and info bytes (a moved info's postings ``postings_start``
        further on, made as ``kind`` makes it)."""
        keys, infos = memoryview(self._keys), memoryview(self._infos)  # not copied whole
        key_start = info_start = 0
        for row, (key_end, info_end) in enumerate(zip(self._key_ends, self._info_ends)):
            fields = self._moved.get(row)
            if fields is None:
                info = bytes(infos[info_start:info_end])
            else:
                fields = (*fields[:7], fields[7] + postings_start, *fields[8:])
                info = _term_info_bytes(kind, fields)
            yield bytes(keys[key_start:key_end]), info
            key_start, info_start = key_end, info_end


_field_and_term = itemgetter(0, 1)


def _joined_pieces(pieces: list[tuple]) -> tuple[Sequence[int], Sequence, Sequence]:
    """A term's documents, weights and values from its pieces, ``(field, term, documents,
    weights, values)`` one after another (a piece as it is when there is one)."""
    if len(pieces) == 1:
        return pieces[0][2:]
    chained = itertools.chain.from_iterable
    return tuple(list(chained(piece[part] for piece in pieces)) for part in (2, 3, 4))


# One-posting term infos remembered a field (the spelling words all share a few; an id
# field's, one a document, would otherwise all be held: 40 MB at ten times Reuters).
_SHARED_INFOS_HELD = 4096


class ColumnsWriter(whoosh3.W3PerDocWriter):
    """whoosh3's per-document writer, handing each document's stored fields to
    :meth:`store` and able to add a column value to a document before the current one."""

    def store(self, docnum: int, stored: dict) -> None:
        """Keep a document's stored fields (as whoosh3 does: a pickle in ``_stored``);
        ``stored`` is cleared once this returns."""
        self.add_column_value("_stored", whoosh3.STORED_COLUMN, stored)

    def finish_doc(self) -> None:
        if stored := self._storedfields:
            self.store(self._docnum, stored)
            stored.clear()
        self._indoc = False

    def _create_column(self, fieldname: str, column) -> None:
        super()._create_column(fieldname, column)
        vars(self).setdefault("columns", {})[fieldname] = column

    def column_layouts(self) -> dict[str, tuple]:
        """How each column's file is laid out (see :func:`join_columns`)."""
        return {name: _column_layout(column, self._get_column(name))
                for name, column in self.columns.items()}

    def add_column_value_at(self, docnum: int, fieldname: str, column, value) -> None:
        """``add_column_value`` for document ``docnum`` (no earlier than the last given one)."""
        if not self._has_column(fieldname):
            self._create_column(fieldname, column)
        self._get_column(fieldname).add(docnum, value)


def _column_layout(column, writer) -> tuple:
    """``("var", allow_offsets, cutoff)``: whoosh's layout of values of any length, then
    their lengths (and offsets); ``("fixed", width, default)``: values of one width, as far
    as the last document with one; else ``("values", column)``."""
    while isinstance(writer, WrappedColumnWriter):
        writer = writer._child
    if isinstance(writer, VarBytesColumn.Writer):
        return ("var", writer.allow_offsets, writer.cutoff)
    if isinstance(writer, FixedBytesColumn.Writer):
        return ("fixed", writer._fixedlen, writer._defaultbytes or bytes(writer._fixedlen))
    return ("values", column)


def join_columns(storage, parts: Sequence[tuple], compound: _CompoundWriter, segment) -> None:
    """Write ``segment``'s columns of the documents of ``parts`` (``(part segment, its
    documents, its column layouts)``, one after another) into its ``compound`` file: a
    column's files joined as they are, its lengths or values added up where its layout
    needs it."""
    names = sorted({name for _, _, layouts in parts for name in layouts})
    for name in names:
        layout = next(layouts[name] for _, _, layouts in parts if name in layouts)
        with contextlib.ExitStack() as files:
            pieces = [(*(_opened(files, storage, whoosh3.W3Codec.column_filename(part, name))
                         if name in layouts else (None, 0)), count)
                      for part, count, layouts in parts]
            with compound.member(whoosh3.W3Codec.column_filename(segment, name)) as out:
                _JOINS[layout[0]](out, pieces, *layout[1:])


def _opened(files: contextlib.ExitStack, storage, name: str) -> tuple:
    """A file of ``storage`` (closed with ``files``) and its length."""
    return files.enter_context(storage.open_file(name)), storage.file_length(name)


def copy_bytes(dbfile, start: int, length: int, out) -> None:
    """Copy ``length`` bytes of ``dbfile`` from ``start`` to ``out``, a piece at a time."""
    for at in range(start, start + length, _COPY_BYTES):
        out.write(dbfile.get(at, min(_COPY_BYTES, start + length - at)))


_COPY_BYTES = 2**20


def _join_var(out, pieces: Sequence[tuple], allow_offsets: bool, cutoff: int) -> None:
    from .terms import narrowest_code  # (terms.py builds on this module)

    lengths: list[int] = []
    for dbfile, size, count in pieces:
        if dbfile is None:
            lengths += [0] * count
            continue
        part_lengths = QuickVarBytesColumn.Reader(dbfile, 0, size, count)._lengths
        copy_bytes(dbfile, 0, sum(part_lengths), out)  # the values, back to back, come first
        lengths += part_lengths
    lengths = array.array(narrowest_code(max(lengths, default=0)), lengths)
    out.write_array(lengths)
    if allow_offsets and len(lengths) > cutoff:  # as whoosh's writer does
        offsets = list(itertools.accumulate(lengths, initial=0))[:-1]
        offsets = array.array(narrowest_code(max(offsets, default=0)), offsets)
        out.write_array(offsets)
        out.write(f"{lengths.typecode}{offsets.typecode}X".encode("ascii"))
    else:
        out.write(lengths.typecode.encode("ascii"))


def _join_fixed(out, pieces: Sequence[tuple], width: int, default: bytes) -> None:
    for number, (dbfile, size, count) in enumerate(pieces):
        if dbfile is not None:
            copy_bytes(dbfile, 0, size, out)
        if number < len(pieces) - 1:
            out.write(default * (count - size // width))


def _join_values(out, pieces: Sequence[tuple], column) -> None:
    writer, base = column.writer(out), 0
    for dbfile, size, count in pieces:
        if dbfile is not None:
            reader = column.reader(dbfile, 0, size, count)
            for docnum in range(count):
                writer.add(base + docnum, reader[docnum])
        base += count
    writer.finish(base)


_JOINS = {"var": _join_var, "fixed": _join_fixed, "values": _join_values}


def joined_segment(codec, storage, indexname: str, parts: Sequence, join_terms: Callable
                   ) -> object:
    """One segment of the documents of the segments ``parts`` (written by workers that
    each wrote the terms of one range for all of them: see ``parallel.py``), each with its
    ``column_layouts``; ``join_terms(files, out)`` writes their terms files
    (``(dbfile, length)``) joined to ``out``. Its files are written straight into its
    compound file, a piece at a time; the parts' files are deleted."""
    segment = codec.new_segment(storage, indexname)
    with _CompoundWriter(segment.create_file(storage, segment.COMPOUND_EXT)) as compound:
        join_columns(storage, [(part, part.doc_count_all(), part.column_layouts)
                               for part in parts], compound, segment)
        for extension, join in ((codec.TERMS_EXT, join_terms), (codec.POSTS_EXT, _join_files)):
            with contextlib.ExitStack() as files, \
                    compound.member(segment.make_filename(extension)) as out:
                join([_opened(files, storage, part.make_filename(extension)) for part in parts],
                     out)
    segment.compound = True
    segment.set_doc_count(sum(part.doc_count_all() for part in parts))
    lengths: dict[str, int] = {}
    for part in parts:
        for fieldname, length in part._fieldlengths.items():
            lengths[fieldname] = lengths.get(fieldname, 0) + length
    segment._fieldlengths = lengths
    for part in parts:
        for name in part.list_files(storage):
            storage.delete_file(name)
    return segment


class _CompoundWriter:
    """A segment's compound file written a member at a time (Whoosh's ``assemble`` copies
    files written before)."""

    def __init__(self, dbfile) -> None:
        self._file, self._start, self._directory = dbfile, dbfile.tell(), {}
        dbfile.write_long(0)  # where the directory starts, and its length: written last
        dbfile.write_int(0)

    @contextlib.contextmanager
    def member(self, name: str) -> Iterator:
        start = self._file.tell()
        yield self._file
        self._directory[name] = {"offset": start, "length": self._file.tell() - start,
                                 "modified": time.time()}

    def __enter__(self) -> _CompoundWriter:
        return self

    def __exit__(self, failure, *_) -> None:
        if failure is None:
            CompoundStorage.write_dir(self._file, self._start, self._directory)  # (closes it)
        else:
            self._file.close()


def _join_files(files: Sequence[tuple], out) -> None:
    """Copy ``files`` (``(dbfile, length)``) one after another to ``out``."""
    for dbfile, length in files:
        copy_bytes(dbfile, 0, length, out)


class ColumnsReader(whoosh3.W3PerDocReader):
    """whoosh3's per-document reader, with a whole column's bytes read at once."""

    def column_value(self, fieldname: str, column, docnum: int):
        """A document's value in ``fieldname``'s column (None if the segment has none)."""
        reader = self._cached_reader(fieldname, column)
        return None if reader is None else reader[docnum]

    def fixed_column_bytes(self, fieldname: str, column) -> bytes | None:
        """The bytes of ``fieldname``'s column of fixed-width values (``column``, a
        ``FixedBytesColumn``), zeros for a document without a value (None if no document
        here has one)."""
        reader = self._cached_reader(fieldname, column)
        if reader is None:
            return None
        width = reader._fixedlen
        return reader._dbfile.get(reader._basepos, reader._count * width).ljust(
            self._doccount * width, b"\0")

    def var_column_parts(self, fieldname: str, column) -> tuple | None:
        """The bytes of ``fieldname``'s column of values of any length (``column``, a
        ``VarBytesColumn``), each value's offset in them and its length (arrays: None if
        no document here has a value, or the writer left the offsets out)."""
        reader = self._cached_reader(fieldname, column)
        if reader is None or not reader.had_stored_offsets or not reader._doccount:
            return None
        offsets, lengths = reader._offsets, reader._lengths
        return reader._dbfile.get(reader._basepos, offsets[-1] + lengths[-1]), offsets, lengths

    def length_column_bytes(self, fieldname: str) -> bytes | None:
        """Each document's length in ``fieldname`` as whoosh3 codes it, one byte each (as
        far as the last document with one; None if the field keeps no lengths)."""
        reader = self._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)
        return None if reader is None else reader._dbfile.get(reader._basepos, reader._count)

    def document_count(self) -> int:
        return self._doccount


def text_column(reader, fieldname: str) -> list[str]:
    """Every document's value of ``fieldname``'s text column (an ID field's), in document
    order, each segment's column read in one piece: Whoosh reads the file once a value,
    which made reading four columns of 21,000 articles take 0.12 s."""
    values: list[str] = []
    for segment_reader, _ in reader.leaf_readers():
        column = segment_reader.column_reader(fieldname, translate=False)
        if isinstance(column, VarBytesColumn.Reader):
            values.extend(_var_bytes_values(column))
        elif isinstance(column, RefBytesColumn.Reader):
            values.extend(_ref_bytes_values(column))
        else:  # a segment without the column: Whoosh gives each document the default
            values.extend(value.decode("utf-8") for value in column)
    return values


def _var_bytes_values(column) -> Iterator[str]:
    data = column._dbfile.get(column._basepos, sum(column._lengths))
    start = 0
    for length in column._lengths:
        yield data[start:start + length].decode("utf-8")
        start += length


class QuickVarBytesColumn(VarBytesColumn):
    """Whoosh's ``VarBytesColumn`` (the same file), whose reader finds where a value starts
    when it is asked for: Whoosh adds up every document's length in a Python loop when a
    column is first read (0.3-0.4 ms a stored-fields column of 10,000 articles, paid by
    every search's first hit)."""

    class Reader(VarBytesColumn.Reader):
        def __getitem__(self, docnum: int) -> bytes:
            length = self._lengths[docnum]
            if not length:
                return b""
            return read_at(self._dbfile, self._basepos + self._offsets[docnum], length)

        def _read_offsets_and_lengths(self) -> None:
            last = self._basepos + self._length - 1
            code = chr(self._dbfile.get_byte(last))
            if code == "X":  # the writer kept the offsets: Whoosh reads them
                super()._read_offsets_and_lengths()
                return
            start = last - array.array(code).itemsize * self._doccount
            self._lengths = self._dbfile.get_array(start, code, self._doccount)
            self._offsets = _Offsets(self._lengths)


class _Offsets:
    """Where each value of a column starts, from the values' lengths: the start of every
    ``_OFFSETS_STRIDE``-th value added up once, and the starts of the values of a stride
    the first time one of them is asked for (adding up the lengths before the value each
    time cost as much as inflating the hit's stored fields)."""

    def __init__(self, lengths: array.array) -> None:
        self._lengths = lengths
        self._strides: list[int] | None = None
        self._starts: dict[int, array.array] = {}  # each stride's values' starts

    def __getitem__(self, docnum: int) -> int:
        stride, into_it = divmod(docnum, _OFFSETS_STRIDE)
        starts = self._starts.get(stride)
        if starts is None:
            at = stride * _OFFSETS_STRIDE
            starts = self._starts[stride] = array.array("q", itertools.accumulate(
                self._lengths[at:at + _OFFSETS_STRIDE], initial=self._stride_starts()[stride]))
        return starts[into_it]

    def _stride_starts(self) -> list[int]:
        if self._strides is None:
            lengths = self._lengths
            self._strides = list(itertools.accumulate(
                (sum(lengths[at:at + _OFFSETS_STRIDE])
                 for at in range(0, len(lengths), _OFFSETS_STRIDE)), initial=0))
        return self._strides


_OFFSETS_STRIDE = 256


class UnlimitedRefBytesColumn(RefBytesColumn):
    """Whoosh's ``RefBytesColumn`` (each distinct value once, then a number per document
    naming its value) without its limit: Whoosh's writer writes the default for every
    value after 65,535 distinct ones (with a warning); this one writes numbers as wide as
    the count needs (Whoosh's reader reads the width written)."""

    def writer(self, dbfile):
        return _UnlimitedRefBytesWriter(dbfile, self._fixedlen, self._default)


class _UnlimitedRefBytesWriter(RefBytesColumn.Writer):
    def __init__(self, *args) -> None:
        super().__init__(*args)
        self._refs: list[int] = []  # numbers of any size (Whoosh's bytes hold 256)

    def add(self, docnum: int, value: bytes) -> None:
        self.fill(docnum)
        self._refs.append(self._uniques.setdefault(value, len(self._uniques)))
        self._count = docnum + 1

    def finish(self, doccount: int) -> None:
        self.fill(doccount)
        distinct = len(self._uniques)
        refs = array.array("B" if distinct <= 256 else "H" if distinct <= 65536 else "I",
                           self._refs)
        self._dbfile.write_array(refs)
        self._write_uniques(refs.typecode)
        self._dbfile.write_byte(ord(refs.typecode))


def _ref_bytes_values(column) -> list[str]:
    """A ``RefBytesColumn``'s values: its numbers read at once, each distinct value
    decoded once."""
    refs = column._dbfile.get_array(column._basepos, column._typecode, column._doccount)
    distinct = [value.decode("utf-8") for value in column._uniques]
    return list(map(distinct.__getitem__, refs))


TermsReader = whoosh3.W3TermsReader
"""whoosh3's reader of its terms file: ``TermsReader(codec, dbfile, length, postfile)``."""
TermInfo = whoosh3.W3TermInfo
"""whoosh3's term info (``TermInfo.from_bytes`` reads its bytes)."""


# A whoosh3 term info's fields: total weight, document frequency, shortest and longest
# length, greatest weight, first and last document, postings offset and length (None when
# inlined), and its inlined postings (None when not).
term_info_fields = attrgetter("_weight", "_df", "_minlength", "_maxlength", "_maxweight",
                              "_minid", "_maxid", "_offset", "_length", "_inlined")


def new_term_info(weight, df, minlength, maxlength, maxweight, minid, maxid, offset, length,
                  inlined, kind: type = whoosh3.W3TermInfo) -> whoosh3.W3TermInfo:
    """The whoosh3 term info (or one of its subclasses, ``kind``) of these fields (those of
    :func:`term_info_fields`), made without its constructor's defaults."""
    info = kind.__new__(kind)
    info.__dict__ = {
        "_weight": weight, "_df": df, "_minlength": minlength, "_maxlength": maxlength,
        "_maxweight": maxweight, "_minid": minid, "_maxid": maxid, "_offset": offset,
        "_length": length, "_inlined": inlined}
    return info


def _term_info_bytes(kind: type, fields: tuple) -> bytes:
    """The bytes of a term info of ``kind`` (an :class:`InliningTermInfo`) with these fields:
    made at once where the kind can (``fields_bytes``), else through a term info."""
    info = kind.fields_bytes(fields)
    return info if info is not None else new_term_info(*fields, kind=kind).to_bytes()


def is_whoosh3_term_info(terminfo) -> bool:
    """Whether a term's entry is whoosh3's (its postings laid out in whoosh3's blocks)."""
    return type(terminfo) is whoosh3.W3TermInfo


def deleted_documents(segment_reader) -> frozenset[int]:
    """The numbers of a segment's deleted documents (whoosh3 reads them once an open reader)."""
    return segment_reader.deleted_docs_set if segment_reader.has_deletions() else frozenset()


def columns_reader(segment_reader) -> whoosh3.W3PerDocReader:
    """A segment reader's per-document reader (a :class:`ColumnsReader` if our codec
    wrote the segment)."""
    return segment_reader._perdoc


def postings_file(segment_reader):
    """The file a segment reader reads its postings from (whoosh3's)."""
    return segment_reader._terms._postfile


def read_at(structfile, position: int, length: int) -> bytes:
    """``structfile.get(position, length)``; from a part of a segment's compound file, read
    with one ``os.pread`` (Whoosh seeks and reads through three layers of Python calls: a
    few microseconds for each term's postings and each hit's stored fields)."""
    part = structfile.file
    if _PREAD is None or type(part) is not SubFile:
        return structfile.get(position, length)
    length = min(length, part._length - position)
    return _PREAD(part._file.fileno(), length, part._offset + position) if length > 0 else b""


_PREAD = getattr(os, "pread", None)  # (not on Windows)


def toc_file_name(indexname: str, generation: int) -> str:
    """The name of an index's table of contents of a generation."""
    return TOC._filename(indexname, generation)


def latest_toc_generation(storage, indexname: str) -> int:
    """The generation of the table of contents a reader opens."""
    return TOC._latest_generation(storage, indexname)


# --- queries ---------------------------------------------------------------------------------

class AndNot(query_module.AndNot):
    """Whoosh's ``AndNot`` with a matcher that leaves out every excluded article. whoosh3's
    matcher skips the first match only when both sides begin on the same article: where the
    excluded side begins earlier and reaches that match later, it was kept ("grain ANDNOT
    wheat" sorted by date counted an article with both words)."""

    def matcher(self, searcher, context=None):
        return _AndNotMatcher(self.a.matcher(searcher, context),
                              self.b.matcher(searcher, searcher.boolean_context()))


class _AndNotMatcher(matching_module.AndNotMatcher):
    def _find_first(self) -> None:
        if self.a.is_active() and self.b.is_active():
            self._find_next()  # skips the excluded side to the first match, then past it


def expanded_words(query) -> Callable[[object], Iterable]:
    """The function listing the words of the index a multi-term query stands for, as
    Whoosh's own search expands it."""
    return query._btexts


# --- the multiprocessing writer --------------------------------------------------------------
# Made when first asked for: whoosh.multiproc imports multiprocessing and Whoosh's writer and
# searcher, 20 ms that a search never needs.

def __getattr__(name: str) -> type:
    if name not in ("WorkerTask", "ProcessWriter"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals().update(_process_writer_classes())
    return globals()[name]


def _process_writer_classes() -> dict[str, type]:
    from whoosh.multiproc import MpWriter, SubWriterTask
    from whoosh.util import random_name
    from whoosh.writing import SegmentWriter

    class WorkerTask(SubWriterTask):
        """A worker of :class:`ProcessWriter`, told before it is given its first documents."""

        def before_documents(self) -> None:
            raise NotImplementedError

        def finish_segment(self):
            """Finish the worker's segment (as Whoosh does unless overridden) and give it
            for the parent."""
            return SegmentWriter._finalize_segment(self.writer)

        @property
        def writer(self):
            return self.__dict__["writer"]

        @writer.setter
        def writer(self, writer) -> None:
            # Whoosh's run() makes the writer, then finishes its segment with this call
            self.__dict__["writer"] = writer
            writer._finalize_segment = self.finish_segment

        def _process_file(self, filename, doc_count) -> None:
            # Whoosh makes the worker's writer in run(); it is given documents only here.
            self.before_documents()
            tempstorage = self.writer.temp_storage()
            with tempstorage.open_file(filename).raw_file() as job:
                documents = pickle.load(job)  # as ProcessWriter.send_job wrote them
            for fields in documents:
                self.writer.add_document(**fields)
            tempstorage.delete_file(filename)

    class ProcessWriter(MpWriter):
        """Whoosh's multiprocessing writer, whose workers :meth:`start_worker` starts.

        Documents added are held until :meth:`hold_until`'s count is reached; then
        :meth:`job_due` sends some or all of them to the workers (:meth:`send_job`)."""

        def start_worker(self) -> WorkerTask:
            raise NotImplementedError

        def _new_task(self):
            # Whoosh 2.7 and whoosh3 both start each worker here.
            return self.start_worker()

        def hold_until(self, count: int) -> None:
            """Call :meth:`job_due` once ``count`` documents are held."""
            self.batchsize = count  # Whoosh's add_document calls _enqueue at this many

        def _enqueue(self) -> None:
            self.job_due()

        def _commit(self, mergetype, optimize, merge) -> None:
            # MpWriter._commit of a multisegment writer whose documents were all sent
            # (commit sends the held ones first), except that the workers' segments are
            # taken as worker_results gives them and the workers joined by join_workers
            # once the TOC is written or the commit failed: Whoosh joined them first.
            for _ in self.tasks:
                self.jobqueue.put(None)
            segments = self._merge_segments(mergetype, optimize, merge)
            try:
                segments += [segment for _, _, segment in self.worker_results()]
                if self._added:
                    segments.append(self._finalize_segment())
                else:
                    self._close_segment()
                self._commit_toc(segments)
                self._finish()
            finally:
                self.join_workers()

        def worker_results(self) -> list:
            """Each worker's ``(run name, field names, segment)``, taken from the result
            queue (none for a worker that failed)."""
            raise NotImplementedError

        def join_workers(self) -> None:
            raise NotImplementedError

        def job_due(self) -> None:
            raise NotImplementedError

        def held_documents(self) -> int:
            """How many documents are held, not yet sent to a worker."""
            return len(self.docbuffer)

        def send_job(self, count: int) -> None:
            """Send the first ``count`` documents held to the workers as one job (a worker
            is started with each of the first jobs, so that each has articles to analyse).

            The job's documents are pickled as one list in the current protocol: Whoosh
            pickles each document alone in protocol 2, which a worker reads back a value
            at a time (on 5,000 Reuters articles each of two workers spent 0.068 s CPU
            reading its jobs, 0.007 s this way)."""
            filename = f"{random_name()}.doclist"
            with self.temp_storage().create_file(filename).raw_file() as job:
                pickle.dump([fields for _, fields in self.docbuffer[:count]], job,
                            pickle.HIGHEST_PROTOCOL)
            if len(self.tasks) < self.procs:
                self._new_task()
            self.jobqueue.put((filename, count))
            del self.docbuffer[:count]

    return {"WorkerTask": WorkerTask, "ProcessWriter": ProcessWriter}
