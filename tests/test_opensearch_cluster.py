"""The cluster the OpenSearch tests use is real: three OpenSearch nodes, green."""

from __future__ import annotations

from opensearchpy import OpenSearch


def test_the_cluster_is_three_green_opensearch_nodes(opensearch_cluster):
    client = OpenSearch([opensearch_cluster.url])
    health = client.cluster.health(wait_for_status="green", timeout="60s",
                                   request_timeout=90)
    assert health["status"] == "green" and health["number_of_nodes"] == 3
    modules = {module["name"] for node in client.nodes.info()["nodes"].values()
               for module in node["modules"]}
    assert {"analysis-common", "transport-netty4", "lang-painless"} <= modules
    assert client.info()["version"]["number"].startswith("2.19.")
