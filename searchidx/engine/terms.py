"""The terms file of format 4: a compact, ordered table of term infos.

whoosh3 keeps its terms in a hash file: each key costs 36 bytes of lengths, hash slots
and an ordered position, and each term info 23 fixed bytes plus an extent or a pickle of
its inlined postings. Most terms are rare (on Reuters-21578 nine in ten keep their eight
postings or fewer inline, and the spelling list is one posting a word), so those
overheads were two thirds of the file. Here:

- **Keys** (whoosh3's: the field number as two bytes, then the term) are sorted and
  grouped in blocks of ``_BLOCK_TERMS``; a block holds the prefix its keys share once,
  then the rest of each key, joined with a byte UTF-8 never writes (split back in one
  call), or one after another with their lengths for keys that are not text (dates).
- **The block index**: the file ends with where each block starts and each block's first
  key, read when a term is first looked up (not when the file opens: a search command
  opens every segment), then bisected in memory; a lookup reads and splits one block.
- **Term infos** (:func:`encoded_term_info`) are their numbers as the UTF-8 codes of
  characters of those values (one byte below 128, decoded in C, as ``codec.Occurrences``
  does), a weight as a number when it is whole; inlined postings the same way, without a
  pickle. A term info that does not fit keeps whoosh3's bytes behind a flag.

A block: its head (:data:`_BLOCK_HEAD`); the codes: each term info's length, then (keys
not joined) each key's rest's length; the shared prefix; the keys' rests; the term infos.
The block index, after the blocks: the type code of the starts' array and of the first
keys' ends' array; the starts (one more than the blocks: the last is where the blocks
end); the ends; the first keys; the field map (a pickle: field name to number); and the
trailer :data:`_TRAILER`.
"""

from __future__ import annotations

import array
import itertools
import operator
import pickle
import struct
import sys
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence

from . import speedups, whoosh_adapter
from whoosh.codec.base import FieldCursor, TermsReader  # noqa: E402 (after the version check)
from whoosh.reading import TermNotFound
from whoosh.system import pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

__all__ = ["MAGIC", "CompactTermInfo", "CompactTermsReader", "CompactTermsWriter",
           "decoded_term_info", "encoded_term_info", "is_compact_terms_file",
           "little_endian_array", "little_endian_bytes", "narrowest_code",
           "write_joined_tables"]

MAGIC = b"SXT4"
# Keys per block: a lookup splits one block (16 keys: about 1.5 µs on Reuters-21578), and
# the block index holds one key per block in memory.
_BLOCK_TERMS = 16
# Blocks whose first keys are split off the block index together, when first needed.
_GROUP_BLOCKS = 32
# A block's head: its count of keys, flags, the length of its keys' shared prefix, of
# their rests and of its codes (or _LONG_CODES, and the length after the head).
_BLOCK_HEAD = struct.Struct("<BBBIB")
_LONG_CODES, _LONG_CODES_SIZE = 255, struct.Struct("<I")
# Keys of UTF-8 text (no byte 0xFF) are joined with it, split back in one call.
_SEPARATED, _SEPARATOR = 0x01, b"\xff"
_TRAILER = struct.Struct("<IQQQ4s")  # blocks, index start, keys start, field map start, magic
_FIELD_NUMBER = 2  # bytes of the field number a key starts with
_NO_FIELD = pack_ushort(65535)  # whoosh3's number for a field it does not know
_LARGEST_CODE = sys.maxunicode
# C versions of the term info functions, or None. Each compiled function is given first
# (bound with partial) the Python function it stands in for, which it calls for an input
# it hands over: the reference and the fallback.
_c = speedups.compiled("finish")


def is_compact_terms_file(dbfile) -> bool:
    """Whether a terms file (a Whoosh ``StructFile``) is a compact table, not whoosh3's."""
    return dbfile.get(0, len(MAGIC)) == MAGIC


# --- term infos ------------------------------------------------------------------------------

# The flags of an encoded term info (its first byte).
_WHOOSH3 = 0x80  # the rest is whoosh3's bytes
_INLINED = 0x01  # postings kept here, not in the postings file
_FLOAT_WEIGHTS = 0x02  # weight and greatest weight as two floats after the codes
_FLOAT_POSTING_WEIGHTS = 0x04  # the inlined weights as doubles after the codes
_NO_VALUES = 0x08  # the inlined postings have no values (None each)
_NO_ID = 0xFFFFFFFF  # whoosh3's document number of a term info without one
# A postings offset is two codes, its megabytes and the rest (a code is at most 1.1 M).
_OFFSET_SPLIT = 1 << 20
_FLOAT = struct.Struct("<f")
_EXACT_FLOAT32 = 2**24  # whole numbers below this are kept exactly by a 32-bit float
_FLOATS = struct.Struct("<ff")
_DOUBLE = struct.Struct("<d")


