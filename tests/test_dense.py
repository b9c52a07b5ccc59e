"""Common words' bitmaps: a term in at least one document of every ``DENSE_DIVISOR`` keeps
a bitmap of its documents after its postings blocks (``codec.dense_tail``), which searching
intersects and counts as numbers. Each segment's bitmaps list exactly its postings' documents,
however the segment was written (one writer, workers writing one segment, an update, a
merge); segments written before have none and search as before."""

from __future__ import annotations

import shutil
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from newsgen import rewrite_reports
from searchidx import SearchIndex, settings
from searchidx.engine import counters
from searchidx.engine.matching import _Bits, _bits_of, _Postings
from searchidx.index import IndexStore

FIXTURES = Path(__file__).parent / "fixtures"
ARTICLES = 600


def _body(number: int) -> str:
    """Every article has "harbour"; one in 4 "cargo" (dense), one in 30 "ember" (enough
    postings, too sparse), one in 200 "amber" (kept in its term's entry)."""
    words = ["The harbour office logged", str(number), "ships"]
    words += ["cargo"] * (number % 4 == 0) + ["ember"] * (number % 30 == 0) \
        + ["amber"] * (number % 200 == 0)
    return " ".join(words)



@pytest.fixture(autouse=True)
def small_bitmaps(monkeypatch):
    """Bitmaps from 16 postings on, of words in one article of 16 or more, in blocks of
    32 (a word spans several)."""
    monkeypatch.setattr(settings, "DENSE_MIN_POSTINGS", 16)
    monkeypatch.setattr(settings, "DENSE_DIVISOR", 16)
    monkeypatch.setattr(settings, "POSTINGS_PER_BLOCK", 32)


