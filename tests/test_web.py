"""The web page and its JSON API (`searchidx serve`), over HTTP: Flask's test client for the
pages, a real `searchidx serve` process for the server itself."""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import gc
import http.client
import json
import re
import resource
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest
from click.testing import CliRunner

from conftest import modules_a_search_loads
from searchidx import SearchIndex, bundled_seeds
from searchidx.cli import cli
from searchidx.settings import COMMAND_GC_THRESHOLD
from searchidx.web import SECURITY_HEADERS, create_app, marked_paragraphs

SEED_000, SEED_001, SEED_004 = ("000_a552e453a3fa40fb", "001_e1d5feda7fea809b",
                                "004_8262931bf64026ae")
HOSTILE_ID = "world/hostile"
HOSTILE_TITLE = '<script>alert("title")</script><b id="injected">Harbour</b> talks'
HOSTILE_ARTICLE = {
    "id": HOSTILE_ID, "title": HOSTILE_TITLE, "date": "2025-11-02",
    "place": '<img src=x onerror=alert("place")>', "source": "<svg onload=alert(1)>",
    "url": "javascript:alert('url')",
    "body": ('Harbour officials met. <img id="injected" src=x onerror=alert("body")>\n\n'
             '<script>alert("body")</script> The harbour talks went on.'),
}
XSS_VECTORS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</title><script>alert(1)</script>",
    "Vu <style>body{display:none}</style>",
]


# --- fixtures and helpers ------------------------------------------------------------------------

def build_web_index(folder: Path) -> Path:
    """An index in ``folder`` of the bundled seeds plus one article full of markup."""
    hostile = folder / "hostile.jsonl"
    hostile.write_text(json.dumps(HOSTILE_ARTICLE) + "\n", encoding="utf-8")
    with SearchIndex.open(folder / "index", create=True) as idx:
        report = idx.index([bundled_seeds(), hostile])
    assert report.added == 6 and not report.skipped
    return folder / "index"


@contextlib.contextmanager
def serving(index_dir: Path, *options: str,
            files: int | None = None) -> Iterator[tuple[str, list[str]]]:
    """Run `searchidx serve` on a free port (allowed to open ``files`` files, if given);
    yields its address and the lines of its stderr."""
    command = [sys.executable, "-m", "searchidx", "serve", "--index", str(index_dir),
               "--port", "0", *options]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                          preexec_fn=None if files is None else _open_files_limit(files)
                          ) as server:
        assert server.stderr is not None
        stderr: list[str] = []
        for line in server.stderr:
            stderr.append(line)
            if address := re.search(r" at (http://\S+) ", line):
                break
        else:
            raise AssertionError("searchidx serve did not start:\n" + "".join(stderr))
        threading.Thread(target=stderr.extend, args=(server.stderr,), daemon=True).start()
        try:
            yield address[1], stderr
        finally:
            server.terminate()


def _open_files_limit(files: int):
    """What a child process runs before it starts, to open at most ``files`` files."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (files, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    return limit


@pytest.fixture(scope="module")
def web_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_web_index(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def client(web_index: Path):
    with SearchIndex.open(web_index) as idx:
        yield create_app(idx).test_client()


@pytest.fixture(scope="module")
def server(web_index: Path) -> Iterator[tuple[str, list[str]]]:
    with serving(web_index) as running:
        yield running


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


class Page(HTMLParser):
    """The elements of an HTML page, as (tag, attributes), and its text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **attributes: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.elements if name == tag
                and all(attrs.get(key) == value for key, value in attributes.items())]

    def injected(self) -> list[tuple[str, dict[str, str | None]]]:
        """Elements and attributes that only injected markup could have put there."""
        return [(tag, attrs) for tag, attrs in self.elements
                if tag in {"script", "img", "svg", "style"} or attrs.get("id") == "injected"
                or any(name.startswith("on") for name in attrs)
                or any((value or "").startswith("javascript:") for value in attrs.values())]


def page(client, url: str, status: int = 200) -> Page:
    response = client.get(url)
    assert response.status_code == status, response.text
    return Page(response.text)


def hit_links(parsed: Page) -> list[str]:
    """The article ids the results link to, in order."""
    return [urlsplit(attrs["href"]).path.removeprefix("/articles/")
            for attrs in parsed.find("a") if attrs["href"].startswith("/articles/")]


# --- the API -------------------------------------------------------------------------------------

def test_api_search_returns_the_library_results_as_json(client, web_index):
    response = client.get("/api/search?q=Vu&limit=2&since=2024-01-01&sort=date")
    with SearchIndex.open(web_index) as idx:
        expected = idx.search("Vu", limit=2, since=dt.date(2024, 1, 1), sort="date").to_dict()
    assert response.status_code == 200
    assert response.get_json() == expected