def encoded_term_info(info, whoosh3_bytes) -> bytes:
    """A whoosh3 term info's compact bytes (see the module's description);
    ``whoosh3_bytes()`` gives its whoosh3 bytes, kept when it does not fit the compact
    layout."""
    compact = _compact_fields(whoosh_adapter.term_info_fields(info))
    return bytes([_WHOOSH3]) + whoosh3_bytes() if compact is None else compact


def _compact_fields(fields: tuple) -> bytes | None:
    """The compact bytes of a term info of these fields (``term_info_fields``), or None
    if it does not fit them."""
    weight, df, minlength, maxlength, maxweight, minid, maxid, offset, length, inlined = fields
    first = _NO_ID if minid is None else minid
    numbers = [df, 0 if minlength is None else length_to_byte(minlength),
               length_to_byte(maxlength), first, (_NO_ID if maxid is None else maxid) - first]
    whole = _whole_weights(weight, maxweight)
    if whole is None:
        flags, tail = _FLOAT_WEIGHTS, _FLOATS.pack(weight, maxweight)
    else:
        flags, tail = 0, b""
        numbers += whole
    if inlined is None:
        numbers += (*divmod(offset, _OFFSET_SPLIT), length)
    else:
        flags |= _INLINED
        inlined_flags, inlined_tail = _inlined_numbers(numbers, minid or 0, *inlined)
        if inlined_flags is None:
            return None
        flags |= inlined_flags
        tail += inlined_tail
    return _packed(flags, numbers, tail)


def _packed_info(flags: int, numbers: list[int] | tuple[int, ...], tail: bytes) -> bytes | None:
    """A compact term info's bytes: its flags, the length of its numbers' codes, the codes
    (the UTF-8 of the characters of those values), then ``tail``; None where a number does
    not fit a code or the codes do not fit 255 bytes."""
    if min(numbers) < 0 or max(numbers) > _LARGEST_CODE:
        return None
    codes = "".join(map(chr, numbers)).encode("utf-8", "surrogatepass")
    if len(codes) > 255:
        return None
    return bytes((flags, len(codes))) + codes + tail


def _whole_weights(weight: float, maxweight: float) -> tuple[int, int] | None:
    """The weight and greatest weight as whole numbers, if whoosh3 reads them back (as
    32-bit floats) as whole numbers of zero or more; else None."""
    if 0 <= weight < _EXACT_FLOAT32 and 0 <= maxweight < _EXACT_FLOAT32 \
            and weight % 1 == 0 == maxweight % 1:  # most terms: counts, kept exactly
        return int(weight), int(maxweight)
    weights = (_as_float32(weight), _as_float32(maxweight))
    if all(weight.is_integer() and weight >= 0 for weight in weights):
        return int(weights[0]), int(weights[1])
    return None


def _counted_postings_bytes(ids: Sequence[int], weights: Sequence[float],
                            values: Sequence[bytes | None], codes: bytes) -> bytes | None:
    """The compact bytes of the term info of inlined postings whose weights are counts
    (whole, summing to less than 2**24: kept exactly as 32-bit floats), made straight from
    them as :func:`_compact_fields` makes them from the term info's fields (in about half
    the time); ``values`` as the term info keeps them (None each in a format without
    values), ``codes`` the documents' length bytes (0 or none: no length). None for other
    weights, or values not all kept."""
    if not all(map(float.is_integer, map(float, weights))) or min(weights) < 0:
        return None
    counts = list(map(int, weights))
    total = sum(counts)
    if total >= _EXACT_FLOAT32 or len(values) != len(ids):
        return None
    codes = codes.translate(None, b"\0")
    first = ids[0]
    # the info's numbers (df, lengths, first id and span, weights), then the postings'
    # (count, document steps, weights, value lengths or count of values)
    numbers = [len(ids), min(codes, default=0), max(codes, default=0), first, ids[-1] - first,
               total, max(counts), len(ids)]
    numbers += map(operator.sub, ids, (first, *ids))
    numbers += counts
    if values.count(None) == len(values):
        flags, tail = _INLINED | _NO_VALUES, b""
        numbers.append(len(values))
    elif _BYTES_ONLY.issuperset(map(type, values)):
        flags, tail = _INLINED, b"".join(values)
        numbers += map(len, values)
    else:
        return None
    return _packed_info(flags, numbers, tail)


