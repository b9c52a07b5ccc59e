"""The web layer: a search page, an article page and a JSON API over one open index.

Routes::

    GET /                     the search page: ?q= &since= &until= &sort= &page= (&limit=)
    GET /articles/<id>        one article, the words of ?q= marked in its text
    GET /api/search           the JSON of ``searchidx search --format json``, same parameters
    GET /api/articles/<id>    the JSON of ``searchidx show --format json``
    GET /healthz              {"status": "ok", "articles": N}

Flask serves the routes and waitress runs it. The pages are Jinja2 templates with
autoescaping, styled by one static style sheet, and use no JavaScript at all; every
response carries a Content-Security-Policy that allows no script and no inline style.

Requests run on waitress's worker threads and share one open :class:`SearchIndex`, which
gives each thread a searcher of its own: a slow search holds up its own thread only,
never the others (nor ``/healthz``). The index notices on every call when it has been
updated or rebuilt. A client cannot hold the server with idle connections: there may be
``WEB_CONNECTION_LIMIT`` at once, and one idle for ``WEB_IDLE_SECONDS`` is closed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import math
import re
import socket
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlencode

import flask
import waitress
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from werkzeug.exceptions import BadHost, HTTPException, NotFound
from werkzeug.routing import PathConverter

from .errors import QueryError, SearchIdxError
from .library import SearchIndex, SearchResults, Span, mark_html
from .settings import (DEFAULT_LIMIT, MAX_LIMIT, WEB_CONNECTION_LIMIT, WEB_IDLE_SECONDS,
                       WEB_PAGE_SIZE, WEB_THREADS)

__all__ = ["BadParameter", "SearchRequest", "create_app", "create_server", "is_loopback",
           "marked_paragraphs", "serve"]

SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; img-src 'self'; "
                                "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
Headers = Sequence[tuple[str, str]]

routes = flask.Blueprint("searchidx", __name__)


class BadParameter(ValueError):
    """A request parameter that cannot be read; the message names it, in one line."""


# --- reading a search from a request --------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class SearchRequest:
    """The parameters of a search, as the page and the API read them from a URL."""

    query: str = ""
    limit: int = DEFAULT_LIMIT
    since: dt.date | None = None
    until: dt.date | None = None
    sort: str = "relevance"
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str], default_limit: int) -> SearchRequest:
        """Read ``q``, ``limit``, ``since``, ``until``, ``sort`` and ``page``; empty means unset.

        Raises :class:`BadParameter` for a value that is not a number or a day. The rest
        (an empty query, a bad sort, ``since`` after ``until``) is the library's to judge.
        """
        return cls(query=params.get("q", ""),
                   limit=_whole_number(params, "limit", default_limit),
                   since=_day(params, "since"), until=_day(params, "until"),
                   sort=params.get("sort") or "relevance",
                   page=_whole_number(params, "page", 1))

    @property
    def first_rank(self) -> int:
        """The rank of the first hit on this page, counting from 1."""
        return (self.page - 1) * self.limit + 1

    def run(self, index: SearchIndex) -> SearchResults:
        """Search ``index`` and keep this page's hits; ``total`` still counts them all."""
        end = self.page * self.limit
        if end > MAX_LIMIT:
            raise BadParameter(f"page {self.page} of {self.limit} hits ends past hit "
                               f"{MAX_LIMIT}, the last a search returns")
        results = index.search(self.query, limit=end, since=self.since, until=self.until,
                               sort=self.sort)  # type: ignore[arg-type]
        return dataclasses.replace(results, hits=results.hits[self.first_rank - 1:])


def _whole_number(params: Mapping[str, str], name: str, default: int) -> int:
    text = params.get(name) or str(default)
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise BadParameter(f"{name} must be a whole number from 1 up, not {text!r}")
    return int(text)


def _day(params: Mapping[str, str], name: str) -> dt.date | None:
    text = params.get(name)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadParameter(f"{name} must be a day written YYYY-MM-DD, not {text!r}") from None


# --- the shared index -------------------------------------------------------------------------

def _index() -> SearchIndex:
    """The app's one open index (each thread searches it with a searcher of its own)."""
    return flask.current_app.extensions["searchidx"]


def _request_context() -> dict[str, object]:
    """What every page shows of the request: the form's values, and the parameters
    re-encoded to carry on to the next page."""
    args = flask.request.args
    return {"form": {name: args.get(name, "") for name in ("q", "since", "until", "sort")},
            "query_string": urlencode(list(args.items(multi=True)))}


