"""Progress of `index` and `rebuild`: by bytes read, on a terminal only; the library's
progress callbacks."""

from __future__ import annotations

import json
import os
import pty
import random
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from searchidx import IndexProgress, SearchIndex

SEARCHIDX = Path(sys.executable).with_name("searchidx")  # the installed command
WORDS = ("harbour minister trade talks delegation rice coffee summit ministry fishing port "
         "Nguyễn Hà Nội Seoul Kim Jong-un export quota").split()


class Terminal:
    """The installed `searchidx` command run on a pseudo-terminal, its output read as it
    comes (stdout and stderr both go to the terminal, as in a person's shell)."""

    def __init__(self, *args: object, **popen) -> None:
        primary, secondary = pty.openpty()
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
        self.process = subprocess.Popen([SEARCHIDX, *map(str, args)], stdin=secondary,
                                        stdout=secondary, stderr=secondary, env=env, **popen)
        os.close(secondary)
        self.primary = primary
        self.output = ""

    def wait_for(self, text: str, guard: float = 120.0) -> bool:
        """Read until ``text`` has been shown; False if the command ended first."""
        deadline = time.monotonic() + guard
        while text not in self.output:
            if time.monotonic() > deadline or not self._read(deadline - time.monotonic()):
                return False
        return True

    def finish(self, guard: float = 120.0) -> int:
        """Read everything the command shows until it ends; its exit status."""
        deadline = time.monotonic() + guard
        while time.monotonic() < deadline and self._read(deadline - time.monotonic()):
            pass
        os.close(self.primary)
        return self.process.wait(timeout=guard)

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.primary], [], [], max(timeout, 0))
        try:
            data = os.read(self.primary, 65536) if ready else b""
        except OSError:  # EIO: every end of the terminal is closed, the command ended
            return False
        self.output += data.decode("utf-8", errors="replace")
        return bool(data)


def write_jsonl(path: Path, articles: int, seed: int = 17) -> Path:
    """A JSON-lines file of news-like articles of about 1 KiB each."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for number in range(articles):
            body = " ".join(rng.choice(WORDS) for _ in range(150))
            record = {"id": f"wire-{number}", "title": f"Wire {number}: {rng.choice(WORDS)}",
                      "date": "2024-03-01", "body": body}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def test_indexing_one_large_jsonl_file_shows_progress_by_bytes_on_a_terminal(tmp_path):
    big = write_jsonl(tmp_path / "wire.jsonl", 1500)  # over 1 MiB: the line is shown
    terminal = Terminal("index", big, "--index", tmp_path / "index")
    assert terminal.finish() == 0
    shown = re.findall(r"Indexing +(\d+)%  ([\d.]+) of ([\d.]+) MiB  [\d,]+ articles/s  "
                       r"([\d:]+ left|finishing)", terminal.output)
    assert {"25", "50", "75"} <= {percent for percent, _, _, _ in shown}
    assert all(total == shown[0][2] for _, _, total, _ in shown)
    assert shown[-1][0] == "100" and shown[-1][3] == "finishing"
    assert "1500 added" in terminal.output.splitlines()[-1]


def test_no_progress_is_shown_on_a_pipe(tmp_path):
    big = write_jsonl(tmp_path / "wire.jsonl", 1500)
    finished = subprocess.run([SEARCHIDX, "rebuild", big, "--index", tmp_path / "index"],
                              capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0 and finished.stderr == ""


def test_no_progress_is_shown_with_json_output_on_a_terminal(tmp_path):
    big = write_jsonl(tmp_path / "wire.jsonl", 1500)
    terminal = Terminal("index", big, "--index", tmp_path / "index", "--format", "json")
    assert terminal.finish() == 0
    assert "Indexing" not in terminal.output and json.loads(terminal.output)["added"] == 1500


def test_the_library_tells_files_bytes_and_articles_read(tmp_path):
    big = write_jsonl(tmp_path / "wire.jsonl", 300)
    states: list[IndexProgress] = []
    with SearchIndex.open(tmp_path / "index", create=True) as idx:
        idx.index([big], on_progress=states.append)
    done = [state.bytes_done for state in states]
    assert done == sorted(done) and len(set(done)) > 100  # byte by byte through one file
    assert states[-1] == IndexProgress(files_done=1, files_total=1, bytes_done=big.stat().st_size,
                                       bytes_total=big.stat().st_size, articles=300)


def test_the_library_progress_callback_still_gets_files_done_and_total(seed_dir, index_dir):
    calls: list[tuple[int, int]] = []
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([seed_dir], progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