def _one_posting_bytes(docnum: int, weight, value: bytes | None, length_code: int
                       ) -> bytes | None:
    """The bytes of the inlined term info of one posting (``value`` as the block keeps
    it, None in a format without values; ``length_code`` the document's length byte,
    0 for none), made at once: a third of the time of making the info and encoding
    it, and most terms of a small segment are one posting. A weight that is not whole
    (a title's, boosted) is kept as floats, as the info keeps it. None where the term
    info's own way is needed."""
    if value == b"":
        return None
    # the info's numbers (df, lengths, first id and span, weights) then the inlined
    # posting's (count, step, weight, value length or count of values)
    if 0 <= weight < _EXACT_FLOAT32 and not weight % 1:
        weight = int(weight)
        flags, tail = _INLINED, b""
        numbers = (1, length_code, length_code, docnum, 0, weight, weight, 1, 0, weight)
    elif 0 < weight < _EXACT_FLOAT32 and not (kept := _as_float32(weight)).is_integer():
        # the term's weight as whoosh3 keeps it and its greatest weight, then the
        # posting's weight (the kept one) as a double
        flags = _INLINED | _FLOAT_WEIGHTS | _FLOAT_POSTING_WEIGHTS
        tail = _FLOATS.pack(kept, weight) + _DOUBLE.pack(kept)
        numbers = (1, length_code, length_code, docnum, 0, 1, 0)
    else:
        return None
    if value is None:
        flags, numbers = flags | _NO_VALUES, (*numbers, 1)
    else:
        tail, numbers = tail + value, (*numbers, len(value))
    return _packed_info(flags, numbers, tail)


class CompactTermInfo(whoosh_adapter.InliningTermInfo):
    """The term info a postings writer makes for a compact table: its bytes are
    :func:`encoded_term_info`'s. It is read back as whoosh3's ``W3TermInfo``."""

    def to_bytes(self) -> bytes:
        return encoded_term_info(self, super().to_bytes)

    fields_bytes = staticmethod(_compact_fields)
    # the compiled functions (speedups) where built, else the Python ones
    counted_postings_bytes = staticmethod(
        speedups.standing_in(_c, "counted_postings_bytes", _counted_postings_bytes))
    one_posting_bytes = staticmethod(
        speedups.standing_in(_c, "one_posting_bytes", _one_posting_bytes))


_packed = speedups.standing_in(_c, "packed_info", _packed_info)  # (see _c)


def _inlined_numbers(numbers: list[int], first: int, ids, weights, values
                     ) -> tuple[int | None, bytes]:
    """Add inlined postings' numbers to ``numbers``: the count, each document number's
    step (the first from ``first``, the term's first document), each weight if all are
    integers, each value's length; their flags and the bytes that follow the codes (None:
    they do not fit)."""
    flags, tail = 0, b""
    numbers.append(len(ids))
    numbers += map(operator.sub, ids, (first, *ids))
    if _INT_ONLY.issuperset(map(type, weights)):
        numbers += weights
    else:
        flags |= _FLOAT_POSTING_WEIGHTS
        tail = struct.pack(f"<{len(weights)}d", *weights)
    if len(weights) != len(ids):
        return None, b""
    if values.count(None) == len(values):
        flags |= _NO_VALUES
        numbers.append(len(values))
    elif _BYTES_ONLY.issuperset(map(type, values)) and len(values) == len(ids):
        numbers += map(len, values)
        tail += b"".join(values)
    else:
        return None, b""
    return flags, tail


_INT_ONLY, _BYTES_ONLY = frozenset({int}), frozenset({bytes})


def _as_float32(number: float) -> float:
    """``number`` as whoosh3 reads it back (it keeps weights as 32-bit floats)."""
    return _FLOAT.unpack(_FLOAT.pack(number))[0]


