#!/usr/bin/env python3
"""Side-by-side benchmark: searchidx against SQLite FTS5, Tantivy and stock Whoosh (issue 7).

Every system is built from the same documents in the same run, each build in a child
process so that its peak memory is its own. Then, for each system: index size against the
raw text, query latency (top 10, with and without snippets) over a fixed, seeded set of
queries drawn from the corpus, a cold command-line search in a fresh process, and the time
to add 1% new and update 1% changed documents (for searchidx: the ``index`` run after 1% of
the corpus file's lines were edited, the editing untimed). For searchidx also: re-running
``index`` on the unchanged corpus, a cold ``search --format json``, and its index size by
part (segment file kind, and each field's postings with their positions and character
offsets). searchidx and stock Whoosh are also built from the first 2,000, 5,000 and 21,000
documents (``--build-sizes``), for their articles/s and peak memory at each size. At
``--scale K`` every system is also built from the corpus once and timed on the same
queries, for the growth of p95 from scale 1 in the same run.

    python scripts/bench.py                                   # Reuters-21578, every system
    python scripts/bench.py --docs 2000 --systems searchidx,fts5 --json out.json
    python scripts/bench.py --scale 10 --systems searchidx,whoosh

Benchmark dependencies: ``pip install -e '.[bench]'`` (tantivy, psutil). The corpus is
Reuters-21578 in ``$SEARCHIDX_DATA/reuters21578/docs.jsonl`` (``SEARCHIDX_DATA`` defaults to
``../shared/data`` beside the checkout; the corpus is not shipped: research use only).
Without it the script says so and exits 0, so it can sit beside the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SEARCHIDX_DATA") or REPO.parent / "shared" / "data")
DEFAULT_CORPUS = DATA / "reuters21578" / "docs.jsonl"
ALL_SYSTEMS = ("searchidx", "fts5", "tantivy", "whoosh")
# searchidx on an OpenSearch cluster, run only when asked (--systems …,opensearch) and given
# the cluster's URL in this variable (opensearch://HOST:PORT[,HOST:PORT…]).
OPENSEARCH_VARIABLE = "SEARCHIDX_OPENSEARCH_CLUSTER"
TITLE_WEIGHT = 2.0          # the peers' title boost (the issue: bm25() with title weight 2)
TOP = 10
CHANGE_FRACTION = 0.01      # add 1% new and update 1% changed documents
RSS_SAMPLE_SECONDS = 0.25   # psutil scans /proc: sampling more often steals CPU from the build
P95_GROWTH_LIMIT = 3.5       # issue 20: p95 with snippets at --scale 10 over p95 at scale 1
RARE_NAME_DOCS = (2, 5)     # a "rare name" occurs in this many documents (inclusive)
QUERY_WORD = re.compile(r"[A-Za-z]{4,}")
MIB = 2**20

Doc = dict[str, str]
"""One benchmark document: ``id``, ``title``, ``body`` and optionally ``date`` (ISO)."""


# --- the corpus ---------------------------------------------------------------------------------

_DATE_FORMATS = ("%d-%b-%Y %H:%M:%S.%f", "%d-%b-%Y %H:%M:%S", "%Y-%m-%d")


def _iso_date(text: str) -> str | None:
    """The day of a corpus date (Reuters writes ``26-FEB-1987 15:41:56.54``) in ISO form."""
    for pattern in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip().title(), pattern).date().isoformat()
        except ValueError:
            continue
    return None


def _doc_from_record(record: dict) -> Doc | None:
    """A benchmark document; a title-only article takes its title as its body too."""
    title = " ".join(str(record.get("title") or "").split())
    body = str(record.get("body") or record.get("text") or "").strip() or title
    if record.get("id") in (None, "") or not body:
        return None
    doc = {"id": str(record["id"]), "title": title, "body": body}
    date = _iso_date(str(record.get("date") or ""))
    if date:
        doc["date"] = date
    return doc


def load_corpus(path: Path, limit: int | None) -> list[Doc]:
    """The first ``limit`` usable documents of a JSONL corpus."""
    docs: list[Doc] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            doc = _doc_from_record(json.loads(line)) if line.strip() else None
            if doc:
                docs.append(doc)
            if limit and len(docs) >= limit:
                break
    return docs


def scaled(docs: list[Doc], scale: int) -> list[Doc]:
    """The corpus repeated ``scale`` times, each copy with distinct ids."""
    return [doc if copy == 0 else {**doc, "id": f"{doc['id']}~{copy}"}
            for copy in range(scale) for doc in docs]


def write_jsonl(path: Path, docs: Iterable[Doc]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for doc in docs:
            handle.write(json.dumps(doc, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> Iterator[Doc]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def raw_text_bytes(docs: list[Doc]) -> int:
    return sum(len(doc["title"].encode()) + len(doc["body"].encode()) for doc in docs)


def changes(docs: list[Doc], rng: random.Random) -> tuple[list[Doc], list[Doc]]:
    """1% new documents (fresh ids) and 1% existing ones with a changed body."""
    count = max(1, int(len(docs) * CHANGE_FRACTION))
    added = [{**doc, "id": f"{doc['id']}+new"} for doc in rng.sample(docs, count)]
    updated = [{**doc, "body": doc["body"] + "\nThis article was corrected."}
               for doc in rng.sample(docs, count)]
    return added, updated


# --- the queries ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Query:
    """A query drawn from the corpus: some words, or a phrase of adjacent words."""

    kind: str
    words: tuple[str, ...]

    @property
    def text(self) -> str:
        """The query in Whoosh/Tantivy syntax (every word must match)."""
        joined = " ".join(self.words)
        return f'"{joined}"' if self.kind == "phrase" else joined

    @property
    def fts5(self) -> str:
        """The query in FTS5 syntax, every word quoted so none reads as an operator."""
        if self.kind == "phrase":
            return f'"{" ".join(self.words)}"'
        return " ".join(f'"{word}"' for word in self.words)


def make_queries(docs: list[Doc], count: int, seed: int) -> list[Query]:
    """``count`` queries, a quarter of each kind: two words, three words, a phrase, a rare name."""
    from whoosh.analysis import STOP_WORDS

    rng = random.Random(seed)
    texts = [doc["body"] for doc in docs if len(doc["body"]) > 400]
    makers: list[Callable[[], Query | None]] = [
        lambda: _some_words(rng, texts, 2, STOP_WORDS),
        lambda: _some_words(rng, texts, 3, STOP_WORDS),
        lambda: _phrase(rng, texts, STOP_WORDS),
        _rare_name_maker(rng, docs),
    ]
    queries: list[Query] = []
    for _ in range(count * 20):
        query = makers[len(queries) % len(makers)]()
        if query and query not in queries:
            queries.append(query)
        if len(queries) == count:
            return queries
    raise SystemExit(f"bench: the corpus is too small to draw {count} queries from")


def _content_words(text: str, stopwords: frozenset[str]) -> list[str]:
    return [w for w in QUERY_WORD.findall(text) if w.lower() not in stopwords]


def _some_words(rng: random.Random, texts: list[str], size: int,
                stopwords: frozenset[str]) -> Query | None:
    words = sorted({w.lower() for w in _content_words(rng.choice(texts), stopwords)})
    return Query(f"{size} words", tuple(rng.sample(words, size))) if len(words) >= size else None


def _phrase(rng: random.Random, texts: list[str], stopwords: frozenset[str]) -> Query | None:
    pairs = re.findall(r"(?=\b([a-z]{4,}) ([a-z]{4,})\b)", rng.choice(texts))
    pairs = [pair for pair in pairs if not stopwords.intersection(pair)]
    return Query("phrase", rng.choice(pairs)) if pairs else None


def _rare_name_maker(rng: random.Random, docs: list[Doc]) -> Callable[[], Query | None]:
    """Capitalized words seen mid-sentence in only a few documents: names."""
    document_counts: Counter[str] = Counter()
    for doc in docs:
        document_counts.update({w.lower() for w in QUERY_WORD.findall(doc["body"])})
    low, high = RARE_NAME_DOCS
    names = sorted({name for doc in docs for name in re.findall(r"[a-z,] ([A-Z][a-z]{3,})\b", doc["body"])
                    if low <= document_counts[name.lower()] <= high})
    return lambda: Query("rare name", (rng.choice(names),)) if names else None


# --- the systems ------------------------------------------------------------------------------------

class Engine:
    """One system under test. ``build`` runs in a child process; the rest in this one."""

    name = ""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.index_dir = workdir / f"{self.name}-index"

    def build(self, corpus: Path) -> int:
        """Index the corpus file into a new index; return how many documents it holds."""
        raise NotImplementedError

    def open(self) -> None:
        """Open the built index for searching."""

    def search(self, query: Query, snippets: bool) -> int:
        """Run one query for the top 10 (id, title and, if asked, a snippet); return the hits."""
        raise NotImplementedError

    def close(self) -> None:
        """Close what ``open`` opened."""

    def add(self, docs: list[Doc]) -> None:
        """Add new documents to the built index."""
        raise NotImplementedError

    def update(self, docs: list[Doc]) -> None:
        """Replace documents in the built index by id."""
        raise NotImplementedError

    def prepare_update(self, docs: list[Doc]) -> None:
        """What the user does before an update, untimed (a file-based system's files
        are edited); the others are given the documents by ``update``."""

    def cold_command(self, query: Query) -> list[str] | None:
        """A command searching in a fresh process, or None."""
        return None


class SearchIdxEngine(Engine):
    """searchidx through its library API; its corpus is a JSONL file in a folder of its own."""

    name = "searchidx"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.corpus_dir = workdir / "searchidx-corpus"
        self.index_handle = None

    def build(self, corpus: Path) -> int:
        from searchidx import SearchIndex

        with SearchIndex.open(self.index_dir, create=True) as idx:
            idx.index([self.corpus_dir])
            return idx.stats().articles

    def open(self) -> None:
        from searchidx import SearchIndex

        self.index_handle = SearchIndex.open(self.index_dir)

    def search(self, query: Query, snippets: bool) -> int:
        if snippets:
            hits = self.index_handle.search(query.text, limit=TOP)
            return sum(1 for hit in hits if hit.id and hit.title is not None and hit.snippet is not None)
        return self._search_without_snippets(query)

    def _search_without_snippets(self, query: Query) -> int:
        """The library always cuts snippets, so this does the rest of what it does with its
        own (private) snapshot and query builder: parse, rank, count, read the hits."""
        snapshot = self.index_handle._current_snapshot()
        parsed = self.index_handle._query_builder(snapshot, True).parse(query.text)
        ranking = snapshot.search(parsed.query, limit=TOP, exact=parsed.exact)
        stored = [snapshot.stored_fields(hit.docnum) for hit in ranking.hits]
        return sum(1 for fields in stored if fields["id"] and "title" in fields)

    def close(self) -> None:
        self.index_handle.close()

    def add(self, docs: list[Doc]) -> None:
        write_jsonl(self.corpus_dir / "added.jsonl", docs)
        self._index()

    def prepare_update(self, docs: list[Doc]) -> None:
        changed = {doc["id"]: doc for doc in docs}
        corpus = self.corpus_dir / "docs.jsonl"
        rewritten = [changed.get(doc["id"], doc) for doc in read_jsonl(corpus)]
        write_jsonl(corpus, rewritten)

    def update(self, docs: list[Doc]) -> None:
        self._index()  # of the corpus file that prepare_update edited

    def _index(self) -> None:
        from searchidx import SearchIndex

        with SearchIndex.open(self.index_dir) as idx:
            idx.index([self.corpus_dir])

    def cold_command(self, query: Query) -> list[str]:
        return [*searchidx_command(), "search", query.text, "--index", str(self.index_dir)]

    def cold_json_command(self, query: Query) -> list[str]:
        return [*self.cold_command(query), "--format", "json"]

    def reindex_command(self) -> list[str]:
        return [*searchidx_command(), "index", str(self.corpus_dir), "--index", str(self.index_dir)]


def searchidx_command() -> list[str]:
    """The ``searchidx`` console script of this Python, else ``python -m searchidx``."""
    script = Path(sys.executable).with_name("searchidx")
    return [str(script)] if script.exists() else [sys.executable, "-m", "searchidx"]


class OpenSearchEngine(SearchIdxEngine):
    """searchidx on an OpenSearch cluster: the same library calls with a URL for a folder,
    a new index of 3 shards with 1 replica each per run (left on the cluster)."""

    name = "opensearch"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        cluster = os.environ.get(OPENSEARCH_VARIABLE, "").rstrip("/")
        if not cluster:
            raise SystemExit(f"bench: opensearch needs ${OPENSEARCH_VARIABLE} "
                             "(opensearch://HOST:PORT)")
        digest = hashlib.sha256(str(workdir).encode()).hexdigest()[:12]
        self.index_dir = f"{cluster}/bench-{digest}"

    def build(self, corpus: Path) -> int:
        from searchidx import SearchIndex

        with SearchIndex.open(self.index_dir, create=True, shards=3, replicas=1) as idx:
            idx.index([self.corpus_dir])
            return idx.stats().articles


FTS5_SQL = {
    "create": ("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, "
               "tokenize='porter unicode61 remove_diacritics 2')"),
    "insert": "INSERT INTO docs(rowid, id, title, body) VALUES (?, ?, ?, ?)",
    "update": "UPDATE docs SET title = ?, body = ? WHERE rowid = (SELECT docrow FROM ids WHERE id = ?)",
    "snippets": (f"SELECT id, title, snippet(docs, 2, '<b>', '</b>', '…', 32) FROM docs "
                 f"WHERE docs MATCH ? ORDER BY bm25(docs, 0, {TITLE_WEIGHT}, 1.0) LIMIT {TOP}"),
    "plain": (f"SELECT id, title FROM docs WHERE docs MATCH ? "
              f"ORDER BY bm25(docs, 0, {TITLE_WEIGHT}, 1.0) LIMIT {TOP}"),
}
FTS5_COLD_SCRIPT = ("import sqlite3, sys\n"
                    "rows = sqlite3.connect(sys.argv[1]).execute(sys.argv[2], (sys.argv[3],)).fetchall()\n"
                    "print('\\n'.join(map(str, rows)))\n")


class Fts5Engine(Engine):
    """SQLite FTS5 with the Porter stemmer; an ``ids`` table maps article ids to rowids."""

    name = "fts5"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.database = self.index_dir / "fts5.db"
        self.connection: sqlite3.Connection | None = None

    def build(self, corpus: Path) -> int:
        self.index_dir.mkdir(parents=True)
        with sqlite3.connect(self.database) as connection:
            connection.execute(FTS5_SQL["create"])
            connection.execute("CREATE TABLE ids (id TEXT PRIMARY KEY, docrow INTEGER)")
            self._insert(connection, read_jsonl(corpus), first_rowid=1)
            return connection.execute("SELECT count(*) FROM docs").fetchone()[0]

    @staticmethod
    def _insert(connection: sqlite3.Connection, docs: Iterable[Doc], first_rowid: int) -> None:
        for rowid, doc in enumerate(docs, start=first_rowid):
            connection.execute(FTS5_SQL["insert"], (rowid, doc["id"], doc["title"], doc["body"]))
            connection.execute("INSERT INTO ids VALUES (?, ?)", (doc["id"], rowid))

    def open(self) -> None:
        self.connection = sqlite3.connect(self.database)

    def search(self, query: Query, snippets: bool) -> int:
        sql = FTS5_SQL["snippets" if snippets else "plain"]
        return len(self.connection.execute(sql, (query.fts5,)).fetchall())

    def close(self) -> None:
        self.connection.close()

    def add(self, docs: list[Doc]) -> None:
        with sqlite3.connect(self.database) as connection:
            last = connection.execute("SELECT max(rowid) FROM docs").fetchone()[0]
            self._insert(connection, docs, first_rowid=last + 1)

    def update(self, docs: list[Doc]) -> None:
        with sqlite3.connect(self.database) as connection:
            connection.executemany(FTS5_SQL["update"],
                                   [(doc["title"], doc["body"], doc["id"]) for doc in docs])

    def cold_command(self, query: Query) -> list[str]:
        return [sys.executable, "-c", FTS5_COLD_SCRIPT, str(self.database),
                FTS5_SQL["snippets"], query.fts5]


class TantivyEngine(Engine):
    """tantivy-py with the ``en_stem`` tokenizer and one writer thread."""

    name = "tantivy"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.index = self.searcher = None

    @staticmethod
    def _schema():
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        builder.add_text_field("title", stored=True, tokenizer_name="en_stem")
        builder.add_text_field("body", stored=True, tokenizer_name="en_stem")
        return builder.build()

    def _open_index(self):
        import tantivy

        return tantivy.Index(self._schema(), path=str(self.index_dir))

    def build(self, corpus: Path) -> int:
        self.index_dir.mkdir(parents=True)
        index = self._open_index()
        self._write(index, read_jsonl(corpus), replace=False)
        index.reload()
        return index.searcher().num_docs

    @staticmethod
    def _write(index, docs: Iterable[Doc], replace: bool) -> None:
        import tantivy

        writer = index.writer(num_threads=1)
        for doc in docs:
            if replace:
                writer.delete_documents_by_term("id", doc["id"])
            writer.add_document(tantivy.Document(id=doc["id"], title=doc["title"], body=doc["body"]))
        writer.commit()
        writer.wait_merging_threads()

    def open(self) -> None:
        self.index = self._open_index()
        self.searcher = self.index.searcher()

    def search(self, query: Query, snippets: bool) -> int:
        import tantivy

        parsed = self.index.parse_query(query.text, ["title", "body"],
                                        field_boosts={"title": TITLE_WEIGHT},
                                        conjunction_by_default=True)
        hits = self.searcher.search(parsed, TOP).hits
        generator = (tantivy.SnippetGenerator.create(self.searcher, parsed, self.index.schema, "body")
                     if snippets else None)
        found = 0
        for _, address in hits:
            doc = self.searcher.doc(address)
            found += bool(doc["id"]) and bool(doc["title"] is not None)
            if generator is not None:
                generator.snippet_from_doc(doc).to_html()
        return found

    def add(self, docs: list[Doc]) -> None:
        self._write(self._open_index(), docs, replace=False)

    def update(self, docs: list[Doc]) -> None:
        self._write(self._open_index(), docs, replace=True)


class WhooshEngine(Engine):
    """Stock Whoosh: StemmingAnalyzer on title and body, ``hit.highlights`` for snippets."""

    name = "whoosh"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.index = self.searcher = self.parser = None

    def build(self, corpus: Path) -> int:
        from whoosh import index
        from whoosh.analysis import StemmingAnalyzer
        from whoosh.fields import ID, TEXT, Schema

        schema = Schema(id=ID(unique=True, stored=True),
                        title=TEXT(analyzer=StemmingAnalyzer(), stored=True, field_boost=TITLE_WEIGHT),
                        body=TEXT(analyzer=StemmingAnalyzer(), stored=True))
        self.index_dir.mkdir(parents=True)
        built = index.create_in(str(self.index_dir), schema)
        self._write(built, read_jsonl(corpus), replace=False)
        return built.doc_count()

    @staticmethod
    def _write(built, docs: Iterable[Doc], replace: bool) -> None:
        writer = built.writer()
        for doc in docs:
            fields = {"id": doc["id"], "title": doc["title"], "body": doc["body"]}
            (writer.update_document if replace else writer.add_document)(**fields)
        writer.commit()

    def open(self) -> None:
        from whoosh import index, qparser

        self.index = index.open_dir(str(self.index_dir))
        self.searcher = self.index.searcher()
        self.parser = qparser.MultifieldParser(["title", "body"], self.index.schema)

    def search(self, query: Query, snippets: bool) -> int:
        results = self.searcher.search(self.parser.parse(query.text), limit=TOP)
        found = 0
        for hit in results:
            found += bool(hit["id"]) and "title" in hit
            if snippets:
                hit.highlights("body")
        return found

    def close(self) -> None:
        self.searcher.close()
        self.index.close()

    def add(self, docs: list[Doc]) -> None:
        from whoosh import index

        self._write(index.open_dir(str(self.index_dir)), docs, replace=False)

    def update(self, docs: list[Doc]) -> None:
        from whoosh import index

        self._write(index.open_dir(str(self.index_dir)), docs, replace=True)


ENGINES: dict[str, type[Engine]] = {cls.name: cls for cls in
                                    (SearchIdxEngine, Fts5Engine, TantivyEngine, WhooshEngine,
                                     OpenSearchEngine)}
IMPORT_FLOOR = [sys.executable, "-c",
                "import click, whoosh.index, whoosh.searching, whoosh.qparser, whoosh.highlight"]


def searchidx_parts(index_dir: Path) -> dict[str, int]:
    """Bytes of the current generation by part: each segment file kind (``pst`` holds every
    field's postings with their positions and character offsets, ``trm`` the terms,
    ``_stored.col`` the stored fields, ``<field>.col`` a column), and each field's postings
    (with their positions and offsets) as their term infos give them; postings inlined in
    the terms file count under ``trm`` only."""
    from whoosh import index

    folder = index_dir / (index_dir / "CURRENT").read_text().strip()
    parts: Counter[str] = Counter()
    with index.open_dir(str(folder)).reader() as reader:
        for leaf, _ in reader.leaf_readers():
            storage, prefix = leaf.storage(), leaf.segment().segment_id() + "."
            for name in storage.list():  # the segment's files, inside its .seg if compound
                if name.startswith(prefix) and not name.endswith(".seg"):
                    parts[f"file {name[len(prefix):]}"] += storage.file_length(name)
            # the terms table itself: iter_field cannot list a date field's terms
            for (fieldname, _), info in leaf._terms.items():
                parts[f"postings {fieldname}"] += _postings_bytes(info)
    return dict(parts)


def _postings_bytes(info) -> int:
    """The bytes of a term's postings in the postings file (0 when inlined in the terms
    file); whoosh3 reads a stored extent's length back as a 1-tuple."""
    if info.is_inlined():
        return 0
    length = info.extent()[1]
    return length[0] if isinstance(length, tuple) else length


