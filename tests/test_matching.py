"""Whole-posting-list matching (``matching.py``) ranks exactly as Whoosh scoring every match.

The news-wire tests run on generated articles (``newsgen.py``): Zipf-distributed words,
so that common words span many postings blocks and rare ones few."""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh.query import Term

from searchidx import SearchIndex, settings
from searchidx.aliases import load_aliases
from searchidx.index import IndexStore
from searchidx.engine import counters, matching
from searchidx.engine.matching import _FIND_POSTINGS_PER_CANDIDATE, _Postings, _Segment, rank
from searchidx.query import QueryBuilder
from searchidx.engine.compile import to_whoosh
from searchidx.engine.local import _lifted_scores, _ordering, _relevance_scores
from searchidx.engine.local import weighting as scoring

from newsgen import NewsWriter, queries_from, with_bodies, write_jsonl

SEED_QUERIES = ["Vu", "Vũ", "Nguyễn Minh Vũ", "Hà Nội", "Ha Noi", "Hanoi", "DPRK", "Kim Jong-un",
                '"Minh Vu"', "Korea -north", "Korea NOT north", "son", "Sơn", "relations",
                "Viet Nam", "Đà Nẵng", "NOT Korea", "(Korea OR Vietnam) trade"]
NEWS = with_bodies(NewsWriter(seed=21578).articles(1320))[:1200]
# Words, phrases and operators over the generated articles' vocabulary, and queries drawn from it.
NEWS_QUERIES = ["spokesman dlrs", "exports ministry said", '"spokesman said"', "trade -coffee",
                "oil NOT opec", "Nguyễn Minh Vũ", "Bui Thanh Son", "Kim Jong-un", "DPRK talks",
                "Hà Nội", "Hanoi", '"net loss"', '"cts a share"', '"said it expected"',
                "(coffee OR cocoa) exports", '"Korean Peninsula" talks', "billion dlrs exports",
                *queries_from([record["body"] for record in NEWS], 8, seed=1)]


# The test index is written in small blocks, so that common words span many.
POSTINGS_PER_BLOCK = 64


@pytest.fixture(scope="module")
def news_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,200 generated news articles in two batches, then 40 of them changed: an index
    with more than one segment and with deleted documents, in blocks of 64 postings,
    common words (in one article of 32 or more) with bitmaps of their documents from 64
    postings on."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "POSTINGS_PER_BLOCK", POSTINGS_PER_BLOCK)
        patch.setattr(settings, "DENSE_MIN_POSTINGS", POSTINGS_PER_BLOCK)
        patch.setattr(settings, "DENSE_DIVISOR", 32)
        return _news_index(tmp_path_factory)


def _news_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("news")
    first, second = folder / "a.jsonl", folder / "b.jsonl"
    location = folder / "index"
    write_jsonl(first, NEWS[:900])
    with SearchIndex.open(location, create=True) as idx:
        idx.index([first])
        write_jsonl(second, NEWS[900:])
        idx.index([first, second])
        changed = [dict(r, body=r["body"] + " Revised.") for r in NEWS[:40]]
        write_jsonl(first, changed + NEWS[40:900])
        report = idx.index([first, second])
    assert report.updated == 40
    return location


def test_the_news_index_has_segments_deletions_and_words_over_many_blocks(news_index):
    index = IndexStore(news_index).open()
    with index.reader() as reader:
        leaves = [leaf for leaf, _ in reader.leaf_readers()]
        assert len(leaves) >= 2 and reader.doc_count() == 1200 < reader.doc_count_all()
        frequencies = sorted(reader.doc_frequency("body", word) for word in (b"said", b"wheat"))
        assert frequencies[0] < 2 * POSTINGS_PER_BLOCK < 8 * POSTINGS_PER_BLOCK < frequencies[1]


def test_common_words_of_the_news_index_keep_bitmaps_and_rare_ones_do_not(news_index):
    """(So that the rankings below are made from bitmaps and from sets alike.)"""
    index = IndexStore(news_index).open()
    with index.reader() as reader:
        checked = 0
        for leaf, _ in reader.leaf_readers():
            said = _Postings(leaf, "body", b"said")  # (in most articles)
            if said.count >= POSTINGS_PER_BLOCK:  # (enough postings for a bitmap)
                assert said.bits is not None
                assert _Postings(leaf, "body", b"wheat").bits is None  # (45 articles: too few)
                checked += 1
        assert checked >= 1


