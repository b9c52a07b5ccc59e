"""The command line: output, JSON contracts, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SEED_IDS, after_a_search, modules_a_search_loads
from searchidx.cli import cli

ANSI = "\x1b["


def run(*args: str, env: dict[str, str] | None = None, color: bool = False):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, color=color)


def run_json(*args: str):
    result = run(*args, "--format", "json")
    return result, json.loads(result.stdout)


@pytest.fixture
def cli_index(seed_dir, index_dir) -> Path:
    assert run("index", seed_dir, "--index", index_dir).exit_code == 0
    return index_dir


def test_index_reports_counts_as_json_and_exits_0(seed_dir, index_dir):
    result, report = run_json("index", seed_dir, "--index", index_dir)
    assert result.exit_code == 0
    assert report == {"added": 5, "updated": 0, "removed": 0, "unchanged": 0, "skipped": [],
                      "warnings": [], "unreadable_dates": []}


def test_index_again_reports_five_unchanged_in_text(cli_index, seed_dir):
    result = run("index", seed_dir, "--index", cli_index)
    assert result.stdout.startswith("0 added, 0 updated, 0 removed, 5 unchanged, 0 skipped")


def test_index_skips_bad_files_with_one_line_each_and_exits_1(seed_dir, index_dir):
    (seed_dir / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (seed_dir / "empty.txt").write_bytes(b"")
    result, report = run_json("index", seed_dir, seed_dir / "missing.txt", "--index", index_dir)
    assert result.exit_code == 1 and report["added"] == 5
    assert sorted(s["reason"] for s in report["skipped"]) == [
        "binary file, not text", "empty file", "no such file or folder"]
    lines = result.stderr.splitlines()
    assert len(lines) == 3 and all(line.startswith("searchidx: skipped ") for line in lines)
    assert "Traceback" not in result.output


def test_rebuild_gives_the_same_report(cli_index, seed_dir):
    result, report = run_json("rebuild", seed_dir, "--index", cli_index)
    assert result.exit_code == 0
    assert report == {"added": 0, "updated": 0, "removed": 0, "unchanged": 5, "skipped": [],
                      "warnings": [], "unreadable_dates": []}


def test_search_prints_rank_title_date_path_and_snippet(cli_index):
    result = run("search", "Pyongyang", "--index", cli_index)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "1 result for “Pyongyang”"
    assert lines[2] == " 1. Hanoi advances dialogue-based peace on Korean Peninsula: FM says in Pyongyang"
    assert lines[3].startswith("    2019-02-14")
    assert lines[4].strip().endswith(f"{SEED_IDS['003']}.txt")
    assert "Pyongyang" in lines[5]


def test_search_json_follows_the_contract(cli_index):
    result, data = run_json("search", "Vũ", "--index", cli_index)
    assert result.exit_code == 0
    assert data["query"] == "Vũ" and data["total"] == 3
    assert {hit["id"] for hit in data["hits"]} == {SEED_IDS[n] for n in ("000", "001", "004")}
    hit = next(h for h in data["hits"] if h["id"] == SEED_IDS["001"])
    assert "<mark>Vũ</mark>" in hit["snippet_html"] and hit["date"] == "2025-10-12"


def test_search_without_hits_exits_1(cli_index):
    result, data = run_json("search", "zanzibarian", "--index", cli_index)
    assert result.exit_code == 1 and data["total"] == 0 and data["hits"] == []


def test_search_options_filter_and_sort(cli_index):
    _, since = run_json("search", "DPRK", "--since", "2025-01-01", "--index", cli_index)
    assert [hit["id"] for hit in since["hits"]] == [SEED_IDS["001"]]
    _, by_date = run_json("search", "DPRK", "--sort", "date", "--limit", "2", "--index", cli_index)
    assert [hit["date"] for hit in by_date["hits"]] == ["2025-10-12", "2024-10-26"]


def test_a_malformed_query_is_searched_with_a_notice_on_stderr(cli_index):
    result = run("search", '"Pyongyang', "--index", cli_index)
    assert result.exit_code == 0
    assert result.stderr.startswith("searchidx: could not read the query")


@pytest.mark.parametrize("args, message", [
    (["search", ""], "searchidx: error: empty query"),
    (["search", "Vu", "--since", "2024-13-01"], "Invalid value for '--since'"),
    (["search", "Vu", "--limit", "0"], "Invalid value for '--limit'"),
])
def test_usage_errors_exit_2_with_a_message(cli_index, args, message):
    result = run(*args, "--index", cli_index)
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.output


def test_search_on_a_folder_without_an_index_exits_2_with_one_line(tmp_path):
    result = run("search", "Vu", "--index", tmp_path / "nothing")
    assert result.exit_code == 2
    assert result.stderr == f"searchidx: error: no index at {tmp_path / 'nothing'} (create one " \
                            f"with `searchidx index PATH --index {tmp_path / 'nothing'}`)\n"


def test_colour_marks_matches_on_a_terminal_and_no_color_turns_it_off(cli_index):
    coloured = run("search", "Vũ", "--index", cli_index, color=True)
    assert ANSI in coloured.stdout
    plain = run("search", "Vũ", "--index", cli_index, color=True, env={"NO_COLOR": "1"})
    assert ANSI not in plain.stdout and "Vũ" in plain.stdout


def test_output_is_plain_when_piped(cli_index):
    assert ANSI not in run("search", "Vũ", "--index", cli_index).stdout


def test_show_prints_one_article(cli_index):
    result = run("show", SEED_IDS["002"], "--index", cli_index)
    assert result.exit_code == 0
    assert "Date:   2024-03-25" in result.stdout and "Place:  HÀ NỘI" in result.stdout
    assert "Source: VNS" in result.stdout and "Lê Hoài Trung" in result.stdout


def test_show_json_has_every_field(cli_index):
    _, article = run_json("show", SEED_IDS["003"], "--index", cli_index)
    assert set(article) == {"id", "path", "title", "date", "place", "source", "url", "body"}
    assert article["date"] == "2019-02-14"


def test_show_an_unknown_id_exits_1(cli_index):
    result = run("show", "no-such-id", "--index", cli_index)
    assert result.exit_code == 1 and "no article with id 'no-such-id'" in result.stderr


def test_stats_json_has_the_contract_keys(cli_index):
    result, stats = run_json("stats", "--index", cli_index)
    assert result.exit_code == 0
    assert set(stats) == {"index", "articles", "size_bytes", "updated", "analysis_version",
                          "rebuild_needed"}
    assert (stats["index"], stats["articles"]) == (str(cli_index), 5)


def test_the_default_index_is_built_from_the_bundled_seeds_on_first_use(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "SEARCHIDX_INDEX": ""}
    first = run("search", "Vu", env=env)
    assert first.exit_code == 0
    assert "building the default index from the bundled seed articles" in first.stderr
    assert str(tmp_path / "data") in first.stderr
    again = run("search", "Vu", env=env)
    assert again.exit_code == 0 and again.stderr == ""


def test_the_environment_variable_names_the_index(cli_index):
    result = run("stats", "--format", "json", env={"SEARCHIDX_INDEX": str(cli_index)})
    assert json.loads(result.stdout)["index"] == str(cli_index)


def installed_command() -> str:
    command = Path(sys.executable).with_name("searchidx")
    return str(command) if command.exists() else (shutil.which("searchidx") or "searchidx")


def test_the_installed_command_searches_the_seeds(cli_index):
    completed = subprocess.run(
        [installed_command(), "search", "Vũ", "--index", str(cli_index), "--format", "json"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"})
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["total"] == 3


def test_python_dash_m_runs_the_same_command(cli_index):
    completed = subprocess.run(
        [sys.executable, "-m", "searchidx", "search", "zanzibarian", "--index", str(cli_index)],
        capture_output=True, text=True, timeout=60)
    assert completed.returncode == 1 and "0 results" in completed.stdout


def test_similar_prints_related_articles_as_search_json(cli_index):
    result, data = run_json("similar", SEED_IDS["002"], "--index", cli_index)
    assert result.exit_code == 0 and data["query"] == SEED_IDS["002"]
    assert data["hits"] and SEED_IDS["002"] not in [hit["id"] for hit in data["hits"]]


def test_similar_to_an_unknown_id_exits_1_with_one_line(cli_index):
    result = run("similar", "nope", "--index", cli_index)
    assert result.exit_code == 1 and result.stderr == "searchidx: no article with id 'nope'\n"


def test_no_aliases_searches_only_the_words_typed(cli_index):
    _, expanded = run_json("search", "DPRK", "--index", cli_index)
    _, plain = run_json("search", "DPRK", "--no-aliases", "--index", cli_index)
    assert SEED_IDS["003"] in [h["id"] for h in expanded["hits"]]
    assert SEED_IDS["003"] not in [h["id"] for h in plain["hits"]]


def test_an_aliases_file_adds_groups(cli_index, tmp_path):
    extra = tmp_path / "aliases.txt"
    extra.write_text("zanzibarian, Pyongyang\n", encoding="utf-8")
    result, data = run_json("search", "zanzibarian", "--aliases", extra, "--index", cli_index)
    assert result.exit_code == 0 and data["hits"][0]["id"] == SEED_IDS["003"]


def test_a_malformed_aliases_file_is_a_one_line_error(cli_index, tmp_path):
    extra = tmp_path / "aliases.txt"
    extra.write_text("lonely\n", encoding="utf-8")
    result = run("search", "Vu", "--aliases", extra, "--index", cli_index)
    assert result.exit_code == 2
    assert result.stderr == (f"searchidx: error: {extra}, line 1: an alias group needs at least "
                             "two terms separated by commas\n")


def test_a_correction_is_announced_and_carried_in_json(cli_index):
    result, data = run_json("search", "Nguyn Minh Vu", "--index", cli_index)
    assert result.exit_code == 0 and data["suggestion"] == "Nguyễn Minh Vu"
    assert "Showing results for “Nguyễn Minh Vu”" in result.stderr


def test_the_search_command_does_not_load_the_indexer(cli_index):
    assert "searchidx.indexer" not in modules_a_search_loads(cli_index)


def test_a_search_of_the_default_index_once_built_does_not_load_the_indexer():
    assert run("search", "Vu").exit_code == 0  # (builds it from the bundled seeds)
    assert "searchidx.indexer" not in modules_a_search_loads(None)


def test_the_search_command_does_not_run_whoosh_english_variation_rules(cli_index):
    """whoosh.query imports them (4 ms of a cold search) for a query searchidx never makes."""
    rules_run = "'rules' in vars(sys.modules['whoosh.lang.morph_en'])"
    assert after_a_search(cli_index, rules_run) == "False"


def test_whoosh_english_variations_still_answer_once_deferred():
    from whoosh.lang.morph_en import variations
    from whoosh.query import Variations

    assert {"ships", "shipment"} <= set(variations("ship"))
    assert Variations("body", "ship").text == "ship"


def test_the_search_command_does_not_load_whoosh_hash_tables_nor_openssl(cli_index):
    """whoosh3 imports them (hashlib loads OpenSSL: ~3 % of a cold search) for the term
    dictionary that searchidx's replaces."""
    assert {"hashlib", "_hashlib"}.isdisjoint(modules_a_search_loads(cli_index))


