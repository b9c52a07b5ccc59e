"""The compiled postings of a document's field (``searchidx.engine._c_postings``): the
same bytes, numbers and types as the Python functions it stands in for, on every input
(engine/codec.py's ``Occurrences.encode``, engine/pool.py's ``TermPool.add_field``)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchidx.engine import pool, speedups
from searchidx.engine.codec import Occurrences
from searchidx.engine.pool import CountedTerms, OccurringTerms, TermPool

_c = speedups.built("postings")
needs_compiled = pytest.mark.skipif(_c is None, reason="the compiled postings were not built")

_LARGEST_CODE = 0x10FFFF
# numbers of every size the layouts tell apart: one to four UTF-8 bytes, surrogates,
# beyond the largest code, beyond 64 bits, negative
_NUMBERS = st.one_of(st.integers(0, 130), st.integers(0, 70_000),
                     st.sampled_from([0x7F, 0x80, 0x7FF, 0x800, 0xD800, 0xDFFF, 0xFFFF,
                                      0x10000, _LARGEST_CODE, _LARGEST_CODE + 1, 2**31,
                                      2**62, 2**62 + 1, 2**63, 2**64 + 5, -1, -(2**63)]),
                     st.integers())


@st.composite
def _occurrences(draw, numbers=_NUMBERS, most: int = 40) -> list[tuple[int, int, int]]:
    """A term's occurrences (at most ``most``) as the analysis makes them (rising positions
    and characters), or any numbers at all."""
    if draw(st.booleans()):
        return draw(st.lists(st.tuples(numbers, numbers, numbers), min_size=1, max_size=most))
    found, position, end = [], 0, 0
    for _ in range(draw(st.integers(1, most))):
        position += draw(st.integers(0, 3) | numbers.filter(lambda n: n >= 0))
        start = end + draw(st.integers(0, 9) | numbers.filter(lambda n: n >= 0))
        end = start + draw(st.integers(0, 20) | numbers.filter(lambda n: n >= 0))
        found.append((position, start, end))
    return found


def _outcome(function, *args):
    """What ``function(*args)`` returns, or the type of what it raises."""
    try:
        return function(*args)
    except Exception as error:  # the same exception is part of the same result
        return type(error)


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(_occurrences())
def test_encode_varying_writes_what_occurrences_encode_writes_or_hands_over(occurrences):
    compiled = _c.encode_varying(occurrences)
    if compiled is not None:
        assert type(compiled) is bytes
        assert compiled == _outcome(Occurrences().encode, occurrences)


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(_occurrences(numbers=st.integers(0, _LARGEST_CODE)))
def test_encode_varying_makes_every_value_the_varying_layout_holds(occurrences):
    expected = _outcome(Occurrences().encode, occurrences)
    if type(expected) is bytes and expected[0] != 0xFF:  # no escape: the compiled layout's
        assert _c.encode_varying(occurrences) == expected


@needs_compiled
@pytest.mark.parametrize("occurrences", [
    [], [(0, 0, 0)], [(0, 0)], [[0, 0, 0]], ((0, 0, 0),), [(True, 0, 1)], [(0.0, 0, 1)],
    [(1, 5, 3)], [(5, 0, 1), (2, 2, 3)], [(0, 0, _LARGEST_CODE + 1)],
], ids=["empty", "one", "two numbers", "a list", "a tuple", "a bool", "a float",
        "end before start", "positions falling", "beyond the largest code"])
def test_encode_varying_hands_over_what_it_does_not_write_itself(occurrences):
    compiled = _c.encode_varying(occurrences)
    assert compiled is None or compiled == _outcome(Occurrences().encode, occurrences)
    if occurrences in ([(0, 0, 0)],):
        assert compiled == b"\x00\x00\x00"


@contextmanager
def _postings_made(compiled: bool):
    """The term pool adds fields with its compiled loop, or with its Python one."""
    chosen, pool._c = pool._c, (_c if compiled else None)
    try:
        yield
    finally:
        pool._c = chosen


def _pool_after(documents: list, compiled: bool) -> tuple:
    """What a pool holds, and what ``add_field`` returned, after adding each document's
    fields ``(field name, document number, postings, boost)``."""
    held = TermPool(None, 1e9)
    returned = []
    with _postings_made(compiled):
        for fieldname, docnum, items, boost in documents:
            returned.append(_outcome(held.add_field, fieldname, docnum, items, boost, b"?"))
    typed = {fieldname: {text: [(type(item), repr(item)) for item in postings]
                         for text, postings in terms.items()}
             for fieldname, terms in held._fields.items()}
    return returned, typed, held._unordered, held._size, held.fieldnames


def _same_results(first, second) -> None:
    assert first == second
    assert [type(item) for item in first[0]] == [type(item) for item in second[0]]
    for one, other in zip(first[0], second[0]):
        if isinstance(one, tuple):
            assert [type(item) for item in one] == [type(item) for item in other]


_TERMS = st.text(st.characters(), max_size=6)  # surrogates too: their terms cannot be encoded
_BOOSTS = st.sampled_from([1.0, 2.5, 0.1, 1, 3, 0.0, float("inf"), True])
_DOCUMENT_NUMBERS = st.integers(0, 6)  # repeated and falling too: held out of order


@st.composite
def _field_postings(draw):
    """One field's postings of a document, as a field's ``index`` gives them: prose terms
    with their occurrences, or exact terms with their frequencies."""
    fieldname = draw(st.sampled_from(["body", "exact", "title"]))
    if fieldname == "exact":
        frequencies = st.integers(0, 9) | st.sampled_from([2**32 - 1, 2**32, -1, True, 1.5])
        items = CountedTerms(draw(st.dictionaries(_TERMS, frequencies, max_size=6)),
                             draw(_BOOSTS))
    else:
        # (a tuple of occurrences or a number: not what the analysis gives, handed over)
        found = _occurrences(most=4) | _occurrences(most=4).map(tuple) | st.integers(0, 3)
        occurrences = draw(st.dictionaries(_TERMS, found, max_size=6))
        items = OccurringTerms(occurrences, draw(_BOOSTS), Occurrences().encode)
    return fieldname, draw(_DOCUMENT_NUMBERS), items, draw(_BOOSTS)


@needs_compiled
@settings(max_examples=200, deadline=None)
@given(st.lists(_field_postings(), max_size=4))
def test_the_compiled_loop_holds_what_the_python_loop_holds(documents):
    _same_results(_pool_after(documents, compiled=True), _pool_after(documents, compiled=False))


@needs_compiled
def test_the_compiled_loop_holds_a_document_out_of_order_as_the_python_loop():
    documents = [("body", docnum, OccurringTerms({"port": [(0, 0, 4)], "đà": [(1, 5, 7)]},
                                                 1.0, Occurrences().encode), 2.0)
                 for docnum in (3, 1, 2)]
    compiled = _pool_after(documents, compiled=True)
    _same_results(compiled, _pool_after(documents, compiled=False))
    assert compiled[2] == {("body", b"port"), ("body", "đà".encode())}


@needs_compiled
def test_a_term_that_cannot_be_encoded_fails_as_in_the_python_loop():
    documents = [("body", 0, OccurringTerms({"ok": [(0, 0, 2)], "\ud800": [(1, 3, 4)]}, 1.0,
                                            Occurrences().encode), 1.0)]
    compiled = _pool_after(documents, compiled=True)
    assert compiled[0] == [UnicodeEncodeError]
    _same_results(compiled, _pool_after(documents, compiled=False))
