"""The compiled finish (searchidx/engine/c/finish.c) gives exactly what the Python functions
it stands in for give: the same bytes, None, or exception, for every input."""

from __future__ import annotations

import array
from functools import partial

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from searchidx.engine import codec, speedups, terms, whoosh_adapter


_c = speedups.built("finish")
needs_compiled = pytest.mark.skipif(_c is None, reason="the C module was not built")


def _in_c(python):
    """The compiled version of the Python function ``python`` (the C name is the Python
    one without its leading "_"), given ``python`` first, as its binding gives it."""
    return partial(getattr(_c, python.__name__.lstrip("_")), python)


def _outcome(function, *args):
    """What a call gives: its result (its type and repr: 1 and 1.0 differ), or the type of
    exception it raises."""
    try:
        result = function(*args)
        return "returns", type(result), repr(result)
    except Exception as error:  # noqa: BLE001 (any exception must be the same one)
        return "raises", type(error)


def _near(*limits: int) -> st.SearchStrategy[int]:
    return st.sampled_from(limits).flatmap(lambda limit: st.integers(limit - 2, limit + 2))


# numbers near the limits of a code's byte count, of the codes (and surrogates), of 32-bit
# floats, of the arrays' types and of 64 bits
_NUMBERS = st.one_of(st.integers(0, 300),
                     _near(0, 0x80, 0x800, 0xD800, 0xDFFF, 0x10000, 0x10FFFF, 2**24, 2**32,
                           2**53, 2**63, 2**64, 2**80),
                     st.integers(-(2**70), 2**70))
_WHOLE_WEIGHTS = st.one_of(st.integers(0, 40), _near(2**24, 2**53), st.integers(-3, -1))
_WEIGHTS = st.one_of(_WHOLE_WEIGHTS, _WHOLE_WEIGHTS.map(float),
                     st.floats(allow_nan=True, allow_infinity=True),
                     st.floats(0, 100).map(lambda weight: round(weight, 1)),
                     st.sampled_from([0.5, 1.5, -0.0, 1e-50, 16777215.5, 2.0**64, 1e300]))
_VALUES = st.one_of(st.none(), st.binary(max_size=12), st.binary(min_size=3, max_size=3))


def _ascending(draw_ids) -> st.SearchStrategy[list[int]]:
    return draw_ids.map(lambda ids: sorted(set(ids)))


_IDS = st.one_of(_ascending(st.lists(st.integers(0, 5000), min_size=1, max_size=10)),
                 _ascending(st.lists(_NUMBERS, min_size=1, max_size=10)),
                 st.lists(st.integers(0, 300), min_size=0, max_size=10))


@needs_compiled
@settings(max_examples=300)
@given(st.integers(0, 255), st.lists(_NUMBERS, max_size=90) | st.tuples(_NUMBERS, _NUMBERS),
       st.binary(max_size=20))
@example(1, [0, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xD800, 0xDFFF, 0xE000, 0xFFFF, 0x10000,
             0x10FFFF], b"t")  # each code's first and last number of a byte count
@example(1, [5, 0x110000], b"")
@example(1, [-1, 5], b"")
@example(1, [0x10FFFF] * 63, b"")  # 252 bytes of codes: fits
@example(1, [0x10FFFF] * 64, b"")  # 256: does not
@example(1, [], b"")  # min() of nothing raises
def test_packed_info_in_c_is_the_pythons(flags, numbers, tail):
    assert _outcome(_in_c(terms._packed_info), flags, numbers, tail) == \
        _outcome(terms._packed_info, flags, numbers, tail)


@needs_compiled
@settings(max_examples=500)
@given(_NUMBERS, _WEIGHTS, _VALUES, st.integers(0, 255))
@example(7, 1, b"", 0)
@example(7, True, None, 0)
@example(7, 3, bytearray(b"ab"), 1)
@example(7, 0.1, None, 255)
@example(7, 16777215.5, None, 0)  # kept as a 32-bit float: 2**24, whole
@example(7, 2.5, b"abc", 9)
@example(2**24, 2**24 - 1, None, 0)
def test_one_posting_bytes_in_c_is_the_pythons(docnum, weight, value, length_code):
    assert _outcome(_in_c(terms._one_posting_bytes), docnum, weight, value, length_code) == \
        _outcome(terms._one_posting_bytes, docnum, weight, value, length_code)


