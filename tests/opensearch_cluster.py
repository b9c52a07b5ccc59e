"""The real OpenSearch cluster the OpenSearch tests run against.

``SEARCHIDX_TEST_OPENSEARCH`` (a URL such as ``http://127.0.0.1:9200``) names a cluster
started outside the suite (``.ci/run`` starts one with ``scripts/opensearch-cluster``).
Without it, the suite starts a 3-node cluster of its own with that script, on ports no
other process holds, in a folder of its own, and stops it at the end, even after a
failure. The tests never skip for want of a cluster: if none can be started, they fail
with the script's own words.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "opensearch-cluster"
URL_VARIABLE = "SEARCHIDX_TEST_OPENSEARCH"
# The work folder of that cluster, when scripts/opensearch-cluster started it (.ci/run):
# the fault tests kill and restart its nodes.
FOLDER_VARIABLE = "SEARCHIDX_TEST_OPENSEARCH_DIR"
NODES = 3
# The tests change HOME: the assembled OpenSearch home is looked for in the real one.
CACHE = Path(os.environ.get("OPENSEARCH_CLUSTER_CACHE")
             or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
             / "searchidx-opensearch")
START_TIMEOUT_SECONDS = 600  # 2 cores shared with other jobs: a guard, not an expectation
PORT_ATTEMPTS = 5


@dataclass
class Cluster:
    """A running cluster: its URL, and its work folder when the suite started it (the fault
    tests kill and restart its nodes; a cluster from outside has none)."""

    url: str
    folder: Path | None = None

    def script(self, *arguments: str, timeout: float = START_TIMEOUT_SECONDS) -> str:
        """Run ``scripts/opensearch-cluster`` on this cluster's folder; its output."""
        assert self.folder is not None, "only a cluster the suite started can be changed"
        return run_script(*arguments, "--dir", str(self.folder), timeout=timeout)


def run_script(*arguments: str, timeout: float = START_TIMEOUT_SECONDS) -> str:
    environment = {**os.environ, "OPENSEARCH_CLUSTER_CACHE": str(CACHE)}
    finished = subprocess.run([str(SCRIPT), *arguments], capture_output=True, text=True,
                              timeout=timeout, env=environment)
    if finished.returncode:
        raise RuntimeError(f"scripts/opensearch-cluster {' '.join(arguments)} failed:\n"
                           f"{finished.stdout}{finished.stderr}")
    return finished.stdout


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_base(count: int) -> int:
    """A port P such that P … P+count-1 and P+count … P+2*count-1 (HTTP and transport)
    are free now; another process may still take one before the nodes bind it, which
    :func:`start_cluster` answers by trying another base."""
    rng = random.Random()
    while True:
        base = rng.randrange(20_000, 60_000, 10)
        if all(_free(port) for port in range(base, base + 2 * count)):
            return base


def start_cluster(folder: Path) -> Cluster:
    """Start a cluster of NODES nodes in ``folder`` on free ports; raise if it will not."""
    failure = ""
    for _ in range(PORT_ATTEMPTS):
        base = free_port_base(NODES)
        try:
            run_script("start", "--nodes", str(NODES), "--dir", str(folder),
                       "--http-port", str(base), "--transport-port", str(base + NODES))
        except RuntimeError as error:
            failure = str(error)
            stop_cluster(folder)
            if "is in use" not in failure:
                break
            continue
        return Cluster(f"http://127.0.0.1:{base}", folder)
    raise RuntimeError(failure)


def stop_cluster(folder: Path) -> None:
    if (folder / "settings").exists():
        run_script("stop", "--dir", str(folder), timeout=120)


def wait_for_health(client, status: str = "green", nodes: int = NODES,
                    timeout: float = START_TIMEOUT_SECONDS) -> None:
    """Wait until the cluster reports ``status`` with ``nodes`` nodes (an observable event;
    the deadline only guards against a hang)."""
    deadline = time.monotonic() + timeout
    while True:
        health = client.cluster.health(wait_for_status=status, wait_for_nodes=str(nodes),
                                       timeout="10s", request_timeout=30,
                                       ignore=408)  # a request timeout first, or
        # opensearch-py reads the API's "timeout" as its own
        if not health.get("timed_out") and health["status"] in ("green", status):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the cluster is {health['status']}, not {status}")


def index_url(cluster: Cluster, name: str) -> str:
    """The searchidx URL of the index ``name`` on ``cluster``."""
    return cluster.url.replace("http://", "opensearch://", 1).rstrip("/") + f"/{name}"


def drop_indexes(cluster: Cluster, prefix: str) -> None:
    """Delete the indexes (and the aliases on them) whose names begin with ``prefix``: each
    test module cleans up after itself, so the cluster's state stays small."""
    from opensearchpy import OpenSearch

    client = OpenSearch([cluster.url], timeout=60)
    client.indices.delete(index=f"{prefix}*", params={"expand_wildcards": "all",
                                                       "ignore": 404})


def dropped_afterwards(prefix: str):
    """A module's fixture that deletes its indexes (named ``prefix…``) once its tests ran."""
    import pytest  # not at the top: .ci/run imports this module before pytest is installed

    @pytest.fixture(scope="module", autouse=True)
    def dropped(opensearch_cluster):
        yield
        drop_indexes(opensearch_cluster, prefix)
    return dropped