# --- pages ------------------------------------------------------------------------------------

@routes.get("/")
def search_page() -> ResponseReturnValue:
    """The search page: the form, and the hits when there is a query."""
    context: dict[str, object] = {}
    try:
        search = SearchRequest.from_params(flask.request.args, WEB_PAGE_SIZE)
        index = _index()
        results = search.run(index) if search.query.strip() else None
        context["articles"] = index.stats().articles
        if results is None:
            context["examples"] = _examples(index)
    except (BadParameter, QueryError) as problem:
        return flask.render_template("search.html", error=str(problem)), 400
    if results is not None:
        context |= _results_context(search, results)
    return flask.render_template("search.html", **context)


def _examples(index: SearchIndex) -> list[str] | None:
    """Two words to offer as example queries, where the page's own examples (Vietnamese
    names) find nothing in this index; None where they do."""
    if all(index.search(example, limit=1).total for example in _BUILT_IN_EXAMPLES):
        return None
    return index.common_words(2) or None


_BUILT_IN_EXAMPLES = ("Vu", '"Minh Vũ" NOT Kim')  # as search.html links them


def _results_context(search: SearchRequest, results: SearchResults) -> dict[str, object]:
    """The hits, any notices about how the query was read, and links to the pages around."""
    last_page = max(1, math.ceil(results.total / search.limit))
    suggestion = getattr(results, "suggestion", None)
    # Articles mark the words the hits matched: the corrected ones, if the query was corrected.
    article_params = flask.request.args.to_dict() | ({"q": suggestion} if suggestion else {})
    return {"results": results, "search": search, "last_page": last_page,
            "suggestion": suggestion, "article_query": urlencode(article_params),
            "previous_page": _page_link(search.page - 1) if search.page > 1 else None,
            "next_page": _page_link(search.page + 1) if search.page < last_page else None}


def _page_link(page: int) -> str:
    return flask.url_for("searchidx.search_page", **(flask.request.args.to_dict() | {"page": page}))


@routes.get("/articles/<article_id:article_id>")
def article_page(article_id: str) -> ResponseReturnValue:
    """One article in full, with the words of the query ``q`` marked."""
    query = flask.request.args.get("q", "")
    index = _index()
    article = index.article(article_id)
    spans = index.matches(article_id, query) if article else ()
    if article is None:
        raise NotFound(f"no article with id {article_id!r}")
    return flask.render_template("article.html", article=article, matches=len(spans),
                                 paragraphs=marked_paragraphs(article.body, spans))


def marked_paragraphs(text: str, spans: tuple[Span, ...]) -> list[Markup]:
    """``text`` as escaped HTML, one item a paragraph, with ``<mark>`` around each span."""
    # A mark holds one word, never a line break, so splitting at blank lines keeps it whole.
    return [Markup(paragraph) for paragraph in _PARAGRAPH_BREAK.split(mark_html(text, spans))
            if paragraph.strip()]


# --- the API ----------------------------------------------------------------------------------

@routes.get("/api/search")
def api_search() -> ResponseReturnValue:
    """``SearchResults.to_dict()``: the JSON of ``searchidx search --format json``."""
    search = SearchRequest.from_params(flask.request.args, DEFAULT_LIMIT)
    return search.run(_index()).to_dict()


@routes.get("/api/articles/<article_id:article_id>")
def api_article(article_id: str) -> ResponseReturnValue:
    """``Article.to_dict()``: the JSON of ``searchidx show --format json``."""
    article = _index().article(article_id)
    if article is None:
        raise NotFound(f"no article with id {article_id!r}")
    return article.to_dict()


