"""The web server under load a client controls: a slow search holds up its own thread only,
idle connections cannot lock others out, and a malformed Host header is a 400 like any
other. The slow search is held at a known point (an event the test sets), never timed."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import socket
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import bleach
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import modules_a_search_loads
from searchidx import SearchIndex
from searchidx.search import Hit, mark_html
from searchidx.web import SECURITY_HEADERS, create_app, create_server
from test_web import build_web_index, serving

# A failure guard only: a request that waits this long has been locked out.
LOCKED_OUT_SECONDS = 10
IDLE_CONNECTIONS = 200


@pytest.fixture(scope="module")
def web_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_web_index(tmp_path_factory.mktemp("web-limits"))


class HeldIndex(SearchIndex):
    """An index whose searches for ``HELD`` wait, inside the search, until released."""

    HELD = "harbour"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.holding, self.release = threading.Event(), threading.Event()

    def search(self, query: str, **options):
        if query == self.HELD:
            self.holding.set()
            self.release.wait(LOCKED_OUT_SECONDS * 3)
        return super().search(query, **options)


@contextlib.contextmanager
def running(index: SearchIndex) -> Iterator[str]:
    """The real waitress server over ``index``, in this process; yields its address."""
    server = create_server(index, "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.close()


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=LOCKED_OUT_SECONDS) as response:
        return json.load(response)


def answer_while_a_search_is_held(web_index: Path, request: str) -> dict:
    """The answer to ``request``, asked while a search on another thread is held; the held
    search then finishes with hits."""
    with HeldIndex.open(web_index) as index, running(index) as url, \
            concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(get_json, f"{url}api/search?q={HeldIndex.HELD}")
        assert index.holding.wait(LOCKED_OUT_SECONDS)
        try:
            answer = get_json(f"{url}{request}")
            assert not slow.done()  # answered while the search was still held
        finally:
            index.release.set()
        assert slow.result()["total"] >= 1
        return answer


def test_healthz_answers_while_a_slow_search_holds_its_thread(web_index: Path):
    assert answer_while_a_search_is_held(web_index, "healthz")["status"] == "ok"


def test_searches_answer_while_a_slow_search_holds_its_thread(web_index: Path):
    assert answer_while_a_search_is_held(web_index, "api/search?q=Vu")["total"] >= 3


def open_idle_connections(url: str, stack: contextlib.ExitStack, count: int) -> None:
    """``count`` connections to the server at ``url``, each sending half a request."""
    host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    for _ in range(count):
        connection = stack.enter_context(socket.create_connection((host, int(port))))
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")


def test_healthz_answers_while_200_idle_connections_are_open(web_index: Path):
    with serving(web_index) as (url, stderr), contextlib.ExitStack() as idle:
        open_idle_connections(url, idle, IDLE_CONNECTIONS)
        assert get_json(f"{url}healthz")["status"] == "ok"
    assert not any("Traceback" in line for line in stderr)


def test_healthz_answers_past_a_low_limit_of_open_files(web_index: Path):
    few_files = IDLE_CONNECTIONS // 2  # the server raises its own limit to what it needs
    with serving(web_index, files=few_files) as (url, stderr), contextlib.ExitStack() as idle:
        open_idle_connections(url, idle, IDLE_CONNECTIONS)
        assert get_json(f"{url}healthz")["status"] == "ok"
    assert not any("Traceback" in line for line in stderr)


@pytest.mark.parametrize("path", ["/", "/?q=Vu", "/api/search?q=Vu", "/healthz",
                                  "/articles/world/hostile"])
def test_a_malformed_host_header_is_a_400_with_the_security_headers(web_index: Path, path: str):
    with SearchIndex.open(web_index) as index:
        response = create_app(index).test_client().get(path, headers={"Host": "a..b"})
    assert response.status_code == 400
    assert "a..b" in response.text
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


def test_a_malformed_host_header_leaves_no_traceback_in_the_server_log(web_index: Path):
    with serving(web_index) as (url, stderr):
        host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=LOCKED_OUT_SECONDS) as raw:
            raw.sendall(b"GET / HTTP/1.1\r\nHost: a..b\r\nConnection: close\r\n\r\n")
            status_line = raw.makefile("rb").readline()
        assert b" 400 " in status_line
        assert get_json(f"{url}healthz")["status"] == "ok"  # the log has caught up
    assert not any("Traceback" in line for line in stderr)


# --- the cost of a page of many hits ------------------------------------------------------------

@st.composite
def snippets(draw) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A text of any characters and sorted, non-overlapping spans within it."""
    text = draw(st.text(max_size=60))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=6, unique=True)))
    return text, tuple(zip(cuts[::2], cuts[1::2]))


@given(snippets())
def test_snippet_html_is_what_bleach_makes_of_the_marked_snippet(snippet):
    text, spans = snippet
    hit = Hit(id="1", path="p", title="t", date=None, score=1.0, snippet=text, highlights=spans)
    assert hit.snippet_html == bleach.clean(mark_html(text, spans), tags={"mark"},
                                            attributes={}, strip=True)


def test_json_hits_without_control_characters_are_not_sanitized_again(web_index: Path):
    # bleach takes 2 ms a snippet: 20 s for the 10,000 hits the API may be asked for.
    assert "bleach" not in modules_a_search_loads(web_index, "--format", "json")
