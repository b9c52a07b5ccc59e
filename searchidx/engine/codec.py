"""The on-disk format: Whoosh's ``whoosh3`` codec, with blocks of postings that read
faster, and field lengths read a column at a time. Whoosh reads all of it as its own.

- **Blocks.** whoosh3 pickles each block with protocol 2, which writes every ``bytes``
  value as a call made again when read; here blocks are pickled in the current protocol,
  weights that are counts are kept as integers, and a block of 32 postings or more is a
  :class:`Block`: its values (most of its bytes) apart from its document numbers and
  weights, so matching and scoring never read them, joined in one uncompressed string
  that a phrase or a snippet slices, and its document numbers and weights two arrays,
  each read in one call. A block's info tuple is pickled by hand in one fixed layout that
  :func:`block_infos` reads without unpickling. (The measurements behind these choices:
  docs/performance.md, "Measurements behind the settings".)
- **Lengths.** Each document's length in a field is one byte in a column, which
  ``whoosh3`` reads one document at a time, through Python file calls, for every posting it
  writes and every match it scores; here a field's column is read once.
- **Occurrences.** Prose fields keep where each word occurs (position, start and end
  character) in :class:`Occurrences`, Whoosh's ``Characters`` information as numbers of
  a byte or more each (UTF-8 codes, decoded in C) rather than a pickled list of tuples:
  a phrase reads the positions of every article that has its words.
- **Dense terms.** A term of at least ``settings.DENSE_MIN_POSTINGS`` postings, in at
  least one document of every ``settings.DENSE_DIVISOR``, also keeps a bitmap of its
  documents after its last block (:func:`dense_tail`), inside its extent, where whoosh3
  never reads; searching intersects and counts those bitmaps as numbers
  (:func:`dense_bitmap`). A segment written before has none and reads as before.
- **Rare terms.** A term of at most ``settings.INLINE_MAX_POSTINGS`` postings keeps them
  in its entry of the terms file (``whoosh_adapter.InliningTermInfo``), not in a block of
  its own.
- **Stored fields.** Deflated with a dictionary of the segment's own
  (:class:`PerDocumentWriter`), in a generation of format 3 or later.
- **Terms.** From format 4 the terms file is a compact table (:mod:`.terms`), not
  whoosh3's hash file; the reader follows what the file says it is.

Indexes written before any of this still open and update: a reader unpickles whatever it
finds, a schema saved before keeps its occurrences' layout, a segment without the
dictionary keeps whoosh3's stored fields, and ``searchidx rebuild`` gives an old index the
current format. Index files name :class:`Codec`, :class:`Block` and :class:`Occurrences`:
a move or rename goes through legacy.py.
"""

from __future__ import annotations

import array
import itertools
import operator
import pickle
import re
import sys
import struct
import zlib
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache, partial
from pathlib import Path
from typing import NamedTuple

from whoosh.formats import Characters
from whoosh.util.numeric import byte_to_length, length_to_byte

from .. import settings
from . import speedups, terms, whoosh_adapter
from .terms import little_endian_array, little_endian_bytes, narrowest_code

__all__ = ["Block", "Codec", "FieldWriter", "Occurrences", "PerDocumentReader",
           "PerDocumentWriter", "PlacedValues", "RepeatedBytesColumn", "bitmap_of",
           "block_infos", "block_max_weight", "block_spans", "dense_bitmap", "dense_tail",
           "encoded_block", "head_in_place", "joined_values", "keyed_positions",
           "occurrence_positions", "stored_dictionary", "stored_fields", "values_in_place",
           "varying_positions", "weight_list"]

# zlib enlarges blocks smaller than this (whoosh3's measured crossover).
_COMPRESSION_MIN_BYTES = 80
# A block of fewer postings is read whole (as whoosh3 writes it): a rare word's values
# are few, and splitting them off would cost more bytes and time than it saves.
_BLOCK_MIN_POSTINGS = 32


class Codec(whoosh_adapter.BaseCodec):
    """Whoosh's codec, writing postings with :func:`encoded_block` in blocks of
    ``settings.POSTINGS_PER_BLOCK`` (Whoosh's are 128)."""

    def __init__(self) -> None:
        super().__init__(blocklimit=settings.POSTINGS_PER_BLOCK)

    def postings_writer(self, dbfile, byteids=False):
        return whoosh_adapter.PostingsWriter(dbfile, encoded_block, settings.INLINE_MAX_POSTINGS,
                                             dense_tail, byteids=byteids,
                                             **whoosh_adapter.codec_settings(self))

    def field_writer(self, storage, segment):
        writer = FieldWriter(self, storage, segment)
        if not _in_format_before(storage, _COMPACT_TERMS_FORMAT):  # an update keeps the format
            writer.replace_terms_table(terms.CompactTermsWriter, terms.CompactTermInfo)
        return writer

    def per_document_writer(self, storage, segment):
        if _in_format_before(storage, _DICTIONARY_FORMAT):  # an update keeps the format
            return super().per_document_writer(storage, segment)
        return PerDocumentWriter(self, storage, segment)

    def per_document_reader(self, storage, segment):
        return PerDocumentReader(storage, segment)

    def terms_reader(self, storage, segment):
        """whoosh3's terms reader, or a compact table's (see :mod:`.terms`): the file says."""
        name = segment.make_filename(self.TERMS_EXT)
        dbfile = storage.open_file(name)
        kind = (terms.CompactTermsReader if terms.is_compact_terms_file(dbfile)
                else whoosh_adapter.TermsReader)
        return kind(self, dbfile, storage.file_length(name),
                    segment.open_file(storage, self.POSTS_EXT))


