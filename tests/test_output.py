"""Output a person can act on: what `search` prints (ids, scores that fall with the rank,
nothing that commands the terminal), several words without quotes, a reader that stops
early, a date filter that removes every hit, and the web page's counts and examples."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SEED_IDS
from searchidx import SearchIndex
from searchidx.cli import cli
from searchidx.web import create_app

ESCAPE, BELL = "\x1b", "\x07"
# An OSC sequence that sets the terminal's title, and one that clears the screen.
SET_TITLE, CLEAR_SCREEN = "\x1b]0;pwned\x07", "\x1b[2J"
SCORE = re.compile(r"score (\d+\.\d+)")
MANY = 1_200  # articles in the archive whose counts need a thousands separator


def run(*args: object, color: bool = False):
    return CliRunner().invoke(cli, [str(arg) for arg in args], color=color, env={"NO_COLOR": ""})


@pytest.fixture
def seeds_index(seed_dir: Path, index_dir: Path) -> Path:
    assert run("index", seed_dir, "--index", index_dir).exit_code == 0
    return index_dir


@pytest.fixture(scope="module")
def wire_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of MANY wire reports about harbours and grain: no Vietnamese names."""
    folder = tmp_path_factory.mktemp("wire")
    lines = [json.dumps({"id": f"wire-{number}", "title": f"Harbour report {number}",
                         "date": f"1987-03-{number % 28 + 1:02}",
                         "body": f"Grain shipments through the harbour rose {number} tonnes."})
             for number in range(MANY)]
    (folder / "wire.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with SearchIndex.open(folder / "index", create=True) as idx:
        assert idx.index([folder / "wire.jsonl"]).added == MANY
    return folder / "index"


@pytest.fixture
def hostile_fields(tmp_path: Path) -> Path:
    """An index of one article whose path, place and source hold escape sequences."""
    folder = tmp_path / f"news{SET_TITLE}"
    folder.mkdir()
    article = {"id": "a1", "title": "Harbour talks", "place": f"Hanoi{SET_TITLE}",
               "source": f"VNS{CLEAR_SCREEN}", "date": "2024-05-01",
               "body": f"Harbour talks went on.{BELL}"}
    (folder / "a.jsonl").write_text(json.dumps(article) + "\n", encoding="utf-8")
    assert run("index", folder, "--index", tmp_path / "index").exit_code == 0
    return tmp_path / "index"


# --- nothing in the output commands the terminal -------------------------------------------------

@pytest.mark.parametrize("color", [False, True])
def test_search_text_output_has_no_control_characters_from_path_place_or_source(
        hostile_fields: Path, color: bool):
    result = run("search", "harbour", "--index", hostile_fields, color=color)
    assert result.exit_code == 0
    assert BELL not in result.output and "]0;" not in result.output
    assert "[2J" not in result.output
    if not color:
        assert ESCAPE not in result.output
    assert "Hanoi" in result.stdout and "VNS" in result.stdout


def test_a_skipped_path_is_reported_without_its_control_characters(tmp_path: Path):
    bad = tmp_path / f"bad{SET_TITLE}.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    result = run("index", tmp_path, "--index", tmp_path / "index")
    assert result.exit_code == 1
    assert "skipped" in result.stderr and "bad" in result.stderr
    assert ESCAPE not in result.stderr and BELL not in result.stderr


def test_json_output_keeps_every_character_escaped(hostile_fields: Path):
    result = run("search", "harbour", "--index", hostile_fields, "--format", "json")
    assert ESCAPE not in result.stdout and BELL not in result.stdout
    assert json.loads(result.stdout)["hits"][0]["place"] == f"Hanoi{SET_TITLE}"


# --- ids and scores ---------------------------------------------------------------------------

def test_text_output_shows_each_hits_id(seeds_index: Path):
    result = run("search", "Vũ", "--index", seeds_index)
    shown = re.findall(r"· id (\S+)$", result.stdout, flags=re.MULTILINE)
    assert set(shown) == {SEED_IDS[number] for number in ("000", "001", "004")}


@pytest.mark.parametrize("query", ["Nguyễn Minh Vũ", "Vũ", "Sơn", "Hà Nội", "DPRK"])
def test_scores_fall_with_the_rank_in_text_and_json(seeds_index: Path, query: str):
    text = [float(score) for score in SCORE.findall(run("search", query, "--index",
                                                        seeds_index).stdout)]
    data = json.loads(run("search", query, "--index", seeds_index, "--format", "json").stdout)
    scores = [hit["score"] for hit in data["hits"]]
    assert len(text) == len(scores) >= 1
    assert text == sorted(text, reverse=True)
    assert scores == sorted(scores, reverse=True)


def test_exact_spellings_still_rank_first(seeds_index: Path):
    data = json.loads(run("search", "Nguyễn Minh Vũ", "--index", seeds_index,
                          "--format", "json").stdout)
    assert [hit["id"] for hit in data["hits"]][-1] == SEED_IDS["000"]  # "Nguyen Minh Vu"


# --- how the command is used ------------------------------------------------------------------

def test_several_unquoted_words_are_searched_as_one_query(seeds_index: Path):
    unquoted = run("search", "North", "Korea", "--index", seeds_index, "--format", "json")
    quoted = run("search", "North Korea", "--index", seeds_index, "--format", "json")
    assert unquoted.exit_code == 0
    assert json.loads(unquoted.stdout) == json.loads(quoted.stdout)


def test_a_reader_that_has_gone_ends_the_search_quietly_with_success(seeds_index: Path):
    reading, writing = os.pipe()
    os.close(reading)  # the reader has gone before the first line is written (| head -0)
    try:
        finished = subprocess.run(
            [sys.executable, "-m", "searchidx", "search", "Korea", "--index", str(seeds_index)],
            stdout=writing, stderr=subprocess.PIPE, text=True, timeout=60,
            env={**os.environ, "NO_COLOR": ""})
    finally:
        os.close(writing)
    assert finished.returncode == 0
    assert finished.stderr == ""


def test_a_reader_that_stops_after_the_first_line_ends_the_search_with_success(
        seeds_index: Path):
    with subprocess.Popen(
            [sys.executable, "-m", "searchidx", "search", "Korea", "--index", str(seeds_index)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as search:
        assert search.stdout is not None and search.stderr is not None
        first = search.stdout.readline()
        search.stdout.close()  # | head -1
        errors = search.stderr.read()
    assert "results for “Korea”" in first
    assert search.returncode == 0
    assert errors == ""


# --- a date filter that removes every hit -----------------------------------------------------

def test_the_cli_says_when_the_date_filter_removed_every_hit(seeds_index: Path):
    result = run("search", "DPRK", "--until", "2000-01-01", "--index", seeds_index)
    assert result.exit_code == 1
    assert re.search(r"\d+ articles match “DPRK”, none on or before 2000-01-01", result.stderr)


def test_the_notice_names_both_ends_of_the_dates(wire_index: Path):
    with SearchIndex.open(wire_index) as idx:
        results = idx.search("harbour", since=dt.date(1990, 1, 1), until=dt.date(1990, 12, 31))
    assert results.total == 0
    assert results.notice == (f"{MANY:,} articles match “harbour”, none between 1990-01-01 "
                              f"and 1990-12-31")


def test_the_page_says_when_the_date_filter_removed_every_hit(wire_index: Path):
    with SearchIndex.open(wire_index) as idx:
        page = create_app(idx).test_client().get("/?q=harbour&since=1990-01-01").text
    assert f"{MANY:,} articles match “harbour”, none on or after 1990-01-01" in page
    assert "Try fewer words" not in page


# --- the web page -------------------------------------------------------------------------------

def test_the_page_writes_counts_with_thousands_separators(wire_index: Path):
    with SearchIndex.open(wire_index) as idx:
        client = create_app(idx).test_client()
        welcome, results = client.get("/").text, client.get("/?q=harbour").text
    assert f"Search {MANY:,} news articles" in welcome
    assert f"{MANY:,} results for" in results


@pytest.mark.parametrize("fixture", ["wire_index", "seeds_index"])
def test_the_pages_example_queries_find_articles_in_the_index_it_serves(request, fixture):
    with SearchIndex.open(request.getfixturevalue(fixture)) as idx:
        client = create_app(idx).test_client()
        welcome = client.get("/").text
        examples = re.findall(r'<a href="(/\?q=[^"]+)"', welcome)
        assert len(examples) == 2
        for link in examples:
            found = client.get(link.replace("&amp;", "&")).text
            assert re.search(r"[1-9][\d,]* results? for", found)
