"""The OpenSearch engine on the real cluster: written in bulk, rebuilt behind an atomic
alias swap, searched with the query tree, as the local engine's contract says."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import SEED_IDS
from opensearch_cluster import dropped_afterwards, index_url

from searchidx import bundled_seeds
from searchidx.documents import find_files, read_file
from searchidx.engine import tree
from searchidx.engine.opensearch.location import ClusterLocation
from searchidx.engine.opensearch.snapshot import ClusterSnapshot
from searchidx.engine.opensearch.writing import BulkWriter, ClusterIndex

SHORT = {full: number for number, full in SEED_IDS.items()}


dropped = dropped_afterwards("engine-")


def seed_fields() -> list[dict]:
    """The seeds' fields as the indexer hands them to a writer."""
    return [{"id": article.id, "path": article.path, "title": article.title,
             "body": article.body, "place": article.place, "source": article.source,
             "url": article.url, "hash": article.content_hash, "stamp": "1",
             "date": dt.datetime.combine(article.date, dt.time()) if article.date else None}
            for source in find_files(bundled_seeds())
            for article in read_file(source).articles]


def cluster_index(cluster, name: str) -> ClusterIndex:
    location = ClusterLocation.parse(index_url(cluster, name))
    client = location.client()
    for old in client.indices.get(index=f"{name}*", params={"ignore": 404}) or {}:
        client.indices.delete(index=old, params={"ignore": 404})
    return ClusterIndex(client, location.name, str(location))


def fill(index: ClusterIndex, documents: list[dict], fresh: bool = False) -> None:
    """Write ``documents`` into the live index, or into a new one swapped in after."""
    live = index.live()
    target = index.create(shards=2, replicas=1) if fresh or live is None else live
    writer = BulkWriter(index.client, target)
    for document in documents:
        writer.add_document(**document)
    writer.commit()
    if target != live:
        index.swap_to(target)


def snapshot(index: ClusterIndex) -> ClusterSnapshot:
    return ClusterSnapshot(index.client, index.alias, index.live())


@pytest.fixture(scope="module")
def seeds_on_cluster(opensearch_cluster) -> ClusterIndex:
    index = cluster_index(opensearch_cluster, "engine-seeds")
    fill(index, seed_fields())
    return index


def found(ranking) -> list[str]:
    return [SHORT[hit_id] for hit_id in ranking]


def ranked_ids(view: ClusterSnapshot, ranking) -> list[str]:
    return [SHORT[view.stored_fields(hit.docnum)["id"]] for hit in ranking.hits]


def test_a_written_index_is_behind_its_alias_and_holds_every_article(seeds_on_cluster):
    view = snapshot(seeds_on_cluster)
    assert seeds_on_cluster.live().startswith("engine-seeds.")
    assert view.doc_count() == 5
    assert {row[0] for row in view.recorded_columns(("id",))} == set(SHORT)


def test_a_folded_term_finds_every_spelling(seeds_on_cluster):
    view = snapshot(seeds_on_cluster)
    query = tree.Or((tree.Term("title", "vu"), tree.Term("body", "vu")))
    ranking = view.search(query, limit=10)
    assert ranking.total == 3 and sorted(ranked_ids(view, ranking)) == ["000", "001", "004"]


def test_a_matched_term_comes_with_its_places_in_the_original_body(seeds_on_cluster):
    view = snapshot(seeds_on_cluster)
    ranking = view.search(tree.Term("body", "vu"), limit=10)
    hit = next(hit for hit in ranking.hits
               if view.stored_fields(hit.docnum)["id"] == SEED_IDS["001"])
    body = view.stored_fields(hit.docnum)["body"]
    assert {body[start:end] for _, start, end in hit.body_chars["vu"]} == {"Vũ"}
    assert ("body", b"vu") in hit.terms


def test_a_joined_name_finds_the_name_written_apart(seeds_on_cluster):
    view = snapshot(seeds_on_cluster)
    apart = view.search(tree.Phrase("body", ("ha", "noi")), limit=10)
    joined = view.search(tree.Term("body", "hanoi"), limit=10)
    assert apart.total > 0 and set(ranked_ids(view, joined)) >= set(ranked_ids(view, apart))


def test_dates_filter_and_sort(seeds_on_cluster):
    view = snapshot(seeds_on_cluster)
    everything = tree.Not(tree.Term("id", "none"))
    recent = view.search(everything, limit=10, since=dt.date(2025, 1, 1))
    assert ranked_ids(view, recent) == ["001"]
    by_date = view.search(everything, limit=10, sort="date")
    dates = [view.stored_fields(hit.docnum)["date"] for hit in by_date.hits]
    dated = [date for date in dates if date is not None]
    assert dated == sorted(dated, reverse=True) and by_date.total == 5


def test_exact_spellings_rank_first(seeds_on_cluster):
    view = snapshot(seeds_on_cluster)
    query = tree.Or((tree.Term("title", "vu"), tree.Term("body", "vu")))
    ranking = view.search(query, limit=10, exact=tree.Term("exact", "vũ"))
    first = view.stored_fields(ranking.hits[0].docnum)
    assert "Vũ" in first["title"] + first["body"]
    assert [hit.score for hit in ranking.hits] == sorted(
        (hit.score for hit in ranking.hits), reverse=True)


def test_an_exclusion_and_a_prefix(seeds_on_cluster):
    view = snapshot(seeds_on_cluster)
    query = tree.And((tree.Prefix("body", "nguy"), tree.Not(tree.Term("body", "vu"))))
    ids = set(ranked_ids(view, view.search(query, limit=10)))
    with_vu = set(ranked_ids(view, view.search(tree.Term("body", "vu"), limit=10)))
    assert ids and not ids & with_vu


def test_a_rebuild_swaps_the_alias_atomically_and_deletes_the_old_index(opensearch_cluster):
    index = cluster_index(opensearch_cluster, "engine-rebuild")
    fill(index, seed_fields()[:2])
    old = index.live()
    fill(index, seed_fields(), fresh=True)
    assert index.live() != old
    assert not index.client.indices.exists(index=old)
    assert snapshot(index).doc_count() == 5


def test_an_update_replaces_an_article_and_a_delete_removes_it(opensearch_cluster):
    index = cluster_index(opensearch_cluster, "engine-update")
    documents = seed_fields()
    fill(index, documents)
    writer = BulkWriter(index.client, index.live())
    writer.update_document(**{**documents[0], "title": "Replaced title"})
    assert writer.delete_by_term("id", documents[1]["id"]) == 1
    writer.commit()
    view = snapshot(index)
    assert view.doc_count() == 4
    assert view.document(documents[0]["id"])["title"] == "Replaced title"
    assert view.document(documents[1]["id"]) is None