# --- measuring ----------------------------------------------------------------------------------

def seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def tree_rss(process) -> int:
    """Resident memory of a process and its children, in bytes (0 once it has ended)."""
    import psutil

    try:
        members = [process, *process.children(recursive=True)]
        return sum(member.memory_info().rss for member in members)
    except psutil.Error:
        return 0


def sample_peak_rss(pid: int, done: threading.Event, peak: list[int]) -> None:
    """Keep ``peak[0]`` at the largest resident memory of the process tree seen so far."""
    try:
        import psutil
        process = psutil.Process(pid)
    except (ImportError, OSError):
        return
    while not done.is_set():
        peak[0] = max(peak[0], tree_rss(process))
        time.sleep(RSS_SAMPLE_SECONDS)


def run_child_build(system: str, workdir: Path, corpus: Path) -> dict[str, float]:
    """Build one system in a fresh process; its build time, document count and peak RSS."""
    command = [sys.executable, __file__, "--child-build", system, "--workdir", str(workdir),
               "--corpus", str(corpus)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                               env=fresh_process_env())
    done, peak = threading.Event(), [0]
    sampler = threading.Thread(target=sample_peak_rss, args=(process.pid, done, peak))
    sampler.start()
    output, _ = process.communicate()
    done.set()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"bench: building {system} failed (exit {process.returncode})")
    report = json.loads(output.strip().splitlines()[-1])
    report["peak_rss_mb"] = max(peak[0], report.pop("maxrss_bytes")) / MIB
    return report