def decoded_term_info(data: bytes):
    """The whoosh3 term info of :func:`encoded_term_info`'s bytes, as whoosh3 would read
    its own."""
    flags = data[0]
    if flags & _WHOOSH3:
        return whoosh_adapter.TermInfo.from_bytes(data[1:])
    end = 2 + data[1]
    df, minlength, maxlength, minid, span, *rest = map(ord, data[2:end].decode(
        "utf-8", "surrogatepass"))
    if flags & _FLOAT_WEIGHTS:
        weight, maxweight = _FLOATS.unpack_from(data, end)
        end += _FLOATS.size
    else:
        weight, maxweight, *rest = rest
    known = minid != _NO_ID
    offset = length = inlined = None
    if flags & _INLINED:
        inlined = _inlined_postings(flags, rest, data, end, minid if known else 0)
    else:
        high, low, length = rest
        offset = high * _OFFSET_SPLIT + low
    return whoosh_adapter.new_term_info(
        float(weight), df, byte_to_length(minlength), byte_to_length(maxlength),
        float(maxweight), minid if known else None, minid + span if known else None, offset,
        length, inlined)


def _inlined_postings(flags: int, numbers: list[int], data: bytes, end: int,
                      first: int) -> tuple:
    """Inlined postings as whoosh3 unpickles them: ids, weights and values, three tuples.
    ``numbers`` are the codes that follow the term info's own; ``end``, where the bytes
    after the codes start; ``first``, the term's first document, which steps start from."""
    count = numbers[0]
    if count == 1 and not flags & _FLOAT_POSTING_WEIGHTS:  # most terms: one article
        _, step, weight, value = numbers
        first_id = first + step
        if flags & _NO_VALUES:
            return (first_id,), (weight,), (None,) * value
        return (first_id,), (weight,), (data[end:end + value],)
    ids = tuple(itertools.accumulate(numbers[1:1 + count], initial=first))[1:]
    rest = numbers[1 + count:]
    if flags & _FLOAT_POSTING_WEIGHTS:
        weights = struct.unpack_from(f"<{count}d", data, end)
        end += 8 * count
    else:
        weights, rest = tuple(rest[:count]), rest[count:]
    if flags & _NO_VALUES:
        return ids, weights, (None,) * rest[0]
    ends = list(itertools.accumulate(rest, initial=end))
    return ids, weights, tuple(map(data.__getitem__, map(slice, ends, ends[1:])))


# --- the table -------------------------------------------------------------------------------

class CompactTermsWriter:
    """Writes the table to a new terms file, keys in ascending order (as whoosh3's
    ``OrderedHashWriter``, whose place it takes in a field writer: ``extras["fieldmap"]``
    is the field map it saves)."""

    def __init__(self, dbfile) -> None:
        self.extras: dict = {}
        self._file = dbfile
        self._keys: list[bytes] = []
        self._infos: list[bytes] = []
        self._starts = [dbfile.tell() + len(MAGIC)]
        self._first_keys: list[bytes] = []
        self._last_key = b""
        dbfile.write(MAGIC)

    def add(self, key: bytes, info: bytes) -> None:
        if key <= self._last_key:
            raise ValueError(f"Keys must increase: {self._last_key!r}..{key!r}")
        self._last_key = key
        self._keys.append(key)
        self._infos.append(info)
        if len(self._keys) == _BLOCK_TERMS:
            self._write_block()

    def close(self) -> None:
        if self._keys:
            self._write_block()
        self._file.write(_block_index(self._file.tell(), self._starts, self._first_keys,
                                      pickle.dumps(self.extras.get("fieldmap", {}),
                                                   pickle.HIGHEST_PROTOCOL)))
        self._file.close()

    def _write_block(self) -> None:
        self._file.write(_table_block(self._keys, self._infos))
        self._first_keys.append(self._keys[0])
        self._starts.append(self._file.tell())
        self._keys, self._infos = [], []


def _block_bytes(keys: list[bytes], infos: list[bytes]) -> bytes:
    """A block of the table: its head, its codes, its keys' shared prefix, their rests and
    their term infos (see the module's description)."""
    shared = min(_shared_length(keys[0], keys[-1]), 255)
    rests = [key[shared:] for key in keys]
    lengths = list(map(len, infos))
    if any(_SEPARATOR in rest for rest in rests):  # not UTF-8 text: a date's terms
        flags, joined = 0, b"".join(rests)
        lengths += map(len, rests)
    else:
        flags, joined = _SEPARATED, _SEPARATOR.join(rests)
    codes = "".join(map(chr, lengths)).encode("utf-8", "surrogatepass")
    head = _BLOCK_HEAD.pack(len(keys), flags, shared, len(joined), min(len(codes), _LONG_CODES))
    return head + _short_length(codes) + codes + keys[0][:shared] + joined + b"".join(infos)


