"""The layers of the package, kept by an import-linter contract (``[tool.importlinter]`` in
pyproject.toml): the face (CLI, web page) uses the library's names only, the library the
search and the ingest, and those the engine, the analysis and the documents; never upwards.
Whoosh is the engine's alone: only modules of ``searchidx.engine`` import it, and only its
adapter names Whoosh's private parts."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tokenize
import tomllib
from pathlib import Path

import pytest

import searchidx

CHECKOUT = Path(__file__).resolve().parent.parent
PACKAGE = Path(searchidx.__file__).parent


def lint_imports(package_parent: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` with the checkout's contract, on the package found first in
    ``package_parent``."""
    command = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(command), "--config", str(CHECKOUT / "pyproject.toml"), "--no-cache"],
        capture_output=True, text=True, timeout=120, cwd=package_parent,
        env={**os.environ, "PYTHONPATH": str(package_parent)})


def test_the_package_keeps_its_layers():
    completed = lint_imports(PACKAGE.parent)
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.parametrize(("module", "forbidden", "reported"), [
    ("engine/pool.py", "from .. import library", "searchidx.engine.pool -> searchidx.library"),
    ("web.py", "from . import search", "searchidx.web -> searchidx.search"),
    ("search.py", "from whoosh.query import Term", "searchidx.search -> whoosh"),
    ("analysis.py", "import whoosh.analysis", "searchidx.analysis -> whoosh"),
    ("__init__.py", "import whoosh", "searchidx -> whoosh"),
])
def test_a_forbidden_import_breaks_the_contract(tmp_path, module, forbidden, reported):
    copy = Path(shutil.copytree(PACKAGE, tmp_path / "searchidx",
                                ignore=shutil.ignore_patterns("__pycache__")))
    changed = copy / module
    changed.write_text(changed.read_text() + f"\n{forbidden}  # forbidden\n")
    completed = lint_imports(tmp_path)
    assert completed.returncode == 1
    assert reported in completed.stdout


def test_every_module_above_the_engine_is_kept_from_whoosh():
    contracts = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (kept,) = [contract["source_modules"] for contract in contracts["contracts"]
               if contract.get("forbidden_modules") == ["whoosh"]]
    modules = {"searchidx" if path.stem == "__init__" else f"searchidx.{path.stem}"
               for path in PACKAGE.glob("*.py")}
    assert set(kept) == modules


ADAPTER = PACKAGE / "engine" / "whoosh_adapter.py"


def _code_names(path: Path) -> list[tuple[str, str, int]]:
    """``(previous token, name, line)`` of each name in a module's code (not in its strings
    or comments)."""
    tokens = [token for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
              if token.type in (tokenize.NAME, tokenize.OP)]
    return [(before.string, token.string, token.start[0])
            for before, token in zip(tokens, tokens[1:]) if token.type == tokenize.NAME]


def _private_names_defined(paths) -> set[str]:
    """The private names (``_name``) that modules define: functions, classes, attributes
    and module names they assign."""
    definition = re.compile(r"(?:\bdef |\bclass |\bself\.|^\s*)(_[A-Za-z]\w*)\s*[(:=]", re.M)
    return {name for path in paths for name in definition.findall(path.read_text())}


def test_whoosh_private_names_appear_only_in_the_adapter():
    """Outside ``engine/whoosh_adapter.py``: no whoosh3 class (``W3…``) and no private
    attribute of Whoosh's (one Whoosh defines and searchidx does not) in any module's code."""
    import whoosh

    ours = [path for path in PACKAGE.rglob("*.py") if path != ADAPTER]
    whooshes = _private_names_defined(Path(whoosh.__file__).parent.rglob("*.py"))
    private = whooshes - _private_names_defined(ours)
    found = [f"{path.relative_to(PACKAGE)}:{line}: {before}{name}" for path in ours
             for before, name, line in _code_names(path)
             if name.startswith("W3") or (before == "." and name in private)]
    assert found == []
    assert any(name.startswith("W3") for _, name, _ in _code_names(ADAPTER))  # the test sees