def child_build(system: str, workdir: Path, corpus: Path) -> None:
    """In the child process: build, then print the time, count and own peak RSS as JSON."""
    engine = ENGINES[system](workdir)
    start = time.perf_counter()
    documents = engine.build(corpus)
    elapsed = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"build_s": elapsed, "documents": documents,
                      "maxrss_bytes": max(own, children) * 1024}))


def directory_bytes(path: Path | str) -> int:
    """The bytes of a folder's files (0 for an index on a cluster, which has none here)."""
    if "://" in str(path):
        return 0
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99 of ``samples`` (seconds), in milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50_ms": cuts[49] * 1000, "p95_ms": cuts[94] * 1000, "p99_ms": cuts[98] * 1000}


def measure_queries(engines: list[Engine], queries: list[Query], rounds: int) -> dict[str, dict]:
    """Latency of every query on every engine; rounds interleave the engines against noise.

    Each query's time is its median over the rounds; percentiles are taken over queries.
    """
    modes = {"snippets": True, "plain": False}
    times = {e.name: {mode: [[] for _ in queries] for mode in modes} for e in engines}
    answered = {e.name: 0 for e in engines}
    for engine in engines:  # warm-up: caches, lazy imports, first reads from disk
        for query in queries:
            answered[engine.name] += engine.search(query, True) > 0
            engine.search(query, False)
    for _ in range(rounds):
        for engine in engines:
            for mode, snippets in modes.items():
                for number, query in enumerate(queries):
                    times[engine.name][mode][number].append(
                        seconds(lambda: engine.search(query, snippets)))
    return {name: {"queries_with_hits": answered[name],
                   **{mode: percentiles([statistics.median(t) for t in per_query])
                      for mode, per_query in by_mode.items()}}
            for name, by_mode in times.items()}