# The first format versions with stored fields deflated with a dictionary, and with the
# compact terms file (:mod:`.terms`).
_DICTIONARY_FORMAT = 3
_COMPACT_TERMS_FORMAT = 4


def _in_format_before(storage, version: int) -> bool:
    """Whether ``storage`` is a generation folder of a format before ``version``, which
    the searchidx of that format must still read."""
    from .format import format_of

    folder = getattr(storage, "folder", None)
    written = format_of(Path(folder))[1] if folder else None
    return type(written) is int and written < version


class RepeatedBytesColumn(whoosh_adapter.UnlimitedRefBytesColumn):
    """A column for a value many documents share, kept once a segment (then a number per
    document naming it): the file an article came from, one for every article of a JSONL
    file. Index files name this class: keep its name and module."""


class FieldWriter(whoosh_adapter.FieldWriter):
    """Whoosh's field writer, given the postings of a :class:`~.pool.TermPool` a term at a
    time (whoosh3 takes every posting with a few calls and checks of its own: about a
    tenth of a build)."""

    def add_postings(self, schema, lengths, items) -> None:
        terms = getattr(items, "terms", None)
        if terms is None or lengths is None:
            super().add_postings(schema, lengths, items)
        else:
            self.add_terms(schema, lengths, terms())


# Stored fields (PerDocumentWriter): the dictionary, from this many documents' pickles,
# at most this long (on Reuters-21578, 8 KB deflated 4 % worse than 16 KB in two thirds
# of the time: 35 µs an article against 54), at this zlib level. The dictionary is the value of its
# column for document 0; a segment without it keeps whoosh3's ``_stored``.
_DICTIONARY_DOCUMENTS = 64
_DICTIONARY_BYTES = 8192
_STORED_COMPRESSION = 3
_DICTIONARY_COLUMN_NAME = "_stored_dictionary"
_STORED_COLUMN_NAME = "_stored_deflated"
_BYTES_COLUMN = whoosh_adapter.QuickVarBytesColumn()
# The dictionary's column holds one value: without offsets, which whoosh3 cannot read back
# for a column of one value in a segment of more than 2**15 documents (a seek before the
# file's start failed the commit of any larger segment).
_DICTIONARY_COLUMN = whoosh_adapter.QuickVarBytesColumn(allow_offsets=False)


class PerDocumentWriter(whoosh_adapter.ColumnsWriter):
    """Whoosh's per-document writer, each document's stored fields pickled in the current
    protocol and deflated with a dictionary of the segment's own: the last
    ``_DICTIONARY_BYTES`` of its first ``_DICTIONARY_DOCUMENTS`` documents' pickles (which
    are held until it is made). Articles of a segment share words and field names that a
    deflated article alone cannot refer back to: on Reuters-21578 the stored fields take
    a third less room (whoosh3 deflates each pickle alone), and one reads as fast."""

    given_dictionary: bytes | None = None
    """The dictionary to deflate with, if given (workers writing one segment share one)."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self._held: list[tuple[int, bytes]] = []
        self._dictionary: bytes | None = None

    def store(self, docnum: int, stored: dict) -> None:
        data = pickle.dumps(stored, pickle.HIGHEST_PROTOCOL)
        if self._dictionary is None and self.given_dictionary is not None:
            self._use_dictionary(self.given_dictionary)
        if self._dictionary is not None:
            self._add_stored(docnum, data)
            return
        self._held.append((docnum, data))
        if len(self._held) == _DICTIONARY_DOCUMENTS:
            self._write_held()

    def close(self) -> None:
        self.finish_doc()  # as whoosh3's close does, before the held documents go
        if self._held:
            self._write_held()
        super().close()

    def _write_held(self) -> None:
        self._use_dictionary(stored_dictionary(data for _, data in self._held))
        for docnum, data in self._held:
            self._add_stored(docnum, data)
        self._held = []

    def _use_dictionary(self, dictionary: bytes) -> None:
        """Deflate with ``dictionary`` from now on; the segment keeps it at document 0."""
        self._dictionary = dictionary
        # each document's deflater a copy of one given the dictionary (the same output; a
        # fifth less time than giving each its own)
        self._deflater = zlib.compressobj(_STORED_COMPRESSION, zdict=dictionary)
        self.add_column_value_at(0, _DICTIONARY_COLUMN_NAME, _DICTIONARY_COLUMN, dictionary)

    def _add_stored(self, docnum: int, data: bytes) -> None:
        deflate = self._deflater.copy()
        self.add_column_value_at(docnum, _STORED_COLUMN_NAME, _BYTES_COLUMN,
                                 deflate.compress(data) + deflate.flush())


def stored_dictionary(pickles: Iterable[bytes]) -> bytes:
    """The dictionary made of the first documents' pickled stored fields."""
    return b"".join(itertools.islice(pickles, _DICTIONARY_DOCUMENTS))[-_DICTIONARY_BYTES:]