def test_api_search_returns_what_the_cli_prints(client, web_index):
    printed = CliRunner().invoke(cli, ["search", "Vu", "--format", "json",
                                       "--index", str(web_index)])
    assert client.get("/api/search?q=Vu").get_json() == json.loads(printed.stdout)


def test_api_search_for_vu_finds_seeds_000_001_004_with_vu_marked(client):
    hits = client.get("/api/search?q=Vu").get_json()["hits"]
    assert sorted(hit["id"] for hit in hits) == [SEED_000, SEED_001, SEED_004]
    seed_001 = next(hit for hit in hits if hit["id"] == SEED_001)
    assert "<mark>Vũ</mark>" in seed_001["snippet_html"]


def test_api_search_pages_through_the_hits_keeping_the_total(client):
    everything = client.get("/api/search?q=Vu").get_json()
    second_page = client.get("/api/search?q=Vu&limit=2&page=2").get_json()
    assert second_page["total"] == everything["total"] == 3
    assert second_page["hits"] == everything["hits"][2:]


@pytest.mark.parametrize("query, problem", [
    ("q=", "empty query"),
    ("q=Vu&limit=ten", "limit must be a whole number"),
    ("q=Vu&limit=0", "limit must be a whole number"),
    ("q=Vu&page=-1", "page must be a whole number"),
    ("q=Vu&page=1001", "ends past hit 10000"),
    ("q=Vu&since=2025-13-01", "since must be a day written YYYY-MM-DD"),
    ("q=Vu&until=yesterday", "until must be a day written YYYY-MM-DD"),
    ("q=Vu&since=2025-02-01&until=2025-01-01", "is after"),
    ("q=Vu&sort=best", "sort must be 'relevance' or 'date'"),
])
def test_api_search_rejects_bad_parameters_with_a_one_line_400(client, query, problem):
    response = client.get(f"/api/search?{query}")
    assert response.status_code == 400
    message = response.get_json()["error"]
    assert problem in message and "\n" not in message


def test_api_article_returns_the_article_as_json_even_with_a_slash_in_its_id(client, web_index):
    response = client.get(f"/api/articles/{HOSTILE_ID}")
    with SearchIndex.open(web_index) as idx:
        assert response.get_json() == idx.article(HOSTILE_ID).to_dict()


def test_the_link_to_an_article_whose_id_starts_with_a_slash_opens_it(tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "/world/asia", "title": "Harbour talks in Hải Phòng",
                                "body": "Harbour officials met."}) + "\n", encoding="utf-8")
    with SearchIndex.open(tmp_path / "index", create=True) as idx:
        idx.index([feed])
        client = create_app(idx).test_client()
        page = client.get("/?q=harbour").get_data(as_text=True)
        link = re.search(r'<h2><a href="([^"?]+)', page)[1]
        article = client.get(link)
        assert article.status_code == 200, link
        assert "Hải Phòng" in article.get_data(as_text=True)
        assert client.get(f"/api{link}").get_json()["id"] == "/world/asia"


def test_a_page_whose_notice_says_why_nothing_matched_gives_no_other_advice(client):
    page = client.get("/?q=-harbour").get_data(as_text=True)
    assert "only excludes words" in page and "Try fewer words" not in page


def test_api_article_with_an_unknown_id_is_a_json_404(client):
    response = client.get("/api/articles/no-such-article")
    assert response.status_code == 404
    assert response.get_json() == {"error": "no article with id 'no-such-article'"}


def test_healthz_says_ok_and_counts_the_articles(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "articles": 6}


# --- the search page -------------------------------------------------------------------------

def test_search_page_lists_the_hits_with_their_marked_snippets_and_the_total(client):
    response = client.get("/?q=Vu")
    parsed = Page(response.text)
    assert sorted(hit_links(parsed)) == [SEED_000, SEED_001, SEED_004]
    assert "3 results for" in response.text
    assert "<mark>Vũ</mark>" in response.text
    assert "12 October 2025 · HÀ NỘI · VNA/VNS" in "".join(parsed.text)


def test_search_page_keeps_the_query_and_filters_in_the_form(client):
    parsed = page(client, "/?q=Nguyễn+Minh+Vũ&since=2024-01-01&until=2025-12-31&sort=date")
    assert parsed.find("input", name="q")[0]["value"] == "Nguyễn Minh Vũ"
    assert parsed.find("input", name="since")[0]["value"] == "2024-01-01"
    assert parsed.find("input", name="until")[0]["value"] == "2025-12-31"
    assert "selected" in parsed.find("option", value="date")[0]