def fresh_process_env() -> dict[str, str]:
    """The environment of timed fresh processes: Python may cache bytecode, as it does in
    any installation (this sandbox sets PYTHONDONTWRITEBYTECODE, which would make every
    start compile searchidx's sources while the peers' modules come precompiled)."""
    return {name: value for name, value in os.environ.items()
            if name != "PYTHONDONTWRITEBYTECODE"}


def run_fresh(command: list[str]) -> subprocess.CompletedProcess:
    """Run ``command`` in a fresh process; fail loudly if it reports an error (exit 2)."""
    done = subprocess.run(command, capture_output=True, text=True, env=fresh_process_env(),
                          check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"bench: {' '.join(command[:3])}… failed: {done.stderr.strip()}")
    return done


def median_wall(command: list[str], runs: int) -> float:
    """Median wall time of a fresh process running ``command``, after one untimed run."""
    run_fresh(command)
    return statistics.median(seconds(lambda: run_fresh(command)) for _ in range(runs))


def measure_cold(engines: list[Engine], queries: list[Query], runs: int) -> dict[str, float]:
    """Cold search wall time (ms) per engine that has a command, and the import floor.

    The queries are rare names, so that the figure is the cost of starting up (imports,
    opening the index) rather than of matching, which the latency rows measure.
    """
    names = [q for q in queries if q.kind == "rare name"] or queries
    commands = {e.name: [e.cold_command(q) for q in names[:runs]] for e in engines
                if e.cold_command(queries[0])}
    cold = {name: statistics.median(median_wall(c, 1) for c in batch) * 1000
            for name, batch in commands.items()}
    for engine in engines:
        if engine.name == "searchidx":
            cold["searchidx json"] = statistics.median(
                median_wall(engine.cold_json_command(q), 1) for q in names[:runs]) * 1000
    cold["import floor"] = median_wall(IMPORT_FLOOR, runs) * 1000
    return cold