def stored_fields(schema, fields: dict) -> dict:
    """The stored fields Whoosh's writer keeps of a document's ``fields``."""
    return {name: fields.get(f"_stored_{name}", value) for name, value in sorted(fields.items())
            if not name.startswith("_") and value is not None and schema[name].stored}


class PerDocumentReader(whoosh_adapter.ColumnsReader):
    """Whoosh's per-document reader, with each field's lengths read at once, and stored
    fields as :class:`PerDocumentWriter` writes them (or as whoosh3 does, in a segment
    written before)."""

    def __init__(self, storage, segment) -> None:
        super().__init__(storage, segment)
        self._length_bytes: dict[str, bytes | None] = {}
        self._column_bytes: dict[str, object] = {}
        self._dictionary: bytes | None = self.column_value(_DICTIONARY_COLUMN_NAME,
                                                           _DICTIONARY_COLUMN, 0)
        self._dictionary_id = None if self._dictionary is None else \
            _checksum(self._dictionary)

    def stored_fields(self, docnum: int) -> dict:
        if self._dictionary is None:
            return super().stored_fields(docnum)
        data = self.column_value(_STORED_COLUMN_NAME, _BYTES_COLUMN, docnum)
        if not data:
            return {}
        return pickle.loads(self._inflated(data))

    def _inflated(self, data: bytes) -> bytes:
        """A document's stored fields, inflated with the segment's dictionary. zlib checks
        that a stream names that dictionary by a checksum it computes over the whole
        dictionary for every stream (about a third of reading a hit's fields): the
        stream is inflated raw after its header here, and the same checks made with the
        dictionary's checksum worked out once (any stream that fails them goes to zlib)."""
        if data[:2] in _DICTIONARY_HEADERS and data[2:6] == self._dictionary_id:
            inflater = zlib.decompressobj(-zlib.MAX_WBITS, zdict=self._dictionary)
            inflated = inflater.decompress(data[6:])
            if inflater.eof and inflater.unused_data == _checksum(inflated):
                return inflated
        return zlib.decompressobj(zdict=self._dictionary).decompress(data)

    def length_bytes(self, fieldname: str) -> bytes | None:
        """Each document's length in ``fieldname`` as Whoosh codes it, one byte per
        document (None if the field keeps no lengths)."""
        if fieldname not in self._length_bytes:
            self._length_bytes[fieldname] = self.length_column_bytes(fieldname)
        return self._length_bytes[fieldname]

    def var_column_parts(self, fieldname: str, column) -> tuple | None:
        """A column of values of any length (``column``, a ``VarBytesColumn`` that writes
        its offsets): ``(all the values' bytes, each one's offset, each one's length)``
        (None if the segment has none), read once an open segment."""
        if fieldname not in self._column_bytes:
            self._column_bytes[fieldname] = super().var_column_parts(fieldname, column)
        return self._column_bytes[fieldname]

    def fixed_column_bytes(self, fieldname: str, column) -> bytes | None:
        """Every document's value in a column of fixed-width values (``column``, a
        ``FixedBytesColumn``), one after another (zeros for a document without one),
        read at once; None if no document here has one."""
        if fieldname not in self._column_bytes:
            self._column_bytes[fieldname] = super().fixed_column_bytes(fieldname, column)
        return self._column_bytes[fieldname]

    def doc_field_length(self, docnum, fieldname, default=0):
        if docnum > self.document_count():
            raise IndexError(f"Asked for docnum {docnum!r} of {self.document_count()}")
        lengths = self.length_bytes(fieldname)
        return default if lengths is None else _length(lengths, docnum)

    def doc_field_length_reader(self, fieldname, default=0):
        lengths = self.length_bytes(fieldname)
        if lengths is None:
            return lambda docnum: default
        return partial(_length, lengths)


def _checksum(data: bytes) -> bytes:
    """The Adler-32 checksum of ``data`` as a zlib stream holds it."""
    return zlib.adler32(data).to_bytes(4, "big")


# The two bytes that begin a zlib stream of deflated data made with a dictionary, which
# zlib reads (any window, any level): then come the dictionary's checksum and the data.
_DICTIONARY_HEADERS = frozenset(
    bytes((method, flags)) for method in range(0x08, 0x80, 0x10) for flags in range(256)
    if flags & 0x20 and (method << 8 | flags) % 31 == 0)


def _length(lengths: bytes, docnum: int) -> int | None:
    """As ``W3PerDocReader.doc_field_length``: None where the length byte is zero."""
    code = lengths[docnum] if docnum < len(lengths) else 0
    return byte_to_length(code) if code else None


def encoded_block(ids: Sequence[int], mini_ids, weights, values, compression: int,
                  maxweight: float, minlength: int, maxlength: int) -> bytes:
    """A block of postings as it is written after its length: its info in a fixed layout,
    then its data pickled with ``pickle.HIGHEST_PROTOCOL``, counts as integers, and the
    values of a block of ``_BLOCK_MIN_POSTINGS`` or more kept apart in a :class:`Block`.
    ``weights`` and ``values`` are whoosh3's (one weight or value for all, or a tuple);
    ``mini_ids()`` gives the document numbers as whoosh3 pickles them."""
    if isinstance(values, tuple) and len(values) >= _BLOCK_MIN_POSTINGS:
        data = pickle.dumps(Block(_block_head(ids, weights), _block_values(values)),
                            pickle.HIGHEST_PROTOCOL)
        compression = 0  # a Block is not compressed
    else:
        if isinstance(weights, tuple):
            weights = _counts_as_integers(weights)
        data = pickle.dumps((mini_ids(), weights, values), pickle.HIGHEST_PROTOCOL)
        compression = compression if len(data) >= _COMPRESSION_MIN_BYTES else 0
        if compression:
            data = zlib.compress(data, compression)
    return _block_info_bytes(len(ids), ids[-1], maxweight, compression, minlength,
                             maxlength) + data