_table_block = speedups.standing_in(_c, "block_bytes", _block_bytes)  # (see _c)


def _block_index(index_start: int, starts: list[int], first_keys: list[bytes],
                 fieldmap: bytes) -> bytes:
    """What follows a table's blocks, which end at ``index_start``: the block index
    (``starts``, one more than the blocks, and each block's first key), the field map's
    pickle and the trailer."""
    ends = list(itertools.accumulate(map(len, first_keys)))
    starts_code = narrowest_code(starts[-1])
    ends_code = narrowest_code(ends[-1] if ends else 0)
    index = (starts_code.encode() + ends_code.encode() + little_endian_bytes(starts_code, starts)
             + little_endian_bytes(ends_code, ends))
    keys_start = index_start + len(index)
    keys = b"".join(first_keys)
    return index + keys + fieldmap + _TRAILER.pack(
        len(first_keys), index_start, keys_start, keys_start + len(keys), MAGIC)


def write_joined_tables(tables: list[tuple], out) -> None:
    """Write to ``out`` one table of every key of ``tables`` (``(dbfile, length)`` of
    whole terms files written with the same field map, each one's keys after every key
    of the one before): their blocks one after another, as they are."""
    out.write(MAGIC)
    starts, first_keys, fieldmap = [len(MAGIC)], [], b""
    for dbfile, length in tables:
        table = _Table(dbfile, length)
        table._read_block_index()
        shift = starts[-1] - table._starts[0]
        starts += (start + shift for start in table._starts[1:])
        first_keys += map(table._first_key, range(table._count))
        whoosh_adapter.copy_bytes(dbfile, table._starts[0], table._starts[-1] - table._starts[0],
                                  out)
        fieldmap = dbfile.get(table.fieldmap_start, length - _TRAILER.size - table.fieldmap_start)
    out.write(_block_index(starts[-1], starts, first_keys, fieldmap))


def _shared_length(first: bytes, last: bytes) -> int:
    """How many leading bytes two keys share (all keys between sorted ones share them)."""
    for length, (one, other) in enumerate(zip(first, last)):
        if one != other:
            return length
    return min(len(first), len(last))


def narrowest_code(largest: int) -> str:
    """The type code of the narrowest unsigned array that holds numbers up to ``largest``."""
    return next(code for code in "BHIQ" if largest < 1 << (8 * array.array(code).itemsize))


def little_endian_bytes(code: str, numbers) -> bytes:
    """``numbers`` as an array of type ``code``, little-endian."""
    packed = array.array(code, numbers)
    if not _LITTLE_ENDIAN:
        packed.byteswap()
    return packed.tobytes()


def little_endian_array(code: int, data: bytes, start: int, end: int) -> array.array:
    """The numbers :func:`little_endian_bytes` wrote at ``data[start:end]``, of the type
    whose code is the byte ``code``."""
    numbers = array.array(chr(code))
    numbers.frombytes(memoryview(data)[start:end])
    if not _LITTLE_ENDIAN:
        numbers.byteswap()
    return numbers


_LITTLE_ENDIAN = sys.byteorder == "little"