def measure_reindex(engine: SearchIdxEngine, documents: int, runs: int) -> float:
    """Wall time of ``searchidx index`` on the unchanged corpus, checked to change nothing."""
    report = json.loads(run_fresh([*engine.reindex_command(), "--format", "json"]).stdout)
    if report["unchanged"] != documents or report["added"] or report["updated"] or report["removed"]:
        raise SystemExit(f"bench: re-indexing the unchanged corpus changed it: {report}")
    return median_wall(engine.reindex_command(), runs)


# --- the run -------------------------------------------------------------------------------------

@dataclass
class Run:
    """Everything one run measured, ready for the table and for ``--json``."""

    machine: dict[str, object]
    corpus: dict[str, object]
    command: str
    systems: dict[str, dict[str, object]] = field(default_factory=dict)
    cold_ms: dict[str, float] = field(default_factory=dict)
    searchidx_parts_mb: dict[str, float] = field(default_factory=dict)


def machine() -> dict[str, object]:
    cpuinfo = Path("/proc/cpuinfo")
    models = re.findall(r"model name\s*:\s*(.+)", cpuinfo.read_text()) if cpuinfo.exists() else []
    return {"nproc": os.cpu_count(), "cpu": models[0] if models else platform.processor(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform()}


def measure_build_sizes(run: Run, base: list[Doc], args: argparse.Namespace,
                        workdir: Path) -> None:
    """Build searchidx and stock Whoosh from the first N documents for each N of
    ``--build-sizes``, each in a folder of its own; an N beyond the corpus builds it whole
    (Reuters has 20,841 usable articles, so "21000" is all of them)."""
    names = [name for name in ("searchidx", "whoosh") if name in args.systems]
    for size in sorted({min(n, len(base)) for n in args.build_sizes}):
        folder = workdir / f"size-{size}"
        write_jsonl(folder / "corpus.jsonl", base[:size])
        write_jsonl(folder / "searchidx-corpus" / "docs.jsonl", base[:size])
        for name in names:
            print(f"bench: building {name} ({size} documents)…", file=sys.stderr)
            figures = run_child_build(name, folder, folder / "corpus.jsonl")
            run.systems[name].setdefault("by_size", {})[str(size)] = {
                "documents": figures["documents"], "docs_per_s": size / figures["build_s"],
                "peak_rss_mb": figures["peak_rss_mb"]}
        shutil.rmtree(folder, ignore_errors=True)


def measure_growth(run: Run, base: list[Doc], queries: list[Query], args: argparse.Namespace,
                   workdir: Path) -> None:
    """At ``--scale K``, build every system from the corpus once (scale 1) too and time the
    same queries there, so that a figure's growth with the corpus is a ratio of one run."""
    folder = workdir / "scale-1"
    write_jsonl(folder / "corpus.jsonl", base)
    write_jsonl(folder / "searchidx-corpus" / "docs.jsonl", base)
    engines = [ENGINES[name](folder) for name in args.systems]
    for engine in engines:
        print(f"bench: building {engine.name} ({len(base)} documents, scale 1)…", file=sys.stderr)
        run_child_build(engine.name, folder, folder / "corpus.jsonl")
        engine.open()
    for name, figures in measure_queries(engines, queries, args.rounds).items():
        run.systems[name]["scale_1"] = figures
    for engine in engines:
        engine.close()
    shutil.rmtree(folder, ignore_errors=True)


def benchmark(args: argparse.Namespace, workdir: Path) -> Run:
    base = load_corpus(args.corpus, args.docs)
    docs = scaled(base, args.scale)
    corpus = workdir / "corpus.jsonl"
    write_jsonl(corpus, docs)
    write_jsonl(workdir / "searchidx-corpus" / "docs.jsonl", docs)
    queries = make_queries(base, args.queries, args.seed)
    run = Run(machine(), {"file": str(args.corpus), "documents": len(docs), "scale": args.scale,
                          "raw_text_mb": raw_text_bytes(docs) / MIB, "queries": len(queries)},
              " ".join(["python", "scripts/bench.py", *sys.argv[1:]]))
    engines = [ENGINES[name](workdir) for name in args.systems]
    for engine in engines:
        print(f"bench: building {engine.name} ({len(docs)} documents)…", file=sys.stderr)
        figures = run_child_build(engine.name, workdir, corpus)
        figures["docs_per_s"] = len(docs) / figures["build_s"]
        figures["index_mb"] = directory_bytes(engine.index_dir) / MIB
        figures["index_vs_raw"] = figures["index_mb"] / run.corpus["raw_text_mb"]
        run.systems[engine.name] = figures
        if engine.name == "searchidx":  # its folder's parts (not a cluster's)
            run.searchidx_parts_mb = {part: size / MIB for part, size in
                                      sorted(searchidx_parts(engine.index_dir).items())}
    measure_build_sizes(run, base, args, workdir)
    print("bench: querying…", file=sys.stderr)
    for engine in engines:
        engine.open()
    for name, figures in measure_queries(engines, queries, args.rounds).items():
        run.systems[name].update(figures)
    for engine in engines:
        engine.close()
    if args.scale > 1:
        measure_growth(run, base, queries, args, workdir)
    print("bench: cold searches…", file=sys.stderr)
    run.cold_ms = measure_cold(engines, queries, args.cli_runs)
    print("bench: adding and updating 1%…", file=sys.stderr)
    added, updated = changes(docs, random.Random(args.seed))
    for engine in engines:
        run.systems[engine.name]["add_1pct_s"] = seconds(lambda: engine.add(added))
        engine.prepare_update(updated)
        run.systems[engine.name]["update_1pct_s"] = seconds(lambda: engine.update(updated))
        if isinstance(engine, SearchIdxEngine):
            run.systems[engine.name]["reindex_unchanged_s"] = measure_reindex(
                engine, len(docs) + len(added), args.cli_runs)
    return run


# --- the table ----------------------------------------------------------------------------------

ROWS: list[tuple[str, Callable[[dict], float | None], str]] = [
    ("documents indexed", lambda s: s.get("documents"), "{:.0f}"),
    ("build time (s)", lambda s: s.get("build_s"), "{:.1f}"),
    ("build docs/s", lambda s: s.get("docs_per_s"), "{:.0f}"),
    ("index size (MB)", lambda s: s.get("index_mb"), "{:.1f}"),
    ("index size / raw text", lambda s: s.get("index_vs_raw"), "{:.2f}"),
    ("peak RSS building (MB)", lambda s: s.get("peak_rss_mb"), "{:.0f}"),
    ("add 1% (s)", lambda s: s.get("add_1pct_s"), "{:.2f}"),
    ("update 1%, index run only (s)", lambda s: s.get("update_1pct_s"), "{:.2f}"),
    ("query+snippets p50 (ms)", lambda s: s.get("snippets", {}).get("p50_ms"), "{:.2f}"),
    ("query+snippets p95 (ms)", lambda s: s.get("snippets", {}).get("p95_ms"), "{:.2f}"),
    ("query+snippets p99 (ms)", lambda s: s.get("snippets", {}).get("p99_ms"), "{:.2f}"),
    ("query only p50 (ms)", lambda s: s.get("plain", {}).get("p50_ms"), "{:.2f}"),
    ("query only p95 (ms)", lambda s: s.get("plain", {}).get("p95_ms"), "{:.2f}"),
    ("query only p99 (ms)", lambda s: s.get("plain", {}).get("p99_ms"), "{:.2f}"),
    ("queries with hits", lambda s: s.get("queries_with_hits"), "{:.0f}"),
    ("query+snippets p95 at scale 1 (ms)",
     lambda s: s.get("scale_1", {}).get("snippets", {}).get("p95_ms"), "{:.2f}"),
    ("query+snippets p95 growth from scale 1", lambda s: _p95_growth(s), "{:.2f}"),
    ("cold search, rare name (ms)", lambda s: s.get("cold_ms"), "{:.0f}"),
    ("cold search --format json (ms)", lambda s: s.get("cold_json_ms"), "{:.0f}"),
    ("re-index unchanged (s)", lambda s: s.get("reindex_unchanged_s"), "{:.2f}"),
]


def _p95_growth(system: dict) -> float | None:
    """p95 with snippets at this run's scale over p95 at scale 1 (``measure_growth``)."""
    at_scale_1 = system.get("scale_1", {}).get("snippets", {}).get("p95_ms")
    return system["snippets"]["p95_ms"] / at_scale_1 if at_scale_1 else None


def _cell(value: float | None, style: str, ours: float | None) -> str:
    if value is None:
        return "–"
    text = style.format(value)
    if ours is not None and value:
        text += f" [{ours / value:.2f}×]"
    return text


def table(run: Run) -> str:
    """The figures, one column a system; ``[r×]`` beside a peer's figure is searchidx ÷ peer."""
    systems = {name: {**figures, "cold_ms": run.cold_ms.get(name),
                      "cold_json_ms": run.cold_ms.get(f"{name} json")}
               for name, figures in run.systems.items()}
    if "import floor" in run.cold_ms:
        floor = run.cold_ms["import floor"]
        systems["import floor"] = {"cold_ms": floor,
                                   "cold_json_ms": floor if "searchidx json" in run.cold_ms else None}
    names = list(systems)
    ours = systems.get("searchidx", {})
    lines = [[""] + names]
    for label, get, style in ROWS + size_rows(run):
        if all(get(systems[name]) is None for name in names):
            continue
        lines.append([label] + [_cell(get(systems[name]), style,
                                      None if name == "searchidx" else get(ours)) for name in names])
    widths = [max(len(line[column]) for line in lines) for column in range(len(lines[0]))]
    rendered = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
                for line in lines]
    return "\n".join(rendered)


