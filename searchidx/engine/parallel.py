"""Building a fresh index with several processes: Whoosh's multiprocessing writer, made safe.

Each worker process analyzes a share of the articles (Whoosh's ``MpWriter``); the parent
only reads the files. On a 2-core machine a fresh build of Reuters-21578 ran 1.6 times as
fast as with one writer (32 s against 54 s).

The workers write one segment together, not one each (a search sets up each term once a
segment: on Reuters-21578 one segment answered the bench's queries 15 % faster at the
median). The terms are split into one range per worker (bounds chosen by the first
worker from the postings it holds; each run a worker writes is split the same way).
When the articles are all taken, each worker writes the columns of its own articles, and
the postings and terms table of its own range for every worker's articles, which it
reads from the others' runs (numbered after the articles of the workers before);
the parent joins the columns file by file and the terms tables and postings files one
after another (``whoosh_adapter.joined_segment``). All of them deflate stored fields
with one dictionary, made by the parent from the first articles.

Whoosh's writer leaves four gaps, closed here:

- A worker that dies loses its articles without a word: :meth:`ParallelWriter.commit`
  counts the articles in the committed index and raises if any is missing (the caller
  writes into a generation that is only published once complete).
- A worker that fails (a full disk) printed its traceback and stopped taking jobs, so the
  parent could block on a full job queue: here it hands the parent one line saying why,
  and takes (and drops) the remaining jobs until told to stop.
- Workers outlive a parent that was killed, blocked on their queue for ever, and a forked
  worker holds the parent's lock on the index: workers close the lock, watch their
  parent and exit with it.
- A worker killed while the parent still sends jobs left the parent waiting for room in
  the job queue for ever (a worker killed while waiting for a job holds the queue's lock,
  so the others take none): the parent looks, while it waits, whether one died, and
  raises if so.
- ``cancel()`` left the workers running: here it stops them.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from queue import Empty, Full

from whoosh.fields import SpellField
from whoosh.util import random_name
from whoosh.writing import SegmentWriter

from ..errors import IndexUnusable
from ..settings import WRITER_JOB_ARTICLES, WRITER_SMALL_JOB_ARTICLES
from . import terms as terms_table
from .codec import stored_dictionary, stored_fields
from .pool import TermPool, run_terms, use_term_pool
from .whoosh_adapter import ProcessWriter, WorkerTask, joined_segment

__all__ = ["ParallelWriter"]

_ORPHAN_CHECK_SECONDS = 0.5
# The first worker chooses the ranges' bounds once the postings it holds fill this share
# of its memory limit (long before another worker writes its first run, whose terms are
# then split into ranges), or when it finishes before.
_BOUNDS_SAMPLE = 0.25
# How often a worker waiting for the others' part of the finish looks again.
_WAIT_SECONDS = 0.002
# The stage of the rendezvous where the parent says how many workers it started (a
# shared counter took importing ctypes, 2 ms of a build's start).
_STARTED = "started"


class _Rendezvous:
    """What the workers tell each other while they finish one segment together: small
    values in files of the temporary folder they share (a worker's value of a stage is
    there once its file is), each written whole before it is named."""

    def __init__(self, tempstorage, token: str, aborted) -> None:
        self._shared, self._prefix, self._aborted = tempstorage, token, aborted

    def publish(self, stage: str, position: int, value) -> None:
        name = self._name(stage, position)
        with self._shared.create_file(f"{name}.part") as out:
            out.write(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
        self._shared.rename_file(f"{name}.part", name)

    def peek(self, stage: str, position: int):
        """The value the worker at ``position`` published for ``stage``, or None."""
        name = self._name(stage, position)
        if not self._shared.file_exists(name):
            return None
        with self._shared.open_file(name) as published:
            return pickle.loads(published.read())

    def gather(self, stage: str, positions: Iterable[int]) -> list:
        """The values of the workers at ``positions``, waiting for each."""
        values = []
        for position in positions:
            while (value := self.peek(stage, position)) is None:
                if self._aborted.is_set():
                    raise IndexUnusable("another worker process failed")
                time.sleep(_WAIT_SECONDS)
            values.append(value)
        return values

    def _name(self, stage: str, position: int) -> str:
        return f"{self._prefix}.{stage}.{position}"


class _Jobs:
    """A worker's job queue, noting whether the parent has said stop (a None job)."""

    def __init__(self, queue) -> None:
        self.queue = queue
        self.stopped = False

    def get(self):
        job = self.queue.get()
        self.stopped = self.stopped or job is None
        return job