class _Table:
    """The reading side of a compact table: blocks of keys and term info bytes."""

    def __init__(self, dbfile, length: int) -> None:
        self.dbfile = dbfile
        (self._count, self._index_start, self._keys_start, fieldmap_start,
         magic) = _TRAILER.unpack(dbfile.get(length - _TRAILER.size, _TRAILER.size))
        if magic != MAGIC:
            raise ValueError("not a compact terms file (its trailer is damaged)")
        self.fieldmap_start = fieldmap_start
        self.fieldmap: dict[str, int] = pickle.loads(
            dbfile.get(fieldmap_start, length - _TRAILER.size - fieldmap_start))
        self._starts: array.array | None = None
        self._ends: array.array | None = None
        self._first_keys = b""
        self._group_firsts: list[bytes] = []
        self._groups: dict[int, list[bytes]] = {}

    def _read_block_index(self) -> None:
        """Read where each block starts and its first key; the first key of every
        ``_GROUP_BLOCKS``-th block is split off now, the others a group at a time when a
        lookup needs them (a search command looks up a few terms)."""
        count = self._count
        index = self.dbfile.get(self._index_start, self._keys_start - self._index_start)
        middle = 2 + (count + 1) * array.array(chr(index[0])).itemsize
        starts = little_endian_array(index[0], index, 2, middle)
        ends = little_endian_array(index[1], index, middle, len(index))
        self._starts, self._ends = starts, ends
        self._first_keys = self.dbfile.get(self._keys_start, ends[-1] if count else 0)
        self._group_firsts = [self._first_key(number)
                              for number in range(0, count, _GROUP_BLOCKS)]

    def _first_key(self, number: int) -> bytes:
        return self._first_keys[self._ends[number - 1] if number else 0:self._ends[number]]

    def block_of(self, key: bytes) -> int:
        """The last block whose first key is ``key`` or before it (-1: none)."""
        if self._starts is None:
            self._read_block_index()
        group = bisect_right(self._group_firsts, key) - 1
        if group < 0:
            return -1
        firsts = self._groups.get(group)
        if firsts is None:
            first = group * _GROUP_BLOCKS
            firsts = self._groups[group] = [
                self._first_key(number)
                for number in range(first, min(first + _GROUP_BLOCKS, self._count))]
        return group * _GROUP_BLOCKS + bisect_right(firsts, key) - 1

    def block(self, number: int) -> _Block:
        """A block of the table, decoded as far as its keys."""
        if self._starts is None:
            self._read_block_index()
        start = self._starts[number]
        return _Block(self.dbfile.get(start, self._starts[number + 1] - start))

    def find(self, key: bytes) -> tuple[int, int]:
        """The block and place in it of ``key``, or of the first key after it (past the
        last block's end if none)."""
        number = max(self.block_of(key), 0)
        if number >= self._count:
            return number, 0
        place = self.block(number).place(key)
        return (number + 1, 0) if place is None else (number, place)

    def get(self, key: bytes) -> bytes | None:
        """The term info bytes of ``key``; None if the table lacks it."""
        number = self.block_of(key)
        if number < 0:
            return None
        block = self.block(number)
        place = block.place(key)
        if place is None or block.key(place) != key:
            return None
        return block.info(place)

    def items_from(self, number: int, place: int) -> Iterator[tuple[bytes, bytes]]:
        """Every key and its term info bytes from a block and place, in order."""
        while number < self._count:
            block = self.block(number)
            for at in range(place, block.count):
                yield block.key(at), block.info(at)
            number, place = number + 1, 0


class _Block:
    """A block's keys, found with one split (or from their lengths); its term infos'
    places are decoded when one is asked for."""

    __slots__ = ("count", "_data", "_prefix", "_rests", "_codes", "_infos_start", "_ends")

    def __init__(self, data: bytes) -> None:
        self.count, flags, shared, joined_size, codes_size = _BLOCK_HEAD.unpack_from(data)
        codes_start = _BLOCK_HEAD.size + (codes_size == _LONG_CODES) * _LONG_CODES_SIZE.size
        if codes_size == _LONG_CODES:
            (codes_size,) = _LONG_CODES_SIZE.unpack_from(data, _BLOCK_HEAD.size)
        prefix_start = codes_start + codes_size
        keys_start = prefix_start + shared
        self._infos_start = keys_start + joined_size
        self._data = data
        self._prefix = data[prefix_start:keys_start]
        self._codes = data[codes_start:prefix_start]
        self._ends: list[int] | None = None
        if flags & _SEPARATED:
            self._rests = data[keys_start:self._infos_start].split(_SEPARATOR)
        else:
            lengths = self.lengths()[self.count:]
            places = list(itertools.accumulate(lengths, initial=keys_start))
            self._rests = [data[start:end] for start, end in zip(places, places[1:])]

    def lengths(self) -> list[int]:
        """Each term info's length, then (unless separated) each key's rest's."""
        return list(map(ord, self._codes.decode("utf-8", "surrogatepass")))

    def place(self, key: bytes) -> int | None:
        """Where ``key`` is in the block, or the first key after it; None if after all."""
        prefix = self._prefix
        if key[:len(prefix)] != prefix:
            return 0 if key < prefix else None
        place = bisect_left(self._rests, key[len(prefix):])
        return None if place == self.count else place

    def key(self, place: int) -> bytes:
        return self._prefix + self._rests[place]

    def info(self, place: int) -> bytes:
        """The term info bytes at ``place``."""
        if self._ends is None:
            self._ends = list(itertools.accumulate(self.lengths()[:self.count],
                                                   initial=self._infos_start))
        return self._data[self._ends[place]:self._ends[place + 1]]