def size_rows(run: Run) -> list[tuple[str, Callable[[dict], float | None], str]]:
    """A build-speed and a memory row for each corpus size of ``measure_build_sizes``."""
    sizes = sorted({int(n) for s in run.systems.values() for n in s.get("by_size", {})})
    return [row for n in sizes for row in (
        (f"build docs/s, first {n}", lambda s, n=n: _at_size(s, n, "docs_per_s"), "{:.0f}"),
        (f"peak RSS building {n} (MB)", lambda s, n=n: _at_size(s, n, "peak_rss_mb"), "{:.0f}"))]


def _at_size(system: dict, size: int, key: str) -> float | None:
    return system.get("by_size", {}).get(str(size), {}).get(key)


def parts_table(run: Run) -> list[str]:
    """searchidx's index by part, in MB and against the raw text."""
    raw = run.corpus["raw_text_mb"]
    width = max(map(len, run.searchidx_parts_mb), default=0)
    return [f"  {part.ljust(width)}  {size:8.2f} MB  {size / raw:5.2f}× raw text"
            for part, size in run.searchidx_parts_mb.items()]


def targets(run: Run) -> list[str]:
    """The issue's targets that this run can check, each with its figure: at scale 1 the
    ratios against the peers, at a larger scale the growth of p95 (issue 20's 3.5 at 10)."""
    if run.corpus["scale"] > 1:
        return _growth_targets(run)
    s, cold = run.systems, run.cold_ms
    checks: list[tuple[str, float, float, bool]] = []  # (what, figure, limit, higher is better)
    if "searchidx" in s and "whoosh" in s:
        checks.append(("build docs/s vs whoosh", s["searchidx"]["docs_per_s"] / s["whoosh"]["docs_per_s"], 1.5, True))
        for size in sorted(map(int, s["searchidx"].get("by_size", {}))):
            if str(size) in s["whoosh"].get("by_size", {}):
                checks.append((f"build docs/s vs whoosh, first {size}",
                               _at_size(s["searchidx"], size, "docs_per_s")
                               / _at_size(s["whoosh"], size, "docs_per_s"), 2.0, True))
        checks.append(("query+snippets p95 vs whoosh", s["searchidx"]["snippets"]["p95_ms"] / s["whoosh"]["snippets"]["p95_ms"], 0.5, False))
        checks.append(("update 1% vs whoosh", s["searchidx"]["update_1pct_s"] / s["whoosh"]["update_1pct_s"], 1.5, False))
    if "searchidx" in s and "fts5" in s:
        for cut, limit in (("p50_ms", 2.5), ("p95_ms", 1.25)):  # issue 20's
            checks.append((f"query+snippets {cut[:3]} vs fts5",
                           s["searchidx"]["snippets"][cut] / s["fts5"]["snippets"][cut], limit, False))
    if "searchidx" in cold:
        checks.append(("cold CLI vs import floor", cold["searchidx"] / cold["import floor"], 1.25, False))
    if "searchidx json" in cold:
        checks.append(("cold CLI --format json vs import floor",
                       cold["searchidx json"] / cold["import floor"], 1.25, False))
    if "searchidx" in s:
        checks.append(("index size / raw text", s["searchidx"]["index_vs_raw"], 2.6, False))
    if "searchidx" in s:
        checks.append(("re-index unchanged (s)", s["searchidx"]["reindex_unchanged_s"], 2.0, False))
        checks.append(("peak RSS building (MB)", s["searchidx"]["peak_rss_mb"], 500.0, False))
    return _checked(checks)