def _harbour(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    folder = tmp_path / "news"
    folder.mkdir()
    wire = folder / "wire.jsonl"
    articles = {f"r{n}": _body(n) for n in range(ARTICLES)}
    rewrite_reports(wire, articles)
    index = tmp_path / "index"
    with SearchIndex.open(index, create=True) as idx:
        idx.index([folder])
    return index, wire, articles


def _segments(index: Path) -> list[tuple[int, dict[str, tuple[set[int] | None, set[int]]]]]:
    """Each segment's document count and, for each word it has in the body, the
    documents its bitmap lists (None: it keeps none) and those its postings list."""
    segments = []
    with IndexStore(index).open().reader() as reader:
        for leaf, _ in reader.leaf_readers():
            words = {}
            for word in ("harbour", "cargo", "ember", "amber"):
                if (("body", word.encode())) in leaf:
                    postings = _Postings(leaf, "body", word.encode())
                    bits = None if postings.bits is None else postings.bits.bits
                    words[word] = (_listed(bits), set(postings.all_ids()))
            segments.append((leaf.doc_count_all(), words))
    return segments


def _listed(bits: int | None) -> set[int] | None:
    return None if bits is None else {doc for doc in range(bits.bit_length()) if bits >> doc & 1}


def _bitmaps_exact_by_term(index: Path) -> dict[tuple[str, bytes], bool]:
    """For each term of each field that keeps a bitmap: whether it lists exactly the
    documents of the term's postings."""
    exact = {}
    with IndexStore(index).open().reader() as reader:
        for leaf, _ in reader.leaf_readers():
            for field, text in leaf.all_terms():
                if not leaf.term_info(field, text).is_inlined():
                    postings = _Postings(leaf, field, text)
                    if postings.bits is not None:
                        exact[field, text] = (_listed(postings.bits.bits)
                                              == set(postings.all_ids()))
    return exact


def _expected(articles: dict[str, str], *words: str) -> set[str]:
    return {key for key, body in articles.items() if set(words) <= set(body.split())}


def _found(index: Path, query: str) -> set[str]:
    with SearchIndex.open(index) as idx:
        result = idx.search(query, limit=ARTICLES * 2)
        assert result.total == len(result.hits)
        return {hit.id for hit in result.hits}


def _assert_bitmaps_exact(index: Path) -> int:
    """Each bitmap lists exactly its postings' documents; returns how many there are."""
    kept = 0
    for _, words in _segments(index):
        for word, (bitmap, documents) in words.items():
            if bitmap is not None:
                assert bitmap == documents, word
                kept += 1
    return kept


def test_a_word_in_many_documents_keeps_a_bitmap_of_exactly_them(tmp_path):
    index, _, _ = _harbour(tmp_path)
    [(count, words)] = _segments(index)
    assert count == ARTICLES
    assert words["harbour"][0] == words["harbour"][1] == set(range(ARTICLES))
    assert words["cargo"][0] == words["cargo"][1] and len(words["cargo"][1]) == ARTICLES // 4


def test_a_word_too_sparse_or_too_rare_keeps_no_bitmap(tmp_path):
    index, _, _ = _harbour(tmp_path)
    [(_, words)] = _segments(index)
    assert words["cargo"][0] is not None
    assert words["ember"][0] is None and len(words["ember"][1]) == ARTICLES // 30
    assert words["amber"][0] is None and len(words["amber"][1]) == ARTICLES // 200


def test_whoosh_reads_the_postings_of_a_word_with_a_bitmap_as_before(tmp_path):
    index, _, _ = _harbour(tmp_path)
    with IndexStore(index).open().reader() as reader:
        [(leaf, _)] = reader.leaf_readers()
        whooshs = list(leaf.postings("body", b"cargo").all_ids())
        ours = _Postings(leaf, "body", b"cargo")
        assert ours.bits is not None and whooshs == sorted(ours.all_ids())


def test_searches_of_words_with_bitmaps_find_exactly_their_articles_from_the_bitmaps(tmp_path):
    index, _, articles = _harbour(tmp_path)
    before = counters["documents_from_bitmaps"]
    for query, words in (("harbour cargo", ("harbour", "cargo")),
                         ("cargo ember", ("cargo", "ember")), ("cargo -ember", ("cargo",)),
                         ("harbour amber", ("harbour", "amber"))):
        expected = _expected(articles, *words)
        if query == "cargo -ember":
            expected -= _expected(articles, "ember")
        assert _found(index, query) == expected, query
    assert counters["documents_from_bitmaps"] > before


def test_phrases_of_words_with_bitmaps_find_exactly_their_articles_from_the_bitmaps(tmp_path):
    index, _, articles = _harbour(tmp_path)
    before = counters["documents_from_bitmaps"]
    assert _found(index, '"ships cargo"') == _expected(articles, "cargo")
    assert _found(index, '"harbour office"') == set(articles)
    assert _found(index, '"office harbour"') == set()
    assert counters["documents_from_bitmaps"] > before


def test_workers_writing_one_segment_keep_bitmaps_of_every_workers_articles(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setattr(settings, "PARALLEL_MIN_BYTES", 0)
    index, _, articles = _harbour(tmp_path)
    [(count, words)] = _segments(index)
    assert count == ARTICLES and words["cargo"][0] == words["cargo"][1]
    assert len(words["cargo"][0]) == ARTICLES // 4
    exact = _bitmaps_exact_by_term(index)
    assert all(exact.values())
    # The body's words are in the first worker's range of terms, the titles' in the last's.
    assert ("body", b"cargo") in exact and ("title", b"report") in exact
    assert _found(index, "harbour cargo") == _expected(articles, "harbour", "cargo")


def test_updates_and_merges_keep_each_segments_bitmaps_exact_without_deleted_articles(
        tmp_path, monkeypatch):
    index, wire, articles = _harbour(tmp_path)
    monkeypatch.setattr(settings, "DENSE_MIN_POSTINGS", 2)  # (a merged segment is small)
    counts = []
    for update in range(10):  # each replaces a cargo article, removes one, adds four
        articles[f"r{update * 4}"] = f"The harbour office logged a quiet day {update}."
        del articles[f"r{update * 4 + 1}"]
        articles.update({f"n{update}-{n}": _body(n) for n in range(4)})
        rewrite_reports(wire, articles)
        with SearchIndex.open(index) as idx:
            idx.index([wire.parent])
        counts.append(len(_segments(index)))
        _assert_bitmaps_exact(index)
        assert _found(index, "harbour cargo") == _expected(articles, "harbour", "cargo")
    assert any(after < before for before, after in pairwise(counts))  # merged
    with_bitmaps = [words for _, words in _segments(index)
                    if any(bitmap is not None for bitmap, _ in words.values())]
    assert len(with_bitmaps) >= 2  # the first and a merged one
    assert _found(index, "harbour") == set(articles)


def test_a_segment_written_before_bitmaps_keeps_none_and_searches_with_a_new_one(tmp_path):
    index = tmp_path / "index"
    shutil.copytree(FIXTURES / "index-v4", index)
    with IndexStore(index).open().reader() as reader:
        for leaf, _ in reader.leaf_readers():
            for field, text in leaf.all_terms():
                if field == "body" and not leaf.term_info(field, text).is_inlined():
                    assert _Postings(leaf, field, text).bits is None
    before = _found(index, "harbour")
    folder = tmp_path / "news"
    folder.mkdir()
    articles = {f"r{n}": _body(n) for n in range(ARTICLES)}
    rewrite_reports(folder / "wire.jsonl", articles)
    with SearchIndex.open(index) as idx:
        idx.index([folder])
    assert _assert_bitmaps_exact(index) >= 2
    assert _found(index, "harbour") == before | set(articles)
    assert _found(index, "harbour cargo") == _expected(articles, "harbour", "cargo")


@given(st.sets(st.integers(0, 5000)), st.sets(st.integers(0, 5000)))
@example(set(range(0, 5000, 3)), set(range(0, 5000, 7)))  # many for the bytes: every byte looked at
def test_documents_as_bits_list_combine_and_count_as_sets_do(first, second):
    """(Few documents among many bytes are found another way than many: both covered.)"""
    bits, other = _Bits(_bits_of(frozenset(first))), frozenset(second)
    assert list(bits) == sorted(first) and len(bits) == len(first)
    assert list(bits & other) == sorted(first & second)
    assert list(other & bits) == sorted(first & second)
    assert list(bits | other) == sorted(first | second)
    assert list(bits - other) == sorted(first - second)
    assert list(other - bits) == sorted(second - first)
    assert bits.among(sorted(second)) == sorted(first & second)
    assert all(doc in bits for doc in first) and not any(doc in bits for doc in second - first)