def _whoosh_and_fast(location: Path, text: str, limit: int = 10):
    snapshot = IndexStore(location).open_snapshot()
    try:
        searcher = snapshot.searcher  # weighted by scoring()
        parsed = QueryBuilder(load_aliases(None), snapshot).parse(text)
        query = to_whoosh(parsed.query)
        exact = None if parsed.exact is None else to_whoosh(parsed.exact)
        every = searcher.search(query, limit=None, terms=True, **_ordering("relevance", exact))
        top = every[:limit]
        # Exact spellings rank first, their scores lifted above the others' (both paths).
        scores = _lifted_scores(every, top) if exact is not None else _relevance_scores(top)
        whoosh = [(hit.docnum, scores[hit.docnum], frozenset(hit.matched_terms())) for hit in top]
        fast = rank(searcher, query, limit, exact)
        return len(every), whoosh, fast
    finally:
        snapshot.close()


def _assert_same_ranking(location: Path, text: str, limit: int = 10) -> int:
    """Check the fast ranking against Whoosh's; return how many articles match."""
    total, whoosh, fast = _whoosh_and_fast(location, text, limit)
    assert fast is not None, text
    assert fast.total == total, text
    assert [hit.docnum for hit in fast.hits] == [docnum for docnum, _, _ in whoosh], text
    for hit, (_, score, terms) in zip(fast.hits, whoosh):
        assert hit.score == score, text  # the same floats: one BM25F for both
        # The body's matched words are the ones a snippet marks. (Whoosh also reports the
        # words of a title phrase that did not match as a phrase.)
        assert _body(hit.terms) == _body(terms), text
    return total


def _body(terms: frozenset) -> set:
    return {term for term in terms if term[0] == "body"}


@pytest.mark.parametrize("text", NEWS_QUERIES)
def test_ranking_equals_whoosh_scoring_every_match_on_news_wire_articles(news_index, text):
    assert _assert_same_ranking(news_index, text) > 0


@pytest.mark.parametrize("text", SEED_QUERIES)
def test_ranking_equals_whoosh_scoring_every_match_with_accents_aliases_and_names(
        corpus_index, text):
    _assert_same_ranking(corpus_index, text)


@pytest.mark.parametrize("text", ["Vũ", "Sơn", "Nguyễn Minh Vũ", "Hà Nội", "Korea -north"])
@pytest.mark.parametrize("limit", [1, 2])
def test_the_first_hits_are_whoosh_s_first_with_exact_spellings_first(corpus_index, text, limit):
    _assert_same_ranking(corpus_index, text, limit)


@pytest.mark.parametrize("text", ["spokesman dlrs", '"spokesman said"', "oil NOT opec"])
def test_the_first_three_hits_are_whoosh_s_first_three(news_index, text):
    _assert_same_ranking(news_index, text, limit=3)


@pytest.mark.parametrize("text", ["said reuter", "pct said", "dlrs said year", "trade said -oil",
                                  "ministry said", "year billion"])
@pytest.mark.parametrize("limit", [1, 3, 10])
def test_common_words_pruned_to_the_articles_that_can_place_rank_as_whoosh(
        news_index, text, limit):
    _assert_same_ranking(news_index, text, limit)


def test_articles_matching_only_parts_of_low_bound_are_left_unscored_and_rank_as_whoosh(
        news_index, monkeypatch):
    """A part's matches are grouped by the later parts they match: those that match only
    the body's words, not the title's (boosted), score too little to place."""
    monkeypatch.setattr(matching, "_SPLIT_ABOVE_MATCHES", 1)
    before = counters["match_groups_unscored"]
    for text in ["said reuter", "ministry said", "year billion", "dlrs said year"]:
        for limit in (1, 3):
            _assert_same_ranking(news_index, text, limit)
    assert counters["match_groups_unscored"] > before


