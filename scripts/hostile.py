#!/usr/bin/env python3
"""Hostile queries on the full Reuters-21578 index: each must answer within 3 s and 500 MB.

Every query runs as ``searchidx search`` in a fresh process, as a user would run it; its wall
time is measured around the process and its peak memory is the process's largest resident
set (from ``wait4``). The queries attack what costs time and memory: ranges, wildcards and
fuzzy words that stand for much of the vocabulary, deep nesting, very long queries and odd
operators. The index is built from the corpus on first use.

    python scripts/hostile.py                       # the corpus in $SEARCHIDX_DATA or ../shared/data
    python scripts/hostile.py --corpus docs.jsonl --index /tmp/reuters-index
    python scripts/hostile.py --json figures.json   # the figures, for the docs

Exit status: 0 if every query is within the limits, 1 if one is not, 2 without a corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SEARCHIDX_DATA") or REPO.parent / "shared" / "data")
REUTERS = DATA / "reuters21578" / "docs.jsonl"
MAX_SECONDS = 3.0
MAX_MEGABYTES = 500


class Query(NamedTuple):
    kind: str
    text: str
    options: tuple[str, ...] = ()


def _two_letter_wildcards(count: int) -> str:
    pairs = (first + second for first in string.ascii_lowercase for second in "aeiou")
    return " ".join(f"{pair}*" for pair, _ in zip(pairs, range(count)))


QUERIES = [
    Query("range", "[a TO z]"),
    Query("range", "body:[a TO z]"),
    Query("range", "title:[a TO z]"),
    Query("range", "[0 TO 9]"),
    Query("range", "{0 TO z}"),
    Query("range", "[a TO]"),
    Query("range", "[a TO z] [0 TO 9] [b TO y]"),
    Query("range", "[a TO z]", ("--sort", "date")),
    Query("range", "date:1900..2100 [a TO z]"),
    Query("range", "id:[0 TO 9]"),
    Query("wildcard", "co* pr* th* in*"),
    Query("wildcard", _two_letter_wildcards(50)),
    Query("wildcard", " OR ".join(_two_letter_wildcards(40).split())),
    Query("wildcard", "th*"),
    Query("wildcard", "co*r*s*"),
    Query("wildcard", "s?????????*"),
    Query("wildcard", "*"),
    Query("wildcard", "in* NOT th*"),
    Query("fuzzy", "said~2"),
    Query("fuzzy", "the~2 and~2 for~2 dlrs~2 said~2"),
    Query("fuzzy", "abcdefghijklmnopqrstuvwxyzabcd~2"),
    Query("fuzzy", "a~2 b~2 c~2 d~2"),
    Query("fuzzy", "compny~2 OR prfit~2 OR shres~2 OR dividnd~2"),
    Query("nesting", "(" * 240 + "oil" + ")" * 240),
    Query("nesting", "(" * 120 + "oil OR (gas AND " * 20 + "price" + ")" * 140),
    Query("nesting", "NOT " * 100 + "oil"),
    Query("length", "oil " * 2_500),
    Query("length", " ".join(string.ascii_lowercase * 10)),
    Query("length", "x" * 10_000),
    Query("length", '"' + " ".join(["the", "of", "and", "to", "in"] * 20) + '"'),
    Query("operator", "-oil"),
    Query("operator", "NOT oil"),
    Query("operator", "oil AND AND OR NOT gas"),
    Query("operator", "OR " * 150),
    Query("operator", '"' * 101),
    Query("operator", '"said the"~100'),
    Query("operator", "*:* the"),
    Query("common", "the said and reuter"),
    Query("common", "said", ("--limit", "10000")),
]


class Measured(NamedTuple):
    query: Query
    seconds: float
    megabytes: float
    exit_code: int
    total: int | None
    notice: str | None

    @property
    def within_limits(self) -> bool:
        return self.seconds <= MAX_SECONDS and self.megabytes <= MAX_MEGABYTES \
            and self.exit_code in (0, 1)


def ensure_index(index: Path, corpus: Path) -> None:
    if index.is_dir() and any(index.iterdir()):
        return
    print(f"building {index} from {corpus} …", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "searchidx", "rebuild", str(corpus), "--index",
                    str(index), "--format", "json"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)


def measure(index: Path, query: Query) -> Measured:
    """Run one query in a fresh process: its wall time, peak memory and answer."""
    command = [sys.executable, "-m", "searchidx", "search", "--index", str(index),
               "--format", "json", *query.options, "--", query.text]
    with tempfile.TemporaryFile() as output:
        start = time.monotonic()
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        try:
            answer = json.loads(output.read())
        except ValueError:
            answer = {}
    return Measured(query, seconds, usage.ru_maxrss / 1024, process.returncode,
                    answer.get("total"), answer.get("notice"))


def table(rows: list[Measured]) -> str:
    lines = [f"{'kind':<9} {'s':>6} {'MB':>6} {'exit':>4} {'total':>7}  query (notice)"]
    for row in rows:
        shown = row.query.text if len(row.query.text) <= 44 else row.query.text[:41] + "…"
        shown += " " + " ".join(row.query.options) if row.query.options else ""
        notice = f" ({row.notice[:60]}…)" if row.notice else ""
        flag = "" if row.within_limits else "  <-- over the limits"
        lines.append(f"{row.query.kind:<9} {row.seconds:6.2f} {row.megabytes:6.0f} "
                     f"{row.exit_code:>4} {row.total if row.total is not None else '-':>7}  "
                     f"{shown!r}{notice}{flag}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=REUTERS,
                        help="the Reuters-21578 JSONL [default: $SEARCHIDX_DATA/reuters21578/"
                             "docs.jsonl, else ../shared/data/…]")
    parser.add_argument("--index", type=Path,
                        default=Path(tempfile.gettempdir()) / "searchidx-hostile-reuters",
                        help="the index to search, built from --corpus if missing")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.corpus.is_file():
        print(f"hostile.py: no corpus at {args.corpus} (set SEARCHIDX_DATA or --corpus)",
              file=sys.stderr)
        return 2
    ensure_index(args.index, args.corpus)
    rows = [measure(args.index, query) for query in QUERIES]
    print(table(rows))
    worst_time = max(rows, key=lambda row: row.seconds)
    worst_memory = max(rows, key=lambda row: row.megabytes)
    print(f"\n{len(rows)} queries; slowest {worst_time.seconds:.2f} s "
          f"({worst_time.query.text[:30]!r}); most memory {worst_memory.megabytes:.0f} MB; "
          f"limits {MAX_SECONDS:g} s, {MAX_MEGABYTES} MB")
    if args.json:
        args.json.write_text(json.dumps([{"kind": row.query.kind, "query": row.query.text[:200],
                                          "options": row.query.options,
                                          "seconds": round(row.seconds, 3),
                                          "megabytes": round(row.megabytes, 1),
                                          "exit_code": row.exit_code, "total": row.total}
                                         for row in rows], indent=2), encoding="utf-8")
    return 0 if all(row.within_limits for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
