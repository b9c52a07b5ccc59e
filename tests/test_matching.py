"""Whole-posting-list matching (``matching.py``) ranks exactly as Whoosh scoring every match."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from whoosh.query import Term

from searchidx import SearchIndex, settings
from searchidx.aliases import load_aliases
from searchidx.index import IndexStore
from searchidx.matching import _Postings, _Segment, rank
from searchidx.query import QueryBuilder
from searchidx.search import _lifted_scores, _ordering, _relevance_scores, scoring

from conftest import SHARED

REUTERS = SHARED / "data" / "reuters21578" / "docs.jsonl"

SEED_QUERIES = ["Vu", "Vũ", "Nguyễn Minh Vũ", "Hà Nội", "Ha Noi", "Hanoi", "DPRK", "Kim Jong-un",
                '"Minh Vu"', "Korea -north", "Korea NOT north", "son", "Sơn", "relations",
                "Viet Nam", "Đà Nẵng", "NOT Korea", "(Korea OR Vietnam) trade"]
REUTERS_QUERIES = ["been dlrs", "commission exchange reuter", '"spokesman said"', "U.S. trade -japan",
                   "oil NOT opec", "company private", "wholesale price", '"trade deficit" japan',
                   "billion dlrs operations", "Kuwait", "bank rate", "(coffee OR cocoa) prices",
                   "crude oil prices", "earnings per share", '"net loss"', '"dlrs a share"',
                   '"said it expected"', '"pct pct"']


# The test index is written in small blocks, so that common words span many.
POSTINGS_PER_BLOCK = 64


@pytest.fixture(scope="module")
def reuters_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,200 Reuters articles in two batches, then 40 of them changed: an index with
    more than one segment and with deleted documents, in blocks of 64 postings."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "POSTINGS_PER_BLOCK", POSTINGS_PER_BLOCK)
        return _reuters_index(tmp_path_factory)


def _reuters_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not REUTERS.is_file():
        pytest.skip("the Reuters-21578 corpus is not beside the project")
    folder = tmp_path_factory.mktemp("reuters")
    records = []
    with REUTERS.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record.get("title") and record.get("text"):
                records.append({"id": record["id"], "title": record["title"],
                                "body": record["text"]})
            if len(records) == 1200:
                break
    first, second = folder / "a.jsonl", folder / "b.jsonl"
    location = folder / "index"

    def write(path: Path, batch: list[dict]) -> None:
        path.write_text("".join(json.dumps(r) + "\n" for r in batch), encoding="utf-8")

    write(first, records[:900])
    with SearchIndex.open(location, create=True) as idx:
        idx.index([first])
        write(second, records[900:])
        idx.index([first, second])
        changed = [dict(r, body=r["body"] + " Revised.") for r in records[:40]]
        write(first, changed + records[40:900])
        report = idx.index([first, second])
    assert report.updated == 40
    return location


def _whoosh_and_fast(location: Path, text: str, limit: int = 10):
    index = IndexStore(location).open()
    with index.searcher(weighting=scoring()) as searcher:
        parsed = QueryBuilder(searcher.schema, load_aliases(None), searcher.reader()).parse(text)
        every = searcher.search(parsed.query, limit=None, terms=True,
                                **_ordering("relevance", parsed.exact))
        top = every[:limit]
        # Exact spellings rank first, their scores lifted above the others' (both paths).
        scores = (_lifted_scores(every, top) if parsed.exact is not None
                  else _relevance_scores(top))
        whoosh = [(hit.docnum, scores[hit.docnum], frozenset(hit.matched_terms())) for hit in top]
        fast = rank(searcher, parsed.query, limit, parsed.exact)
        return len(every), whoosh, fast


def _assert_same_ranking(location: Path, text: str, limit: int = 10) -> None:
    total, whoosh, fast = _whoosh_and_fast(location, text, limit)
    assert fast is not None, text
    assert fast.total == total, text
    assert [hit.docnum for hit in fast.hits] == [docnum for docnum, _, _ in whoosh], text
    for hit, (_, score, terms) in zip(fast.hits, whoosh):
        assert hit.score == pytest.approx(score, rel=1e-9), text
        # The body's matched words are the ones a snippet marks. (Whoosh also reports the
        # words of a title phrase that did not match as a phrase.)
        assert _body(hit.terms) == _body(terms), text


def _body(terms: frozenset) -> set:
    return {term for term in terms if term[0] == "body"}


@pytest.mark.parametrize("text", REUTERS_QUERIES)
def test_ranking_equals_whoosh_scoring_every_match_on_news_wire_articles(reuters_index, text):
    _assert_same_ranking(reuters_index, text)


@pytest.mark.parametrize("text", SEED_QUERIES)
def test_ranking_equals_whoosh_scoring_every_match_with_accents_aliases_and_names(
        corpus_index, text):
    _assert_same_ranking(corpus_index, text)


@pytest.mark.parametrize("text", ["Vũ", "Sơn", "Nguyễn Minh Vũ", "Hà Nội", "Korea -north"])
@pytest.mark.parametrize("limit", [1, 2])
def test_the_first_hits_are_whoosh_s_first_with_exact_spellings_first(corpus_index, text, limit):
    _assert_same_ranking(corpus_index, text, limit)


@pytest.mark.parametrize("text", ["been dlrs", '"spokesman said"', "oil NOT opec"])
def test_the_first_three_hits_are_whoosh_s_first_three(reuters_index, text):
    _assert_same_ranking(reuters_index, text, limit=3)


@pytest.mark.parametrize("text", ["said reuter", "pct said", "dlrs said year", "market said -oil",
                                  "company said", "year billion"])
@pytest.mark.parametrize("limit", [1, 3, 10])
def test_common_words_pruned_to_the_articles_that_can_place_rank_as_whoosh(
        reuters_index, text, limit):
    _assert_same_ranking(reuters_index, text, limit)


@pytest.mark.parametrize("field", ["title", "body"])
def test_no_article_scores_above_a_terms_bound(reuters_index, field):
    index = IndexStore(reuters_index).open()
    checked = 0
    with index.searcher(weighting=scoring()) as searcher:
        for leaf, offset in searcher.leaf_searchers():
            segment = _Segment(searcher, leaf, offset, None)
            for word in ["said", "reuter", "oil", "dlr", "pct", "trade", "rate", "kuwait"]:
                node = segment.node(Term(field, word))
                docs = list(node.within(None))
                if docs:
                    assert max(node.scores(docs)) <= node.bound, word
                    checked += 1
    assert checked >= 8


def test_the_total_counts_every_matching_article(reuters_index):
    index = IndexStore(reuters_index).open()
    with index.searcher() as searcher, SearchIndex.open(reuters_index) as idx:
        query = QueryBuilder(searcher.schema, None).parse("been dlrs").query
        assert idx.search("been dlrs").total == len(set(searcher.docs_for_query(query))) > 10


def test_an_exclusion_keeps_the_best_hits(reuters_index):
    """Whoosh's top-10 collector drops matchers as scores rise and, with an exclusion,
    loses hits that score higher than those it keeps."""
    with SearchIndex.open(reuters_index) as idx:
        top = idx.search("trade -japan", limit=10)
        everything = idx.search("trade -japan", limit=1000)
    assert [hit.id for hit in top] == [hit.id for hit in everything][:10]
    assert all(a.score >= b.score for a, b in zip(top.hits, top.hits[1:]))


def test_an_exclusion_removes_exactly_the_articles_with_the_word(reuters_index):
    """Whoosh's own matching kept an article that has "corn" for "wheat -corn"."""
    with SearchIndex.open(reuters_index) as idx:
        kept = idx.search("wheat -corn", limit=1000)
        assert kept.total == idx.search("wheat").total - idx.search("wheat corn").total > 0
        assert not any("corn" in (hit.title + idx.article(hit.id).body).lower() for hit in kept)