@st.composite
def _counted_postings(draw):
    ids = draw(_IDS)
    count = len(ids) + draw(st.sampled_from([0, 0, 0, 1, -1]))
    weights = draw(st.lists(_WEIGHTS, min_size=max(count, 0), max_size=max(count, 0))
                   | st.lists(_WHOLE_WEIGHTS, min_size=max(count, 0), max_size=max(count, 0)))
    kind = draw(st.sampled_from(["none", "fixed", "varying", "mixed"]))
    values = {"none": [None] * len(ids),
              "fixed": [draw(st.binary(min_size=2, max_size=2)) for _ in ids],
              "varying": draw(st.lists(st.binary(max_size=40), min_size=len(ids),
                                       max_size=len(ids))),
              "mixed": draw(st.lists(_VALUES, min_size=len(ids), max_size=len(ids)))}[kind]
    if draw(st.booleans()):
        ids, weights, values = tuple(ids), tuple(weights), tuple(values)
    codes = bytes(draw(st.lists(st.sampled_from([0, 0, 1, 2, 7, 255]), max_size=len(ids))))
    return ids, weights, values, codes


@needs_compiled
@settings(max_examples=300)
@given(_counted_postings())
@example(([3], [1], [None], b"\0"))
@example(([3, 4, 8], [1, 2, 1], [b"ab", b"cd", b"ef"], b"\0\x07\x02"))
@example(([1, 2], [1, 2], [None], b""))  # a value missing
@example(([1, 2], [1.5, 2], [None, None], b""))
@example(([5, 9], [2**24 - 2, 1], [b"a", b"bc"], b"\x05\x00"))  # a total of 2**24
@example(([5, 9], [2**100, 1], [None, None], b""))
@example((list(range(200)), [1] * 200, [None] * 200, b""))  # more postings than C counts
@example(([1, 2], [1, 1], [b"a", bytearray(b"b")], b""))
def test_counted_postings_bytes_in_c_is_the_pythons(postings):
    assert _outcome(_in_c(terms._counted_postings_bytes), *postings) == \
        _outcome(terms._counted_postings_bytes, *postings)


_BLOCK_IDS = st.one_of(_ascending(st.lists(st.integers(0, 2**17), min_size=1, max_size=600)),
                       _ascending(st.lists(_NUMBERS, min_size=1, max_size=20)),
                       st.lists(st.integers(0, 70000), max_size=20))


@st.composite
def _block(draw):
    ids = draw(_BLOCK_IDS)
    if draw(st.booleans()) and all(0 <= number < 2**32 for number in ids):
        ids = array.array("I", ids)  # as whoosh3 keeps a block's
    whole = draw(st.booleans())
    weights = draw(st.one_of(
        st.none(), _WEIGHTS.filter(lambda weight: isinstance(weight, float)),
        st.lists(_WHOLE_WEIGHTS if whole else _WEIGHTS, min_size=len(ids), max_size=len(ids)),
        st.lists(_WEIGHTS, max_size=3)))
    return (ids, tuple(weights)) if isinstance(weights, list) and draw(st.booleans()) \
        else (ids, weights)


@needs_compiled
@settings(max_examples=300)
@given(_block())
@example(([0, 1, 255], [1, 1, 255]))
@example(([0, 256], [2**16, 1.0]))
@example(([300, 2], [1, 1]))  # an id too large for the last one's type
@example(([1], [2.0**64]))
@example(([1], [float("inf")]))
@example(([1, 2], (1, 2.5)))
@example(([1, 2], "ab"))
@example((array.array("I", [1, 2, 70000]), None))
@example((array.array("H", [1, 2]), (1, 2)))
@example((array.array("I"), None))
@example((memoryview(array.array("I", [1, 2, 3, 4]))[::2], None))  # not contiguous
def test_a_blocks_head_in_c_is_the_pythons(block):
    assert _outcome(_in_c(codec._arrays_head), *block) == _outcome(codec._arrays_head, *block)


