"""The compiled speedups (``searchidx.engine.speedups``) change nothing an index holds: a
build with them and one with the Python functions alone (``SEARCHIDX_PURE_PYTHON``) give
the same index, read through the engine."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from searchidx.engine import speedups
from searchidx.index import IndexStore

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest's own reader of TOML there
    import tomli as tomllib

SAMPLE = Path(__file__).resolve().parent / "articles"  # text, Markdown, HTML and JSONL
PROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def _declared_modules() -> list[str]:
    """The compiled modules' short names ("postings" of searchidx.engine._c_postings), as
    pyproject.toml declares them."""
    with PROJECT.open("rb") as project:
        tables = tomllib.load(project)["tool"]["setuptools"]["ext-modules"]
    prefix = f"{speedups.__package__}._c_"
    names = [table["name"] for table in tables]
    assert names and all(name.startswith(prefix) for name in names)
    return [name[len(prefix):] for name in names]


def _built(location: Path, pure_python: bool) -> Path:
    """An index of the sample built by the installed command, with the compiled speedups
    or without them."""
    environment = {**os.environ, speedups.PURE_PYTHON_VARIABLE: "1" if pure_python else ""}
    done = subprocess.run([sys.executable, "-m", "searchidx", "index", "--index", str(location),
                           str(SAMPLE)], capture_output=True, text=True, timeout=300,
                          env=environment)
    assert done.returncode == 0, done.stderr
    return location


def _held(location: Path) -> dict:
    """Everything the index holds that indexing makes: every field's terms with their
    postings (documents, weights, values), every document's field lengths and stored
    fields."""
    with IndexStore(location).open().reader() as reader:
        fields = sorted(reader.schema.scorable_names())
        return {
            "postings": [(fieldname, text, doc, repr(weight), value)
                         for fieldname, text, doc, weight, value in reader.iter_postings()],
            "lengths": [[reader.doc_field_length(doc, fieldname) for fieldname in fields]
                        for doc in reader.all_doc_ids()],
            "stored": list(reader.all_stored_fields()),
        }


@pytest.fixture(scope="module")
def both_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    folder = tmp_path_factory.mktemp("builds")
    return (_held(_built(folder / "compiled", pure_python=False)),
            _held(_built(folder / "python", pure_python=True)))


def test_a_build_with_the_compiled_speedups_holds_what_the_python_build_holds(both_builds):
    compiled, python = both_builds
    assert len(compiled["stored"]) >= 20
    assert {posting[0] for posting in compiled["postings"]} >= {"body", "exact", "title"}
    assert compiled["postings"] == python["postings"]
    assert compiled["lengths"] == python["lengths"]
    assert compiled["stored"] == python["stored"]


def test_every_declared_module_is_compiled_where_a_c_compiler_is():
    compiler = shlex.split(sysconfig.get_config_var("CC") or "")
    if not compiler or shutil.which(compiler[0]) is None:
        pytest.skip("no C compiler here")
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").is_file():
        pytest.skip("no Python headers here (python3-dev), so nothing could be compiled")
    for name in _declared_modules():
        assert speedups.built(name) is not None, name


def test_pure_python_makes_every_compiled_module_unfound(monkeypatch):
    monkeypatch.setenv(speedups.PURE_PYTHON_VARIABLE, "1")
    assert {name: speedups.compiled(name) for name in _declared_modules()} == dict.fromkeys(
        _declared_modules())
