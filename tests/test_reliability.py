"""Reliability: crashes, readers during writes, competing writers, bad files, hostile
queries and content, and the integrity check."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SEED_IDS
from test_progress import Terminal
from searchidx import IndexLocked, QueryError, SearchIndex, normalize
from searchidx.cli import cli
from searchidx.index import IndexStore

WORDS = ("hanoi seoul trade talks minister delegation port harbour rice coffee summit "
         "visit ministry cooperation fishing").split()


def generate_articles(folder: Path, count: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        text = " ".join(rng.choice(WORDS) for _ in range(120))
        (folder / f"a{number:04d}.txt").write_text(f"Article {number}\n\nharbour {text}.",
                                                  encoding="utf-8")
    return folder


def searchidx(*args: object, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "searchidx", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def article_count(index_dir: Path) -> int:
    with SearchIndex.open(index_dir) as idx:
        assert idx.search("harbour", limit=1).total == idx.stats().articles
        return idx.stats().articles


# --- crash safety ---------------------------------------------------------------------------

def index_to_the_end(articles: Path, index_dir: Path) -> None:
    finished = searchidx("index", articles, "--index", index_dir)
    assert finished.wait() == 0, finished.stderr.read()


# Where a fresh build (a rebuild, or a first index) is killed, each seen in the files of
# the generation it writes: a worker's job waiting (building); the parent's word that the
# workers finish their parts of the segment (committing); the new TOC, unpublished
# (committed); CURRENT naming the new generation while the older ones are removed
# (publishing).
KILL_POINTS = {
    "building": lambda new: any(new.glob("*.tmp/*.doclist")),
    "committing": lambda new: any(new.glob("*.tmp/*.started.0")),
    "committed": lambda new: (new / "_MAIN_1.toc").exists(),
    "publishing": lambda new: (new.parent / "CURRENT").read_text().strip() == new.name,
}
# A run that finishes before its kill lands tests nothing: it is run again, so many times
# at most (the last steps, committed and publishing, take milliseconds).
KILL_ATTEMPTS = 10
GUARD_SECONDS = 60  # a failure guard only: every wait below ends on an event


def next_generation(index_dir: Path) -> Path:
    """The generation a fresh build writes: the one after the live one (a writer first
    removes those a killed run left after it)."""
    live = (index_dir / "CURRENT").read_text().strip()
    return index_dir / f"gen-{int(live[len('gen-'):]) + 1:06d}"


def killed_at(point: str, index_dir: Path, *args: object) -> bool:
    """Run ``searchidx args`` (a fresh build into ``index_dir``) and SIGKILL it once its new
    generation shows ``point``; whether the kill landed (the run was still going)."""
    seen, new = KILL_POINTS[point], next_generation(index_dir)
    # (niced: the polling test gets a core first, and kills soon after the event)
    process = searchidx(*args, preexec_fn=lambda: os.nice(5))
    deadline = time.monotonic() + GUARD_SECONDS
    while not seen(new) and process.poll() is None:
        assert time.monotonic() < deadline, f"never reached {point}"
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)
    code = process.wait()
    assert code in (0, -signal.SIGKILL), process.stderr.read()
    # Its orphaned workers exit (within ORPHAN_CHECK_SECONDS): the next run is alone.
    assert until_no_process_names(index_dir)
    return code == -signal.SIGKILL


def kill_at(point: str, index_dir: Callable[[], Path], command: str, articles: Path) -> Path:
    """Kill ``searchidx command articles`` (a fresh build into the index ``index_dir()``
    gives) at ``point``, again while the run finished first; the index it was killed in."""
    for _ in range(KILL_ATTEMPTS):
        location = index_dir()
        if killed_at(point, location, command, articles, "--index", location):
            return location
    pytest.fail(f"every run finished before it was killed at {point}")


def processes_naming(path: Path) -> list[int]:
    """Process ids whose command line names ``path``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(path) in (entry / "cmdline").read_text(errors="replace"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def until_no_process_names(path: Path) -> bool:
    """Wait until no process names ``path`` (False after the guard's time)."""
    deadline = time.monotonic() + GUARD_SECONDS
    while processes_naming(path):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def assert_tidy(index_dir: Path) -> None:
    """Only the live generation and the one before it (kept for readers still open)."""
    generations = sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-"))
    live = (index_dir / "CURRENT").read_text().strip()
    assert generations[-1] == live and len(generations) <= 2, generations


needs_proc = pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to list processes")


@needs_proc
@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_while_indexing_leaves_all_or_nothing_and_the_next_run_completes(tmp_path, point):
    articles = generate_articles(tmp_path / "articles", 2000)
    attempts = iter(range(KILL_ATTEMPTS))

    def empty_index() -> Path:
        index_dir = tmp_path / f"index-{next(attempts)}"
        SearchIndex.open(index_dir, create=True).close()
        return index_dir

    index_dir = kill_at(point, empty_index, "index", articles)
    assert article_count(index_dir) in (0, 2000)  # unpublished, or published whole
    index_to_the_end(articles, index_dir)
    assert article_count(index_dir) == 2000
    assert_tidy(index_dir)


@needs_proc
@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_while_rebuilding_leaves_the_whole_old_index(tmp_path, point):
    articles = generate_articles(tmp_path / "articles", 2000)
    index_dir = tmp_path / "index"
    index_to_the_end(articles, index_dir)
    kill_at(point, lambda: index_dir, "rebuild", articles)
    assert article_count(index_dir) == 2000  # the old index, or the new one once published
    index_to_the_end(articles, index_dir)
    assert article_count(index_dir) == 2000
    assert_tidy(index_dir)


@needs_proc
def test_sigkill_during_a_parallel_rebuild_leaves_no_worker_and_frees_the_lock(tmp_path):
    articles = generate_articles(tmp_path / "articles", 2600)  # over PARALLEL_MIN_BYTES
    index_dir = tmp_path / "index"
    index_to_the_end(articles, index_dir)
    kill_at("building", lambda: index_dir, "rebuild", articles)  # (its workers exit with it)
    again = searchidx("rebuild", articles, "--index", index_dir, "--wait", "0")
    assert again.wait() == 0, again.stderr.read()
    assert article_count(index_dir) == 2600


def test_ctrl_c_stops_with_a_message_and_keeps_the_index(tmp_path):
    articles = generate_articles(tmp_path / "articles", 2000)
    index_dir = tmp_path / "index"
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([articles / "a0000.txt"])
    # A shell starts background jobs with SIGINT ignored; the child must have it back.
    terminal = Terminal("index", articles, "--index", index_dir,
                        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert terminal.wait_for("Indexing")  # under way: its progress line is shown
    terminal.process.send_signal(signal.SIGINT)
    assert terminal.finish() == 130
    assert terminal.output.strip().splitlines()[-1].startswith("searchidx: interrupted")
    assert article_count(index_dir) in (1, 2000)


# --- readers and writers -------------------------------------------------------------------

READER = """
import sys, time
from pathlib import Path
from searchidx import SearchIndex
index_dir, stop = sys.argv[1], Path(sys.argv[2])
errors = empty = searches = 0
with SearchIndex.open(index_dir) as idx:
    while not stop.exists():
        try:
            if idx.search("Vũ").total != 3:
                empty += 1
        except Exception as error:
            errors += 1
            print(repr(error), file=sys.stderr)
        searches += 1
print(errors, empty, searches)
"""


def test_eight_searching_processes_see_no_error_and_no_empty_result_during_rebuilds(
        seed_dir, index_dir, tmp_path):
    generate_articles(seed_dir / "more", 300)
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([seed_dir])
        stop = tmp_path / "stop"
        readers = [subprocess.Popen([sys.executable, "-c", READER, str(index_dir), str(stop)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(8)]
        time.sleep(1.0)
        for _ in range(3):
            idx.rebuild([seed_dir])
        stop.touch()
    outcomes = [reader.communicate(timeout=60) for reader in readers]
    counts = [tuple(map(int, out.split())) for out, _ in outcomes]
    assert [(errors, empty) for errors, empty, _ in counts] == [(0, 0)] * 8, outcomes
    assert all(searches > 0 for _, _, searches in counts)


def test_a_second_writer_waits_for_the_first_and_both_finish(tmp_path):
    articles = generate_articles(tmp_path / "articles", 1000)
    index_dir = tmp_path / "index"
    SearchIndex.open(index_dir, create=True).close()
    first = searchidx("index", articles, "--index", index_dir, "--format", "json")
    time.sleep(0.3)
    second = searchidx("index", articles, "--index", index_dir, "--format", "json", "--wait", "120")
    reports = [json.loads(p.communicate(timeout=120)[0]) for p in (first, second)]
    assert sorted(r["added"] for r in reports) == [0, 1000]
    assert article_count(index_dir) == 1000


def test_a_writer_that_cannot_get_the_lock_exits_2_naming_the_index_and_lock(seeded, seed_dir,
                                                                              index_dir):
    with IndexStore(index_dir).writing():
        result = CliRunner().invoke(cli, ["index", str(seed_dir), "--index", str(index_dir),
                                          "--wait", "0.2"])
    assert result.exit_code == 2
    assert result.stderr == (f"searchidx: error: the index at {index_dir} is being written by "
                             f"another process (lock {index_dir / 'write.lock'}); "
                             f"try again later\n")


def test_the_lock_of_a_killed_writer_does_not_block_the_next(seed_dir, index_dir, tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nfrom pathlib import Path\nfrom searchidx.index import IndexStore\n"
        "with IndexStore(Path(sys.argv[1])).writing():\n"
        "    print('locked', flush=True)\n    time.sleep(60)\n"), str(index_dir)],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    holder.kill()
    holder.wait()
    with SearchIndex.open(index_dir, create=True) as idx:
        assert idx.index([seed_dir], wait=1.0).added == 5


# --- bad files -----------------------------------------------------------------------------------

def index_folder(folder: Path, index_dir: Path, **kwargs):
    with SearchIndex.open(index_dir, create=True) as idx:
        report = idx.index([folder], **kwargs)
        return report, idx.stats().articles


def skipped(report) -> dict[str, str]:
    return {Path(s.path).name: s.reason for s in report.skipped}


def test_binary_empty_and_huge_files_are_skipped_and_the_rest_indexed(seed_dir, index_dir):
    (seed_dir / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (seed_dir / "empty.txt").write_bytes(b"")
    with open(seed_dir / "huge.txt", "wb") as huge:
        huge.truncate(50 * 2**20)
    report, articles = index_folder(seed_dir, index_dir)
    assert skipped(report) == {"binary.txt": "binary file, not text", "empty.txt": "empty file",
                               "huge.txt": "too large (50 MiB; the limit is 50 MiB)"}
    assert articles == 5


def test_invalid_utf8_is_read_as_windows_1252_with_a_warning(seed_dir, index_dir):
    (seed_dir / "legacy.txt").write_bytes("Café au lait in Hanoi.".encode("cp1252"))
    report, articles = index_folder(seed_dir, index_dir)
    assert report.warnings == [f"{seed_dir / 'legacy.txt'}: not valid UTF-8; read as Windows-1252"]
    assert articles == 6


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_an_unreadable_file_is_skipped(seed_dir, index_dir):
    locked = seed_dir / "locked.txt"
    locked.write_text("secret", encoding="utf-8")
    locked.chmod(0)
    report, articles = index_folder(seed_dir, index_dir)
    assert skipped(report) == {"locked.txt": "permission denied"} and articles == 5


def test_broken_symlinks_and_symlink_loops_are_skipped_with_their_reason(seed_dir, index_dir):
    (seed_dir / "broken.txt").symlink_to(seed_dir / "nowhere.txt")
    (seed_dir / "loop.txt").symlink_to(seed_dir / "loop.txt")
    report, articles = index_folder(seed_dir, index_dir)
    assert skipped(report) == {"broken.txt": "broken symbolic link", "loop.txt": "symbolic link loop"}
    assert articles == 5


def test_a_file_that_vanishes_during_indexing_is_simply_not_there(seed_dir, index_dir):
    victim = seed_dir / f"{SEED_IDS['004']}.txt"

    def delete_the_last_file(done: int, total: int) -> None:
        if done == 1:
            victim.unlink()

    report, articles = index_folder(seed_dir, index_dir, progress=delete_the_last_file)
    assert report.skipped == [] and (report.added, articles) == (4, 4)


def test_bad_json_lines_are_skipped_by_number_and_good_lines_indexed(tmp_path, index_dir):
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join([
        json.dumps({"id": "a", "body": "Seoul talks resumed."}),
        "{broken",
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "b", "place": "Hanoi"}),
        json.dumps({"id": "c", "body": "Hanoi port expands."}),
    ]), encoding="utf-8")
    report, articles = index_folder(feed, index_dir)
    assert [s.reason for s in report.skipped] == [
        "line 2: not valid JSON (Expecting property name enclosed in double quotes)",
        "line 3: not a JSON object", "line 4: article b: no title or text"]
    assert articles == 2


def test_a_json_line_with_a_lone_surrogate_is_indexed_with_u_fffd_and_a_warning(tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join([
        json.dumps({"id": "a", "body": "Seoul talks resumed."}),
        '{"id": "x", "title": "T9\\ud800", "body": "Harbour \\udc00 talks \\ud83d\\ude00."}',
        json.dumps({"id": "c", "body": "Hanoi port expands."}),
    ]), encoding="utf-8")
    index_dir = tmp_path / "index"
    run = searchidx("index", feed, "--index", index_dir)
    assert run.wait() == 0
    warning = (f"searchidx: warning: {feed} line 2: a \\u escape that is no character "
               f"(a lone surrogate); replaced with U+FFFD")
    assert run.stderr.read().splitlines() == [warning]
    with SearchIndex.open(index_dir) as idx:
        article = idx.article("x")
        assert (article.title, article.body) == ("T9\ufffd", "Harbour \ufffd talks \U0001f600.")
        assert idx.stats().articles == 3


def test_html_that_is_not_well_formed_is_still_indexed(tmp_path, index_dir):
    page = tmp_path / "broken.html"
    page.write_text("<html><body><h1>Port talks<p>Officials met <b>in <i>Haiphong</div>",
                    encoding="utf-8")
    report, articles = index_folder(page, index_dir)
    assert report.skipped == [] and articles == 1


# --- hostile queries --------------------------------------------------------------------------

HOSTILE_QUERIES = ['"unclosed', "(((", ")", "AND", "OR OR", "NOT", "title:", "nosuch:field",
                   "*", "a*", "?", "*:*", "x~9", "x~2/9", "date:[x TO y]", "date:..", "\x00",
                   "\x1b[2J", "\u0301", "😀", "مرحبا بالعالم", "Vũ" * 5000, "word " * 2000,
                   "[", "{", "^", "~", "-", "+", "\\", "'", "''", "date:2024-13-45",
                   "\ud800", "harbour \udc80 talks", "title:\udfff"]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_a_hostile_query_never_raises_and_never_hangs(searcher, query):
    started = time.monotonic()
    results = searcher.search(query)
    assert results.total >= 0 and time.monotonic() - started < 5


# The normal suite runs a bounded number of examples; a longer run sets SEARCHIDX_FUZZ_EXAMPLES.
EXAMPLES = int(os.environ.get("SEARCHIDX_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.text(max_size=200))
def test_generated_queries_raise_nothing_but_query_errors(searcher, query):
    try:
        results = searcher.search(query)
    except QueryError:
        assert not normalize(query).strip()  # only the empty query is an error
        return
    json.dumps(results.to_dict())


@settings(parent=FUZZ, max_examples=max(EXAMPLES // 4, 1))
@given(st.text(min_size=1, max_size=80).filter(lambda q: not q.startswith("-")))
def test_generated_queries_give_the_cli_exit_0_1_or_2_and_well_formed_json(corpus_index, query):
    result = CliRunner().invoke(cli, ["search", query, "--index", str(corpus_index),
                                      "--format", "json"])
    assert result.exit_code in (0, 1, 2), result.output
    if result.exit_code != 2:
        assert set(json.loads(result.stdout)) >= {"query", "total", "hits"}


UNDECODABLE = "\udced\udca0\udc80"  # a command line's bytes b"\xed\xa0\x80", as Python gives them


@pytest.mark.parametrize("command", ["show", "similar"])
def test_an_article_id_no_utf8_holds_is_not_found_in_one_line(corpus_index, command):
    result = CliRunner().invoke(cli, [command, UNDECODABLE, "--index", str(corpus_index)])
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("searchidx: no article with id '\\udced\\udca0\\udc80'")


# --- hostile content ---------------------------------------------------------------------------

XSS_VECTORS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>", "\"><script>alert(1)</script>",
    "'><img src=x onerror=alert(1)>", "<iframe src=javascript:alert(1)>",
    "<body onload=alert(1)>", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<scr<script>ipt>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<mark onclick=alert(1)>x</mark>", "</mark><script>alert(1)</script><mark>",
    "<details open ontoggle=alert(1)>", "<input autofocus onfocus=alert(1)>",
    "<a href=\"&#106;avascript:alert(1)\">x</a>", "<div style=\"background:url(javascript:alert(1))\">",
    "<object data=javascript:alert(1)>", "<embed src=javascript:alert(1)>",
    "<!--<img src=x onerror=alert(1)>-->", "<base href=javascript:alert(1)//>",
    "<form action=javascript:alert(1)><button>x</button></form>", "\u003cscript\u003e",
]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def test_snippet_html_keeps_only_bare_mark_tags_whatever_the_article_says(tmp_path, index_dir):
    folder = tmp_path / "hostile"
    folder.mkdir()
    for number, vector in enumerate(XSS_VECTORS):
        (folder / f"x{number:02d}.txt").write_text(
            f"Harbour news {vector} harbour talks {vector} end of harbour story.", encoding="utf-8")
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([folder])
        hits = idx.search("harbour", limit=100)
    assert len(hits) == len(XSS_VECTORS)
    for hit in hits:
        tags = _Tags()
        tags.feed(hit.snippet_html)
        assert {tag for tag, _ in tags.tags} == {"mark"}, hit.snippet_html
        assert all(attrs == [] for _, attrs in tags.tags), hit.snippet_html


def test_terminal_output_strips_escape_sequences_from_article_text(tmp_path, index_dir):
    folder = tmp_path / "escapes"
    folder.mkdir()
    (folder / "evil.txt").write_text("Harbour \x1b]0;pwned\x07 title\n\nHarbour \x1b[2J\x1b[31m text.",
                                     encoding="utf-8")
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([folder])
    result = CliRunner().invoke(cli, ["search", "harbour", "--index", str(index_dir)])
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout


# --- the integrity check --------------------------------------------------------------------

def test_check_finds_missing_changed_and_unreadable_files(seeded, seed_dir):
    (seed_dir / f"{SEED_IDS['000']}.txt").unlink()
    changed = seed_dir / f"{SEED_IDS['001']}.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + " More.", encoding="utf-8")
    (seed_dir / f"{SEED_IDS['002']}.txt").write_bytes(b"")
    problems = {(p.id, p.problem) for p in seeded.check().problems}
    assert problems == {(SEED_IDS["000"], "missing"), (SEED_IDS["001"], "changed"),
                        (SEED_IDS["002"], "unreadable: empty file")}


def test_check_on_a_sound_index_finds_nothing(seeded):
    report = seeded.check()
    assert report.problems == [] and report.articles == 5


def test_repair_reindexes_what_differs_and_leaves_no_problem(seeded, seed_dir):
    (seed_dir / f"{SEED_IDS['000']}.txt").unlink()
    changed = seed_dir / f"{SEED_IDS['001']}.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + " Zanzibarian.", encoding="utf-8")
    report = seeded.check(repair=True)
    assert report.problems == [] and report.articles == 4
    assert (report.repaired.updated, report.repaired.removed) == (1, 1)
    assert seeded.search("zanzibarian").total == 1


def test_check_cli_exits_1_on_problems_and_0_once_repaired(seeded, seed_dir, index_dir):
    (seed_dir / f"{SEED_IDS['003']}.txt").unlink()
    runner = CliRunner()
    found = runner.invoke(cli, ["check", "--index", str(index_dir), "--format", "json"])
    assert found.exit_code == 1
    assert json.loads(found.stdout)["problems"] == [
        {"id": SEED_IDS["003"], "path": str(seed_dir / f"{SEED_IDS['003']}.txt"),
         "problem": "missing"}]
    fixed = runner.invoke(cli, ["check", "--repair", "--index", str(index_dir)])
    assert fixed.exit_code == 0 and "No problems." in fixed.stdout


def test_locked_index_error_names_the_lock(seeded, seed_dir, index_dir):
    with IndexStore(index_dir).writing(), pytest.raises(IndexLocked, match="write.lock"):
        seeded.rebuild([seed_dir], wait=0.1)
