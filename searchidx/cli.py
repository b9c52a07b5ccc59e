"""The command line: a thin click layer over the library; every command speaks ``--format json``.

Exit codes: 0 success; 1 no hits, article not found, or files skipped; 2 a usage error,
an unusable index or a query that cannot be run, always as one line on stderr.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from .errors import ArticleNotFound, SearchIdxError
from .settings import (COMMAND_GC_THRESHOLD, DEFAULT_LIMIT, LOCK_WAIT_SECONDS, MAX_LIMIT,
                       OPENSEARCH_REPLICAS, OPENSEARCH_SHARDS, PROGRESS_MIN_BYTES,
                       PROGRESS_MIN_FILES, PROGRESS_REDRAW_SECONDS, REPORT_MAX_LINES, WEB_HOST,
                       WEB_PORT)

# Most objects a command makes live until it ends (modules, the index's tables), so the
# garbage collector's passes free next to nothing: with Python's default threshold a cold
# search spent ~5 ms in 27 of them (10 objects freed). Set before click is imported, the
# bulk of a command's start; so importing this module sets it for the whole process.
# ``serve`` lives on, its requests leaving cycles behind: it goes back to the process's own.
_PROCESS_GC_THRESHOLD = gc.get_threshold()
gc.set_threshold(COMMAND_GC_THRESHOLD)

import click  # noqa: E402 (once the threshold is set)

# A whole escape sequence (CSI "ESC [ … letter", OSC "ESC ] … BEL", or ESC and a letter),
# or any other control character but tab and newline.
_TERMINAL_UNSAFE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_])?"
                              r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# The sequences _echo keeps: the colours click.style writes (an article's own text has been
# through _terminal_safe, which keeps none).
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
_C1_CONTROL = re.compile(r"[\x7f-\x9f]")


class _IndexLocation(click.Path):
    """An index folder, or the URL of an index on a cluster (opensearch://HOST:PORT/NAME),
    kept as written (a Path would fold its "//")."""

    def convert(self, value, param, ctx):
        if "://" in str(value):
            return str(value)
        return super().convert(value, param, ctx)


# Path types shared by the commands: click translates a type's name when one is made (a
# gettext look-up on disk), and a type per command made start-up ~1 ms slower.
_INDEX_LOCATION = _IndexLocation(file_okay=False, path_type=Path)
_FILE_OR_FOLDER = click.Path(path_type=Path)


class Failure(click.ClickException):
    """An error shown as one line, ``searchidx: error: …``, with exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:  # noqa: ARG002 (click's signature)
        _echo(f"searchidx: error: {self.format_message()}", err=True)


@contextmanager
def _reported_errors() -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        _echo("searchidx: interrupted; the index keeps what it had before this command",
              err=True)
        sys.exit(130)
    except ArticleNotFound as error:
        _echo(f"searchidx: {error}", err=True)
        sys.exit(1)
    except SearchIdxError as error:
        raise Failure(str(error)) from None
    except OSError as error:
        where = f" {error.filename}" if error.filename else ""
        raise Failure(f"{error.strerror or error}{':' if where else ''}{where}") from None


def _index_option(function: Callable) -> Callable:
    return click.option(
        "--index", "index_dir", type=_INDEX_LOCATION,
        help="Index folder, or opensearch://HOST:PORT/NAME for an index on an OpenSearch "
             "cluster [default: $SEARCHIDX_INDEX, else a per-user data folder].",
    )(function)


def _format_option(function: Callable) -> Callable:
    return click.option("--format", "output_format", type=click.Choice(["text", "json"]),
                        default="text", show_default=True, help="Output format.")(function)


def _wait_option(function: Callable) -> Callable:
    return click.option("--wait", type=click.FloatRange(0), default=LOCK_WAIT_SECONDS,
                        show_default=True, metavar="SECONDS",
                        help="How long to wait for another process writing the index.")(function)


def _date_order_option(function: Callable) -> Callable:
    return click.option(
        "--date-order", type=click.Choice(["dmy", "mdy"]), envvar="SEARCHIDX_DATE_ORDER",
        help="How to read all-numeric dates such as 03/04/2024 (day first or month first); "
             "without it they are not read and the article is indexed undated "
             "[default: $SEARCHIDX_DATE_ORDER].")(function)


def _force_option(function: Callable) -> Callable:
    return click.option("--force", is_flag=True,
                        help="Go on even if the index would be left with fewer than half of "
                             "its articles while their files are still there.")(function)


def _echo_json(data: object) -> None:
    import json  # only --format json needs it: kept out of start-up

    # C1 controls are the only ones json.dumps leaves as they are: escaped, they keep the data.
    _echo(_C1_CONTROL.sub(lambda match: f"\\u{ord(match[0]):04x}",
                          json.dumps(data, ensure_ascii=False, indent=2)))


def _use_color() -> bool | None:
    """No colour if NO_COLOR is set; otherwise click's default (colour only on a terminal)."""
    return False if os.environ.get("NO_COLOR") else None


def _terminal_safe(text: str) -> str:
    """Article text with control characters and escape sequences removed."""
    return _TERMINAL_UNSAFE.sub("", text)


def _echo(line: str = "", *, err: bool = False, color: bool | None = None) -> None:
    """Print a line, the one way the CLI prints: whatever a file name, an article or a query
    holds, no control character or escape sequence but click's colours reaches the
    terminal. A reader that has gone (``| head -1``) ends the command quietly."""
    safe = _TERMINAL_UNSAFE.sub(lambda match: match[0] if _COLOUR.fullmatch(match[0]) else "",
                                line)
    try:
        click.echo(safe, err=err, color=color)
    except BrokenPipeError:
        _reader_gone()


def _reader_gone() -> NoReturn:
    """Stop writing, with success: the reader of the output has all it wanted."""
    # Python would flush stdout again at exit and fail once more: it goes nowhere now.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(0)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="searchidx")
def cli() -> None:
    """Full-text search for a news archive, with complete Vietnamese diacritic folding.

    `Vu` finds `Vũ`, and `Vũ` finds `Vu`. Try:  searchidx search "Nguyễn Minh Vũ"
    """


# --- opening the index ---------------------------------------------------------------------

def _open_for_reading(index_dir: Path | None, aliases_file: Path | None = None):
    from .library import SearchIndex, default_index

    if index_dir is None:
        location, built_from_seeds = default_index()
        if built_from_seeds:
            _echo(f"searchidx: building the default index from the bundled seed articles "
                  f"in {location}", err=True)
    return SearchIndex.open(index_dir, aliases_file=aliases_file)


def _open_for_writing(index_dir: Path | None, shards: int | None = None,
                      replicas: int | None = None):
    from .library import SearchIndex, default_index

    return SearchIndex.open(index_dir or default_index()[0], create=True, shards=shards,
                            replicas=replicas)


# --- search --------------------------------------------------------------------------------------

@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", "-n", type=click.IntRange(1, MAX_LIMIT), default=DEFAULT_LIMIT,
              show_default=True, help="How many hits to show.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Only articles dated on or after this day.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Only articles dated on or before this day.")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance",
              show_default=True, help="Best match first, or newest first.")
