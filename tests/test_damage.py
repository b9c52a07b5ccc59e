"""A damaged index: every command names the damaged file and the remedy in one line,
`check` finds the damage, `rebuild` always works; and what writers leave behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SEED_IDS
from searchidx import SearchIndex
from searchidx.cli import cli
from test_progress import SEARCHIDX
from test_web import serving

# --- damaging an index, as a disk, a crash or a clumsy hand would ----------------------------


def live_generation(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def segment_file(index_dir: Path) -> Path:
    return max(live_generation(index_dir).glob("MAIN_*.seg"), key=lambda p: p.stat().st_size)


def truncate_a_segment(index_dir: Path) -> Path:
    segment = segment_file(index_dir)
    os.truncate(segment, 1000)
    return segment


def delete_a_segment(index_dir: Path) -> Path:
    segment = segment_file(index_dir)
    segment.unlink()
    return segment


def random_bytes_in_the_toc(index_dir: Path) -> Path:
    toc = next(live_generation(index_dir).glob("_MAIN_*.toc"))
    with open(toc, "r+b") as handle:
        handle.write(bytes(range(7, 207)))
    return toc


def current_names_a_missing_generation(index_dir: Path) -> Path:
    (index_dir / "CURRENT").write_text("gen-000099\n")
    return index_dir / "CURRENT"


def random_bytes_in_current(index_dir: Path) -> Path:
    (index_dir / "CURRENT").write_bytes(bytes(range(0, 256, 5)))
    return index_dir / "CURRENT"


DAMAGE: dict[str, Callable[[Path], Path]] = {
    "truncated segment": truncate_a_segment,
    "deleted segment": delete_a_segment,
    "random bytes in the TOC": random_bytes_in_the_toc,
    "CURRENT names a missing generation": current_names_a_missing_generation,
    "random bytes in CURRENT": random_bytes_in_current,
}


@pytest.fixture(params=list(DAMAGE))
def damaged(request, seeded, index_dir) -> Path:
    """The seeds' index, damaged one way; the damaged file's path."""
    seeded.close()
    return DAMAGE[request.param](index_dir)


def run(*args: object) -> subprocess.CompletedProcess:
    """The installed `searchidx` command, as a user runs it."""
    return subprocess.run([SEARCHIDX, *map(str, args)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "NO_COLOR": "1"})


# --- every command: one line, the damaged file, the remedy -----------------------------------

@pytest.mark.parametrize("command", [["stats"], ["search", "Vu"], ["show", SEED_IDS["000"]],
                                     ["index", "{seeds}"]])
def test_a_command_on_a_damaged_index_names_the_file_and_the_remedy_in_one_line(
        damaged, index_dir, seed_dir, command):
    finished = run(*[part.format(seeds=seed_dir) for part in command], "--index", index_dir)
    assert finished.returncode == 2
    [line] = finished.stderr.splitlines()
    assert line.startswith("searchidx: error: ") and str(damaged) in line
    assert f"searchidx rebuild PATH… --index {index_dir}" in line


def test_rebuild_builds_a_damaged_index_afresh(damaged, index_dir, seed_dir):
    finished = run("rebuild", seed_dir, "--index", index_dir)
    assert finished.returncode == 0, finished.stderr
    with SearchIndex.open(index_dir) as idx:
        assert idx.stats().articles == 5
        assert idx.search("Vũ", expand_aliases=False).total == 3
        assert idx.check().damaged == [] and idx.check().problems == []


def test_check_names_the_damaged_file_in_text_and_exits_1(damaged, index_dir):
    finished = run("check", "--index", index_dir)
    assert finished.returncode == 1
    assert any(line.startswith("damaged") and str(damaged) in line
               for line in finished.stdout.splitlines())
    assert f"searchidx rebuild PATH… --index {index_dir}" in finished.stdout


def test_check_reports_the_damage_in_json_beside_the_usual_keys(damaged, index_dir):
    finished = run("check", "--format", "json", "--index", index_dir)
    report = json.loads(finished.stdout)
    assert finished.returncode == 1
    assert {"index", "articles", "problems", "repaired"} <= report.keys()
    [damage] = report["damaged"]
    assert damage["file"] == str(damaged) and damage["problem"]


def test_check_repair_leaves_a_damaged_index_to_rebuild(damaged, index_dir):
    finished = run("check", "--repair", "--index", index_dir)
    assert finished.returncode == 1
    assert str(damaged) in finished.stdout and "searchidx rebuild" in finished.stdout


def test_check_of_a_sound_index_reports_no_damage(seeded, index_dir):
    finished = run("check", "--format", "json", "--index", index_dir)
    assert finished.returncode == 0 and json.loads(finished.stdout)["damaged"] == []


# --- check: checksums, and reading what has none ---------------------------------------------

def test_check_finds_a_changed_byte_by_the_checksum_written_at_commit(seeded, index_dir):
    segment = segment_file(index_dir)
    with open(segment, "r+b") as handle:
        handle.seek(segment.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0xFF]))
    [damage] = seeded.check().damaged
    assert damage.file == str(segment) and "checksum" in damage.problem


def test_an_index_without_manifest_is_checked_by_reading_its_segments(seeded, index_dir):
    (live_generation(index_dir) / "MANIFEST.json").unlink()
    assert seeded.check().damaged == []
    segment = truncate_a_segment(index_dir)
    [damage] = seeded.check().damaged
    assert damage.file == str(segment) and "cannot be read" in damage.problem


def test_the_manifest_follows_each_commit_in_place(seeded, seed_dir, index_dir):
    (seed_dir / "extra.txt").write_text("Extra harbour news\n\nThe harbour reopened.\n")
    seeded.index([seed_dir])
    manifest = json.loads((live_generation(index_dir) / "MANIFEST.json").read_text())
    assert set(manifest["files"]) == index_files(index_dir)
    assert seeded.check().damaged == []


def index_files(index_dir: Path) -> set[str]:
    """The Whoosh files of the live generation: its tables of contents and segments."""
    return {path.name for path in live_generation(index_dir).iterdir()
            if path.name.startswith(("MAIN_", "_MAIN_")) and path.name != "MAIN_WRITELOCK"}


# --- rebuild keeps what it can of a damaged index --------------------------------------------

def test_rebuild_keeps_from_a_damaged_index_the_articles_of_files_now_unreadable(
        seed_dir, index_dir):
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([seed_dir])  # one segment: the seeds
        (seed_dir / "extra.txt").write_text("Extra harbour news\n\nThe harbour reopened.\n")
        idx.index([seed_dir])  # a second segment: the new file
    segments = sorted(live_generation(index_dir).glob("MAIN_*.seg"), key=lambda p: p.stat().st_size)
    os.truncate(segments[0], 100)  # the new file's segment
    (seed_dir / f"{SEED_IDS['001']}.txt").write_bytes(b"")  # a seed file gone bad
    with SearchIndex.open(index_dir) as idx:
        report = idx.rebuild([seed_dir])
        assert [skipped.path for skipped in report.skipped] == [
            str(seed_dir / f"{SEED_IDS['001']}.txt")]
        assert idx.article(SEED_IDS["001"]) is not None  # kept from the readable segment
        assert idx.stats().articles == 6


# --- the web server --------------------------------------------------------------------------

def test_the_web_server_answers_503_with_its_headers_and_logs_one_line(damaged, index_dir):
    with serving(index_dir) as (address, stderr):
        for path in ("healthz", "api/search?q=Vu", "?q=Vu"):
            with pytest.raises(urllib.error.HTTPError) as answer:
                urllib.request.urlopen(address + path, timeout=30)
            assert answer.value.code == 503
            assert answer.value.headers["X-Frame-Options"] == "DENY"
            assert str(damaged) in answer.value.read().decode()
        logged = wait_for(lambda: [line for line in stderr if str(damaged) in line], 3)
    assert len(logged) == 3
    # nothing else but the start and, on a busy machine, waitress noting a queued request
    assert [line for line in stderr if line not in logged and "serving" not in line
            and "Task queue depth" not in line] == []


def wait_for(lines: Callable[[], list[str]], count: int, guard: float = 30.0) -> list[str]:
    """``lines()`` once it has ``count`` lines (the server logs as it answers)."""
    deadline = time.monotonic() + guard
    while len(lines()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return lines()


# --- what writers leave behind ---------------------------------------------------------------

def folder_listing(index_dir: Path) -> dict[str, int]:
    return {str(path.relative_to(index_dir)): path.stat().st_size
            for path in sorted(index_dir.rglob("*"))}


def test_an_index_run_that_changes_nothing_leaves_the_index_folder_as_it_was(seeded, seed_dir,
                                                                              index_dir):
    before = folder_listing(index_dir)
    for _ in range(3):
        result = CliRunner().invoke(cli, ["index", str(seed_dir), "--index", str(index_dir)])
        assert result.exit_code == 0 and "5 unchanged" in result.output
    assert folder_listing(index_dir) == before


INDEX_AND_HANG = """
import sys
from searchidx import SearchIndex
def hang(done, total):
    print("progress", done, total, flush=True)
    sys.stdin.readline()  # the test kills this process here