def _growth_targets(run: Run) -> list[str]:
    scale, ours = run.corpus["scale"], run.systems.get("searchidx", {})
    checks = []
    if scale == 10 and ours.get("scale_1"):
        checks.append(("query+snippets p95 growth, scale 1 to 10", _p95_growth(ours),
                       P95_GROWTH_LIMIT, False))
    return _checked(checks) + ["(the other targets are set at scale 1: run without --scale)"]


def _checked(checks: list[tuple[str, float, float, bool]]) -> list[str]:
    return [f"{'met   ' if (value >= limit if higher else value <= limit) else 'MISSED'}  {what}: "
            f"{value:.2f} ({'≥' if higher else '≤'} {limit:g})" for what, value, limit, higher in checks]


def report(run: Run) -> str:
    m, c = run.machine, run.corpus
    head = (f"{c['documents']} documents ({c['raw_text_mb']:.1f} MB of text, scale {c['scale']}) "
            f"from {c['file']}; {c['queries']} queries\n"
            f"{m['nproc']} × {m['cpu']}, Python {m['python']}, SQLite {m['sqlite']}\n"
            f"command: {run.command}\n")
    note = ("[r×] = searchidx ÷ that system (docs/s: higher is better; "
            "times, sizes, memory: lower is better)")
    parts = ["", "searchidx index by part (current generation):", *parts_table(run)]
    return "\n".join([head, table(run), "", note, *(parts if run.searchidx_parts_mb else []),
                      "", "targets:", *targets(run)])