@click.option("--aliases", "aliases_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A file of extra alias groups [default: $SEARCHIDX_ALIASES].")
@click.option("--no-aliases", is_flag=True, help="Search the words as typed, without aliases.")
@_format_option
@_index_option
def search(query: tuple[str, ...], limit: int, since: dt.datetime | None,
           until: dt.datetime | None, sort: str, aliases_file: Path | None, no_aliases: bool,
           output_format: str, index_dir: Path | None) -> None:
    """Search the archive for QUERY (one or more words). Every word must match; accents
    are optional.

    A query that starts with "-" goes after "--":  searchidx search -- "-Hanoi Korea"

    Exit status: 0 with hits, 1 with none, 2 on an error.
    """
    with _reported_errors(), _open_for_reading(index_dir, aliases_file) as idx:
        results = idx.search(" ".join(query), limit=limit,
                             since=since.date() if since else None,
                             until=until.date() if until else None, sort=sort,  # type: ignore[arg-type]
                             expand_aliases=not no_aliases)
    _finish_results(results, output_format)


def _finish_results(results, output_format: str) -> None:
    if results.notice:
        _echo(f"searchidx: {results.notice}", err=True)
    if output_format == "json":
        _echo_json(results.to_dict())
    else:
        _print_results(results)
    sys.exit(0 if results.hits else 1)


