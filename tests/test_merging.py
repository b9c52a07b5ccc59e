"""Many small updates: each commits a small segment, and the writer merges small segments
as they pile up. A merged index holds exactly the articles of the files, as they are now:
no version that was replaced or removed, in a merged segment or in one left as it was."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from newsgen import rewrite_reports
from searchidx import SearchIndex

WORDS = ["amber", "birch", "cedar", "dahlia", "ember", "fennel", "garnet", "hazel",
         "indigo", "juniper"]



def _segments(index: Path) -> int:
    """How many segments the live generation has (a file each)."""
    live = index / (index / "CURRENT").read_text().strip()
    return len(list(live.glob("*.seg")))


def _harbour_index(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """An index of one JSON-lines file of 40 harbour reports: the index, the file, its
    articles by id."""
    folder = tmp_path / "news"
    folder.mkdir()
    wire = folder / "wire.jsonl"
    articles = {f"r{n}": f"The harbour office logged {n} ships today." for n in range(40)}
    rewrite_reports(wire, articles)
    index = tmp_path / "index"
    with SearchIndex.open(index, create=True) as idx:
        idx.index([folder])
    return index, wire, articles


def _ten_small_updates(index: Path, wire: Path, articles: dict[str, str]) -> list[int]:
    """Ten updates, each replacing one of three articles (so that small segments hold
    replaced versions too), removing one and adding one; the segment count after each."""
    counts = []
    for number, word in enumerate(WORDS):
        articles[f"r{number % 3}"] = f"The harbour office logged a {word} cargo."
        del articles[f"r{10 + number}"]
        articles[f"n{number}"] = f"The harbour office logged a new {word} ship."
        rewrite_reports(wire, articles)
        with SearchIndex.open(index) as idx:
            idx.index([wire.parent])
        counts.append(_segments(index))
    return counts


def test_many_small_updates_merge_segments_and_keep_exactly_the_current_articles(tmp_path):
    index, wire, articles = _harbour_index(tmp_path)

    counts = _ten_small_updates(index, wire, articles)

    assert any(after < before for before, after in pairwise(counts))  # merged
    with SearchIndex.open(index) as idx:
        assert idx.stats().articles == len(articles)
        everything = idx.search("harbour", limit=100)
        assert sorted(hit.id for hit in everything.hits) == sorted(articles)
        for word in WORDS:
            expected = {i for i, body in articles.items() if word in body.split()}
            assert {hit.id for hit in idx.search(word, limit=100).hits} == expected, word


def test_a_word_keeps_its_spelling_correction_when_segments_merge(tmp_path):
    """The spelling words of a segment whose first article was replaced are kept when it
    is merged: the articles after it still have them."""
    index, wire, articles = _harbour_index(tmp_path)
    articles.update({f"m{n}": f"Boat {n} landed mackerel at the quay." for n in range(5)})
    rewrite_reports(wire, articles)  # one segment: m0 first, then m1..m4
    with SearchIndex.open(index) as idx:
        idx.index([wire.parent])
    articles["m0"] = "Boat 0 landed nothing at the quay."  # replaces the segment's first

    counts = _ten_small_updates(index, wire, articles)

    assert any(after < before for before, after in pairwise(counts))  # merged
    with SearchIndex.open(index) as idx:
        assert idx.search("mackrel").suggestion == "mackerel"