@routes.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Whether the index can be read, and how many articles it holds."""
    return {"status": "ok", "articles": _index().stats().articles}


# --- errors and headers -----------------------------------------------------------------------

def _error(status: int, message: str, headers: Headers = ()) -> ResponseReturnValue:
    """An error as JSON for the API, as a page for a person."""
    path = flask.request.path
    if path.startswith("/api/") or path == "/healthz":
        return {"error": message}, status, headers
    return flask.render_template("error.html", status=status, message=message), status, headers


def _http_error(error: HTTPException) -> ResponseReturnValue:
    """Not found, method not allowed and the like; their headers (such as Allow) kept."""
    if isinstance(error, BadHost):  # no link can be made for that host, so no page either
        host = flask.request.headers.get("Host", "")
        return flask.Response(f"bad Host header: {host!r}\n", 400, mimetype="text/plain")
    headers = [(name, value) for name, value in error.get_headers()
               if name.lower() != "content-type"]
    return _error(error.code or 500, error.description or error.name, headers)


def _bad_request(error: BadParameter | QueryError) -> ResponseReturnValue:
    return _error(400, str(error))


def _unreadable_index(error: SearchIdxError) -> ResponseReturnValue:
    flask.current_app.logger.error("searchidx: %s", error)  # one line, no traceback
    return _error(503, f"the index cannot be read: {error}")


def _with_security_headers(response: flask.Response) -> flask.Response:
    response.headers.update(SECURITY_HEADERS)
    return response


# --- the application and the server -----------------------------------------------------------

def _day_text(day: dt.date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else ""


def _web_link(url: str | None) -> str | None:
    """The article's original address, if it is one a browser may safely follow."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


class _ArticleIdConverter(PathConverter):
    """An article id in a URL: any text, slashes included, even a leading one (a JSONL id
    may be "/world/asia"), so the link to it must keep its double slash."""

    regex = "/?[^/].*?"  # a "/" in it tells Werkzeug that the id may span path segments


def create_app(index: SearchIndex) -> flask.Flask:
    """The web application over an open index; the caller keeps the index open and closes it."""
    app = flask.Flask(__name__)
    app.url_map.converters["article_id"] = _ArticleIdConverter
    app.url_map.merge_slashes = False  # "/articles//world/asia" is the id "/world/asia"
    app.json.sort_keys = False  # type: ignore[attr-defined]  # the order of to_dict()
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters.update(day=_day_text, web_link=_web_link, count="{:,}".format)
    app.context_processor(_request_context)
    app.extensions["searchidx"] = index
    app.register_blueprint(routes)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(BadParameter, _bad_request)
    app.register_error_handler(QueryError, _bad_request)
    app.register_error_handler(SearchIdxError, _unreadable_index)
    app.after_request(_with_security_headers)
    return app


def is_loopback(host: str) -> bool:
    """Whether ``host`` can be reached only from this machine (localhost, 127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port`` (port 0: any free port)."""
    address = host.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        return socket.create_server((address, port), family=family)
    except OSError as error:
        raise SearchIdxError(f"cannot listen on {host}:{port}: "
                             f"{error.strerror or error}") from None


def _url(listener: socket.socket) -> str:
    host, port = listener.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def create_server(index: SearchIndex, host: str, port: int):
    """The waitress server of the page and the API, listening on ``host:port``: its
    ``run()`` serves until Ctrl+C, ``close()`` stops it, ``url`` is its address.

    Raises :class:`SearchIdxError` when ``host:port`` cannot be listened on.
    """
    listener = _listen(host, port)
    _allow_open_files(WEB_CONNECTION_LIMIT + _FILES_BESIDE_CONNECTIONS)
    # poll(), not select(): select() cannot watch a socket numbered 1024 or more.
    server = waitress.create_server(create_app(index), sockets=[listener], threads=WEB_THREADS,
                                    ident="searchidx", connection_limit=WEB_CONNECTION_LIMIT,
                                    channel_timeout=WEB_IDLE_SECONDS,
                                    cleanup_interval=WEB_IDLE_SECONDS, asyncore_use_poll=True)
    server.url = _url(listener)
    return server


# Files the server keeps open besides its connections: the index's, the listener, stdio.
_FILES_BESIDE_CONNECTIONS = 100


def _allow_open_files(count: int) -> None:
    """Raise this process's limit of open files to ``count`` where it is lower, as far as
    the hard limit allows (each connection is a file; a common default limit is 1,024)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count if hard == resource.RLIM_INFINITY else min(count, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def serve(index: SearchIndex, host: str, port: int,
          ready: Callable[[str], None] = lambda url: None) -> None:
    """Serve the page and the API until Ctrl+C; ``ready(url)`` is called once listening.

    Raises :class:`SearchIdxError` when ``host:port`` cannot be listened on.
    """
    server = create_server(index, host, port)
    ready(server.url)
    server.run()  # returns on Ctrl+C, once the requests under way are answered
