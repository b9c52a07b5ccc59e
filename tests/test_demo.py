"""The demo seeds never mix with a user's own archive: the per-user default index starts as
a demo of the bundled seeds, and they leave it when the user first indexes their own files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from searchidx import SearchIndex, bundled_seeds
from searchidx.cli import cli

OWN_ARTICLE = "Harbour talks in Hanoi\n\nThe harbour of Hanoi reopened to container ships.\n"


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """A newcomer's environment: an empty home, no index or data folder configured."""
    return {"HOME": str(tmp_path / "home"), "XDG_DATA_HOME": "", "SEARCHIDX_INDEX": "",
            "SEARCHIDX_ALIASES": "", "NO_COLOR": "1"}


@pytest.fixture
def own_files(tmp_path: Path) -> Path:
    folder = tmp_path / "my-articles"
    folder.mkdir()
    (folder / "hanoi-harbour.txt").write_text(OWN_ARTICLE, encoding="utf-8")
    return folder


def run(env: dict[str, str], *args: object) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args], env=env)


def test_the_first_index_of_your_own_files_takes_the_demo_seeds_out_of_the_default_index(
        home, own_files):
    assert run(home, "search", "Vu").exit_code == 0  # the quick start: the seeds' demo index
    indexed = run(home, "index", own_files)
    assert indexed.exit_code == 0
    assert "1 added, 0 updated, 5 removed" in indexed.stdout
    [notice] = indexed.stderr.splitlines()
    assert "5 demo articles" in notice and "your own articles" in notice
    assert run(home, "search", "Vu").exit_code == 1
    assert "1 result" in run(home, "search", "harbour").stdout


def test_your_next_files_are_added_beside_your_first_ones_without_a_notice(home, own_files):
    run(home, "search", "Vu")
    run(home, "index", own_files)
    (own_files / "more.txt").write_text("More harbour news\n\nThe harbour grew.\n")
    again = run(home, "index", own_files)
    assert again.exit_code == 0 and again.stderr == ""
    assert "1 added, 0 updated, 0 removed, 1 unchanged" in again.stdout


def test_indexing_your_own_files_first_never_builds_the_demo(home, own_files):
    indexed = run(home, "index", own_files)
    assert indexed.exit_code == 0 and indexed.stderr == ""
    assert "1 added, 0 updated, 0 removed" in indexed.stdout


def test_an_index_of_your_choosing_keeps_the_seeds_you_put_in_it(home, own_files, index_dir):
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([bundled_seeds()])
        report = idx.index([own_files])
        assert (report.added, report.removed, report.warnings) == (1, 0, [])
        assert idx.stats().articles == 6
