"""A smoke test of scripts/bench.py on a tiny generated corpus: it runs and reports.

No timings are checked here; the benchmark itself is run by hand (see docs/performance.md).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "scripts" / "bench.py"
WORDS = ("harbour trade talks minister delegation rice coffee summit fishing ministry port "
         "exports shipping tariffs growth inflation budget").split()
NAMES = ("Haiphong Nakamura Olivares Brennan Thorsen Okafor Lindqvist Moreau Castell Varga "
         "Petrakis Halloran").split()


def tiny_corpus(path: Path, count: int = 50) -> Path:
    """``count`` articles of random words; each name occurs in a few of them."""
    rng = random.Random(3)
    lines = []
    for number in range(count):
        words = " ".join(rng.choice(WORDS) for _ in range(90))
        name = NAMES[number % len(NAMES)]
        body = f"The talks, officials said, went on. {words}, said {name} on {words}."
        lines.append(json.dumps({"id": f"n{number}", "title": f"Talks {number}", "text": body}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_benchmark_runs_on_a_tiny_corpus_and_reports_every_figure(tmp_path):
    corpus, figures = tiny_corpus(tmp_path / "docs.jsonl"), tmp_path / "bench.json"
    finished = subprocess.run(
        [sys.executable, str(BENCH), "--corpus", str(corpus), "--systems", "searchidx,fts5,whoosh",
         "--queries", "8", "--rounds", "1", "--cli-runs", "1", "--json", str(figures)],
        capture_output=True, text=True, timeout=120, check=False)
    assert finished.returncode == 0, finished.stderr
    assert "query+snippets p95 (ms)" in finished.stdout and "targets:" in finished.stdout
    run = json.loads(figures.read_text(encoding="utf-8"))
    assert set(run["systems"]) == {"searchidx", "fts5", "whoosh"}
    for system in run["systems"].values():
        assert system["documents"] == 50 and system["queries_with_hits"] > 0
        assert {"build_s", "peak_rss_mb", "add_1pct_s", "update_1pct_s", "snippets", "plain"} <= set(system)
    assert run["systems"]["searchidx"]["reindex_unchanged_s"] > 0
    assert {"searchidx", "searchidx json", "fts5", "import floor"} <= set(run["cold_ms"])


def test_the_benchmark_reports_index_parts_build_sizes_and_cold_json(tmp_path):
    corpus, figures = tiny_corpus(tmp_path / "docs.jsonl"), tmp_path / "bench.json"
    finished = subprocess.run(
        [sys.executable, str(BENCH), "--corpus", str(corpus), "--systems", "searchidx,whoosh",
         "--queries", "8", "--rounds", "1", "--cli-runs", "1", "--build-sizes", "20,50,500",
         "--json", str(figures)],
        capture_output=True, text=True, timeout=120, check=False)
    assert finished.returncode == 0, finished.stderr
    for row in ("build docs/s, first 20", "build docs/s, first 50", "cold search --format json (ms)",
                "update 1%, index run only (s)", "searchidx index by part", "postings body"):
        assert row in finished.stdout
    assert "first 500" not in finished.stdout  # larger than the corpus: built whole, as 50
    run = json.loads(figures.read_text(encoding="utf-8"))
    for system in run["systems"].values():
        assert set(system["by_size"]) == {"20", "50"}
        assert system["by_size"]["20"]["documents"] == 20
    parts = run["searchidx_parts_mb"]
    assert parts["file pst"] > 0 and parts["postings body"] > 0


def test_the_benchmark_says_where_it_looked_when_the_corpus_is_missing(tmp_path):
    missing = tmp_path / "missing"
    finished = subprocess.run([sys.executable, str(BENCH)], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "SEARCHIDX_DATA": str(missing)})
    assert finished.returncode == 0
    assert f"no Reuters-21578 corpus at {missing / 'reuters21578' / 'docs.jsonl'}" in finished.stderr
    assert "SEARCHIDX_DATA" in finished.stderr