def test_search_page_says_how_an_unreadable_query_was_read(client):
    parsed = page(client, "/?" + urlencode({"q": '"Vu'}))
    assert "could not read the query '\"Vu' (unbalanced quote)" in "".join(parsed.text)
    assert sorted(hit_links(parsed)) == [SEED_000, SEED_001, SEED_004]


def test_search_page_date_filter_keeps_only_articles_from_those_days(client):
    assert hit_links(page(client, "/?q=Vu&since=2025-01-01")) == [SEED_001]
    assert hit_links(page(client, "/?q=Vu&until=2024-12-31")) == [SEED_000]


def test_search_page_sorted_by_date_puts_the_newest_first(client):
    assert hit_links(page(client, "/?q=Vu&sort=date")) == [SEED_001, SEED_000, SEED_004]


def test_search_page_links_to_the_next_and_the_previous_page(client):
    first = page(client, "/?q=Vu&sort=date&limit=2")
    (next_link,) = first.find("a", rel="next")
    second = page(client, next_link["href"])
    assert hit_links(first) == [SEED_001, SEED_000]
    assert hit_links(second) == [SEED_004]
    assert second.find("a", rel="prev") and not second.find("a", rel="next")


def test_search_page_shows_a_bad_parameter_as_an_error_with_status_400(client):
    response = client.get("/?q=Vu&since=2025-13-01")
    assert response.status_code == 400
    assert "since must be a day written YYYY-MM-DD, not &#39;2025-13-01&#39;" in response.text


def test_search_page_without_a_query_invites_a_search_of_the_whole_archive(client):
    assert "Search 6 news articles" in client.get("/").text


# --- the article page --------------------------------------------------------------------------

def test_article_page_shows_the_full_text_with_every_match_marked(client, web_index):
    response = client.get(f"/articles/{SEED_001}?q=Vu")
    with SearchIndex.open(web_index) as idx:
        body = idx.article(SEED_001).body
    text = "".join(Page(response.text).text)
    assert all(paragraph in text for paragraph in body.split("\n\n"))
    assert response.text.count("<mark>Vũ</mark>") == body.count("Vũ") > 1


def test_article_page_without_a_query_marks_nothing(client):
    assert "<mark>" not in client.get(f"/articles/{SEED_001}").text


def test_article_page_links_back_to_the_same_results(client):
    parsed = page(client, f"/articles/{SEED_001}?q=Vu&sort=date&page=1")
    assert parsed.find("a", href="/?q=Vu&sort=date&page=1")


def test_article_page_for_an_unknown_id_is_a_404_page(client):
    response = client.get("/articles/no-such-article")
    assert response.status_code == 404
    assert "no article with id &#39;no-such-article&#39;" in response.text


def test_marked_paragraphs_escape_the_text_and_mark_each_span():
    text = "Vũ <b>met</b> Kim.\n\nVũ left."
    assert marked_paragraphs(text, ((0, 2), (20, 22))) == [
        "<mark>Vũ</mark> &lt;b&gt;met&lt;/b&gt; Kim.", "<mark>Vũ</mark> left."]


# --- security ------------------------------------------------------------------------------------

@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_a_query_cannot_inject_markup_into_the_search_page(client, vector):
    parsed = page(client, "/?" + urlencode({"q": vector}))
    assert not parsed.injected()
    assert parsed.find("input", name="q")[0]["value"] == vector


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_a_query_cannot_inject_markup_into_the_article_page(client, vector):
    assert not page(client, f"/articles/{SEED_001}?" + urlencode({"q": vector})).injected()


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_an_article_id_cannot_inject_markup_into_the_not_found_page(client, vector):
    assert not page(client, "/articles/" + quote(vector), status=404).injected()


def test_titles_and_fields_with_markup_show_as_text_in_the_results(client):
    parsed = page(client, "/?q=harbour")
    assert hit_links(parsed) == [HOSTILE_ID]
    assert not parsed.injected()
    assert HOSTILE_TITLE in parsed.text


def test_article_text_with_markup_shows_as_text(client):
    parsed = page(client, f"/articles/{HOSTILE_ID}?q=harbour")
    assert not parsed.injected()
    assert HOSTILE_TITLE in parsed.text
    assert any('<img id="injected"' in text for text in parsed.text)


