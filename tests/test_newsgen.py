"""The generated news articles that stand in for Reuters-21578 in the tests (``newsgen.py``)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from newsgen import NewsWriter, queries_from, with_bodies, write_jsonl

ARTICLES = NewsWriter(seed=5).articles(600)
TEXTS = [a.record["text"] for a in ARTICLES if a.record["text"]]


def test_the_same_seed_writes_the_same_articles_and_another_seed_others():
    again = NewsWriter(seed=5).articles(600)
    assert [a.record for a in again] == [a.record for a in ARTICLES]
    assert NewsWriter(seed=6).article(1).record != ARTICLES[0].record


def test_records_carry_reuters_fields_and_some_have_a_title_only():
    assert all(set(a.record) == {"id", "title", "text", "date", "topics", "places"} for a in ARTICLES)
    title_only = [a for a in ARTICLES if not a.record["text"]]
    assert 0.04 < len(title_only) / len(ARTICLES) < 0.15
    assert all(a.record["title"] for a in title_only)


def test_the_prose_holds_vietnamese_and_korean_names_datelines_and_acronyms():
    everything = "\n".join(TEXTS)
    for expected in ("Nguyễn", "Bùi Thanh Sơn", "Đà Nẵng", "Hà Nội", "Kim Jong-un", "Yoon Suk-yeol",
                     "HÀ NỘI — ", "(Reuters) - ", "DPRK", "RoK", "WPK", "ASEAN", "— VNS"):
        assert expected in everything, expected
    assert re.search(r"^SEOUL, [A-Z][a-z]+ \d{1,2} \(Reuters\) - ", everything, flags=re.MULTILINE)


def test_date_fields_are_written_in_every_common_form():
    dates = [a.record["date"] for a in ARTICLES]
    patterns = {"iso": r"\d{4}-\d\d-\d\d$", "iso time": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$",
                "reuters": r"\d\d-[A-Z]{3}-\d{4} \d\d:\d\d:\d\d\.\d\d$",
                "rfc 2822": r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$",
                "month day, year": r"[A-Z][a-z]+ \d{1,2}, \d{4}$", "day month year": r"\d{1,2} [A-Z][a-z]+ \d{4}$",
                "slashes": r"\d{4}/\d\d/\d\d$"}
    for name, pattern in patterns.items():
        assert any(isinstance(d, str) and re.match(pattern, d) for d in dates), name
    assert any(isinstance(d, int) for d in dates)  # a Unix timestamp


def test_words_follow_a_zipf_like_spread_few_common_many_rare():
    documents = Counter(word for text in TEXTS for word in set(re.findall(r"\w+", text.lower())))
    assert documents["said"] > 0.9 * len(TEXTS)
    rare = [word for word, count in documents.items() if count <= 3]
    assert len(rare) > len(documents) / 3
    assert documents["trade"] > documents["rice"] > documents["wheat"] > 5  # by their rank


def test_queries_drawn_from_the_articles_each_name_words_of_one_article():
    for query in queries_from(TEXTS, 10, seed=1):
        first, second = query.split()
        assert any(first in text.split() and second in text.split() for text in TEXTS)


def test_written_jsonl_reads_back_as_searchidx_records(tmp_path):
    records = with_bodies(ARTICLES)
    path = write_jsonl(tmp_path / "news.jsonl", records)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == records
    assert all(set(record) == {"id", "title", "body"} for record in records)


def test_no_test_reads_data_from_beside_the_checkout():
    """The real corpora live outside the project (their licences forbid copying them in):
    a test that read them would skip, or fail, wherever they are not."""
    tests = Path(__file__).parent
    readers = [path.name for path in tests.glob("*.py")
               if path.name != Path(__file__).name
               and re.search(r"REPO\.parent|\.\./shared|/shared/data", path.read_text(encoding="utf-8"))]
    assert readers == []