with SearchIndex.open(sys.argv[1]) as idx:
    idx.index([sys.argv[2]], progress=hang)
"""


def test_the_next_writer_removes_the_files_a_killed_writer_left(tmp_path, index_dir):
    articles = tmp_path / "articles"
    articles.mkdir()
    for number in range(3):
        (articles / f"a{number}.txt").write_text(f"Harbour news {number}\n\nThe harbour {number}.")
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([articles / "a0.txt"])
    named_before = index_files(index_dir)
    with subprocess.Popen([sys.executable, "-c", INDEX_AND_HANG, str(index_dir), str(articles)],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as writer:
        assert writer.stdout.readline().startswith("progress 1 ")  # writing, its files made
        writer.send_signal(signal.SIGKILL)
    left = set(os.listdir(live_generation(index_dir))) - named_before - {"MANIFEST.json"}
    assert left - {"MAIN_WRITELOCK"}  # the killed writer's segment files and temporary folder
    result = CliRunner().invoke(cli, ["index", str(articles / "a0.txt"), "--index", str(index_dir)])
    assert result.exit_code == 0 and "1 unchanged" in result.output
    assert set(os.listdir(live_generation(index_dir))) == named_before | {
        "MANIFEST.json", "FORMAT.json", "MAIN_WRITELOCK"}
