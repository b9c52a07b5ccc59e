"""The README's promises: short, set-up first, its library example runs as written, its
links to docs/ lead somewhere, and CI runs its test command."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys

from conftest import REPO, seed_source

README = (REPO / "README.md").read_text(encoding="utf-8")


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_the_readme_library_example_runs_as_written(tmp_path, monkeypatch):
    example = next(block for block in code_blocks("python") if "SearchIndex.open" in block)
    shutil.copytree(seed_source(), tmp_path / "articles")
    monkeypatch.chdir(tmp_path)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(example, "README.md", "exec"), {})  # noqa: S102 (our own README)
    lines = output.getvalue().splitlines()
    assert any("Nguyễn Minh Vũ" in line or "Vu" in line for line in lines[:-1])
    assert lines[-1] == "nguyen da nang"


def test_the_readme_starts_with_the_install_and_test_commands():
    install, test = code_blocks("sh")[:2]
    assert "pip install ." in install and "searchidx search" in install
    assert "pip install '.[test]'" in test and "pytest" in test


def test_the_readme_is_short_enough_to_read_before_deciding():
    assert len(README) <= 12_000


def test_the_first_code_is_the_clone_then_install_and_search_then_test():
    first_block = re.search(r"```(\w*)\n(.*?)```", README, flags=re.DOTALL)
    assert first_block[1] == "sh"
    clone, install = first_block[2].strip().splitlines()
    assert clone.startswith("git clone ") and clone.endswith("&& cd searchidx")
    assert install == "python3 -m venv .venv && . .venv/bin/activate && pip install . && " \
                      'searchidx search "Nguyễn Minh Vũ"'
    assert code_blocks("sh")[1].strip() == \
        "python3 -m venv .venv && . .venv/bin/activate && pip install '.[test]' && python -m pytest"


def test_every_docs_link_in_the_readme_exists():
    links = re.findall(r"\]\((docs/[^)#]+)", README)
    assert len(links) >= 6
    assert [link for link in links if not (REPO / link).is_file()] == []


def test_ci_runs_exactly_the_readme_test_command():
    test_command = code_blocks("sh")[1].strip()
    assert test_command in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_the_test_command_passes_whatever_the_shell_exports():
    """NO_COLOR=1 is common in people's shells; it once failed the colour test."""
    shell = {**os.environ, "NO_COLOR": "1", "SEARCHIDX_INDEX": "/nonexistent",
             "SEARCHIDX_ALIASES": "/nonexistent", "LC_ALL": "POSIX", "COLUMNS": "20"}
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"{REPO / 'tests' / 'test_cli.py'}::test_colour_marks_matches_on_a_terminal_and_no_color_turns_it_off",
         f"{REPO / 'tests' / 'test_cli.py'}::test_the_environment_variable_names_the_index"],
        cwd=REPO, env=shell, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stdout[-2000:]


def test_every_local_link_in_the_docs_exists():
    broken = []
    for page in (REPO / "docs").glob("*.md"):
        for link in re.findall(r"\]\(([^):#]+)\)", page.read_text(encoding="utf-8")):
            if not (page.parent / link).exists():
                broken.append(f"{page.name}: {link}")
    assert broken == []