@needs_compiled
@given(st.lists(st.binary(max_size=300), max_size=70) | st.lists(st.binary(max_size=3)).map(tuple))
@example([b"x" * 70000])
@example([b"ab"] * 64 + [b"x" * 300])
@example([b"a", bytearray(b"b")])
@example([])
def test_a_blocks_joined_values_in_c_are_the_pythons(values):
    assert _outcome(_in_c(codec._joined_values), values) == _outcome(codec._joined_values, values)


@needs_compiled
@given(st.lists(_WEIGHTS, max_size=20).map(tuple) | st.lists(_WHOLE_WEIGHTS, max_size=20))
@example((1.0, 2.0, 3.0))
@example((1, 2.5))
@example((10**400, 1.0))
@example((True, 2.0))
def test_counts_as_integers_in_c_are_the_pythons(weights):
    assert _outcome(_in_c(whoosh_adapter.counts_as_integers), weights) == \
        _outcome(whoosh_adapter.counts_as_integers, weights)


_KEYS = st.lists(st.binary(max_size=6).map(lambda rest: b"\x00\x03pre" + rest)
                 | st.binary(max_size=8), min_size=1, max_size=40, unique=True).map(sorted)


@st.composite
def _table_block(draw):
    keys = draw(_KEYS | st.lists(st.binary(), min_size=0, max_size=3))  # (unsorted, empty)
    infos = draw(st.lists(st.binary(max_size=30), min_size=len(keys), max_size=len(keys)))
    return keys, infos


@needs_compiled
@given(_table_block())
@example(([b"\x00\x01apple", b"\x00\x01apply", b"\x00\x01b"], [b"ab", b"c", b""]))
@example(([b"\x00\x01a\xffx", b"\x00\x01b"], [b"1", b"2"]))  # not text: lengths kept
@example(([b"k%03d" % number for number in range(128)], [b"x" * 2048] * 128))  # long codes
@example(([b"k%03d" % number for number in range(255)], [b"x"] * 255))  # 255 bytes: long
@example(([b"k%03d" % number for number in range(254)], [b"x"] * 254))
@example(([b"p" * 300 + b"a", b"p" * 300 + b"b"], [b"", b""]))  # a prefix past 255 bytes
@example(([b"a"] * 256, [b""] * 256))  # too many for a block: the Python raises
@example(([b"a", b"b"], [b""]))
@example(([b"a"], [bytearray(b"x")]))
def test_a_terms_table_block_in_c_is_the_pythons(block):
    assert _outcome(_in_c(terms._block_bytes), *block) == _outcome(terms._block_bytes, *block)


@needs_compiled
def test_the_compiled_functions_check_their_count_of_arguments():
    with pytest.raises(TypeError):
        _in_c(terms._one_posting_bytes)(1, 1, None)
    with pytest.raises(TypeError):
        _in_c(codec._arrays_head)([1])
    with pytest.raises(TypeError):
        _c.joined_values()  # not even the Python function


@needs_compiled
def test_the_compiled_functions_hand_what_they_leave_to_the_python_function_given_first():
    def handed(*arguments):
        return ("handed", arguments)

    assert _c.packed_info(handed, 1, "not numbers", b"") == ("handed", (1, "not numbers", b""))
    assert _c.joined_values(handed, [b"a", "b"]) == ("handed", ([b"a", "b"],))
    assert _c.counts_as_integers(handed, {1.0}) == ("handed", ({1.0},))


def test_the_finish_uses_the_compiled_functions_unless_the_python_ones_are_asked_for():
    chosen = speedups.compiled("finish")  # None under SEARCHIDX_PURE_PYTHON
    bindings = {terms.CompactTermInfo.one_posting_bytes: terms._one_posting_bytes,
                terms.CompactTermInfo.counted_postings_bytes: terms._counted_postings_bytes,
                terms._packed: terms._packed_info, terms._table_block: terms._block_bytes,
                codec._block_head: codec._arrays_head, codec._block_values: codec._joined_values,
                codec._counts_as_integers: whoosh_adapter.counts_as_integers}
    for bound, python in bindings.items():
        if chosen is None:
            assert bound is python
        else:
            assert bound.func is getattr(chosen, python.__name__.lstrip("_"))
            assert bound.args == (python,) and not bound.keywords