def test_a_few_candidates_are_looked_up_in_the_blocks_as_in_the_whole_postings(reuters_index):
    index = IndexStore(reuters_index).open()
    with index.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            for field, text in [("body", b"reuter"), ("body", b"said"), ("body", b"pct")]:
                whole = _Postings(leaf, field, text)
                whole.read_all()
                candidates = frozenset(range(0, leaf.doc_count_all(), 29))
                few = _Postings(leaf, field, text)
                assert few.count > 4 * len(candidates)  # few enough to be looked up
                found = few.find(candidates)
                assert found == candidates & whole.ids() and found
                assert {doc: few.weights[doc] for doc in found} == \
                    {doc: whole.weights[doc] for doc in found}
                assert [few.value(doc) for doc in sorted(found)] == \
                    [whole.value(doc) for doc in sorted(found)]


def test_postings_read_by_block_equal_those_read_one_at_a_time(reuters_index):
    index = IndexStore(reuters_index).open()
    with index.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            for field, text in [("body", b"reuter"), ("body", b"said"), ("title", b"oil")]:
                one_at_a_time = {}
                matcher = leaf.postings(field, text)
                while matcher.is_active():
                    one_at_a_time[matcher.id()] = (matcher.weight(), matcher.value())
                    matcher.next()
                whole = _Postings(leaf, field, text)
                whole.read_all()
                read = {doc: (whole.weights[doc], whole.value(doc)) for doc in whole.ids()}
                assert {doc: read[doc] for doc in one_at_a_time} == one_at_a_time
                assert all(leaf.is_deleted(doc) for doc in read.keys() - one_at_a_time.keys())
                ends = [min(one_at_a_time), max(one_at_a_time)]
                around = _Postings(leaf, field, text)
                around.read_around(ends)  # the first and the last block only
                assert [(around.weights[doc], around.value(doc)) for doc in ends] == \
                    [one_at_a_time[doc] for doc in ends]
                two_blocks = 2 * POSTINGS_PER_BLOCK
                assert len(around.ids()) <= two_blocks < len(read) or len(read) <= two_blocks