def test_a_term_scored_for_many_articles_shares_each_weight_and_lengths_score_and_ranks_as_whoosh(
        news_index, monkeypatch):
    """A term scored for many articles computes BM25F once a (weight, length) pair it
    meets and looks the rest up: the same floats as Whoosh's (here from the first article)."""
    monkeypatch.setattr(matching, "_SCORES_SHARED_FROM", 1)
    for text in ["said reuter", "pct said", "dlrs said year", "oil", "ministry said"]:
        for limit in (1, 10):
            _assert_same_ranking(news_index, text, limit)


@pytest.mark.parametrize("field", ["title", "body"])
def test_no_article_scores_above_a_terms_bound(news_index, field):
    index = IndexStore(news_index).open()
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


def test_the_total_counts_every_matching_article(news_index):
    index = IndexStore(news_index).open()
    with index.searcher() as searcher, SearchIndex.open(news_index) as idx:
        query = to_whoosh(QueryBuilder(None).parse("spokesman dlrs").query)
        assert idx.search("spokesman dlrs").total == len(set(searcher.docs_for_query(query))) > 10


def test_an_exclusion_keeps_the_best_hits(news_index):
    """Whoosh's top-10 collector drops matchers as scores rise and, with an exclusion,
    loses hits that score higher than those it keeps."""
    with SearchIndex.open(news_index) as idx:
        top = idx.search("trade -coffee", limit=10)
        everything = idx.search("trade -coffee", limit=1000)
    assert [hit.id for hit in top] == [hit.id for hit in everything][:10]
    assert all(a.score >= b.score for a, b in zip(top.hits, top.hits[1:]))


def test_an_exclusion_removes_exactly_the_articles_with_the_word(news_index):
    """Whoosh's own matching kept an article that has "corn" for "wheat -corn"."""
    with SearchIndex.open(news_index) as idx:
        kept = idx.search("wheat -corn", limit=1000)
        assert kept.total == idx.search("wheat").total - idx.search("wheat corn").total > 0
        assert not any("corn" in (hit.title + idx.article(hit.id).body).lower() for hit in kept)


def test_a_few_candidates_are_looked_up_in_the_blocks_as_in_the_whole_postings(news_index):
    index = IndexStore(news_index).open()
    with index.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            for field, text in [("body", b"reuter"), ("body", b"said"), ("body", b"pct")]:
                whole = _Postings(leaf, field, text)
                every = sorted(whole.all_ids())
                candidates = frozenset(range(0, leaf.doc_count_all(), 61))
                few = _Postings(leaf, field, text)
                assert few.count > _FIND_POSTINGS_PER_CANDIDATE * len(candidates)  # looked up
                found = sorted(few.find(candidates))
                assert found == sorted(candidates.intersection(every)) and found
                assert few.weights_of(found) == \
                    [weight for doc, weight in zip(every, whole.weights_of(every)) if doc in candidates]
                assert [few.value(doc) for doc in found] == [whole.value(doc) for doc in found]


