"""Writing an OpenSearch index: bulk requests, and the alias that names the live index.

The index a URL names (``opensearch://…/news``) is an **alias**. Each build fills a
concrete index of its own (``news.20261205170431123456``), and the alias is moved to it in
one ``_aliases`` request (remove and add together: searches see the old index or the new
one, never neither); the old index is deleted after. Updating in place writes into the
index the alias points to.

A :class:`BulkWriter` implements the engine's :class:`~searchidx.engine.interface.Writer`:
it holds at most one bulk request of articles (OPENSEARCH_BULK_ARTICLES, at most
OPENSEARCH_BULK_BYTES) and sends it with opensearch-py's ``streaming_bulk``, which tries a
request answered 429 again, waiting longer each time; the client itself tries a request
that failed on a node (or was answered 502/503/504) on another.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from ...errors import SearchIdxError
from ...settings import (OPENSEARCH_BULK_ARTICLES, OPENSEARCH_BULK_BYTES,
                         OPENSEARCH_BULK_FIRST_WAIT_SECONDS, OPENSEARCH_BULK_RETRIES)
from .location import ClusterUnavailable
from .mapping import STORED_FIELDS, index_body, pre_analysed

# Lucene's limit on a document's _id; a longer article id is stored whole in the ``id``
# field and its digest is the _id.
MAX_ID_BYTES = 512


class BulkWriteFailed(SearchIdxError):
    """The cluster refused some articles (the message gives the first reason)."""


def document_id(article_id: str) -> str:
    """The _id of an article: its id, or the digest of an id too long for an _id."""
    if len(article_id.encode("utf-8")) <= MAX_ID_BYTES:
        return article_id
    return "sha256:" + hashlib.sha256(article_id.encode("utf-8")).hexdigest()


def source(fields: dict[str, object]) -> dict[str, object]:
    """The _source of an article from the fields a writer is given: the stored fields as
    they are (the date as ``YYYY-MM-DD``), plus the terms made in Python."""
    document = {name: value for name, value in fields.items() if value is not None}
    date = document.get("date")
    if isinstance(date, (dt.date, dt.datetime)):
        document["date"] = date.strftime("%Y-%m-%d")
    return pre_analysed(document)


class BulkWriter:
    """Writes articles into one concrete index (see the module's doc)."""

    schema = frozenset(STORED_FIELDS)
    """The fields it takes (the indexer leaves out any other: the exact forms are made
    from the title and body here, and pair signatures serve only the local engine)."""

    def __init__(self, client, index: str) -> None:
        self.client = client
        self.index = index
        self._actions: list[dict] = []
        self._bytes = 0

    def add_document(self, **fields: object) -> None:
        self.update_document(**fields)

    def update_document(self, **fields: object) -> None:
        body = source(fields)
        action = {"_op_type": "index", "_index": self.index,
                  "_id": document_id(str(fields["id"])), "_source": body}
        self._queue(action, len(json.dumps(body, ensure_ascii=False)))

    def delete_by_term(self, field: str, text: str) -> int:
        """Delete the articles whose ``field`` is ``text`` (a recorded field: id, path,
        hash); how many there were."""
        self.flush()
        if field == "id":
            answer = self.client.delete(index=self.index, id=document_id(text),
                                        params={"ignore": 404})
            return int(answer.get("result") == "deleted")
        answer = self.client.delete_by_query(index=self.index, refresh=True,
                                             body={"query": {"term": {field: text}}})
        return answer["deleted"]

    def commit(self, **options: object) -> None:
        """Send what is held and make every write visible (a refresh). A new index is
        published after by the alias swap (:meth:`ClusterIndex.swap_to`)."""
        self.flush()
        self.client.indices.refresh(index=self.index)

    def cancel(self) -> None:
        """Drop what is held. Requests already sent stay: OpenSearch has no transaction
        to roll back (a rebuild's new index is deleted whole instead)."""
        self._actions.clear()
        self._bytes = 0

    def _queue(self, action: dict, size: int) -> None:
        if self._actions and (len(self._actions) >= OPENSEARCH_BULK_ARTICLES
                              or self._bytes + size > OPENSEARCH_BULK_BYTES):
            self.flush()
        self._actions.append(action)
        self._bytes += size

    def flush(self) -> None:
        """Send the articles held, retrying 429s with back-off; raise on a refused one."""
        if not self._actions:
            return
        from opensearchpy import helpers

        actions, self._actions, self._bytes = self._actions, [], 0
        for ok, item in helpers.streaming_bulk(
                self.client, actions, chunk_size=OPENSEARCH_BULK_ARTICLES,
                max_chunk_bytes=OPENSEARCH_BULK_BYTES, max_retries=OPENSEARCH_BULK_RETRIES,
                initial_backoff=OPENSEARCH_BULK_FIRST_WAIT_SECONDS, raise_on_error=False,
                raise_on_exception=True):
            if not ok:
                result = next(iter(item.values()))
                raise BulkWriteFailed(f"the cluster refused article {result.get('_id')!r}: "
                                      f"{_reason(result.get('error'))}")


def _reason(error: object) -> str:
    if isinstance(error, dict):
        return f"{error.get('type')}: {error.get('reason')}"
    return str(error)


class ClusterIndex:
    """The alias a URL names and the concrete indexes behind it."""

    def __init__(self, client, alias: str, where: str) -> None:
        self.client = client
        self.alias = alias
        self.where = where  # the URL without credentials, for messages

    def live(self) -> str | None:
        """The concrete index the alias points to, or None if there is no such alias.
        A concrete index of that very name (not made by searchidx) is refused."""
        if self.client.indices.exists_alias(name=self.alias):
            return next(iter(self.client.indices.get_alias(name=self.alias)))
        if self.client.indices.exists(index=self.alias):
            raise ClusterUnavailable(f"{self.where}: {self.alias!r} is an index searchidx did "
                                     "not make (searchidx names its index by an alias)")
        return None

    def create(self, shards: int, replicas: int) -> str:
        """A new, empty concrete index for this alias (not yet behind it); its name."""
        name = f"{self.alias}.{dt.datetime.now(dt.timezone.utc):%Y%m%d%H%M%S%f}"
        self.client.indices.create(index=name, body=index_body(shards, replicas),
                                   params={"wait_for_active_shards": "1"})
        return name

    def layout(self, concrete: str) -> tuple[int, int]:
        """The shards and replicas of a concrete index."""
        settings = self.client.indices.get_settings(index=concrete)[concrete]["settings"]
        return (int(settings["index"]["number_of_shards"]),
                int(settings["index"]["number_of_replicas"]))

    def swap_to(self, new: str) -> None:
        """Point the alias at ``new`` in one atomic request, then delete the index it
        pointed to before (no search runs on it once the alias has moved)."""
        old = self.live()
        actions = [{"add": {"index": new, "alias": self.alias}}]
        if old is not None:
            actions.insert(0, {"remove": {"index": old, "alias": self.alias}})
        self.client.indices.update_aliases(body={"actions": actions})
        if old is not None and old != new:
            self.client.indices.delete(index=old, params={"ignore": 404})