@cli.command()
@click.argument("article_id", metavar="ID")
@click.option("--limit", "-n", type=click.IntRange(1, MAX_LIMIT), default=DEFAULT_LIMIT,
              show_default=True, help="How many related articles to show.")
@_format_option
@_index_option
def similar(article_id: str, limit: int, output_format: str, index_dir: Path | None) -> None:
    """Articles related to the article ID (never the article itself).

    Exit status: 0 with related articles, 1 with none or an unknown ID, 2 on an error.
    """
    with _reported_errors(), _open_for_reading(index_dir) as idx:
        results = idx.similar(article_id, limit=limit)
    _finish_results(results, output_format)


def _print_results(results) -> None:
    color = _use_color()
    shown = f"{len(results)} shown" if len(results) < results.total else ""
    noun = "result" if results.total == 1 else "results"
    _echo(f"{results.total} {noun} for “{results.query}”"
          f"{' (' + shown + ')' if shown else ''}", color=color)
    for rank, hit in enumerate(results, start=1):
        _echo("", color=color)
        _echo(f"{rank:>2}. " + click.style(_terminal_safe(hit.title), bold=True), color=color)
        facts = [hit.date.isoformat() if hit.date else "undated", hit.place, hit.source,
                 f"score {hit.score:.2f}", f"id {hit.id}"]  # the id is what show takes
        facts_line = _terminal_safe(" · ".join(f for f in facts if f))
        _echo("    " + click.style(facts_line, dim=True), color=color)
        _echo("    " + click.style(_terminal_safe(hit.path), fg="cyan"), color=color)
        _echo("    " + _styled_snippet(hit), color=color)


def _styled_snippet(hit) -> str:
    from .library import marked

    return marked(hit.snippet, hit.highlights, _terminal_safe,
                  lambda match: click.style(_terminal_safe(match), fg="yellow", bold=True))


# --- index and rebuild ------------------------------------------------------------------------

def _writing_command(function: Callable) -> Callable:
    """The arguments and options that ``index`` and ``rebuild`` share."""
    for decorate in (_cluster_options, _force_option, _date_order_option, _wait_option,
                     _index_option, _format_option,
                     click.argument("paths", nargs=-1, required=True, type=_FILE_OR_FOLDER)):
        function = decorate(function)
    return function


def _cluster_options(function: Callable) -> Callable:
    """--shards and --replicas: those of a new index on an OpenSearch cluster."""
    function = click.option(
        "--replicas", type=click.IntRange(0, 100), default=None,
        help="OpenSearch only: replicas of each shard of a new index "
             f"[default: {OPENSEARCH_REPLICAS}].")(function)
    return click.option(
        "--shards", type=click.IntRange(1, 1024), default=None,
        help=f"OpenSearch only: shards of a new index [default: {OPENSEARCH_SHARDS}].",
    )(function)


@cli.command("index")
@_writing_command
def index_command(paths: tuple[Path, ...], output_format: str, index_dir: Path | None,
                  wait: float, date_order: str | None, force: bool, shards: int | None,
                  replicas: int | None) -> None:
    """Add new and changed articles from PATHS (files or folders) and drop deleted ones.

    Exit status: 0 if every file was indexed, 1 if some were skipped, 2 on an error
    (also when the index would lose half of its articles: see --force).
    """
    _write("index", paths, output_format, index_dir, wait, (shards, replicas),
           date_order=date_order, force=force)


@cli.command()
@_writing_command
def rebuild(paths: tuple[Path, ...], output_format: str, index_dir: Path | None,
            wait: float, date_order: str | None, force: bool, shards: int | None,
            replicas: int | None) -> None:
    """Build a fresh index of exactly the articles in PATHS and swap it in atomically.

    Searches running meanwhile see the old index or the new one, never a half-built one.
    """
    _write("rebuild", paths, output_format, index_dir, wait, (shards, replicas),
           date_order=date_order, force=force)


def _write(method: str, paths: tuple[Path, ...], output_format: str, index_dir: Path | None,
           wait: float, cluster: tuple[int | None, int | None], **options: object) -> None:
    with _reported_errors(), _open_for_writing(index_dir, *cluster) as idx, \
            _progress(output_format == "text" and sys.stderr.isatty()) as on_progress:
        report = getattr(idx, method)(paths, wait=wait, on_progress=on_progress, **options)
    _finish_report(report, idx.location, output_format)


