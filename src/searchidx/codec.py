"""The on-disk format: Whoosh's ``whoosh3`` codec, with postings blocks pickled in the
current protocol, and field lengths read a column at a time.

whoosh3 3.54 pickles each block of postings with protocol 2, where every ``bytes`` value
(a posting's positions and character offsets) is written as a call to ``_codecs.encode``
and each is called again when the block is read: on Reuters-21578 a block of a common
word took 160 µs to unpickle, 6 times as long as with protocol 5, and was 70 % larger.
Whoosh 2.7 itself used the default protocol. Nothing changes for readers: a block is
read with ``pickle.loads`` whatever its protocol, so indexes written before still open.

Each document's length in a field is one byte in a column, which ``whoosh3`` reads one
document at a time, through Python file calls, for every posting it writes (8 % of a
build) and every match it scores; here a field's column is read once.

Index files name :class:`Codec`: keep its name and module.
"""

from __future__ import annotations

import pickle
import zlib

from functools import partial

from whoosh.codec import whoosh3
from whoosh.util.numeric import byte_to_length, length_to_byte

__all__ = ["Codec", "PerDocumentReader"]

# zlib enlarges blocks smaller than this (whoosh3's measured crossover).
_COMPRESSION_MIN_BYTES = 80


class Codec(whoosh3.W3Codec):
    """Whoosh's codec, writing postings with :class:`_PostingsWriter`."""

    def postings_writer(self, dbfile, byteids=False):
        return _PostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                               compression=self._compression, inlinelimit=self._inlinelimit)

    def per_document_reader(self, storage, segment):
        return PerDocumentReader(storage, segment)


class PerDocumentReader(whoosh3.W3PerDocReader):
    """Whoosh's per-document reader, with each field's lengths read at once."""

    def __init__(self, storage, segment) -> None:
        super().__init__(storage, segment)
        self._length_bytes: dict[str, bytes | None] = {}

    def length_bytes(self, fieldname: str) -> bytes | None:
        """Each document's length in ``fieldname`` as Whoosh codes it, one byte per
        document (None if the field keeps no lengths)."""
        if fieldname not in self._length_bytes:
            column = self._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)
            self._length_bytes[fieldname] = (None if column is None else
                                             column._dbfile.get(column._basepos, column._count))
        return self._length_bytes[fieldname]

    def doc_field_length(self, docnum, fieldname, default=0):
        if docnum > self._doccount:
            raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
        lengths = self.length_bytes(fieldname)
        return default if lengths is None else _length(lengths, docnum)

    def doc_field_length_reader(self, fieldname, default=0):
        lengths = self.length_bytes(fieldname)
        if lengths is None:
            return lambda docnum: default
        return partial(_length, lengths)


def _length(lengths: bytes, docnum: int) -> int | None:
    """As ``W3PerDocReader.doc_field_length``: None where the length byte is zero."""
    code = lengths[docnum] if docnum < len(lengths) else 0
    return byte_to_length(code) if code else None


class _PostingsWriter(whoosh3.W3PostingsWriter):
    """Writes a block exactly as ``W3PostingsWriter`` does (magic, length, info, data),
    but pickled with ``pickle.HIGHEST_PROTOCOL``."""

    def _write_block(self, last: bool = False) -> None:
        if not self._blockcount:
            self._postfile.write(whoosh3.WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        data = pickle.dumps((self._mini_ids(), self._mini_weights(), self._mini_values()),
                            pickle.HIGHEST_PROTOCOL)
        compression = self._compression if len(data) >= _COMPRESSION_MIN_BYTES else 0
        if compression:
            data = zlib.compress(data, compression)
        info = pickle.dumps((len(self._ids), self._ids[-1], self._maxweight, compression,
                             length_to_byte(self._minlength), length_to_byte(self._maxlength)),
                            pickle.HIGHEST_PROTOCOL)
        length = len(info) + len(data)
        self._postfile.write_int(-length if last else length)  # negative: the last block
        self._postfile.write(info + data)
        self._blockcount += 1
        self._new_block()
