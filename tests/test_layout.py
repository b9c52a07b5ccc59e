"""The project's layout: the suite runs against the installed package."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import searchidx
from conftest import REPO


def _installed_editable() -> bool:
    direct_url = metadata.distribution("searchidx").read_text("direct_url.json") or "{}"
    return bool(json.loads(direct_url).get("dir_info", {}).get("editable"))


def test_the_suite_imports_the_installed_package_not_the_checkout():
    package = Path(searchidx.__file__).resolve().parent
    assert package != REPO / "searchidx" or _installed_editable()


def test_the_package_sits_at_the_top_level_of_the_checkout():
    assert (REPO / "searchidx" / "__init__.py").is_file()
    assert not (REPO / "src").exists()