def block_spans(raw: bytes, position: int) -> Iterator[tuple[int, int]]:
    """Where each block of a term's postings lies, as ``raw[start:end]``: the blocks follow
    ``position`` (after whoosh3's magic number), each after its length (negative for the
    last), and each holds its info, then its data."""
    while True:
        (size,) = _BLOCK_SIZE.unpack_from(raw, position)
        start = position + _BLOCK_SIZE.size
        position = start + abs(size)
        yield start, position
        if size < 0:
            return


def block_infos(raw: bytes, position: int) -> list[tuple[int, int, int, int, int]] | None:
    """The posting count, last document number, compression, data start and end of each
    block after ``position`` (see :func:`block_spans`) if :class:`Codec` wrote their infos,
    else None (whoosh3 pickled them). One writer writes all the blocks of a term, so the
    first block's info tells."""
    spans = block_spans(raw, position)
    start, end = first = next(spans)
    if end - start < _BLOCK_INFO.size or _info_codes(raw, start) != _INFO_CODES:
        return None
    return [(*_BLOCK_NUMBERS.unpack_from(raw, start), start + _BLOCK_INFO.size, end)
            for start, end in itertools.chain((first,), spans)]


def block_max_weight(raw: bytes, start: int) -> float:
    """The greatest weight of the block whose data begins at ``start`` (see
    :func:`block_infos`), read from the info :class:`Codec` wrote before it: a bound for
    pruning, read only for queries with many matches."""
    return _BLOCK_MAX_WEIGHT.unpack_from(raw, start - _BLOCK_INFO.size)[0]


def dense_tail(block_ids: list[Sequence[int]]) -> bytes:
    """What follows the last block of a term whose documents (those of each of its
    blocks) are dense (see ``settings.DENSE_DIVISOR``): ``_DENSE_TAG`` and their
    bitmap (:func:`bitmap_of`), as far as the last; else nothing."""
    count, last = sum(map(len, block_ids)), block_ids[-1][-1]
    if count < settings.DENSE_MIN_POSTINGS or count * settings.DENSE_DIVISOR <= last:
        return b""
    return _DENSE_TAG + bitmap_of(itertools.chain.from_iterable(block_ids), last)