# --- the command line ------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, help=f"JSONL corpus [default: {DEFAULT_CORPUS}]")
    parser.add_argument("--docs", type=int, help="take only the first N documents")
    parser.add_argument("--scale", type=int, default=1, help="repeat the corpus K times with distinct ids")
    parser.add_argument("--systems", default=",".join(ALL_SYSTEMS),
                        help=f"comma-separated, from {','.join(ALL_SYSTEMS)}")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--queries", type=int, default=200, help="how many queries [200]")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the queries [3]")
    parser.add_argument("--cli-runs", type=int, default=7, help="fresh processes per cold figure [7]")
    parser.add_argument("--build-sizes", default="2000,5000,21000",
                        help="also build searchidx and whoosh from the first N documents, for "
                             "each N (at most the whole corpus) [2000,5000,21000]")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-build", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.systems = [name.strip() for name in args.systems.split(",") if name.strip()]
    args.build_sizes = [int(n) for n in args.build_sizes.split(",") if n.strip()]
    unknown = set(args.systems) - set(ALL_SYSTEMS) - {OpenSearchEngine.name}
    if unknown:
        parser.error(f"unknown systems: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_build:
        child_build(args.child_build, args.workdir, args.corpus)
        return 0
    if args.corpus is None:
        if not DEFAULT_CORPUS.is_file():
            print(f"bench: skipped: no Reuters-21578 corpus at {DEFAULT_CORPUS} (set "
                  f"SEARCHIDX_DATA to the folder that holds reuters21578/docs.jsonl, or pass "
                  f"--corpus FILE)", file=sys.stderr)
            return 0
        args.corpus = DEFAULT_CORPUS
    if not args.corpus.is_file():
        print(f"bench: error: no corpus file {args.corpus}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="searchidx-bench-"))
    try:
        run = benchmark(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(report(run))
    if args.json:
        args.json.write_text(json.dumps(asdict(run), indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
