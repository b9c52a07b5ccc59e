"""Reading files and running index/rebuild: what a rebuild keeps, runs that would empty an
index, files that are not files, hostile JSON lines, summarised reports, worker failures."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SEED_IDS
from searchidx import IndexWouldShrink, SearchIndex, settings
from searchidx.cli import cli


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n"
                            for r in records), encoding="utf-8")
    return path


def feed(count: int, prefix: str = "a") -> list[dict[str, str]]:
    return [{"id": f"{prefix}{i}", "title": f"Harbour talks {i}",
             "body": f"Officials met in Hanoi for round {i} of the harbour talks."}
            for i in range(count)]


def articles_in(index_dir: Path) -> int:
    with SearchIndex.open(index_dir) as idx:
        return idx.stats().articles


def reasons(report) -> list[str]:
    return [skipped.reason for skipped in report.skipped]


def searchidx(*args: object, home: Path, **options) -> subprocess.CompletedProcess:
    """The installed command in a process of its own; the timeout only guards against a hang."""
    env = {**os.environ, "NO_COLOR": "1", "HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "searchidx", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=env, check=False,
                          **options)


# --- a rebuild builds exactly the articles of its paths ------------------------------------------

def test_a_rebuild_from_a_copy_in_another_folder_keeps_every_article(seed_dir, tmp_path,
                                                                     index_dir):
    copy = shutil.copytree(seed_dir, tmp_path / "copy")
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([seed_dir])
        report = idx.rebuild([copy])
        assert report.skipped == [] and idx.stats().articles == 5
        assert {idx.article(i).path for i in SEED_IDS.values()} == {
            str(path) for path in copy.iterdir()}


def test_a_rebuild_from_a_jsonl_copied_under_another_name_keeps_every_article(tmp_path,
                                                                              index_dir):
    first = write_jsonl(tmp_path / "first.jsonl", feed(30))
    second = Path(shutil.copy(first, tmp_path / "second.jsonl"))
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([first])
        report = idx.rebuild([second])
        assert report.skipped == [] and idx.stats().articles == 30


def test_a_rebuild_judges_duplicate_ids_among_its_own_paths(seed_dir, tmp_path, index_dir):
    copy = shutil.copytree(seed_dir, tmp_path / "copy")
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([seed_dir])
        report = idx.rebuild([seed_dir, copy])
        assert idx.stats().articles == 5
    assert sorted(reasons(report)) == sorted(
        f"duplicate id '{i}' (already indexed from {seed_dir / i}.txt)" for i in SEED_IDS.values())


def test_a_file_under_two_of_the_paths_given_is_read_once(seed_dir, index_dir):
    with SearchIndex.open(index_dir, create=True) as idx:
        report = idx.index([seed_dir, seed_dir / f"{SEED_IDS['000']}.txt", seed_dir])
        assert report.skipped == [] and report.added == 5
        report = idx.rebuild([seed_dir, seed_dir])
        assert report.skipped == [] and idx.stats().articles == 5


def test_a_file_under_a_folder_and_its_subfolder_keeps_one_article(seed_dir, tmp_path, index_dir):
    archive = shutil.copytree(seed_dir, tmp_path / "archive" / "asia")
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([archive.parent, archive])
        assert idx.stats().articles == 5
        assert idx.article(f"asia/{SEED_IDS['000']}") is not None


# --- a run that would leave fewer than half of the articles stops ----------------------------------

def test_a_rebuild_that_would_leave_fewer_than_half_stops_and_changes_nothing(
        seed_dir, tmp_path, index_dir):
    (tmp_path / "other").mkdir()
    other = shutil.copy(seed_dir / f"{SEED_IDS['000']}.txt", tmp_path / "other")
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([seed_dir])
        with pytest.raises(IndexWouldShrink, match=r"leave 1 of the index's 5 articles"):
            idx.rebuild([other])
        assert idx.stats().articles == 5


def test_force_lets_a_shrinking_rebuild_go_on(seed_dir, tmp_path, index_dir):
    (tmp_path / "empty").mkdir()
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([seed_dir])
        report = idx.rebuild([tmp_path / "empty"], force=True)
        assert (report.removed, idx.stats().articles) == (5, 0)


def test_the_cli_stops_a_shrinking_rebuild_with_one_line_and_force_goes_on(seed_dir, tmp_path,
                                                                           index_dir):
    (tmp_path / "empty").mkdir()
    assert run("index", seed_dir, "--index", index_dir).exit_code == 0
    stopped = run("rebuild", tmp_path / "empty", "--index", index_dir)
    assert stopped.exit_code == 2 and len(stopped.stderr.splitlines()) == 1
    assert "--force" in stopped.stderr and articles_in(index_dir) == 5
    forced = run("rebuild", tmp_path / "empty", "--index", index_dir, "--force")
    assert forced.exit_code == 0 and articles_in(index_dir) == 0


def test_a_stopped_rebuild_says_why_the_paths_given_had_too_few_articles(seed_dir, tmp_path,
                                                                        index_dir):
    assert run("index", seed_dir, "--index", index_dir).exit_code == 0
    stopped = run("rebuild", tmp_path / "artcles-mistyped", "--index", index_dir)
    assert stopped.exit_code == 2 and len(stopped.stderr.splitlines()) == 1
    assert "artcles-mistyped: no such file or folder" in stopped.stderr


def test_index_stops_when_a_file_still_there_would_lose_most_of_its_articles(tmp_path,
                                                                            index_dir):
    jsonl = write_jsonl(tmp_path / "feed.jsonl", feed(10))
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([jsonl])
        write_jsonl(jsonl, feed(2))
        with pytest.raises(IndexWouldShrink):
            idx.index([jsonl])
        assert idx.stats().articles == 10


def test_files_gone_from_disk_may_empty_the_index(seed_dir, index_dir):
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([seed_dir])
        for path in seed_dir.iterdir():
            path.unlink()
        assert idx.index([seed_dir]).removed == 5 and idx.stats().articles == 0


def test_check_repair_that_would_halve_the_index_stops_unless_forced(tmp_path, index_dir):
    jsonl = write_jsonl(tmp_path / "feed.jsonl", feed(10))
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([jsonl])
        write_jsonl(jsonl, feed(1))
        with pytest.raises(IndexWouldShrink):
            idx.check(repair=True)
        assert idx.stats().articles == 10
        assert idx.check(repair=True, force=True).problems == []
        assert idx.stats().articles == 1


# --- files that are not files ----------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
def test_a_fifo_is_skipped_without_being_opened_by_index_rebuild_and_check(seed_dir, index_dir):
    os.mkfifo(seed_dir / "pipe.txt")
    os.symlink(seed_dir / "pipe.txt", seed_dir / "link-to-pipe.txt")
    for command in ("index", "rebuild"):
        finished = searchidx(command, seed_dir, "--index", index_dir, home=index_dir.parent)
        assert finished.returncode == 1, finished.stderr
        assert sorted(finished.stderr.splitlines()) == [
            f"searchidx: skipped {seed_dir / name}: not a regular file (a FIFO)"
            for name in ("link-to-pipe.txt", "pipe.txt")]
    indexed = seed_dir / f"{SEED_IDS['001']}.txt"
    indexed.unlink()
    os.mkfifo(indexed)
    checked = searchidx("check", "--format", "json", "--index", index_dir, home=index_dir.parent)
    problems = json.loads(checked.stdout)["problems"]
    assert [p["problem"] for p in problems] == ["unreadable: not a regular file (a FIFO)"]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_symbolic_link_to_a_device_is_skipped(seed_dir, index_dir):
    (seed_dir / "zero.txt").symlink_to("/dev/zero")
    with SearchIndex.open(index_dir, create=True) as idx:
        report = idx.index([seed_dir])
        assert idx.stats().articles == 5
    assert reasons(report) == ["not a regular file (a character device)"]


@pytest.mark.skipif(not Path("/proc/self/maps").is_file(), reason="needs Linux's /proc")
def test_a_file_is_read_no_further_than_the_limit_whatever_its_size_says(
        tmp_path, index_dir, monkeypatch):
    # /proc/self/maps says its size is 0 and holds more than the lowered limit.
    assert Path("/proc/self/maps").stat().st_size == 0
    monkeypatch.setattr(settings, "MAX_FILE_BYTES", 4096)
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "maps.txt").symlink_to("/proc/self/maps")
    (tmp_path / "articles" / "short.txt").write_text("Officials met in Hanoi.", encoding="utf-8")
    with SearchIndex.open(index_dir, create=True) as idx:
        report = idx.index([tmp_path / "articles"])
        assert idx.stats().articles == 1
    assert reasons(report) == ["too large (0 MiB; the limit is 0 MiB)"]


# --- JSON lines of every kind --------------------------------------------------------------------

def test_a_jsonl_line_nested_too_deeply_is_skipped_by_number_and_the_rest_kept(tmp_path,
                                                                              index_dir):
    jsonl = write_jsonl(tmp_path / "feed.jsonl", [feed(1)[0], "[" * 1500 + "]" * 1500,
                                                  feed(2, "b")[1]])
    with SearchIndex.open(index_dir, create=True) as idx:
        report = idx.index([jsonl])
        assert idx.stats().articles == 2
    assert reasons(report) == ["line 2: not read: nested too deeply"]


def test_jsonl_ids_are_strings_or_integers_and_other_kinds_are_refused_by_line(tmp_path,
                                                                              index_dir):
    body = {"body": "Officials met in Hanoi."}
    records = [{"id": 7, **body}, {"id": "x-1", **body}, {"id": 1.5, **body},
               {"id": True, **body}, {"id": {"a": 1}, **body}, {"id": [1], **body}]
    with SearchIndex.open(index_dir, create=True) as idx:
        report = idx.index([write_jsonl(tmp_path / "feed.jsonl", records)])
        assert idx.article("7") is not None and idx.article("x-1") is not None
        assert idx.article("True") is None and idx.stats().articles == 2
    assert reasons(report) == [
        'line 3: the "id" must be a string or an integer, not a number (1.5)',
        'line 4: the "id" must be a string or an integer, not true/false (true)',
        'line 5: the "id" must be a string or an integer, not an object ({"a": 1})',
        'line 6: the "id" must be a string or an integer, not a list ([1])']


def test_jsonl_ids_with_dot_segments_or_control_characters_are_refused_by_line(tmp_path,
                                                                              index_dir):
    body = {"body": "Officials met in Hanoi."}
    records = [{"id": "../../etc/passwd", **body}, {"id": "a/./b", **body},
               {"id": "..", **body}, {"id": "bell\x07", **body}, {"id": "a..b/c.d", **body}]
    with SearchIndex.open(index_dir, create=True) as idx:
        report = idx.index([write_jsonl(tmp_path / "feed.jsonl", records)])
        assert idx.article("a..b/c.d") is not None and idx.stats().articles == 1
    assert [reason.split(":")[0] for reason in reasons(report)] == [
        "line 1", "line 2", "line 3", "line 4"]
    assert all('a "." or ".." path step or a control character' in r for r in reasons(report))


def test_a_title_or_body_that_is_not_text_is_refused_by_line(tmp_path, index_dir):
    records = [{"id": "a", "title": {"t": [1, 2]}, "body": "Officials met."},
               {"id": "b", "title": "Talks", "body": ["Officials", "met."]},
               {"id": "c", "title": "Talks", "body": "Officials met."}]
    with SearchIndex.open(index_dir, create=True) as idx:
        report = idx.index([write_jsonl(tmp_path / "feed.jsonl", records)])
        assert idx.stats().articles == 1
    assert reasons(report) == ['line 1: "title" must be text, not an object ({"t": [1, 2]})',
                               'line 2: "body" must be text, not a list (["Officials", "met."])']


def test_a_duplicate_id_in_one_file_says_which_line_has_the_first_copy(tmp_path, index_dir):
    jsonl = write_jsonl(tmp_path / "feed.jsonl", [*feed(3), feed(2)[1]])
    with SearchIndex.open(index_dir, create=True) as idx:
        report = idx.index([jsonl])
    assert reasons(report) == [f"duplicate id 'a1' (already indexed from {jsonl}, line 2)"]


def test_a_record_with_a_title_and_no_text_is_indexed_with_its_title_as_text(tmp_path,
                                                                             index_dir):
    records = [{"id": "t", "title": "BAHIA COCOA REVIEW", "text": ""},
               {"id": "n", "title": "", "text": "  "}]
    with SearchIndex.open(index_dir, create=True) as idx:
        report = idx.index([write_jsonl(tmp_path / "feed.jsonl", records)])
        article = idx.article("t")
        assert [hit.id for hit in idx.search("cocoa")] == ["t"]
    assert (article.title, article.body) == ("BAHIA COCOA REVIEW", "BAHIA COCOA REVIEW")
    assert reasons(report) == ["line 2: article n: no title or text"]


# --- reports ----------------------------------------------------------------------------------

def test_more_than_ten_skips_are_summarised_on_stderr_and_all_listed_in_json(tmp_path,
                                                                            index_dir):
    jsonl = write_jsonl(tmp_path / "feed.jsonl", [*feed(3), *["{bad"] * 14])
    text = run("index", jsonl, "--index", index_dir)
    assert text.exit_code == 1
    lines = text.stderr.splitlines()
    assert len(lines) == 11 and lines[-1] == "searchidx: … and 4 more (--format json lists all)"
    as_json = run("index", jsonl, "--index", index_dir, "--format", "json")
    assert len(json.loads(as_json.stdout)["skipped"]) == 14


def test_a_skip_is_shown_on_stderr_before_more_than_ten_warnings(tmp_path, index_dir):
    for i in range(12):  # each is read as Windows-1252, with a warning
        (tmp_path / f"cafe{i}.txt").write_bytes(b"Caf\xe9 talks in Hanoi went on.")
    jsonl = write_jsonl(tmp_path / "feed.jsonl", [*feed(3), "{bad"])
    lines = run("index", tmp_path, "--index", index_dir).stderr.splitlines()
    assert lines[0] == (f"searchidx: skipped {jsonl}: line 4: not valid JSON "
                        f"(Expecting property name enclosed in double quotes)")
    assert lines[-1] == "searchidx: … and 3 more (--format json lists all)"


def test_lines_that_keep_failing_are_reported_again_on_every_run(tmp_path, index_dir):
    jsonl = write_jsonl(tmp_path / "feed.jsonl", [*feed(3), "{bad", {"id": "d", "date": "soon",
                                                                      "body": "Talks."}])
    with SearchIndex.open(index_dir, create=True) as idx:
        first = idx.index([jsonl])
        again = idx.index([jsonl])
    bad_json = "line 4: not valid JSON (Expecting property name enclosed in double quotes)"
    assert reasons(again) == reasons(first) == [bad_json]
    assert again.unreadable_dates == first.unreadable_dates != []
    assert (again.added, again.updated, again.unchanged) == (0, 0, 4)


def test_reading_a_file_with_problems_again_commits_nothing(tmp_path, index_dir):
    jsonl = write_jsonl(tmp_path / "feed.jsonl", [*feed(3), "{bad"])
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([jsonl])
        commits = sorted(index_dir.rglob("*.toc"))
        idx.index([jsonl])
    assert sorted(index_dir.rglob("*.toc")) == commits


# --- a worker that fails -------------------------------------------------------------------------

def limit_file_size() -> None:
    """No file written may pass 400 kB: a write past it fails with EFBIG ("File too large";
    Python ignores SIGXFSZ), as on a full disk, and the job files stay under it."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))


def test_a_rebuild_whose_writes_fail_says_why_in_one_line_without_tracebacks(tmp_path):
    records = [{"id": f"a{i}", "title": f"Talks {i}",
                "body": " ".join(f"harbour{i * 7 + j} rice{j * 13 + i}" for j in range(45))}
               for i in range(4000)]  # 4 MB: over PARALLEL_MIN_BYTES, so workers where cores
    jsonl = write_jsonl(tmp_path / "feed.jsonl", records)
    assert jsonl.stat().st_size > settings.PARALLEL_MIN_BYTES
    index_dir = tmp_path / "index"
    finished = searchidx("rebuild", jsonl, "--index", index_dir, home=tmp_path,
                         preexec_fn=limit_file_size)
    assert finished.returncode == 2
    assert finished.stderr.splitlines() == [
        finished.stderr.strip()] and "file too large" in finished.stderr.lower()
    assert "Traceback" not in finished.stderr and articles_in(index_dir) == 0
