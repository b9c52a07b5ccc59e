"""Every command on an index on the real OpenSearch cluster (``--index opensearch://…``):
the seed contract holds as locally, the JSON has the same keys, and the URL is chosen by
``--index``, ``$SEARCHIDX_INDEX`` or ``SearchIndex.open``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid

import pytest
from click.testing import CliRunner
from conftest import SEED_IDS, seed_source
from opensearch_cluster import dropped_afterwards, index_url

from searchidx import SearchIndex
from searchidx.cli import cli


dropped = dropped_afterwards("cli-")


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def run_json(*args: str):
    result = run(*args, "--format", "json")
    return result, json.loads(result.stdout) if result.stdout.strip() else None


def fresh_url(cluster, prefix: str) -> str:
    return index_url(cluster, f"{prefix}-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module")
def cluster_seeds(opensearch_cluster) -> str:
    """The seeds indexed on the cluster through the CLI (3 shards, 1 replica)."""
    url = fresh_url(opensearch_cluster, "cli-seeds")
    result = run("index", seed_source(), "--index", url, "--shards", "3", "--replicas", "1")
    assert result.exit_code == 0, result.output
    return url


@pytest.fixture(scope="module")
def local_seeds(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("local-seeds") / "index"
    assert run("index", seed_source(), "--index", folder).exit_code == 0
    return str(folder)


def hit_ids(data) -> list[str]:
    short = {full: number for number, full in SEED_IDS.items()}
    return [short[hit["id"]] for hit in data["hits"]]


def test_vu_finds_the_three_articles_and_marks_the_accented_spelling(cluster_seeds):
    result, data = run_json("search", "Vu", "--index", cluster_seeds)
    assert result.exit_code == 0 and data["total"] == 3
    assert sorted(hit_ids(data)) == ["000", "001", "004"]
    hit = next(h for h in data["hits"] if h["id"] == SEED_IDS["001"])
    assert "<mark>Vũ</mark>" in hit["snippet_html"]


@pytest.mark.parametrize("query", ["Ha Noi", "Hà Nội", "Hanoi", "ha noi"])
def test_every_way_of_writing_ha_noi_finds_the_same_articles_as_locally(
        cluster_seeds, local_seeds, query):
    _, remote = run_json("search", query, "--index", cluster_seeds)
    _, local = run_json("search", query, "--index", local_seeds)
    assert remote["total"] == local["total"] > 0
    assert set(hit_ids(remote)) == set(hit_ids(local))


def test_dprk_since_2025_finds_001(cluster_seeds):
    _, data = run_json("search", "DPRK", "--since", "2025-01-01", "--index", cluster_seeds)
    assert hit_ids(data) == ["001"]


def test_sort_by_date_puts_the_newest_first(cluster_seeds):
    _, data = run_json("search", "DPRK", "--sort", "date", "--limit", "2",
                       "--index", cluster_seeds)
    assert [hit["date"] for hit in data["hits"]] == ["2025-10-12", "2024-10-26"]


def test_an_accented_query_ranks_the_exact_spelling_first(cluster_seeds, local_seeds):
    _, remote = run_json("search", "Vũ", "--index", cluster_seeds)
    _, local = run_json("search", "Vũ", "--index", local_seeds)
    first = remote["hits"][0]
    assert "Vũ" in first["title"] + first["snippet"]
    assert hit_ids(remote)[0] == hit_ids(local)[0]


def test_search_json_has_the_same_keys_as_locally(cluster_seeds, local_seeds):
    _, remote = run_json("search", "Vu", "--index", cluster_seeds)
    _, local = run_json("search", "Vu", "--index", local_seeds)
    assert remote.keys() == local.keys()
    assert [hit.keys() for hit in remote["hits"]] == [hit.keys() for hit in local["hits"]]


def test_show_stats_and_similar_answer_as_locally(cluster_seeds, local_seeds):
    for command in (("show", SEED_IDS["001"]), ("stats",), ("similar", SEED_IDS["001"])):
        remote, remote_data = run_json(*command, "--index", cluster_seeds)
        local, local_data = run_json(*command, "--index", local_seeds)
        assert remote.exit_code == local.exit_code == 0, remote.output
        assert remote_data.keys() == local_data.keys()
    _, stats = run_json("stats", "--index", cluster_seeds)
    assert stats["articles"] == 5 and stats["index"] == cluster_seeds
    _, show = run_json("show", SEED_IDS["001"], "--index", cluster_seeds)
    _, shown_locally = run_json("show", SEED_IDS["001"], "--index", local_seeds)
    assert show["body"] == shown_locally["body"]


def test_index_again_changes_nothing_and_a_changed_file_is_updated(opensearch_cluster, seed_dir):
    url = fresh_url(opensearch_cluster, "cli-update")
    assert run("index", seed_dir, "--index", url).exit_code == 0
    _, again = run_json("index", seed_dir, "--index", url)
    assert again["added"] == again["updated"] == 0 and again["unchanged"] == 5
    path = seed_dir / f"{SEED_IDS['002']}.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nZanzibarian footnote.\n",
                    encoding="utf-8")
    (seed_dir / f"{SEED_IDS['003']}.txt").unlink()
    _, changed = run_json("index", seed_dir, "--index", url)
    assert (changed["updated"], changed["removed"]) == (1, 1)
    _, found = run_json("search", "zanzibarian", "--index", url)
    assert hit_ids(found) == ["002"]
    _, stats = run_json("stats", "--index", url)
    assert stats["articles"] == 4


def test_check_compares_the_articles_with_their_files_and_the_mapping_version(
        opensearch_cluster, seed_dir):
    url = fresh_url(opensearch_cluster, "cli-check")
    assert run("index", seed_dir, "--index", url).exit_code == 0
    result, sound = run_json("check", "--index", url)
    assert result.exit_code == 0 and sound["articles"] == 5 and not sound["problems"]
    path = seed_dir / f"{SEED_IDS['002']}.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nA late line.\n", encoding="utf-8")
    result, changed = run_json("check", "--index", url)
    assert result.exit_code == 1
    assert [(p["id"], p["problem"]) for p in changed["problems"]] == [(SEED_IDS["002"], "changed")]
    with SearchIndex.open(url) as idx:
        client = idx._store.index.client
        client.indices.put_mapping(index=url.rsplit("/", 1)[1],
                                   body={"_meta": {"searchidx_mapping_version": 0}})
    result, damaged = run_json("check", "--index", url)
    assert result.exit_code == 1 and "mapping of version 0" in damaged["damaged"][0]["problem"]


def test_rebuild_swaps_in_a_new_index_under_the_same_url(opensearch_cluster, seed_dir):
    url = fresh_url(opensearch_cluster, "cli-rebuild")
    assert run("index", seed_dir, "--index", url).exit_code == 0
    with SearchIndex.open(url) as idx:
        before = idx._store.live_generation()
    (seed_dir / f"{SEED_IDS['004']}.txt").unlink()
    result, report = run_json("rebuild", seed_dir, "--index", url)
    assert result.exit_code == 0 and (report["unchanged"], report["removed"]) == (4, 1)
    with SearchIndex.open(url) as idx:
        assert idx._store.live_generation() != before and idx.stats().articles == 4
        assert not idx._store.index.client.indices.exists(index=before)


def test_rebuild_keeps_the_shards_and_replicas_the_index_was_made_with(opensearch_cluster,
                                                                      seed_dir):
    url = fresh_url(opensearch_cluster, "cli-layout")
    assert run("index", seed_dir, "--index", url, "--shards", "2", "--replicas", "0").exit_code == 0
    assert run("rebuild", seed_dir, "--index", url).exit_code == 0
    with SearchIndex.open(url) as idx:
        index = idx._store.index
        assert index.layout(index.live()) == (2, 0)
        assert run("rebuild", seed_dir, "--index", url, "--replicas", "1").exit_code == 0
        assert index.layout(index.live()) == (2, 1)


def test_serve_answers_from_the_cluster(cluster_seeds):
    from test_web import get_json, serving

    with serving(cluster_seeds) as (address, _):
        data = get_json(f"{address}/api/search?q=Vu")
        assert sorted(hit_ids(data)) == ["000", "001", "004"]
        assert get_json(f"{address}/healthz")["articles"] == 5


def test_searchidx_index_and_the_library_open_the_url(cluster_seeds, monkeypatch):
    monkeypatch.setenv("SEARCHIDX_INDEX", cluster_seeds)
    result, data = run_json("search", "Pyongyang")
    assert result.exit_code == 0 and hit_ids(data) == ["003"]
    with SearchIndex.open(cluster_seeds) as idx:
        assert [hit.id for hit in idx.search("Pyongyang")] == [SEED_IDS["003"]]


def test_shards_are_refused_for_an_index_folder(tmp_path):
    result = run("index", seed_source(), "--index", tmp_path / "index", "--shards", "2")
    assert result.exit_code == 2
    assert "for an OpenSearch index" in result.output and "Traceback" not in result.output


def test_a_missing_index_on_the_cluster_is_one_line(opensearch_cluster):
    result = run("search", "Vu", "--index", fresh_url(opensearch_cluster, "missing"))
    assert result.exit_code == 2 and "no index at opensearch://" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_cluster_that_does_not_answer_is_one_line_without_the_password():
    result = run("search", "Vu", "--index", "opensearch://someone:s3cret-pass@127.0.0.1:1/news")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "s3cret-pass" not in result.output and "opensearch://127.0.0.1:1/news" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_credentials_from_the_environment_are_sent_and_never_shown(cluster_seeds, monkeypatch):
    """The test cluster has no security plugin: it accepts any credentials, and the
    commands must still never print them, even in the index's location."""
    monkeypatch.setenv("SEARCHIDX_OPENSEARCH_USER", "reader")
    monkeypatch.setenv("SEARCHIDX_OPENSEARCH_PASSWORD", "env-s3cret")
    result, stats = run_json("stats", "--index", cluster_seeds)
    assert result.exit_code == 0 and stats["articles"] == 5
    down = run("search", "Vu", "--index", "opensearch://127.0.0.1:1/news")
    assert down.exit_code == 2
    assert "env-s3cret" not in result.output + down.output and "reader" not in down.output


def test_tls_is_not_given_up_for_a_server_that_speaks_plain_http(opensearch_cluster):
    url = index_url(opensearch_cluster, "cli-seeds").replace("opensearch://", "opensearchs://")
    result = run("search", "Vu", "--index", url)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_without_opensearch_py_a_url_says_what_to_install(tmp_path):
    """A real interpreter in which opensearch-py cannot be imported (its import is blocked
    by a meta path finder before searchidx is loaded)."""
    blocker = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "opensearchpy" or name.startswith("opensearchpy."):
                    raise ImportError("blocked")
        sys.meta_path.insert(0, Block())
        from searchidx.cli import main
        sys.argv = ["searchidx", "search", "Vu", "--index", "opensearch://127.0.0.1:9/news"]
        main()
    """)
    finished = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True,
                              timeout=60, env={**os.environ, "HOME": str(tmp_path)})
    assert finished.returncode == 2
    assert finished.stderr.strip().splitlines() == [
        "searchidx: error: opensearch://127.0.0.1:9/news is an OpenSearch index, and "
        "opensearch-py is not installed: pip install 'searchidx[opensearch]'"]