def _short_length(codes: bytes) -> bytes:
    """What a block keeps of its codes' size after its head (see :data:`_BLOCK_HEAD`)."""
    return b"" if len(codes) < _LONG_CODES else _LONG_CODES_SIZE.pack(len(codes))


class CompactTermsReader(TermsReader):
    """What whoosh3's terms reader answers, from a compact table; term infos are
    whoosh3's own kind, as it makes them."""

    def __init__(self, codec, dbfile, length: int, postfile) -> None:
        self._codec = codec
        self._table = _Table(dbfile, length)
        self._fieldmap = self._table.fieldmap
        self._field_keys = {name: pack_ushort(number) for name, number in self._fieldmap.items()}
        self._field_names = {key: name for name, key in self._field_keys.items()}
        self._postfile = postfile

    def _key(self, fieldname: str, text: bytes) -> bytes:
        return self._field_keys.get(fieldname, _NO_FIELD) + text

    def _term(self, key: bytes) -> tuple[str, bytes]:
        return self._field_names[key[:_FIELD_NUMBER]], key[_FIELD_NUMBER:]

    def __contains__(self, term) -> bool:
        return self._table.get(self._key(*term)) is not None

    def indexed_field_names(self):
        return self._fieldmap.keys()

    def cursor(self, fieldname: str, fieldobj) -> CompactFieldCursor:
        return CompactFieldCursor(self, fieldname, fieldobj)

    def items_from_key(self, key: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Every key from ``key`` on (or the first after it) with its term info bytes."""
        return self._table.items_from(*self._table.find(key))

    def terms(self):
        return (self._term(key) for key, _ in self._table.items_from(0, 0))

    def terms_from(self, fieldname: str, prefix: bytes):
        return (self._term(key) for key, _ in self.items_from_key(self._key(fieldname, prefix)))

    def items(self):
        return ((self._term(key), decoded_term_info(info))
                for key, info in self._table.items_from(0, 0))

    def items_from(self, fieldname: str, prefix: bytes):
        return ((self._term(key), decoded_term_info(info))
                for key, info in self.items_from_key(self._key(fieldname, prefix)))

    def term_info(self, fieldname: str, text: bytes):
        try:
            return self._found_info(fieldname, text)
        except KeyError:
            raise TermNotFound(f"No term {fieldname}:{text!r}") from None

    def frequency(self, fieldname: str, text: bytes) -> float:
        return self._found_info(fieldname, text).weight()

    def doc_frequency(self, fieldname: str, text: bytes) -> int:
        return self._found_info(fieldname, text).doc_frequency()

    def _found_info(self, fieldname: str, text: bytes):
        """A term's info; raises ``KeyError`` (as whoosh3's table does) if it is missing."""
        info = self._table.get(self._key(fieldname, text))
        if info is None:
            raise KeyError((fieldname, text))
        return decoded_term_info(info)

    def matcher(self, fieldname: str, text: bytes, format_, scorer=None):
        return self._codec.postings_reader(self._postfile, self.term_info(fieldname, text),
                                           format_, term=(fieldname, text), scorer=scorer)

    def close(self) -> None:
        self._table.dbfile.close()
        self._postfile.close()


class CompactFieldCursor(FieldCursor):
    """``W3FieldCursor`` over a compact table: a field's terms in order."""

    def __init__(self, terms: CompactTermsReader, fieldname: str, fieldobj) -> None:
        self._terms, self._fieldname, self._fieldobj = terms, fieldname, fieldobj
        self._items: Iterator[tuple[bytes, bytes]] = iter(())
        self._text = self._info = None
        self.first()

    def first(self):
        return self.find(b"")

    def find(self, term):
        if not isinstance(term, bytes):
            term = self._fieldobj.to_bytes(term)
        self._items = self._terms.items_from_key(self._terms._key(self._fieldname, term))
        return self.next()

    def next(self):
        for key, info in self._items:
            fieldname, text = self._terms._term(key)
            if fieldname == self._fieldname:
                self._text, self._info = self._fieldobj.from_bytes(text), info
                return self._text
            break
        self._items = iter(())
        self._text = self._info = None
        return None

    def text(self):
        return self._text

    def term_info(self):
        return None if self._info is None else decoded_term_info(self._info)

    def is_valid(self) -> bool:
        return self._text is not None
