"""An index on an OpenSearch cluster, behind the same calls as a local index folder
(:class:`searchidx.index.IndexStore`, its sibling in the layers): the library and the
indexer use either alike; the engine underneath is :mod:`searchidx.engine.opensearch`.

A "generation" here is a concrete index behind the alias (see :mod:`.writing`): a
rebuild creates one, fills it, and publishes it by the atomic alias swap. Errors of the
cluster (it does not answer, refuses a request) become one line naming the index URL,
never with credentials.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from .engine.manifest import Damage
from .engine.opensearch.location import ClusterLocation, ClusterUnavailable
from .engine.opensearch.mapping import MAPPING_VERSION
from .engine.opensearch.snapshot import ClusterSnapshot
from .engine.opensearch.writing import BulkWriter, ClusterIndex
from .errors import IndexNotFound
from .index import IndexStats
from .settings import OPENSEARCH_REPLICAS, OPENSEARCH_SHARDS


class ClusterStore:
    def __init__(self, url: str, shards: int | None = None, replicas: int | None = None) -> None:
        self._where = ClusterLocation.parse(url)
        self.location = str(self._where)  # never with credentials
        self.lock_fd = None  # the local engine's writer processes share a lock; not here
        self.shards, self.replicas = shards, replicas  # None: as the live index, or the default
        self.index = ClusterIndex(self._where.client(), self._where.name, self.location)

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Report a failed request to the cluster as one line (no traceback, no password)."""
        from opensearchpy.exceptions import OpenSearchException

        try:
            yield
        except OpenSearchException as error:
            raise ClusterUnavailable(f"{self.location}: {_describe(error)}") from None

    def exists(self) -> bool:
        with self.reading():
            return self.index.live() is not None

    def live_generation(self) -> str:
        with self.reading():
            live = self.index.live()
        if live is None:
            raise IndexNotFound(f"no index at {self.location}")
        return live

    def open_snapshot(self) -> ClusterSnapshot:
        return self._snapshot(self.live_generation())

    open_readable = open_snapshot

    def _snapshot(self, concrete: str) -> ClusterSnapshot:
        with self.reading():
            return ClusterSnapshot(self.index.client, self.index.alias, concrete)

    @contextlib.contextmanager
    def writing(self, wait: float = 0) -> Iterator[None]:
        """Errors of the cluster as one line. (No lock: a cluster has no writer lock, so
        two writers of one index at once are the user's to avoid.)"""
        with self.reading():
            yield

    def create_generation(self) -> tuple[str, _FreshIndex]:
        with self.reading():
            name = self.index.create(*self._layout())
        return name, _FreshIndex(self.index.client, name)

    def _layout(self) -> tuple[int, int]:
        """The shards and replicas of a new index: those given, else the live index's (a
        rebuild keeps what the index was made with), else the defaults."""
        live = self.index.live()
        kept = self.index.layout(live) if live else (OPENSEARCH_SHARDS, OPENSEARCH_REPLICAS)
        return (kept[0] if self.shards is None else self.shards,
                kept[1] if self.replicas is None else self.replicas)

    def publish(self, generation: str) -> None:
        with self.reading():
            self.index.swap_to(generation)

    def discard(self, generation: str) -> None:
        with contextlib.suppress(Exception):  # a failed run's index: best effort
            self.index.client.indices.delete(index=generation, params={"ignore": 404})

    def damage(self, thorough: bool = False) -> list[Damage]:
        """What `check` reports as damage: an index whose mapping another searchidx
        made (its fields mean other things: rebuild it), or one whose shards have no
        copy on any node (the cluster's health is red)."""
        with self.reading():
            concrete = self.live_generation()
            client = self.index.client
            mapping = client.indices.get_mapping(index=concrete)[concrete]["mappings"]
            health = client.cluster.health(index=concrete)["status"]
        where = f"{self.location} (index {concrete})"
        found = []
        version = mapping.get("_meta", {}).get("searchidx_mapping_version")
        if version != MAPPING_VERSION:
            found.append(Damage(where, f"has the mapping of version {version}, this searchidx "
                                       f"writes version {MAPPING_VERSION}"))
        if health == "red":
            found.append(Damage(where, "is red: some of its shards have no copy on any node"))
        return found

    def recorded_articles(self) -> int:
        with self.reading():
            return self.index.client.count(index=self.index.alias)["count"]

    def stats(self, articles: int, version: int) -> IndexStats:
        with self.reading():
            concrete = self.live_generation()
            stats = self.index.client.indices.stats(index=concrete, metric="store")
            settings = self.index.client.indices.get_settings(index=concrete)
        created = int(settings[concrete]["settings"]["index"]["creation_date"]) / 1000
        return IndexStats(self.location, articles,
                          stats["_all"]["total"]["store"]["size_in_bytes"],
                          dt.datetime.fromtimestamp(created, tz=dt.timezone.utc).replace(
                              microsecond=0), version)


class _FreshIndex:
    """A new concrete index being filled (the snapshot a fresh build writes through)."""

    def __init__(self, client, name: str) -> None:
        self.client = client
        self.name = name

    def open_writer(self, processes: int = 1, lock_fd: int | None = None,
                    memory_mb: float = 0) -> BulkWriter:
        return BulkWriter(self.client, self.name)

    def close(self) -> None:
        """Nothing is held open."""


def _describe(error: Exception) -> str:
    """A failed request in a few words: its status and OpenSearch's reason, or the
    connection's failure."""
    status = getattr(error, "status_code", None)
    info = getattr(error, "info", None)
    reason = ""
    if isinstance(info, dict):
        cause = info.get("error")
        reason = cause.get("reason", "") if isinstance(cause, dict) else str(cause or "")
    if isinstance(status, int):
        return f"the cluster answered {status}{': ' + reason if reason else ''}"
    return f"the cluster does not answer ({type(error).__name__})"