@contextmanager
def _progress(on_terminal: bool) -> Iterator[Callable | None]:
    """A progress line on stderr, once there is a lot to read: the share of bytes read,
    articles a second and the time left. Nothing off a terminal or with JSON output."""
    if not on_terminal:
        yield None
        return
    line = _ProgressLine()
    try:
        yield line.update
    finally:
        line.end()


class _ProgressLine:
    """``Indexing  42%  11.5 of 27.4 MiB  1,234 articles/s  0:13 left``, redrawn in place."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.drawn: tuple[int, float] | None = None  # percentage and time of the last drawing
        self.width = 0

    def update(self, state) -> None:
        if state.files_total < PROGRESS_MIN_FILES and state.bytes_total < PROGRESS_MIN_BYTES:
            return
        now = time.monotonic()
        percent = 100 * state.bytes_done // max(state.bytes_total, 1)
        same_percent = self.drawn is not None and self.drawn[0] == percent
        if same_percent and now - self.drawn[1] < PROGRESS_REDRAW_SECONDS:
            return
        self.drawn = (percent, now)
        text = f"Indexing {percent:3d}%  {_mebibytes(state.bytes_done)} of " \
               f"{_mebibytes(state.bytes_total)} MiB{_rates(state, now - self.started)}"
        sys.stderr.write(f"\r{text:<{self.width}}")
        sys.stderr.flush()
        self.width = len(text)

    def end(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _mebibytes(size: int) -> str:
    return f"{size / 2**20:,.1f}"


def _rates(state, elapsed: float) -> str:
    """``  1,234 articles/s  0:13 left``, once something has been read; ``finishing`` once
    all is read (the index is still being written)."""
    if elapsed <= 0 or state.bytes_done == 0:
        return ""
    speed = f"  {state.articles / elapsed:,.0f} articles/s"
    if state.bytes_done >= state.bytes_total:
        return f"{speed}  finishing"
    left = (state.bytes_total - state.bytes_done) * elapsed / state.bytes_done
    minutes, seconds = divmod(round(left), 60)
    hours, minutes = divmod(minutes, 60)
    clock = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    return f"{speed}  {clock} left"


def _finish_report(report, location: Path, output_format: str) -> None:
    # Skips first: their articles are not in the index, a warned one's are.
    lines = [f"skipped {skipped.path}: {skipped.reason}" for skipped in report.skipped]
    lines += [f"warning: {warning}" for warning in report.warnings]
    for line in lines[:REPORT_MAX_LINES]:
        _echo(f"searchidx: {line}", err=True)
    if len(lines) > REPORT_MAX_LINES:
        _echo(f"searchidx: … and {len(lines) - REPORT_MAX_LINES:,} more "
              f"(--format json lists all)", err=True)
    if output_format == "json":
        _echo_json(report.to_dict())
    else:
        _echo(f"{report.added} added, {report.updated} updated, {report.removed} removed, "
              f"{report.unchanged} unchanged, {len(report.skipped)} skipped ({location})")
    sys.exit(1 if report.skipped else 0)


# --- show and stats ----------------------------------------------------------------------------

@cli.command()
@click.argument("article_id", metavar="ID")
@_format_option
@_index_option
def show(article_id: str, output_format: str, index_dir: Path | None) -> None:
    """Print one article: title, date, place, source, path and text."""
    with _reported_errors(), _open_for_reading(index_dir) as idx:
        article = idx.article(article_id)
        if article is None:
            raise ArticleNotFound(f"no article with id {article_id!r} in {idx.location}")
    if output_format == "json":
        _echo_json(article.to_dict())
        return
    _echo(click.style(_terminal_safe(article.title), bold=True), color=_use_color())
    for label, value in (("Date", article.date), ("Place", article.place),
                         ("Source", article.source), ("Path", article.path), ("URL", article.url)):
        if value:
            _echo(f"{label + ':':<8}{_terminal_safe(str(value))}")
    _echo()
    _echo(_terminal_safe(article.body))


@cli.command()
@_format_option
@_index_option
def stats(output_format: str, index_dir: Path | None) -> None:
    """Print where the index is, how many articles it holds, its size and last update."""
    with _reported_errors(), _open_for_reading(index_dir) as idx:
        info = idx.stats()
    if output_format == "json":
        _echo_json(info.to_dict())
        return
    _echo(f"Index:    {info.location}\nArticles: {info.articles}\n"
          f"Size:     {info.size_bytes / 1024:.1f} KiB\nUpdated:  {info.updated.isoformat()}\n"
          f"Analysis: {_analysis_line(info)}")


def _analysis_line(info) -> str:
    """The analysis version the index was built with, and whether a rebuild is needed."""
    if not info.rebuild_needed:
        return f"version {info.analysis_version} (current)"
    return (f"version {info.analysis_version}, not this searchidx's: run `searchidx rebuild` "
            f"to get its foldings, joined names and exact spellings")


@cli.command()
@click.option("--repair", is_flag=True, help="Re-index the articles whose files differ.")
@_format_option
@_index_option
@_wait_option
@_date_order_option
@_force_option
def check(repair: bool, output_format: str, index_dir: Path | None, wait: float,
          date_order: str | None, force: bool) -> None:
    """Check the index against the files it came from: missing, changed, unreadable,
    duplicated. Exit status: 0 if all is well (after --repair: if all was fixed), 1 if not.
    """
    with _reported_errors(), _open_for_reading(index_dir) as idx:
        report = idx.check(repair=repair, wait=wait, date_order=date_order, force=force)
    if output_format == "json":
        _echo_json(report.to_dict())
    else:
        _print_check(report)
    sys.exit(1 if report.problems or report.damaged else 0)


def _print_check(report) -> None:
    if report.repaired:
        done = report.repaired
        _echo(f"Repaired: {done.added} added, {done.updated} updated, {done.removed} "
              f"removed, {done.unchanged} unchanged, {len(done.skipped)} skipped")
    _echo(f"Index: {report.location} ({report.articles} articles)")
    for damage in report.damaged:
        _echo(f"{'damaged':<16} {_terminal_safe(damage.file)} {damage.problem}")
    if report.damaged:
        _echo(f"The index is damaged; `searchidx rebuild PATH… --index {report.location}` "
              f"builds it afresh from your files.")
        return
    for problem in report.problems:
        _echo(f"{problem.problem:<16} {_terminal_safe(problem.id)}  "
              f"{_terminal_safe(problem.path)}")
    if not report.problems:
        _echo("No problems.")
    elif not report.repaired:
        _echo(f"{len(report.problems)} problem(s); `searchidx check --repair` re-indexes them.")


# --- serve ---------------------------------------------------------------------------------------

@cli.command()
@_index_option
@click.option("--host", default=WEB_HOST, show_default=True,
              help="Address to listen on; 0.0.0.0 opens the page to other machines.")
@click.option("--port", type=click.IntRange(0, 65535), default=WEB_PORT, show_default=True,
              help="Port to listen on (0: any free port).")
def serve(index_dir: Path | None, host: str, port: int) -> None:
    """Serve the web search page and its JSON API, until Ctrl+C."""
    gc.set_threshold(*_PROCESS_GC_THRESHOLD)
    from . import web  # the web stack is imported by this command alone

    if not web.is_loopback(host):
        _echo(f"searchidx: warning: listening on {host}, so anyone who can reach this "
              f"machine can read the archive (there is no login)", err=True)
    with _reported_errors(), _open_for_reading(index_dir) as idx:
        web.serve(idx, host, port, ready=lambda url: _echo(
            f"searchidx: serving {idx.location} at {url} (Ctrl+C to stop)", err=True))


def main() -> None:
    """Entry point of the ``searchidx`` command; never ends in a traceback."""
    try:
        try:
            cli(prog_name="searchidx")
        finally:  # output still buffered meets a reader that has gone here, not at exit
            sys.stdout.flush()
    except BrokenPipeError:
        _reader_gone()
    except Exception as error:  # noqa: BLE001 (the last line of defence for the user)
        if os.environ.get("SEARCHIDX_DEBUG"):
            raise
        _echo(f"searchidx: internal error: {type(error).__name__}: {error} "
              f"(set SEARCHIDX_DEBUG=1 to see where)", err=True)
        sys.exit(2)
    finally:
        # The process ends here, its files closed: spare Python's garbage collection of
        # every module and object as it exits (~20 ms of a cold search).
        gc.freeze()