class _JobsSent:
    """The parent's end of the job queue: while a job waits for room, whether a worker
    died is looked at every ``_ORPHAN_CHECK_SECONDS`` (``failure``: why, or None)."""

    def __init__(self, queue, failure: Callable[[], str | None]) -> None:
        self.queue, self._failure = queue, failure

    def put(self, job) -> None:
        while True:
            try:
                return self.queue.put(job, timeout=_ORPHAN_CHECK_SECONDS)
            except Full:
                if reason := self._failure():
                    raise IndexUnusable(f"a worker process failed while indexing: {reason}") \
                        from None


class _Worker(WorkerTask):
    """One worker process; it leaves the index's lock to its parent and dies with it.
    Its failure is put on ``failures`` as one line, never printed as a traceback."""

    lock_fd: int | None = None
    failures: multiprocessing.SimpleQueue | None = None
    # Set by the parent: this worker's place among them (its documents come after those
    # of the workers before it), the names of the files they share, set when one fails,
    # and how many may be started.
    position = 0
    token = ""
    aborted = None
    processes = 1
    # The parent's pid, taken before the fork: one killed before its worker asked would
    # leave the worker watching its new parent (init), and running for ever.
    parent = 0
    dictionary: bytes | None = None  # the stored fields' (see codec.PerDocumentWriter)

    def run(self) -> None:
        if self.lock_fd is not None:  # a forked copy of the parent's descriptor
            with contextlib.suppress(OSError):
                os.close(self.lock_fd)
        threading.Thread(target=_exit_when_orphaned, args=(self.parent,), daemon=True).start()
        self.jobqueue = _Jobs(self.jobqueue)
        try:
            super().run()
        except KeyboardInterrupt:  # Ctrl+C reaches the parent too, which says so
            return
        except Exception as error:  # noqa: BLE001 (handed to the parent, which reports it)
            self.failures.put(_failure_reason(error))
            self.aborted.set()  # the others stop waiting for this one
            # Its writer is not cancelled: that would delete the folder of job files the
            # parent and the other workers share.
            self._drop_remaining_jobs()

    def before_documents(self) -> None:
        if not isinstance(self.writer.pool, TermPool):
            use_term_pool(self.writer, self.kwargs["limitmb"])
            self.writer.perdocwriter.given_dictionary = self.dictionary
        if self.writer.pool.bounds is None and self.processes > 1:
            self._take_bounds()

    def _rendezvous(self) -> _Rendezvous:
        return _Rendezvous(self.writer.temp_storage(), self.token, self.aborted)

    def _take_bounds(self, finishing: bool = False) -> None:
        """Split the pool's terms into one range per worker: the first worker chooses the
        bounds from the postings it holds (see ``_BOUNDS_SAMPLE``), the others take them
        once it has."""
        pool, rendezvous = self.writer.pool, self._rendezvous()
        if self.position == 0:
            if pool.fullness() >= _BOUNDS_SAMPLE or finishing:
                bounds = pool.even_bounds(self.processes)
                rendezvous.publish("bounds", 0, bounds)
                pool.split(bounds)
        elif finishing:
            pool.split(rendezvous.gather("bounds", [0])[0])
        elif (bounds := rendezvous.peek("bounds", 0)) is not None:
            pool.split(bounds)

    def finish_segment(self):
        """With other workers, write this worker's part of one segment: every worker's
        columns of its own documents, and the terms of its own range for everyone's
        documents (see :meth:`_finish_together`); alone, its own segment."""
        self.before_documents()  # (a worker given no articles still takes part)
        started = self._rendezvous().gather(_STARTED, [0])[0]
        if started == 1 or any(field.vector for field in self.writer.schema):
            return super().finish_segment()  # (a segment's vectors are not joined)
        return self._finish_together(started)

    def _finish_together(self, count: int):
        writer, rendezvous = self.writer, self._rendezvous()
        pool = writer.pool
        if pool.bounds is None:
            self._take_bounds(finishing=True)
        ranges = [number for number in range(len(pool.bounds) + 1)
                  if min(number, count - 1) == self.position]
        kept = pool.share_out(keep=ranges[0])  # the others' postings go to runs they read
        layouts = writer.perdocwriter.column_layouts()
        writer.perdocwriter.close()
        segment = writer.get_segment()
        lengths = writer.per_document_reader()
        rendezvous.publish("hello", self.position, {
            "documents": writer.docnum, "fieldnames": pool.fieldnames, "runs": pool.runs,
            "ranged": pool.ranged_runs,
            "lengths": {name: lengths.length_bytes(name) for name in pool.fieldnames}})
        lengths.close()
        hellos = rendezvous.gather("hello", range(count))
        fieldnames = sorted(set().union(*(hello["fieldnames"] for hello in hellos)))
        fieldwriter = writer.fieldwriter
        fieldwriter.hold_terms(fieldnames)
        spelling = {name for name in fieldnames if isinstance(writer.schema[name], SpellField)}
        postings = _spelled_once(heapq.merge(*self._sources(hellos, ranges, kept, spelling),
                                             key=itemgetter(0, 1)), spelling)
        fieldwriter.add_terms(writer.schema, _JoinedLengths(hellos), postings)
        rendezvous.publish("postings", self.position, fieldwriter.postings_length())
        fieldwriter.write_terms(sum(rendezvous.gather("postings", range(self.position))))
        segment.column_layouts, segment.position = layouts, self.position
        return segment

    def _sources(self, hellos: list[dict], ranges: list[int], kept: Iterator[tuple],
                 spelling: set[str]) -> Iterator[Iterator[tuple]]:
        """Every worker's terms of ``ranges`` (terms in order), workers in order, each
        worker's oldest first, numbered as the joined segment numbers its documents."""
        storage, bounds = self.writer.temp_storage(), self.writer.pool.bounds
        low = bounds[ranges[0] - 1] if ranges[0] else None
        high = bounds[ranges[-1]] if ranges[-1] < len(bounds) else None
        first_document = 0
        for position, hello in enumerate(hellos):
            sources = [_within(run_terms(storage, name), low, high) for name in hello["runs"]]
            sources += [run_terms(storage, name) for number in ranges
                        for name in hello["ranged"][number]]
            if position == self.position:
                sources.append(kept)
            for terms in sources:
                yield _renumbered(terms, first_document, spelling) if first_document else terms
            first_document += hello["documents"]

    def _drop_remaining_jobs(self) -> None:
        """Take the parent's jobs until it says stop, so that it never waits on a full queue."""
        while not self.jobqueue.stopped and (job := self.jobqueue.get()) is not None:
            with contextlib.suppress(Exception):
                self.writer.temp_storage().delete_file(job[0])


