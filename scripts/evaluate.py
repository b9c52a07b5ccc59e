#!/usr/bin/env python3
"""Search quality: searchidx against SQLite FTS5 and stock Whoosh on judged query sets (issue 4).

Every system indexes the same articles, read once with searchidx's own reader
(``searchidx.documents``) so that each gets the same title and body text, in the same run.

- Set (a): the judged queries of ``tests/eval/queries.tsv`` over the seed articles plus
  ``tests/articles/``, with graded judgments in ``tests/eval/qrels.txt`` (TREC qrels).
  Measures: nDCG@10, MRR@10 and Recall@100.
- Set (b): known-item search over Reuters-21578 (``$SEARCHIDX_DATA/reuters21578/docs.jsonl``,
  ``SEARCHIDX_DATA`` defaulting to ``../shared/data`` beside the checkout):
  every article is indexed (a title-only one takes its title as its body), then a seeded
  sample of articles with a body each have their title as the query and themselves as
  the one relevant document. Measures: MRR@10 and success@1.
- Set (c): spelling corrections (searchidx only) over Reuters-21578 and the seeds: frequent
  Reuters words and the seeds' names, each misspelled by one seeded edit (a letter dropped,
  added, replaced, or two swapped) into a word the index does not have, must be corrected
  to the word meant; rare words (in one or two articles), searched two at a time so that
  nothing matches, must never be "corrected". Measures: the share of misspellings
  corrected to the word meant, and the share of rare words left as typed.

The measures are computed by ir-measures (``pip install -e '.[eval]'``). A query that a
system cannot run (a syntax error, say) gets an empty run, which scores 0.

    python scripts/evaluate.py                      # both sets, every system
    python scripts/evaluate.py --set a --per-query  # set (a), with the queries searchidx misses
    python scripts/evaluate.py --set b --sample 200 --systems searchidx,fts5 --json out.json
    python scripts/evaluate.py --set c              # spelling corrections only
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import random
import re
import sqlite3
import sys
import tempfile
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing, too

from searchidx.documents import Article, SourceFile, find_files, read_file  # noqa: E402

SEEDS = REPO / "seeds"
TEST_ARTICLES = REPO / "tests" / "articles"
JUDGED = REPO / "tests" / "eval"
# The full corpora are not shipped (research use only): $SEARCHIDX_DATA, else ../shared/data.
DATA = Path(os.environ.get("SEARCHIDX_DATA") or REPO.parent / "shared" / "data")
REUTERS = DATA / "reuters21578" / "docs.jsonl"
SYSTEM_NAMES = ("searchidx", "fts5", "whoosh")
DEPTH = 100                  # results taken per query (Recall@100)
TITLE_WEIGHT = 2.0           # the peers' title weight (the issue: bm25() with title weight 2)
WEAK_NDCG = 0.9              # --per-query lists set (a) queries where searchidx scores below this
SHOWN_HITS = 5               # --per-query shows this many of searchidx's hits
MISSPELLED_WORDS = 150       # set (c): frequent Reuters words misspelled (besides the seeds' names)
FREQUENT_ARTICLES = 20       # set (c): a frequent word is in at least this many articles
RARE_WORDS = 150             # set (c): rare words searched, two at a time
RARE_ARTICLES = 2            # set (c): a rare word is in at most this many articles
MIN_LETTERS = 4              # set (c): words this long or longer are misspelled
SHOWN_MISTAKES = 8           # set (c): this many wrong corrections are shown


# --- query sets -------------------------------------------------------------------------------

@dataclass
class QuerySet:
    """Queries with their judgments, over the articles found under ``roots``."""

    name: str
    description: str
    roots: list[Path]
    queries: dict[str, str]
    qrels: list  # of ir_measures.Qrel
    measures: dict[str, object]  # column label -> ir_measures measure


def judged_set() -> QuerySet:
    """Set (a): the hand-judged queries over the seeds and the test articles."""
    import ir_measures
    from ir_measures import R, RR, nDCG

    queries = dict(line.split("\t", 1) for line in
                   (JUDGED / "queries.tsv").read_text(encoding="utf-8").splitlines() if line.strip())
    qrels = list(ir_measures.read_trec_qrels(str(JUDGED / "qrels.txt")))
    return QuerySet("a", "judged queries over the seeds and tests/articles", [SEEDS, TEST_ARTICLES],
                    queries, qrels, {"nDCG@10": nDCG @ 10, "MRR@10": RR @ 10, "Recall@100": R @ 100})


def known_item_set(corpus: Path, sample: int, seed: int, workdir: Path) -> QuerySet:
    """Set (b): Reuters-21578 rewritten as one searchidx JSONL file, and sampled title queries."""
    from ir_measures import RR, Qrel, Success

    folder, titled_with_body = reuters_folder(corpus, workdir)
    chosen = random.Random(seed).sample(list(titled_with_body), min(sample, len(titled_with_body)))
    return QuerySet("b", f"known-item search over Reuters-21578, {sample} titles as queries (seed {seed})",
                    [folder], {f"b{doc_id}": titled_with_body[doc_id] for doc_id in chosen},
                    [Qrel(f"b{doc_id}", doc_id, 1) for doc_id in chosen],
                    {"MRR@10": RR @ 10, "success@1": Success @ 1})


@functools.cache
def reuters_folder(corpus: Path, workdir: Path) -> tuple[Path, dict[str, str]]:
    """Reuters-21578 rewritten as one searchidx JSONL file in a folder of its own, and the
    titles of the articles that have a title and a body, by id."""
    folder = workdir / "reuters"
    folder.mkdir()
    titled_with_body: dict[str, str] = {}
    with corpus.open(encoding="utf-8") as source, (folder / "docs.jsonl").open("w", encoding="utf-8") as out:
        for line in source:
            record = json.loads(line)
            doc_id, title = str(record["id"]), " ".join(str(record.get("title") or "").split())
            body = str(record.get("text") or record.get("body") or "").strip()
            if body and title:
                titled_with_body[doc_id] = title
            if body or title:  # 737 records have neither
                out.write(json.dumps({"id": doc_id, "title": title, "body": body or title}) + "\n")
    return folder, titled_with_body


def load_articles(roots: Sequence[Path]) -> list[Article]:
    """Every article under ``roots``, read as searchidx reads them."""
    return [article for root in roots for source in find_files(root)
            for article in _articles_of(source)]


def _articles_of(source: SourceFile) -> list[Article]:
    content = read_file(source)
    for problem in content.problems:
        print(f"evaluate: {source.path}: {problem}", file=sys.stderr)
    return content.articles


def check_judgments(query_set: QuerySet, articles: Sequence[Article]) -> None:
    """Raise ValueError unless every judged query has a text and every judged id an article."""
    article_ids = {article.id for article in articles}
    no_query = sorted({qrel.query_id for qrel in query_set.qrels} - set(query_set.queries))
    no_article = sorted({qrel.doc_id for qrel in query_set.qrels} - article_ids)
    if no_query or no_article:
        raise ValueError(f"set ({query_set.name}): judged queries without a text {no_query[:5]}, "
                         f"judged ids without an article {no_article[:5]}")


# --- the systems ----------------------------------------------------------------------------

class System(ABC):
    """One search engine under test: build an index of the articles, then rank ids."""

    name: ClassVar[str]

    def __init__(self, workdir: Path) -> None:
        self.location = workdir / self.name

    @abstractmethod
    def build(self, roots: Sequence[Path], articles: Sequence[Article]) -> int:
        """Index the articles (found under ``roots``); return how many the index holds."""

    @abstractmethod
    def search(self, query: str, depth: int) -> list[str]:
        """The ids of the best ``depth`` matches, best first; raises if the query cannot run."""

    def close(self) -> None:
        """Release what ``build`` opened."""


class SearchIdxSystem(System):
    """searchidx through its library API, indexing the very files the articles came from."""

    name = "searchidx"

    def build(self, roots: Sequence[Path], articles: Sequence[Article]) -> int:
        from searchidx import SearchIndex

        self.index = SearchIndex.open(self.location, create=True)
        report = self.index.index(list(roots))
        for skipped in report.skipped:
            print(f"evaluate: searchidx skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
        return self.index.stats().articles

    def search(self, query: str, depth: int) -> list[str]:
        return [hit.id for hit in self.index.search(query, limit=depth)]

    def close(self) -> None:
        self.index.close()


class OpenSearchSystem(SearchIdxSystem):
    """searchidx on an OpenSearch cluster ($SEARCHIDX_OPENSEARCH_CLUSTER, a URL such as
    opensearch://127.0.0.1:9200): the same library calls with a URL for a folder; asked
    for by name only (--systems searchidx,opensearch)."""

    name = "opensearch"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        cluster = os.environ.get("SEARCHIDX_OPENSEARCH_CLUSTER", "").rstrip("/")
        if not cluster:
            raise SystemExit("evaluate: opensearch needs $SEARCHIDX_OPENSEARCH_CLUSTER "
                             "(opensearch://HOST:PORT)")
        digest = hashlib.sha256(str(workdir).encode()).hexdigest()[:12]
        self.location = f"{cluster}/evaluate-{digest}"


class Fts5System(System):
    """SQLite FTS5, Porter over unicode61 without diacritics, ranked by bm25() (title x2)."""

    name = "fts5"
    TOKENIZER = "porter unicode61 remove_diacritics 2"
    COLUMNS = ("title", "body")

    def build(self, roots: Sequence[Path], articles: Sequence[Article]) -> int:
        self.connection = sqlite3.connect(":memory:")
        self.connection.execute(f"CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, "
                                f"tokenize='{self.TOKENIZER}')")
        self.connection.executemany("INSERT INTO docs(id, title, body) VALUES (?, ?, ?)",
                                    ((a.id, a.title, a.body) for a in articles))
        return self.connection.execute("SELECT count(*) FROM docs").fetchone()[0]

    def search(self, query: str, depth: int) -> list[str]:
        rows = self.connection.execute(
            f"SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, 0, {TITLE_WEIGHT}, 1.0) "
            f"LIMIT {depth}", (fts5_query(query),))
        return [doc_id for (doc_id,) in rows]

    def close(self) -> None:
        self.connection.close()


_QUERY_PART = re.compile(r'(?:(\w+):)?(?:"([^"]*)"|(\S+))')


def fts5_query(query: str) -> str:
    """The query as FTS5 reads it: each word and each quoted phrase a string, all ANDed.

    Quoting keeps FTS5 from reading punctuation (``Jong-un``, ``People's``) as syntax; a
    ``title:``/``body:`` prefix becomes FTS5's column filter, any other prefix is dropped.
    """
    parts = []
    for column, phrase, word in _QUERY_PART.findall(query):
        string = '"' + (phrase or word).replace('"', '""') + '"'
        parts.append(f"{column}:{string}" if column in Fts5System.COLUMNS else string)
    return " ".join(parts)


class WhooshSystem(System):
    """Stock Whoosh: StemmingAnalyzer on title and body, MultifieldParser, every word required."""

    name = "whoosh"

    def build(self, roots: Sequence[Path], articles: Sequence[Article]) -> int:
        from whoosh import index
        from whoosh.analysis import StemmingAnalyzer
        from whoosh.fields import ID, TEXT, Schema
        from whoosh.qparser import MultifieldParser

        schema = Schema(id=ID(stored=True, unique=True), title=TEXT(analyzer=StemmingAnalyzer()),
                        body=TEXT(analyzer=StemmingAnalyzer()))
        self.location.mkdir()
        whoosh_index = index.create_in(str(self.location), schema)
        writer = whoosh_index.writer(limitmb=256)
        for article in articles:
            writer.add_document(id=article.id, title=article.title, body=article.body)
        writer.commit()
        self.searcher = whoosh_index.searcher()
        self.parser = MultifieldParser(["title", "body"], schema, fieldboosts={"title": TITLE_WEIGHT})
        return self.searcher.doc_count()

    def search(self, query: str, depth: int) -> list[str]:
        return [hit["id"] for hit in self.searcher.search(self.parser.parse(query), limit=depth)]

    def close(self) -> None:
        self.searcher.close()


SYSTEMS: dict[str, type[System]] = {cls.name: cls for cls in (SearchIdxSystem, Fts5System, WhooshSystem,
                                                              OpenSearchSystem)}


# --- running and scoring --------------------------------------------------------------------

@dataclass
class SystemResult:
    """One system's runs and scores on one query set."""

    name: str
    documents: int
    index_seconds: float
    query_seconds: float = 0.0
    rankings: dict[str, list[str]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    per_query: dict[str, dict[str, float]] = field(default_factory=dict)


def run_system(system: System, query_set: QuerySet, articles: Sequence[Article]) -> SystemResult:
    """Index the articles into ``system``, run every query and score the runs."""
    started = time.perf_counter()
    documents = system.build(query_set.roots, articles)
    if documents != len(articles):
        print(f"evaluate: {system.name} holds {documents} of {len(articles)} articles", file=sys.stderr)
    result = SystemResult(system.name, documents, time.perf_counter() - started)
    started = time.perf_counter()
    try:
        for qid, query in query_set.queries.items():
            try:
                result.rankings[qid] = system.search(query, DEPTH)
            except Exception as error:  # a query the system cannot run gets an empty run
                result.rankings[qid] = []
                result.failures[qid] = f"{type(error).__name__}: {error}"
    finally:
        system.close()
    result.query_seconds = time.perf_counter() - started
    score(result, query_set)
    return result


def score(result: SystemResult, query_set: QuerySet) -> None:
    """Fill in the measures of ``result``, averaged and per query, with ir-measures."""
    import ir_measures

    labels = {measure: label for label, measure in query_set.measures.items()}
    run = list(scored_docs(result.rankings))
    aggregate = ir_measures.calc_aggregate(labels, query_set.qrels, run)
    result.scores = {labels[measure]: value for measure, value in aggregate.items()}
    for metric in ir_measures.iter_calc(labels, query_set.qrels, run):
        result.per_query.setdefault(metric.query_id, {})[labels[metric.measure]] = metric.value


def scored_docs(rankings: dict[str, list[str]]) -> Iterator:
    """The rankings as ir-measures run entries; scores fall with rank, so ties never reorder."""
    from ir_measures import ScoredDoc

    for qid, doc_ids in rankings.items():
        for rank, doc_id in enumerate(doc_ids):
            yield ScoredDoc(qid, doc_id, float(len(doc_ids) - rank))


def evaluate(query_set: QuerySet, system_names: Sequence[str], workdir: Path) -> list[SystemResult]:
    """Run every named system on ``query_set``, each indexing the same articles."""
    articles = load_articles(query_set.roots)
    check_judgments(query_set, articles)
    workdir.mkdir(parents=True)
    results = []
    for name in system_names:
        print(f"evaluate: set ({query_set.name}): {name} indexing {len(articles):,} articles, "
              f"running {len(query_set.queries)} queries", file=sys.stderr)
        result = run_system(SYSTEMS[name](workdir), query_set, articles)
        print(f"evaluate: {name}: indexed in {result.index_seconds:.1f} s, "
              f"queries in {result.query_seconds:.1f} s", file=sys.stderr)
        results.append(result)
    return results


# --- reporting ---------------------------------------------------------------------------

def table(query_set: QuerySet, results: Sequence[SystemResult]) -> str:
    """A Markdown table: one row per system, one column per measure."""
    labels = list(query_set.measures)
    lines = [f"Set ({query_set.name}): {query_set.description}; "
             f"{len(query_set.queries)} queries, {results[0].documents:,} articles",
             "", "| system | " + " | ".join(labels) + " |",
             "|---|" + "---:|" * len(labels)]
    lines += [f"| {result.name} | " + " | ".join(f"{result.scores[label]:.3f}" for label in labels) + " |"
              for result in results]
    lines += [f"\n{result.name}: {len(result.failures)} queries could not run (empty runs), e.g. "
              + "; ".join(f"{qid}: {message}" for qid, message in list(result.failures.items())[:3])
              for result in results if result.failures]
    return "\n".join(lines)


def weak_queries(query_set: QuerySet, results: Sequence[SystemResult]) -> str:
    """Set (a) queries where searchidx scores below WEAK_NDCG nDCG@10 or below a peer."""
    ours = next((result for result in results if result.name == "searchidx"), None)
    if ours is None:
        return "(--per-query needs searchidx among the systems)"
    grades = {(qrel.query_id, qrel.doc_id): qrel.relevance for qrel in query_set.qrels}
    lines = []
    for qid, query in query_set.queries.items():
        values = {result.name: result.per_query.get(qid, {}).get("nDCG@10", 0.0) for result in results}
        if values["searchidx"] >= WEAK_NDCG and values["searchidx"] >= max(values.values()):
            continue
        ranking = ours.rankings[qid]
        relevant = sorted(doc for (q, doc), grade in grades.items() if q == qid and grade > 0)
        shown = ", ".join(f"{doc}({grades.get((qid, doc), 0)})" for doc in ranking[:SHOWN_HITS])
        lines += [f"{qid} {query!r}: " + ", ".join(f"{name} {value:.3f}" for name, value in values.items()),
                  f"    searchidx top {SHOWN_HITS}: {shown or '(nothing)'}",
                  f"    relevant not in its top 10: {[d for d in relevant if d not in ranking[:10]]}"]
    return "\n".join(lines) or f"searchidx scores at least {WEAK_NDCG} and at least every peer on every query"


def as_json(query_set: QuerySet, results: Sequence[SystemResult]) -> dict[str, object]:
    return {"description": query_set.description, "queries": len(query_set.queries),
            "systems": {result.name: {"documents": result.documents,
                                      "index_seconds": round(result.index_seconds, 2),
                                      "query_seconds": round(result.query_seconds, 2),
                                      "measures": result.scores, "failures": result.failures,
                                      "per_query": result.per_query} for result in results}}


# --- set (c): spelling corrections ------------------------------------------------------------

FREQUENT = "frequent words and names"
SEED_NAMES = "the seeds' names (in 1 to 3 articles each)"


@dataclass
class SpellingResult:
    """What searchidx suggested for each misspelling and for each pair of rare words."""

    articles: int
    seed: int
    misspelled: dict[str, dict[str, str]] = field(default_factory=dict)  # group -> typed -> meant
    suggested: dict[str, str | None] = field(default_factory=dict)  # query -> suggestion
    rare_pairs: list[tuple[str, str]] = field(default_factory=list)

    def corrected_share(self, group: str = FREQUENT) -> float:
        """The share of a group's misspellings corrected to the word meant."""
        misspelled = self.misspelled.get(group, {})
        return len(misspelled) and sum(
            self._meant(typed, meant) for typed, meant in misspelled.items()) / len(misspelled)

    def left_as_typed_share(self) -> float:
        """The share of rare words that a suggestion did not change."""
        words = [word for pair in self.rare_pairs for word in pair]
        changed = [word for pair in self.rare_pairs for word in pair
                   if self.suggested[" ".join(pair)] is not None
                   and word not in self.suggested[" ".join(pair)].split()]
        return len(words) and 1 - len(changed) / len(words)

    def mistakes(self, group: str = FREQUENT) -> list[str]:
        return [f"{typed} -> {self.suggested[typed]} (meant {meant})"
                for typed, meant in self.misspelled.get(group, {}).items()
                if not self._meant(typed, meant)]

    def _meant(self, typed: str, meant: str) -> bool:
        from searchidx.analysis import fold

        suggestion = self.suggested[typed]
        return suggestion is not None and fold(suggestion) == meant


def spelling_set(reuters: Path, seed: int, workdir: Path) -> SpellingResult:
    """Set (c): index Reuters-21578 and the seeds, then search misspellings of frequent
    words and names and of the seeds' names, and pairs of rare words."""
    from searchidx import SearchIndex

    workdir.mkdir(parents=True)
    with SearchIndex.open(workdir / "searchidx", create=True) as index:
        index.index([reuters, SEEDS])
        return spelling_suggestions(index, load_articles([reuters, SEEDS]), seed)


def spelling_suggestions(index, articles: Sequence[Article], seed: int) -> SpellingResult:
    """What ``index`` (of ``articles``) suggests for the misspellings and rare words that
    ``seed`` picks: MISSPELLED_WORDS frequent words, a third of them names (words written
    capitalized), and the seeds' names, each misspelled once; RARE_WORDS rare words."""
    frequency = Counter(word for article in articles for word in article_words(article))
    names = _names(articles)
    rng = random.Random(seed)
    frequent = sorted(word for word, count in frequency.items()
                      if count >= FREQUENT_ARTICLES and misspellable(word))
    rare = sorted(word for word, count in frequency.items()
                  if count <= RARE_ARTICLES and misspellable(word))
    chosen = (rng.sample([word for word in frequent if word not in names], MISSPELLED_WORDS * 2 // 3)
              + rng.sample([word for word in frequent if word in names], MISSPELLED_WORDS // 3))
    result = SpellingResult(len(articles), seed)
    for group, words in ((FREQUENT, chosen), (SEED_NAMES, seed_names())):
        misspelled = result.misspelled.setdefault(group, {})
        for word in words:
            typed, result.suggested[typed] = misspelled_search(index, word, frequency, rng)
            misspelled[typed] = word
    picked = rng.sample(rare, RARE_WORDS)
    result.rare_pairs = list(zip(picked[::2], picked[1::2]))
    for pair in result.rare_pairs:
        result.suggested[" ".join(pair)] = index.search(" ".join(pair), limit=1).suggestion
    return result


def misspelled_search(index, word: str, known: Counter, rng: random.Random) -> tuple[str, str | None]:
    """A misspelling of ``word`` that is no word of the index (by its stem either), and the
    suggestion searching it gives."""
    while True:
        typed = misspelling(word, known, rng)
        results = index.search(typed, limit=1)
        if results.suggestion or not results.total:
            return typed, results.suggestion


def article_words(article: Article) -> set[str]:
    from searchidx.analysis import spelling_words

    return spelling_words(f"{article.title}\n{article.body}")


def _names(articles: Sequence[Article]) -> set[str]:
    """The words (folded) that the bodies write capitalized at least nine times in ten."""
    from searchidx.analysis import TOKEN_PATTERN, fold

    written, capitalized = Counter(), Counter()
    for article in articles:
        for word in TOKEN_PATTERN.findall(article.body):
            folded = fold(word)
            written[folded] += 1
            capitalized[folded] += word[0].isupper() and not word.isupper()
    return {word for word, count in capitalized.items() if count >= 0.9 * written[word]}


def misspellable(word: str) -> bool:
    from searchidx.analysis import FUNCTION_WORDS

    return len(word) >= MIN_LETTERS and word.isascii() and word.isalpha() and word not in FUNCTION_WORDS


def seed_names() -> list[str]:
    """The names of the seeds, folded: words written capitalized and never in lower case
    (not acronyms)."""
    from searchidx.analysis import TOKEN_PATTERN, fold

    written = {word for article in load_articles([SEEDS])
               for word in TOKEN_PATTERN.findall(f"{article.title}\n{article.body}")}
    lower = {fold(word) for word in written if word[0].islower()}
    return sorted({fold(word) for word in written if word[0].isupper() and not word.isupper()
                   and misspellable(fold(word))} - lower)


def misspelling(word: str, known: Counter, rng: random.Random) -> str:
    """``word`` with one edit at a random place (a letter dropped, added, replaced, or two
    swapped) that makes a word the articles do not have."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    while True:
        at = rng.randrange(len(word))
        edit = rng.choice(("drop", "add", "replace", "swap"))
        if edit == "drop":
            typed = word[:at] + word[at + 1:]
        elif edit == "add":
            typed = word[:at] + rng.choice(letters) + word[at:]
        elif edit == "replace":
            typed = word[:at] + rng.choice(letters) + word[at + 1:]
        else:
            at = min(at, len(word) - 2)
            typed = word[:at] + word[at + 1] + word[at] + word[at + 2:]
        if typed != word and typed not in known:
            return typed


def spelling_table(result: SpellingResult) -> str:
    lines = [f"Set (c): spelling corrections over Reuters-21578 and the seeds (seed {result.seed}); "
             f"{result.articles:,} articles", "", "| measure | searchidx |", "|---|---:|"]
    lines += [f"| misspellings of {group} corrected to the word meant ({len(misspelled)}) "
              f"| {result.corrected_share(group):.3f} |"
              for group, misspelled in result.misspelled.items()]
    lines.append(f"| rare words left as typed ({2 * len(result.rare_pairs)}) "
                 f"| {result.left_as_typed_share():.3f} |")
    for group in result.misspelled:
        mistakes = result.mistakes(group)
        if mistakes:
            lines.append(f"\n{group}: {len(mistakes)} misspellings not corrected to the word "
                         f"meant, e.g. " + "; ".join(mistakes[:SHOWN_MISTAKES]))
    return "\n".join(lines)


# --- command line -------------------------------------------------------------------------

def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("a", "b", "c", "all"), default="all", dest="which",
                        help="which query set to run (default: all)")
    parser.add_argument("--sample", type=int, default=500, help="set (b): how many titles to query (500)")
    parser.add_argument("--seed", type=int, default=21578, help="set (b): the sampling seed (21578)")
    parser.add_argument("--spelling-seed", type=int, default=19,
                        help="set (c): the seed that picks and misspells the words (19)")
    parser.add_argument("--systems", default=",".join(SYSTEM_NAMES),
                        help=f"comma-separated, from {', '.join(SYSTEM_NAMES)} (default: all)")
    parser.add_argument("--engine", choices=("opensearch",),
                        help="searchidx's engine to compare with the local one: --engine "
                             "opensearch is --systems searchidx,opensearch")
    parser.add_argument("--reuters", type=Path, default=REUTERS, help="set (b): the Reuters-21578 JSONL")
    parser.add_argument("--per-query", action="store_true",
                        help="set (a): list the queries where searchidx is weak or behind a peer")
    parser.add_argument("--json", type=Path, help="also write every score, per query too, to this file")
    args = parser.parse_args(argv)
    if args.engine == "opensearch":
        args.systems = "searchidx,opensearch"
    args.systems = [name.strip() for name in args.systems.split(",") if name.strip()]
    unknown = set(args.systems) - set(SYSTEMS)
    if unknown or not args.systems:
        parser.error(f"unknown systems {sorted(unknown)}; choose from {', '.join(SYSTEM_NAMES)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import ir_measures  # noqa: F401
    except ImportError:
        print("evaluate: needs ir-measures: pip install -e '.[eval]'", file=sys.stderr)
        return 2
    started, report = time.perf_counter(), {}
    with tempfile.TemporaryDirectory(prefix="searchidx-eval-") as temp:
        workdir = Path(temp)
        query_sets = [judged_set()] if args.which in ("a", "all") else []
        reuters = args.reuters.is_file()
        if args.which in ("b", "c", "all") and not reuters:
            print(f"evaluate: sets (b) and (c) skipped: no Reuters-21578 corpus at {args.reuters} "
                  f"(set SEARCHIDX_DATA to the folder that holds reuters21578/docs.jsonl, or pass "
                  f"--reuters FILE)", file=sys.stderr)
        if args.which in ("b", "all") and reuters:
            query_sets.append(known_item_set(args.reuters, args.sample, args.seed, workdir))
        for query_set in query_sets:
            results = evaluate(query_set, args.systems, workdir / query_set.name)
            print(table(query_set, results) + "\n")
            if args.per_query and query_set.name == "a":
                print(weak_queries(query_set, results) + "\n")
            report[query_set.name] = as_json(query_set, results)
        if args.which in ("c", "all") and reuters:
            print("evaluate: set (c): searchidx indexing Reuters-21578 and the seeds, "
                  "searching misspellings and rare words", file=sys.stderr)
            folder, _ = reuters_folder(args.reuters, workdir)
            spelling = spelling_set(folder, args.spelling_seed, workdir / "c")
            print(spelling_table(spelling) + "\n")
            report["c"] = {"corrected": {group: spelling.corrected_share(group)
                                         for group in spelling.misspelled},
                           "left_as_typed": spelling.left_as_typed_share(),
                           "suggested": spelling.suggested, "misspelled": spelling.misspelled}
    print(f"({time.perf_counter() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