@pytest.mark.parametrize("url, status", [
    ("/", 200), ("/?q=Vu", 200), (f"/articles/{SEED_001}?q=Vu", 200), ("/api/search?q=Vu", 200),
    ("/healthz", 200), ("/static/style.css", 200), ("/no/such/page", 404), ("/?q=Vu&page=x", 400),
])
def test_every_response_carries_the_security_headers(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "script-src" not in csp


@pytest.mark.parametrize("url", ["/", "/?q=Vu", f"/articles/{SEED_001}?q=Vu", "/no/such/page"])
def test_pages_have_no_script_and_no_inline_style(client, url):
    parsed = Page(client.get(url).text)
    assert not parsed.find("script") and not parsed.find("style")
    assert not [attrs for _, attrs in parsed.elements if "style" in attrs]


@pytest.mark.parametrize("url", [
    "/articles/..%2F..%2Fetc%2Fpasswd", "/articles/%2e%2e/%2e%2e/etc/passwd",
    "/api/articles/..%2F..%2Fetc%2Fpasswd", "/static/..%2Fweb.py", "/static/%2e%2e/web.py",
])
def test_traversal_through_ids_or_static_files_is_not_found(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "root:" not in response.text and "import flask" not in response.text


# --- the server ---------------------------------------------------------------------------------

def test_fifty_concurrent_api_searches_against_one_server_all_succeed(server):
    address, _ = server
    queries = ["Vu", "Korea", "Hà Nội", "Kim", "visit"] * 10
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda q: get_json(f"{address}api/search?q={quote(q)}"), queries))
    assert len(answers) == 50
    assert all(answer["total"] > 0 for answer in answers)
    assert {answer["total"] for answer in answers[0::5]} == {3}


@pytest.mark.parametrize("path", ["/articles/../../etc/passwd", "/static/../web.py"])
def test_raw_dot_segments_sent_to_the_server_are_not_found(server, path):
    host, port = urlsplit(server[0]).hostname, urlsplit(server[0]).port
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    assert response.status == 404
    assert b"root:" not in response.read()


# UTF-8 of a lone surrogate (no character): a URL can carry it, percent-encoded.
@pytest.mark.parametrize(("path", "status"), [("/?q=%ED%A0%80", 200),
                                              ("/api/search?q=V%C5%A9%ED%A0%80", 200),
                                              ("/articles/%ED%A0%80", 404),
                                              ("/api/articles/%ED%B0%80", 404)])
def test_a_lone_surrogate_in_a_query_or_an_id_is_answered_not_an_error(server, path, status):
    host, port = urlsplit(server[0]).hostname, urlsplit(server[0]).port
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.request("GET", path)
    assert connection.getresponse().status == status


def test_serve_listens_on_this_machine_only_by_default(server):
    address, stderr = server
    assert address.startswith("http://127.0.0.1:")
    assert not any(line.startswith("searchidx: warning") for line in stderr)


def test_serve_warns_when_listening_beyond_this_machine(web_index):
    with serving(web_index, "--host", "0.0.0.0") as (address, stderr):
        local = address.replace("0.0.0.0", "127.0.0.1")
        assert get_json(local + "healthz")["status"] == "ok"
    assert stderr[0].startswith("searchidx: warning: listening on 0.0.0.0")


def test_serve_reports_a_busy_port_as_a_one_line_error(web_index):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--index", str(web_index), "--port", str(port)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"searchidx: error: cannot listen on 127.0.0.1:{port}: ")
    assert result.stderr.count("\n") == 1


def test_the_server_collects_garbage_at_the_process_s_own_pace_not_a_command_s(web_index):
    """A command passes the collector rarely (it ends soon, its objects live until then);
    a server lives on, and its requests leave cycles behind."""
    before = gc.get_threshold()
    try:
        with socket.create_server(("127.0.0.1", 0)) as taken:
            port = taken.getsockname()[1]
            CliRunner().invoke(cli, ["serve", "--index", str(web_index), "--port", str(port)])
        assert gc.get_threshold()[0] < COMMAND_GC_THRESHOLD
    finally:
        gc.set_threshold(*before)


def test_the_search_command_does_not_import_the_web_stack(web_index):
    loaded = {name.split(".")[0] for name in modules_a_search_loads(web_index)}
    assert not loaded & {"flask", "waitress", "werkzeug", "jinja2"}


def test_the_server_picks_up_a_rebuilt_index_without_restarting(tmp_path):
    index_dir = build_web_index(tmp_path)
    with SearchIndex.open(index_dir) as idx:
        web = create_app(idx).test_client()
        assert web.get("/api/search?q=Vu").get_json()["total"] == 3
        with SearchIndex.open(index_dir) as writer:
            writer.rebuild([bundled_seeds() / f"{SEED_001}.txt"], force=True)
        assert [hit["id"] for hit in web.get("/api/search?q=Vu").get_json()["hits"]] == [SEED_001]