class _JoinedLengths:
    """Each field's length bytes of every worker's documents, one worker after another
    (what a postings writer reads of a segment's per-document reader)."""

    def __init__(self, hellos: list[dict]) -> None:
        self._hellos = hellos

    def length_bytes(self, fieldname: str) -> bytes | None:
        pieces = [hello["lengths"].get(fieldname) for hello in self._hellos]
        if not any(pieces):
            return None
        return b"".join((piece or b"").ljust(hello["documents"], b"\0")
                        for piece, hello in zip(pieces, self._hellos))

    def document_count(self) -> int:
        return sum(hello["documents"] for hello in self._hellos)


def _within(terms: Iterator[tuple], low, high) -> Iterator[tuple]:
    """The terms (in order) from ``low`` up to ``high`` (None: no bound)."""
    if low is not None:
        terms = itertools.dropwhile(lambda term: term[:2] < low, terms)
    if high is not None:
        terms = itertools.takewhile(lambda term: term[:2] < high, terms)
    return terms


def _renumbered(terms: Iterator[tuple], first_document: int, spelling: set[str]
                ) -> Iterator[tuple]:
    """Terms whose documents are numbered from ``first_document``; a spelling word's one
    posting stays at the segment's first document."""
    for fieldname, text, docnums, weights, values in terms:
        if fieldname not in spelling:
            docnums = [docnum + first_document for docnum in docnums]
        yield fieldname, text, docnums, weights, values