@pytest.mark.parametrize("spread", [True, False])
def test_many_candidates_are_found_as_in_the_whole_postings_spread_or_in_a_few_blocks(
        news_index, spread):
    """Many candidates for a term's blocks: those spread over the segment (a word's
    articles) and those in a few of its blocks (a date filter's) find what a set of all
    the term's documents finds."""
    index = IndexStore(news_index).open()
    with index.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            size = leaf.doc_count_all()
            candidates = frozenset(range(0, size, 3) if spread else range(size // 3, size // 2))
            for text in [b"reuter", b"said", b"pct", b"wheat"]:
                every = _Postings(leaf, "body", text).all_ids()
                many = _Postings(leaf, "body", text)
                assert len(candidates) * _FIND_POSTINGS_PER_CANDIDATE >= many.count  # intersected
                assert many.find(candidates) == candidates & every


def test_postings_read_by_block_equal_those_read_one_at_a_time(news_index):
    index = IndexStore(news_index).open()
    with index.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            for field, text in [("body", b"reuter"), ("body", b"said"), ("title", b"talk")]:
                one_at_a_time = {}
                matcher = leaf.postings(field, text)
                while matcher.is_active():
                    one_at_a_time[matcher.id()] = (matcher.weight(), matcher.value())
                    matcher.next()
                whole = _Postings(leaf, field, text)
                every = sorted(whole.all_ids())
                read = dict(zip(every, zip(whole.weights_of(every), map(whole.value, every))))
                assert {doc: read[doc] for doc in one_at_a_time} == one_at_a_time
                assert all(leaf.is_deleted(doc) for doc in read.keys() - one_at_a_time.keys())
                ends = [min(one_at_a_time), max(one_at_a_time)]
                around = _Postings(leaf, field, text)
                assert around.find(frozenset(ends)) == frozenset(ends)
                assert list(zip(around.weights_of(ends), map(around.value, ends))) == \
                    [one_at_a_time[doc] for doc in ends]
                two_blocks = 2 * POSTINGS_PER_BLOCK
                assert len(around.weights) <= two_blocks < len(read) or len(read) <= two_blocks


def _whoosh_fragments(text: str, chars: dict) -> list[tuple[int, int, list]]:
    """The fragments Whoosh's pinpoint highlighter picks from these matches (the way
    searchidx called it before cutting them itself)."""
    import itertools

    from whoosh import highlight

    fragmenter = highlight.PinpointFragmenter(maxchars=settings.SNIPPET_FRAGMENT_CHARS,
                                              surround=settings.SNIPPET_SURROUND_CHARS)
    tokens = sorted((highlight.Token(text=word, pos=pos, startchar=start, endchar=end)
                     for word, occurrences in chars.items() for pos, start, end in occurrences
                     if end <= fragmenter.charlimit), key=lambda token: token.startchar)
    tokens = [max(group, key=lambda token: token.endchar - token.startchar)
              for _, group in itertools.groupby(tokens, lambda token: token.startchar)]
    best = highlight.top_fragments(fragmenter.fragment_matches(text, tokens), 3,
                                   highlight.BasicFragmentScorer(), highlight.FIRST)
    return [(f.startchar, f.endchar, [(t.startchar, t.endchar) for t in f.matches]) for f in best]


def test_snippet_fragments_are_those_whoosh_s_pinpoint_highlighter_picks():
    import random

    from searchidx.search import fragments_at

    rng = random.Random(5)
    for _ in range(3000):  # long, nested and clustered matches, and ties in score
        text = "".join(rng.choice("ab  c\nd") for _ in range(rng.choice([80, 400, 40000])))
        chars = {f"w{word}": tuple(
            (0, start, min(len(text), start + rng.choice([1, 4, 9, 70, 200])))
            for start in rng.sample(range(len(text)), rng.randint(1, 12)))
            for word in range(rng.randint(1, 4))}
        fragments = fragments_at(text, chars)
        assert [tuple(f) for f in fragments] == _whoosh_fragments(text, chars), chars


def test_a_word_first_indexed_by_an_update_is_found_by_the_open_index(tmp_path):
    """Each open segment remembers its term dictionary's entries, and an update's
    search reads the index again: a word that was not there is found once indexed."""
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_jsonl(first, NEWS[:60])
    with SearchIndex.open(tmp_path / "index", create=True) as idx:
        idx.index([first])
        assert idx.search("zanzibarite spokesman").notice  # only some of the words
        write_jsonl(second, [dict(NEWS[60], body=NEWS[60]["body"] + " Zanzibarite spokesman.")])
        idx.index([first, second])
        found = idx.search("zanzibarite spokesman")
        assert (found.total, found.notice, found[0].id) == (1, None, NEWS[60]["id"])


def test_searches_rank_as_before_when_few_term_entries_are_remembered(news_index, monkeypatch):
    """The term entries a segment remembers are bounded (``TERM_INFO_CACHE``): with room
    for two, the least recent are forgotten and searches still rank as Whoosh does."""
    from searchidx.engine import matching

    texts = NEWS_QUERIES[:6]
    expected = [_whoosh_and_fast(news_index, text)[1] for text in texts]
    monkeypatch.setattr(matching, "TERM_INFO_CACHE", 2)
    snapshot = IndexStore(news_index).open_snapshot()
    try:
        builder = QueryBuilder(load_aliases(None), snapshot)
        for text, whoosh in zip(texts, expected):
            parsed = builder.parse(text)
            exact = None if parsed.exact is None else to_whoosh(parsed.exact)
            fast = rank(snapshot.searcher, to_whoosh(parsed.query), 10, exact)
            assert [(hit.docnum, hit.score) for hit in fast.hits] == \
                [(docnum, score) for docnum, score, _ in whoosh], text
        leaves = [leaf for leaf, _ in snapshot.reader.leaf_readers()]
        assert all(0 < len(matching._TERM_INFOS[leaf]) <= 2 for leaf in leaves)
    finally:
        snapshot.close()


# --- block-max pruning: many matches, only those that can place scored -----------------------

@pytest.fixture(scope="module")
def copies_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 news articles, each indexed three times under other ids (so with equal scores),
    in blocks of 64 postings."""
    articles = with_bodies(NewsWriter(seed=11).articles(440))[:400]
    copies = [dict(article, id=f"{article['id']}~{copy}")
              for article in articles for copy in range(3)]
    source = write_jsonl(tmp_path_factory.mktemp("copies") / "copies.jsonl", copies)
    location = source.parent / "index"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "POSTINGS_PER_BLOCK", POSTINGS_PER_BLOCK)
        with SearchIndex.open(location, create=True) as idx:
            idx.index([source])
    return location


@pytest.fixture()
def always_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pruning is tried from two matches a hit, and every group of 16 matches or more
    reached once the places are filled is scored bounded in its blocks (not only where the
    floor and a sample show that bounding pays)."""
    monkeypatch.setattr(matching, "_PRUNE_ABOVE_MATCHES_PER_HIT", 2)
    monkeypatch.setattr(matching, "_BLOCK_BOUNDS_ABOVE_MATCHES", 16)
    monkeypatch.setattr(matching, "_BOUNDED_FLOOR_SHARE", 0.0)
    monkeypatch.setattr(matching, "_BOUNDED_SAMPLE_BELOW", 0.0)


def test_matches_bounded_in_their_blocks_where_a_sample_shows_it_pays_are_left_unscored(
        copies_index, monkeypatch):
    monkeypatch.setattr(matching, "_PRUNE_ABOVE_MATCHES_PER_HIT", 2)
    monkeypatch.setattr(matching, "_BLOCK_BOUNDS_ABOVE_MATCHES", 16)
    bounded, unscored = counters["matches_bounded"], counters["matches_unscored"]
    _assert_same_ranking(copies_index, "TALKS government Monday", limit=3)
    assert counters["matches_bounded"] > bounded and counters["matches_unscored"] > unscored


@pytest.mark.parametrize("text", ["rose Foreign profit", "TALKS Saturday trade",
                                  "Vu talks government", "TALKS Saturday trade -oil",
                                  "Ha Noi talks", "(TALKS OR profit) Monday"])
def test_matches_bounded_in_their_blocks_rank_as_whoosh_ties_to_the_lower_number(
        copies_index, always_bounded, text):
    """Limits that cut groups of equal scores (three copies each)."""
    bounded = counters["matches_bounded"]
    for limit in (1, 2, 10, 40):
        _assert_same_ranking(copies_index, text, limit)
    assert counters["matches_bounded"] > bounded


def test_exact_spellings_rank_first_with_the_others_bounded_in_their_blocks(
        copies_index, always_bounded):
    bounded = counters["matches_bounded"]
    for limit in (1, 3, 10, 40):
        _assert_same_ranking(copies_index, "Sơn talks", limit)
    assert counters["matches_bounded"] > bounded


@pytest.mark.parametrize("text", ['"Korean Peninsula" talks', "(coffee OR cocoa) exports"])
def test_matches_bounded_in_their_blocks_over_segments_and_deletions_rank_as_whoosh(
        news_index, always_bounded, text):
    bounded = counters["matches_bounded"]
    for limit in (1, 3, 10):
        _assert_same_ranking(news_index, text, limit)
    assert counters["matches_bounded"] > bounded


def test_optional_words_absent_from_a_segment_leave_the_others_bounded_in_their_blocks(
        copies_index, always_bounded):
    """An optional part whose words no title has sums no scores: its bound is 0, not an error."""
    bounded = counters["matches_bounded"]
    for limit in (1, 10):
        _assert_same_ranking(copies_index, "talks government ANDMAYBE (title:zyxwv OR title:qwzyx)",
                             limit)
    assert counters["matches_bounded"] > bounded
