#!/usr/bin/env python3
"""Write a small index in the on-disk format of the installed searchidx: a test fixture.

    python scripts/make_format_fixture.py tests/fixtures/index-v4

120 generated news articles (``tests/newsgen.py``, seed 18, bodies cut to 25 words but
every tenth's, long enough for a pair-signature extension in format 5 and later) are
indexed in two batches, then 10 of them changed (three segments, deleted documents), in
blocks of 32 postings (``settings.POSTINGS_PER_BLOCK``: a common word spans several
blocks). ``hits.json`` beside the index records what a few searches found (how many, and
the ids of the first five); ``tests/test_format.py`` checks that every later searchidx
finds the same in a copy of it. Run it with the code of the version to be kept (a
checkout of that commit), once; never rewrite a committed fixture.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import newsgen  # noqa: E402

from searchidx import SearchIndex, settings  # noqa: E402

ARTICLES, CHANGED, SEED, BODY_WORDS, WHOLE_BODY_EVERY = 120, 10, 18, 25, 10
QUERIES = ["said", "the", '"said it"', "minister", "Nguyễn", "exports NOT rice",
           '"billion dlrs"']


def articles() -> list[dict]:
    records = newsgen.with_bodies(newsgen.NewsWriter(SEED).articles(ARTICLES))
    return [record if number % WHOLE_BODY_EVERY == 0
            else {**record, "body": " ".join(record["body"].split()[:BODY_WORDS])}
            for number, record in enumerate(records)]


def write_fixture(target: Path) -> None:
    settings.POSTINGS_PER_BLOCK = 32
    records = articles()
    half = len(records) // 2
    with tempfile.TemporaryDirectory() as work:
        sources, location = Path(work) / "sources", Path(work) / "index"
        sources.mkdir()
        first = newsgen.write_jsonl(sources / "first.jsonl", records[:half])
        with SearchIndex.open(location, create=True) as idx:
            idx.index([sources])
            newsgen.write_jsonl(sources / "second.jsonl", records[half:])
            idx.index([sources])
            changed = [{**record, "body": record["body"] + " Revised figures followed."}
                       if number < CHANGED else record
                       for number, record in enumerate(records[:half])]
            newsgen.write_jsonl(first, changed)
            idx.index([sources])
            hits = {}
            for text in QUERIES:
                found = idx.search(text, limit=5)
                hits[text] = [found.total, [hit.id for hit in found.hits]]
        shutil.copytree(location, target)
    lines = (f"  {json.dumps(text, ensure_ascii=False)}: {json.dumps(found)}"
             for text, found in hits.items())
    (target / "hits.json").write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: make_format_fixture.py TARGET_FOLDER", file=sys.stderr)
        return 2
    target = Path(argv[0])
    if target.exists():
        print(f"make_format_fixture: {target} exists; a committed fixture is never rewritten",
              file=sys.stderr)
        return 2
    write_fixture(target)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