def _spelled_once(terms: Iterator[tuple], spelling: set[str]) -> Iterator[tuple]:
    """The terms, a spelling word posted by several workers once (at the first document,
    as one writer posts it)."""
    last = None
    for term in terms:
        if term[0] in spelling:
            if term[:2] == last:
                continue
            last = term[:2]
        yield term


def _failure_reason(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return f"{type(error).__name__}: {error}"


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_ORPHAN_CHECK_SECONDS)
    os._exit(1)


class ParallelWriter(ProcessWriter):
    """A Whoosh writer that spreads articles over ``processes`` worker processes.

    ``lock_fd`` is the descriptor holding the index's write lock in this process: a
    forked worker closes its copy, so that the lock goes with the parent.
    """

    def __init__(self, whoosh_index, processes: int, lock_fd: int | None = None,
                 **writer_options) -> None:
        super().__init__(whoosh_index, procs=processes, multisegment=True, **writer_options)
        forked = multiprocessing.get_start_method() == "fork"
        self._lock_fd = lock_fd if forked else None
        self._expected = whoosh_index.doc_count_all()
        self._index = whoosh_index
        self._failures = multiprocessing.SimpleQueue()
        self._job_size = 0  # of the next job
        self._plan_next_job()
        self._prefix = random_name()
        self._aborted = multiprocessing.Event()
        self._failure_seen: str | None = None
        self.jobqueue = _JobsSent(self.jobqueue, self._failure)

    def add_document(self, **fields) -> None:
        self._expected += 1
        super().add_document(**fields)

    def job_due(self) -> None:
        self.send_job(self._job_size)
        self._plan_next_job()

    def _plan_next_job(self) -> None:
        """Jobs grow from a small one (the workers start soon) to the full size; each
        is sent once as many articles as the job before it are held behind it, so that
        at least that many are left for :meth:`_send_held` to share out at the end."""
        previous = self._job_size
        self._job_size = min(2 * previous or WRITER_SMALL_JOB_ARTICLES, WRITER_JOB_ARTICLES)
        self.hold_until(previous + self._job_size)

    def _send_held(self) -> None:
        """The articles held, in small jobs: whichever worker is free takes the next, so
        the workers run out of work within a small job of each other."""
        while held := self.held_documents():
            self.send_job(min(held, WRITER_SMALL_JOB_ARTICLES))

    def start_worker(self) -> _Worker:
        task = _Worker(self.storage, self.indexname, self.jobqueue.queue, self.resultqueue,
                       self.subargs, self.multisegment)
        task.lock_fd = self._lock_fd
        task.failures = self._failures
        task.position, task.processes = len(self.tasks), self.procs
        task.token, task.aborted = self._prefix, self._aborted
        task.parent = os.getpid()
        if not self.tasks:  # the first batch of articles is waiting: one dictionary for all
            self._stored_dictionary = stored_dictionary(
                pickle.dumps(stored_fields(self.schema, fields), pickle.HIGHEST_PROTOCOL)
                for _, fields in self.docbuffer)
        task.dictionary = self._stored_dictionary
        task.daemon = True  # never outlives a parent that exits
        self.tasks.append(task)
        task.start()
        return task

    def commit(self, **kwargs) -> None:
        """Commit, then check that no worker failed and every article added is in the index."""
        self._send_held()  # may start a worker, which the watcher must see
        threading.Thread(target=self._abort_if_one_dies, daemon=True).start()
        # How many workers there are, for them to see before they finish (all are started)
        _Rendezvous(self.temp_storage(), self._prefix, self._aborted).publish(
            _STARTED, 0, len(self.tasks))
        super().commit(**kwargs)
        self._raise_if_one_failed()
        written = self._index.doc_count_all()
        if written != self._expected:
            raise IndexUnusable(f"a worker process failed while indexing: {written} of "
                                f"{self._expected} articles were written")

    def worker_results(self) -> list:
        """What each worker puts on the result queue when it ends, taken while any worker
        runs (a worker's exit, freeing its memory, took 6-10 ms of the end of a build); then,
        as Whoosh does, after every worker has exited (one that failed gives none: its part
        is missing, which :meth:`_commit_toc` reports). The workers exit while the parent
        joins their parts, and are joined before the TOC is written."""
        results = []
        while len(results) < len(self.tasks) and any(task.is_alive() for task in self.tasks):
            with contextlib.suppress(Empty):
                results.append(self.resultqueue.get(timeout=_ORPHAN_CHECK_SECONDS / 10))
        for _ in range(len(self.tasks) - len(results)):
            with contextlib.suppress(Empty):
                results.append(self.resultqueue.get(timeout=1))
        return results

    def _abort_if_one_dies(self) -> None:
        """If a worker was killed, note why and stop the others: those waiting for one
        another are told, and those waiting for a job are ended (one killed while waiting
        for a job may have held the queue's lock, which the others then wait on for ever)."""
        while any(task.is_alive() for task in self.tasks):
            if any(task.exitcode for task in self.tasks):
                self._failure()
                self._aborted.set()
                for task in self.tasks:
                    task.terminate()
                return
            time.sleep(_ORPHAN_CHECK_SECONDS / 10)

    def _failure(self) -> str | None:
        """Why a worker failed, if one did: the signal that killed it, its own line, or
        the status it exited with."""
        if self._failure_seen is None:
            exits = [task.exitcode for task in self.tasks if task.exitcode]
            killed = [-code for code in exits if code < 0]
            if killed:
                self._failure_seen = f"killed by signal {killed[0]}"
            elif not self._failures.empty():
                self._failure_seen = self._failures.get()
            elif exits:
                self._failure_seen = f"exited with status {exits[0]}"
        return self._failure_seen

    def _commit_toc(self, segments) -> None:
        """Commit ``segments``, the workers' parts of one segment joined into it; a part
        alone is no segment (it holds one range of the terms), so a missing one fails."""
        parts = sorted((segment for segment in segments if hasattr(segment, "column_layouts")),
                       key=lambda part: part.position)
        if parts:
            failure = self._failure()
            if failure or len(parts) != len(self.tasks):
                raise IndexUnusable(f"a worker process failed while indexing: "
                                    f"{failure or 'its part of the index is missing'}")
            segments = [segment for segment in segments if segment not in parts]
            segments.append(joined_segment(self.codec, self.storage, self.indexname, parts,
                                           terms_table.write_joined_tables))
        # A worker that fails after giving its part (exits non-zero) fails the build before
        # anything is committed, as when the workers were joined first.
        self.join_workers()
        self._raise_if_one_failed()
        super()._commit_toc(segments)

    def join_workers(self) -> None:
        for task in self.tasks:
            task.join()

    def _raise_if_one_failed(self) -> None:
        if failure := self._failure():
            raise IndexUnusable(f"a worker process failed while indexing: {failure}")

    def cancel(self) -> None:
        for task in self.tasks:
            if task.is_alive():
                task.terminate()
            task.join()
        SegmentWriter.cancel(self)
