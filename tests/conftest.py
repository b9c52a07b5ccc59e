"""Shared fixtures: real seed files, real Whoosh indexes in temporary folders."""

from __future__ import annotations

import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# `python -m pytest` puts the checkout first on sys.path, where `searchidx/` would shadow
# the installed package: the suite tests what pip installed (an editable install maps
# back to the checkout on purpose).
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != REPO]

from searchidx import SearchIndex, bundled_seeds  # noqa: E402

# What the suite clears from the environment it was started in, and what it sets.
CLEARED_ENVIRONMENT = ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "SEARCHIDX_INDEX",
                       "SEARCHIDX_ALIASES", "SEARCHIDX_DEBUG", "XDG_DATA_HOME", "LANGUAGE")
# SEARCHIDX_PURE_PYTHON is kept on purpose: set, the suite runs on the Python functions.
SET_ENVIRONMENT = {"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "COLUMNS": "100"}
SEED_IDS = {
    "000": "000_a552e453a3fa40fb",
    "001": "001_e1d5feda7fea809b",
    "002": "002_aecd282c698b8fde",
    "003": "003_1144a55e3dc39279",
    "004": "004_8262931bf64026ae",
}

NFD_ARTICLE = unicodedata.normalize("NFD", (
    "Nguyễn Văn An visits Đà Nẵng\n\n"
    "ĐÀ NẴNG — Nguyễn Văn An, a trade official, toured the port of Đà Nẵng on Tuesday "
    "and met fishermen about the new harbour rules. — VNS\n"))

FARM_SON = """ date 2024-06-01 Farmer's son wins science prize

A farmer's son from Iowa won a national science prize on Monday. The son, aged 15, built a
weather station in the barn. His father said the son had always loved science.
"""

JOINED_PLACES = """ date 2023-05-10 Danang and Haiphong ports expand

Container traffic grew at the ports of Danang and Haiphong, while Saigon's river terminals
moved inland. Officials in Hanoi welcomed the figures.
"""

HOSTILE_HTML = """<!doctype html>
<html><head><title>Site | Hostile page</title>
<style>.secretstyle { color: red }</style>
<script>var secretscript = "stolen";</script></head>
<body><nav>Home | World | secretnav</nav>
<h1>Harbour talks &amp; trade</h1>
<p>Officials discussed harbour fees. <img src="x" onerror="secretonerror()">
<a href="javascript:secretjs()">read more</a> The tag &lt;b&gt; is shown as text.</p>
<script>document.write("secretwrite")</script>
</body></html>
"""


@pytest.fixture(scope="session", autouse=True)
def hermetic_environment(tmp_path_factory: pytest.TempPathFactory):
    """The suite runs the same whatever the shell holds (``NO_COLOR=1``, a user's
    ``SEARCHIDX_INDEX``, another locale); subprocesses inherit this environment."""
    with pytest.MonkeyPatch.context() as patch:
        for name in CLEARED_ENVIRONMENT:
            patch.delenv(name, raising=False)
        for name, value in SET_ENVIRONMENT.items():
            patch.setenv(name, value)
        patch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        yield


@pytest.fixture(autouse=True)
def own_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test has a home folder of its own, so no default index outlives a test."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))


def seed_source() -> Path:
    """The seed articles shipped with the package."""
    return bundled_seeds()


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    """A private, writable copy of the five seed articles."""
    target = tmp_path / "articles"
    shutil.copytree(seed_source(), target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def seeded(seed_dir: Path, index_dir: Path):
    """An index of the seeds that a test may change."""
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([seed_dir])
        yield idx


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds plus test articles: NFD text about Đà Nẵng, a hostile HTML page, an
    English article about a farmer's son, and one that writes places joined (Danang)."""
    folder = tmp_path_factory.mktemp("corpus") / "articles"
    shutil.copytree(seed_source(), folder)
    for name, text in (("nfd_danang.txt", NFD_ARTICLE), ("hostile.html", HOSTILE_HTML),
                       ("farm_son.txt", FARM_SON), ("joined_places.txt", JOINED_PLACES)):
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def corpus_index(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-only index of :func:`corpus`, shared by the search tests."""
    location = tmp_path_factory.mktemp("corpus-index") / "index"
    with SearchIndex.open(location, create=True) as idx:
        report = idx.index([corpus])
    assert report.added == 9 and not report.skipped
    return location


@pytest.fixture
def searcher(corpus_index: Path):
    with SearchIndex.open(corpus_index) as idx:
        yield idx


def modules_a_search_loads(index: Path | None, *options: str) -> set[str]:
    """The modules a ``searchidx search`` (with ``options``) in a fresh process has loaded
    when it exits."""
    return set(after_a_search(index, "' '.join(sys.modules)", *options).split())


def after_a_search(index: Path | None, expression: str, *options: str, setup: str = "") -> str:
    """``expression`` (Python, with ``sys`` imported) printed as a ``searchidx search``
    (with ``options``; of the default index if ``index`` is None) in a fresh process
    exits; ``setup`` runs first."""
    index_option = ["--index", str(index)] if index else []
    probe = ("import atexit, sys\n"
             f"{setup}\n"
             f"atexit.register(lambda: print({expression}, file=sys.stderr))\n"
             "from searchidx.cli import main\n"
             f"sys.argv = ['searchidx', 'search', 'Vu', *{index_option!r}, "
             f"*{list(options)!r}]\n"
             "main()\n")
    finished = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                              timeout=60)
    assert finished.returncode == 0, finished.stderr
    return finished.stderr.strip().splitlines()[-1]


def ids(results) -> list[str]:
    """The seed numbers ("001") or ids of a result list, in rank order."""
    short = {full: number for number, full in SEED_IDS.items()}
    return [short.get(hit.id, hit.id) for hit in results]


def load_script(name: str):
    """``scripts/<name>.py`` imported as a module, leaving sys.path as it was (a script puts
    the checkout first on it; the suite tests the installed package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "path", list(sys.path))
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def opensearch_cluster(tmp_path_factory: pytest.TempPathFactory):
    """A real OpenSearch cluster: ``$SEARCHIDX_TEST_OPENSEARCH``'s, else 3 nodes the suite
    starts on free ports and stops at the end, even after a failure (tests/opensearch_cluster.py)."""
    import os

    from opensearch_cluster import (FOLDER_VARIABLE, URL_VARIABLE, Cluster, start_cluster,
                                    stop_cluster)

    if os.environ.get(URL_VARIABLE):
        folder = os.environ.get(FOLDER_VARIABLE)
        yield Cluster(os.environ[URL_VARIABLE], Path(folder) if folder else None)
        return
    folder = tmp_path_factory.mktemp("opensearch-cluster")
    try:
        yield start_cluster(folder)
    finally:
        stop_cluster(folder)