def bitmap_of(docs: Iterable[int], last: int) -> bytearray:
    """The bitmap of ``docs`` (none above ``last``): bit ``d % 8`` of byte ``d // 8`` set
    for document ``d``."""
    bitmap, masks = bytearray(last // 8 + 1), _BIT_MASKS
    for doc in docs:
        bitmap[doc >> 3] |= masks[doc & 7]
    return bitmap


def dense_bitmap(raw: bytes, end: int) -> memoryview | None:
    """The bitmap of a term's documents (see :func:`dense_tail`) in ``raw``, the term's
    extent, whose last block ends at ``end``; None if it has none (a term not dense, or
    written before bitmaps were)."""
    if raw[end:end + 1] != _DENSE_TAG:
        return None
    return memoryview(raw)[end + 1:]


_DENSE_TAG = b"D"
_BIT_MASKS = tuple(1 << bit for bit in range(8))


def _info_codes(raw: bytes, start: int) -> tuple[bytes, ...]:
    (opening, count_op, _, last_op, _, weight_op, _, compression_op, _, min_op, _, max_op, _,
     closing) = _BLOCK_INFO.unpack_from(raw, start)
    return opening, count_op, last_op, weight_op, compression_op, min_op, max_op, closing


def _block_info_bytes(count: int, last_id: int, maxweight: float, compression: int,
                      minlength: int, maxlength: int) -> bytes:
    return _BLOCK_INFO.pack(b"\x80\x02(", b"J", count, b"J", last_id, b"G",
                            _BIG_ENDIAN_DOUBLE.pack(maxweight), b"J", compression,
                            b"J", length_to_byte(minlength), b"J", length_to_byte(maxlength), b"t.")


# A block's info is the pickle of a tuple (count, last document number, greatest weight,
# compression, shortest and longest length as bytes), which whoosh3 unpickles. Codec
# writes that pickle by hand in one fixed layout (protocol 2: a mark, four-byte integers,
# a float, a tuple), which ``block_infos`` reads with one ``struct`` call, not an unpickling.
_BLOCK_INFO = struct.Struct("<3s c i c i c 8s c i c i c i 2s".replace(" ", ""))
_INFO_CODES = (b"\x80\x02(", b"J", b"J", b"G", b"J", b"J", b"J", b"t.")
# The count, last document number and compression of _BLOCK_INFO, its other fields skipped.
_BLOCK_NUMBERS = struct.Struct("<4x i x i x 8x x i 12x".replace(" ", ""))
# The greatest weight of _BLOCK_INFO (a big-endian double), its other fields skipped.
_BLOCK_MAX_WEIGHT = struct.Struct(">14x d 17x".replace(" ", ""))
assert _BLOCK_NUMBERS.size == _BLOCK_MAX_WEIGHT.size == _BLOCK_INFO.size
_BLOCK_SIZE = struct.Struct("!i")
_BIG_ENDIAN_DOUBLE = struct.Struct(">d")


class Block:
    """A block's postings as ``W3LeafMatcher`` reads them, ``(ids, weights, values)``,
    with the values (where each word occurs: most of a block's bytes) kept apart from the
    document numbers and weights, so that matching and scoring never read them.
    The document numbers and weights are two arrays of numbers, read without unpickling
    (older blocks pickled them). Each part is unpacked when first asked for."""

    __slots__ = ("_head", "_values", "_head_read", "_values_read")

    def __init__(self, head: bytes, values: bytes) -> None:
        self._head, self._values = head, values
        self._head_read: tuple | None = None
        self._values_read: tuple | None = None

    def __reduce__(self):
        return (Block, (self._head, self._values))

    def __len__(self) -> int:
        return 3

    def __getitem__(self, index: int):
        return self.values() if index == 2 else self.head()[index]

    def head(self) -> tuple:
        """The document numbers (delta-coded) and weights, as ``W3PostingsWriter`` made them."""
        if self._head_read is None:
            if self._head[:1] == _ARRAYS:
                ids, weights = self.ids_and_weights()
                self._head_read = (tuple(map(operator.sub, ids, [0, *ids[:-1]])), weights)
            else:
                self._head_read = _unpacked(self._head)
        return self._head_read

    def ids_and_weights(self) -> tuple[Sequence[int], Sequence[float] | float | None]:
        """The document numbers (ascending) and their weights (or one weight for all, None
        for 1.0), as quickly as they can be read."""
        head = self._head
        if head[:1] != _ARRAYS:
            deltas, weights = self.head()
            return list(itertools.accumulate(deltas)), weights
        return _arrays_at(head, 0, len(head))

    def values(self) -> tuple:
        """Each posting's value (its :class:`Occurrences` for a prose field)."""
        if self._values_read is None:
            if self._values[:1] in _JOINED:
                ends, joined = self.joined_values()
                self._values_read = tuple(map(joined.__getitem__, map(slice, [0, *ends], ends)))
            else:
                self._values_read = _unpacked(self._values)
        return self._values_read

    def joined_values(self) -> tuple[Sequence[int], bytes]:
        """The values one after another in one string, and where each ends in it: value
        ``i`` is ``joined[ends[i - 1]:ends[i]]`` (from 0 for the first)."""
        packed = self._values
        if packed[:1] not in _JOINED:  # a block written before values were joined
            return joined_values(self.values())
        if packed[:1] == _JOINED_PLAIN:
            return _joined_at(packed, 0, len(packed))
        data = zlib.decompress(packed[2:])
        (count,) = _COUNT.unpack_from(data)
        middle = _COUNT.size + count * _ITEM_SIZES[packed[1]]
        return little_endian_array(packed[1], data, _COUNT.size, middle), data[middle:]


class PlacedValues(NamedTuple):
    """A :class:`Block`'s joined values where they lie, ``data[start:end]`` (see
    :func:`values_in_place`)."""

    data: bytes
    start: int
    end: int

    def ends_at(self) -> tuple[Sequence[int], int]:
        """Where each value ends and where the first begins in ``data``, the values not
        copied: value ``i`` is ``data[base + ends[i - 1]:base + ends[i]]`` (from ``base``
        for the first)."""
        return _ends_at(self.data, self.start, _numbers_in_place)


def head_in_place(data: bytes, start: int) -> tuple[Sequence[int], Sequence[float], int] | None:
    """The document numbers and weights of the :class:`Block` pickled at ``data[start:]``
    as :func:`encoded_block` writes it now, read where they lie (not unpickled, not
    copied), and where the rest (its values, :func:`values_in_place`) begins; None for a
    block in another layout (unpickle it).
    (Its opcodes are matched by regular expressions: a third less than a call for each,
    the most frequent cost of reading a few documents' weights in many blocks.)"""
    head = _PLACED_HEAD.match(data, start)
    if head is None:
        return None
    head_start = head.start(2)
    head_end = head_start + int.from_bytes(head[1][1:], "little")
    return (*_arrays_at(data, head_start, head_end, _numbers_in_place), head_end)


def values_in_place(data: bytes, at: int, end: int) -> PlacedValues | None:
    """The values of a :class:`Block` whose head ends at ``at`` (see :func:`head_in_place`)
    and which ends at ``end``; None for values in another layout."""
    values = _PLACED_VALUES.match(data, at)
    if values is None:
        return None
    values_start = values.start(2)
    values_end = values_start + int.from_bytes(values[1][1:], "little")
    return None if values_end > end else PlacedValues(data, values_start, values_end)


def _arrays_at(data: bytes, start: int, end: int, numbers=little_endian_array
               ) -> tuple[Sequence[int], Sequence[float]]:
    """The document numbers and weights of a block's head in ``data[start:end]`` (see
    :func:`_arrays_head`), read by ``numbers`` (:func:`~.terms.little_endian_array`'s
    arguments)."""
    id_code, weight_code = data[start + 1], data[start + 2]
    middle = start + 3 + (end - start - 3) // (_ITEM_SIZES[id_code] + _ITEM_SIZES[weight_code]) \
        * _ITEM_SIZES[id_code]
    return numbers(id_code, data, start + 3, middle), numbers(weight_code, data, middle, end)


def _numbers_in_place(code: int, data: bytes, start: int, end: int) -> Sequence[int | float]:
    """:func:`~.terms.little_endian_array`, not copied where the machine is little-endian:
    a view of ``data`` (searches read a block's numbers once, and many blocks)."""
    if _LITTLE_ENDIAN:
        return memoryview(data)[start:end].cast(_TYPE_CODES[code])
    return little_endian_array(code, data, start, end)


def _joined_at(data: bytes, start: int, end: int) -> tuple[Sequence[int], bytes]:
    """:meth:`Block.joined_values` of uncompressed joined values in ``data[start:end]``
    (see :func:`_joined_values`)."""
    ends, middle = _ends_at(data, start)
    return ends, data[middle:end]


def _ends_at(data: bytes, start: int, numbers=little_endian_array) -> tuple[Sequence[int], int]:
    """The ends of the uncompressed joined values at ``data[start:]`` (read by ``numbers``,
    see :func:`_arrays_at`) and where their values begin in ``data``."""
    code = data[start + 1]
    (count,) = _COUNT.unpack_from(data, start + 2)
    middle = start + 2 + _COUNT.size + count * _ITEM_SIZES[code]
    return numbers(code, data, start + 2 + _COUNT.size, middle), middle


# What pickle.HIGHEST_PROTOCOL (5) writes for a Block: the protocol, maybe a frame header
# (its opcode and 8-byte length), the class named by its module and name, each memoized,
# then the head's and the values' bytes, each behind an opcode and a length of 1, 4 or 8
# bytes (a frame header can come before a large value).
_PICKLE_PROTOCOL = b"\x80\x05"
_FRAME_HEADER, _MEMOIZE = rb"\x95.{8}", b"\x94"
_BLOCK_GLOBAL = (b"\x8c" + bytes([len(__name__)]) + __name__.encode() + b"\x94\x8c\x05Block\x94\x93\x94")
_BYTES_OPCODE = rb"(C.|B.{4}|\x8e.{8})"  # a length of 1, 4 or 8 bytes


def _arrays_head(ids: Sequence[int], weights) -> bytes:
    """A block's document numbers and weights as two little-endian arrays of the narrowest
    type that holds them, behind a flag byte and the two type codes."""
    weights = weight_list(weights, len(ids))
    if all(float(weight).is_integer() and weight >= 0 for weight in weights):
        weight_code = narrowest_code(int(max(weights)))
        weights = list(map(int, weights))
    else:
        weight_code = "d"
    id_code = narrowest_code(ids[-1])
    return (_ARRAYS + id_code.encode() + weight_code.encode()
            + little_endian_bytes(id_code, ids) + little_endian_bytes(weight_code, weights))


def weight_list(weights, count: int) -> Sequence[float]:
    """Whoosh's weights of a block of ``count`` postings as a sequence (it writes None for
    all 1.0, a number for all the same)."""
    if weights is None or isinstance(weights, float):
        return [1.0 if weights is None else weights] * count
    return weights


def joined_values(values: Sequence[bytes]) -> tuple[list[int], bytes]:
    """``values`` one after another in one string, and where each ends in it (as
    :meth:`Block.joined_values` gives them)."""
    return list(itertools.accumulate(map(len, values))), b"".join(values)


def _joined_values(values: Sequence[bytes]) -> bytes:
    """A block's values one after another, after where each ends (see
    :meth:`Block.joined_values`): a flag, the type code of the ends, the count, the ends
    and the values.

    Not compressed: reading a few values must not inflate the whole block (the figures:
    docs/performance.md). Blocks written compressed before still read."""
    ends, joined = joined_values(values)
    code = narrowest_code(ends[-1])
    return _JOINED_PLAIN + code.encode() + _COUNT.pack(len(ends)) + \
        little_endian_bytes(code, ends) + joined


# The compiled _arrays_head, _joined_values and counts_as_integers (speedups) where built,
# each given first the Python function, which it calls for an input it hands over; else
# the Python ones.
_c = speedups.compiled("finish")
_block_head = speedups.standing_in(_c, "arrays_head", _arrays_head)
_block_values = speedups.standing_in(_c, "joined_values", _joined_values)
_counts_as_integers = speedups.standing_in(_c, "counts_as_integers",
                                           whoosh_adapter.counts_as_integers)

_ARRAYS = b"a"
_JOINED_ZLIB, _JOINED_PLAIN = b"j", b"J"
_JOINED = (_JOINED_ZLIB, _JOINED_PLAIN)
_COUNT = struct.Struct("<I")
_ITEM_SIZES = {ord("B"): 1, ord("H"): 2, ord("I"): 4, ord("Q"): 8, ord("d"): 8}
_TYPE_CODES = {code: chr(code) for code in _ITEM_SIZES}
_LITTLE_ENDIAN = sys.byteorder == "little"
# A Block as head_in_place and values_in_place read it: the protocol, maybe a frame header, the class, the
# head's bytes' opcode and length (group 1), then the head (from group 2: its flag); after
# the head, the memo opcode, maybe a frame header, the values' bytes' opcode and length
# (group 1), then the values (from group 2: the flag of plain joined values).
_PLACED_HEAD = re.compile(re.escape(_PICKLE_PROTOCOL) + b"(?:" + _FRAME_HEADER + b")?"
                          + re.escape(_BLOCK_GLOBAL) + _BYTES_OPCODE + b"(" + re.escape(_ARRAYS) + b")",
                          re.DOTALL)
_PLACED_VALUES = re.compile(re.escape(_MEMOIZE) + b"(?:" + _FRAME_HEADER + b")?" + _BYTES_OPCODE
                            + b"(" + re.escape(_JOINED_PLAIN) + b")", re.DOTALL)
assert all(array.array(chr(code)).itemsize == size for code, size in _ITEM_SIZES.items())


def _unpacked(packed: bytes) -> object:
    """A part of a block as blocks were written before arrays and joined values: a flag
    byte, then a pickle, compressed (``z``) or not (``p``)."""
    data = packed[1:]
    return pickle.loads(zlib.decompress(data) if packed[:1] == _ZLIB else data)


_ZLIB = b"z"  # else b"p", a plain pickle


class Occurrences(Characters):
    """Whoosh's ``Characters`` format as numbers: each occurrence's position step (from the
    previous position; the first from 0), start step (from the previous occurrence's end)
    and length, every position step first, then every start step, then every length.

    Two layouts; the schema saved with an index says which. An instance made now writes
    each number as the UTF-8 bytes of the character of that code (:attr:`varying`: one
    byte below 128, two below 2,048, three below 65,536, decoded in C), 40 % smaller on
    Reuters-21578; a value holding a number beyond it is ``_FIXED_ESCAPE`` and the other
    layout. An instance unpickled from a schema saved before (format version 2 or older)
    writes and reads the fixed layout: a type code (``h`` or ``i``), then the
    little-endian signed numbers.
    """

    varying = False  # the layout of schemas saved before the varying one

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.varying = True

    def encode(self, occurrences: Sequence[tuple[int, int, int]]) -> bytes:
        if not self.varying:
            return _fixed_encoded(occurrences)
        if len(occurrences) == 1:  # most words occur once in an article
            ((position, start, end),) = occurrences
            if 0 <= start <= end <= _LARGEST_CODE and 0 <= position <= _LARGEST_CODE:
                return f"{chr(position)}{chr(start)}{chr(end - start)}".encode(
                    "utf-8", "surrogatepass")
            numbers: Sequence[int] = (position, start, end - start)
        else:
            numbers = _steps(occurrences)
        if min(numbers) < 0 or max(numbers) > _LARGEST_CODE:
            return _FIXED_ESCAPE + _fixed_encoded(occurrences)
        return "".join(map(chr, numbers)).encode("utf-8", "surrogatepass")

    def decode_frequency(self, valuestring: bytes) -> int:
        fixed = self._fixed(valuestring)
        if fixed is None:
            return len(_codes(valuestring)) // 3
        return _count(fixed[0], len(fixed))

    def decode_positions(self, valuestring: bytes) -> list[int]:
        if self.varying:
            return list(varying_positions(valuestring))
        return list(occurrence_positions(valuestring))

    def decode_characters(self, valuestring: bytes) -> list[tuple[int, int, int]]:
        fixed = self._fixed(valuestring)
        if fixed is None:
            codes = _codes(valuestring)
            return _occurrences(list(map(ord, codes)), len(codes) // 3)
        count = _count(fixed[0], len(fixed))
        return _occurrences(_packing(fixed[0], 3 * count).unpack_from(fixed, 1), count)

    def _fixed(self, valuestring: bytes) -> bytes | None:
        """The value in the fixed layout, or None if it is in the varying one."""
        if not self.varying:
            return valuestring
        return valuestring[1:] if valuestring[0] == _FIXED_ESCAPE_CODE else None


def _steps(occurrences: Sequence[tuple[int, int, int]]) -> list[int]:
    """Every position step, then every start step, then every length (see
    :class:`Occurrences`)."""
    positions, starts, lengths = [], [], []
    last_position = last_end = 0
    for position, start, end in occurrences:
        positions.append(position - last_position)
        starts.append(start - last_end)
        lengths.append(end - start)
        last_position, last_end = position, end
    return positions + starts + lengths


def _occurrences(numbers: Sequence[int], count: int) -> list[tuple[int, int, int]]:
    """The occurrences of :func:`_steps`' numbers (``count`` of them)."""
    if count == 1:  # most words occur once in an article
        position, start, length = numbers
        return [(position, start, start + length)]
    found, end = [], 0
    for position, step, length in zip(itertools.accumulate(numbers[:count]),
                                      numbers[count:2 * count], numbers[2 * count:]):
        start = end + step
        end = start + length
        found.append((position, start, end))
    return found


def _fixed_encoded(occurrences: Sequence[tuple[int, int, int]]) -> bytes:
    """The fixed layout of :class:`Occurrences`."""
    if len(occurrences) == 1:
        ((position, start, end),) = occurrences
        if position < 32768 and end < 32768:
            return _ONCE_SHORT.pack(_SHORT, position, start, end - start)
        numbers: Sequence[int] = (position, start, end - start)
    else:
        numbers = _steps(occurrences)
    code = _SHORT if -32768 <= min(numbers) and max(numbers) < 32768 else _INT
    return _packing(code, len(numbers), coded=True).pack(code, *numbers)


def _codes(valuestring: bytes) -> str:
    """The numbers of a varying :class:`Occurrences` value, as characters of those codes."""
    return valuestring.decode("utf-8", "surrogatepass")


def varying_positions(valuestring: bytes) -> Sequence[int]:
    """The positions in an :class:`Occurrences` value of the varying layout, in order."""
    if valuestring[0] == _FIXED_ESCAPE_CODE:
        return occurrence_positions(valuestring[1:])
    codes = _codes(valuestring)
    return itertools.accumulate(map(ord, codes[:len(codes) // 3]))


def keyed_positions(block: Callable[[int], tuple[Sequence[int], Sequence[float], Sequence[int],
                                                  bytes, int]],
                    last_ids: Sequence[int], docs: Iterable[int], span: int, shift: int,
                    decode: Callable[[bytes], Iterable[int]], weights_found: dict) -> list[int]:
    """Each position in the value of each of ``docs`` (rising) that a term's blocks hold,
    keyed by its document: ``doc * span + shift + position``. ``last_ids`` are the blocks'
    last document numbers; ``block(number)`` gives a block's document numbers (rising),
    their weights, where its values end, the data holding them and where the first begins
    there (the value of ``ids[at]`` is ``data[base + ends[at - 1]:base + ends[at]]``, from
    ``base`` for the first; see :meth:`PlacedValues.ends_at`). Only the blocks holding one
    of ``docs`` are read, in one pass over ``docs``. The weight of each of ``docs`` found is
    put in ``weights_found``. ``decode`` reads a value's positions; :class:`Occurrences`
    values are read where they are, each found by bisection from the last one's place."""
    found: list[int] = []
    add, extend = found.append, found.extend
    varying = decode is varying_positions
    read = _positions_reader(decode)
    number, last = -1, -1
    for doc in docs:
        if doc > last:  # the next block that could hold it
            number = bisect_left(last_ids, doc, number + 1)
            if number == len(last_ids):
                break
            ids, weights, ends, data, base = block(number)
            last, at = ids[-1], 0
            # (no escape in the fixed layout)
            inline = varying and data.find(_FIXED_ESCAPE, base, base + ends[-1]) < 0
        at = bisect_left(ids, doc, at)
        if ids[at] != doc:
            continue
        weights_found[doc] = weights[at]
        key = doc * span + shift
        start = base + ends[at - 1] if at else base
        if inline:
            codes = data[start:base + ends[at]].decode("utf-8", "surrogatepass")
            if len(codes) == 3:  # one occurrence: most words in an article
                add(key + ord(codes[0]))
            else:
                extend(itertools.accumulate(map(ord, codes[1:len(codes) // 3]),
                                            initial=key + ord(codes[0])))
        else:
            extend(map(key.__add__, read(data, start, base + ends[at])))
    return found


def _positions_reader(decode: Callable[[bytes], Iterable[int]]
                      ) -> Callable[[bytes, int, int], Iterable[int]]:
    """A function of ``(data, start, end)`` giving the positions ``decode`` reads in the
    value ``data[start:end]``: for the fixed layout of :class:`Occurrences`, read where
    it is."""
    if decode is occurrence_positions:
        return lambda data, start, end: itertools.accumulate(position_steps(data, start, end))
    return lambda data, start, end: decode(data[start:end])


# The largest character code (UTF-8 writes no larger number), and the byte that UTF-8 never
# writes, which starts a value in the fixed layout.
_LARGEST_CODE = sys.maxunicode
_FIXED_ESCAPE_CODE = 0xFF
_FIXED_ESCAPE = bytes([_FIXED_ESCAPE_CODE])


def occurrence_positions(valuestring: bytes) -> Sequence[int]:
    """The positions in an :class:`Occurrences` value, in order."""
    steps = position_steps(valuestring, 0, len(valuestring))
    return steps if len(steps) == 1 else list(itertools.accumulate(steps))


def position_steps(data: bytes, start: int, end: int) -> tuple[int, ...]:
    """The steps from one position to the next (the first from 0) of the
    :class:`Occurrences` value in ``data[start:end]``, read where it is."""
    code = data[start]
    return _packing(code, _count(code, end - start)).unpack_from(data, start + 1)


def _count(code: int, size: int) -> int:
    """How many occurrences an :class:`Occurrences` value of ``size`` bytes holds: after
    the code, three numbers of the code's size for each."""
    return (size - 1) // (3 * _SIZES[code])


@lru_cache(maxsize=1024)
def _packing(code: int, count: int, coded: bool = False) -> struct.Struct:
    """How ``count`` numbers of type ``code`` are packed (after the code byte, or with
    it when ``coded``)."""
    return struct.Struct(f"<{'B' if coded else ''}{count}{chr(code)}")


_SHORT, _INT = ord("h"), ord("i")
_ONCE_SHORT = struct.Struct("<B3h")
_SIZES = {_SHORT: 2, _INT: 4}
