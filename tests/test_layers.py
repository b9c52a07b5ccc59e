"""The layers of the package, kept by an import-linter contract (``[tool.importlinter]`` in
pyproject.toml): the face (CLI, web page) uses the library's names only, the library the
search and the ingest, and those the engine, the analysis and the documents; never upwards."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
])
def test_a_forbidden_import_breaks_the_contract(tmp_path, module, forbidden, reported):
    copy = Path(shutil.copytree(PACKAGE, tmp_path / "searchidx",
                                ignore=shutil.ignore_patterns("__pycache__")))
    changed = copy / module
    changed.write_text(changed.read_text() + f"\n{forbidden}  # forbidden\n")
    completed = lint_imports(tmp_path)
    assert completed.returncode == 1
    assert reported in completed.stdout
