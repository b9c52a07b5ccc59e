#!/usr/bin/env python3
"""How long reading saved news pages takes (issue 16 item 6, issue 17 item 5).

Reads, through the public ``searchidx.documents.read_file``:
  - the test suite's HTML pages (tests/articles/*.html, tests/pages/*.html), each once;
  - COPIES copies of a realistic saved page (tests/pages/hai-phong-port-saved-page.html);
  - pathological pages at 10k, 100k and 1M characters: ``<!--`` then dashes, ``<`` in a
    row, dashes in a paragraph, ``<p`` repeated, ``&`` repeated, unclosed ``<a `` tags
    repeated, deep nesting, one paragraph of ``<span>``, one table row of ``<td>``.

    python scripts/bench_pages.py                   # the installed searchidx
    PYTHONPATH=/path/to/old/checkout python scripts/bench_pages.py   # another version

The first page read pays the one-off import of the page reader (trafilatura); it is timed
on its own line. Each pathological page runs in a child process with a time limit, so a
parser that takes minutes is reported as such instead of holding up the script.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
REALISTIC = TESTS / "pages" / "hai-phong-port-saved-page.html"
LEAD = "<html><body><h1>Port talks</h1><p>Officials met in Hải Phòng on Monday.</p>"
PATHOLOGICAL = {
    "comment then dashes": lambda n: LEAD + "<!--" + "-" * n + "</body></html>",
    "'<' in a row": lambda n: LEAD + "<" * n + "</body></html>",
    "dashes in a paragraph": lambda n: LEAD + "<p>" + "-" * n + "</p></body></html>",
    "'<p' repeated": lambda n: LEAD + "<p" * (n // 2) + "</body></html>",
    "'&' in a row": lambda n: LEAD + "<p>" + "&" * n + "</p></body></html>",
    "'<a ' repeated, unclosed": lambda n: LEAD + "<a " * (n // 3),
    "nested <div>": lambda n: LEAD + "<div>" * (n // 5) + "x</body></html>",
    "<span> in one paragraph": lambda n: LEAD + "<p>" + "<span>w</span> " * (n // 15) + "</p>",
    "<td> in one row": lambda n: LEAD + "<table><tr>" + "<td>c" * (n // 5) + "</table>",
}
SIZES = (10_000, 100_000, 1_000_000)
READ_ONE = ("import sys, time\n"
            "from pathlib import Path\n"
            "from searchidx.documents import SourceFile, read_file\n"
            "read_file(SourceFile(Path(sys.argv[2]), 'warm-up'))\n"
            "start = time.perf_counter()\n"
            "content = read_file(SourceFile(Path(sys.argv[1]), 'page'))\n"
            "print(f'{time.perf_counter() - start:.3f}', len(content.articles[0].body),"
            " len(content.warnings))\n")


def read_all(paths: list[Path]) -> float:
    from searchidx.documents import SourceFile, read_file

    start = time.perf_counter()
    for path in paths:
        read_file(SourceFile(path, path.stem))
    return time.perf_counter() - start


def time_pathological(folder: Path, limit: float) -> None:
    print(f"{'pathological page':26} {'chars':>9} {'seconds':>8} {'body':>9} warnings")
    for name, build in PATHOLOGICAL.items():
        for size in SIZES:
            page = folder / "page.html"
            page.write_text(build(size), encoding="utf-8")
            try:
                done = subprocess.run([sys.executable, "-c", READ_ONE, str(page), str(REALISTIC)],
                                      capture_output=True, text=True, timeout=limit)
                seconds, body, warnings = (done.stdout.split() or ["error", "-", "-"])
            except subprocess.TimeoutExpired:
                seconds, body, warnings = f">{limit:.0f}", "-", "-"
            print(f"{name:26} {size:>9,} {seconds:>8} {body:>9} {warnings}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=200)
    parser.add_argument("--limit", type=float, default=60.0,
                        help="seconds a pathological page may take before it is cut off")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        first = read_all([REALISTIC])
        print(f"first page, with the page reader's import: {first:.3f} s")
        suite = sorted([*TESTS.glob("articles/*.html"), *TESTS.glob("pages/*.html")])
        print(f"{len(suite)} test pages: {read_all(suite):.3f} s")
        copies = []
        for number in range(args.copies):
            copies.append(folder / f"copy-{number}.html")
            shutil.copyfile(REALISTIC, copies[-1])
        seconds = read_all(copies)
        print(f"{args.copies} copies of a realistic page: {seconds:.3f} s "
              f"({1000 * seconds / args.copies:.1f} ms a page)")
        time_pathological(folder, args.limit)


if __name__ == "__main__":
    main()
