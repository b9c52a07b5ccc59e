"""The on-disk format: Whoosh's ``whoosh3`` codec, with postings blocks pickled in the
current protocol.

whoosh3 3.54 pickles each block of postings with protocol 2, where every ``bytes`` value
(a posting's positions and character offsets) is written as a call to ``_codecs.encode``
and each is called again when the block is read: on Reuters-21578 a block of a common
word took 160 µs to unpickle, 6 times as long as with protocol 5, and was 70 % larger.
Whoosh 2.7 itself used the default protocol. Nothing changes for readers: a block is
read with ``pickle.loads`` whatever its protocol, so indexes written before still open.
Index files name this class: keep its name and module.
"""

from __future__ import annotations

import pickle
import zlib

from whoosh.codec import whoosh3
from whoosh.util.numeric import length_to_byte

__all__ = ["Codec"]

# zlib enlarges blocks smaller than this (whoosh3's measured crossover).
_COMPRESSION_MIN_BYTES = 80


class Codec(whoosh3.W3Codec):
    """Whoosh's codec, writing postings with :class:`_PostingsWriter`."""

    def postings_writer(self, dbfile, byteids=False):
        return _PostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                               compression=self._compression, inlinelimit=self._inlinelimit)


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