def test_whoosh_hash_tables_still_answer_once_deferred(tmp_path):
    from whoosh.filedb.filestore import FileStorage
    from whoosh.filedb.filetables import HashReader, HashWriter

    storage = FileStorage(str(tmp_path))
    writer = HashWriter(storage.create_file("table.hsh"))
    writer.add(b"key", b"value")
    writer.close()
    assert HashReader.open(storage, "table.hsh")[b"key"] == b"value"


def test_deferred_whoosh_modules_are_reached_through_their_packages_as_imported_ones_are():
    program = ("import searchidx.engine.whoosh_adapter, whoosh.filedb, whoosh.lang\n"
               "print(whoosh.filedb.filetables.HashWriter.__name__, "
               "bool(whoosh.lang.morph_en.variations('rendering')))")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          check=False)
    assert (done.returncode, done.stdout.split()) == (0, ["HashWriter", "True"]), done.stderr


def test_the_search_command_does_not_stop_to_collect_garbage_once_it_imports_click(cli_index):
    """What it makes lives until it exits: collections (~5 ms) would free next to nothing."""
    count_collections = ("import gc\ncollections = []\ngc.callbacks.append(lambda phase, info: "
                         "collections.append(info) if phase == 'start' and 'click' in "
                         "sys.modules else None)")
    assert after_a_search(cli_index, "len(collections)", setup=count_collections) == "0"
    assert after_a_search(cli_index, "len(collections)", "--format", "json",
                          setup=count_collections) == "0"
