"""Indexes written in an earlier on-disk format open, search and update."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from searchidx import SearchIndex

FIXTURES = Path(__file__).parent / "fixtures"

# The hits the code that wrote index-v1 returned (ids of the first five, and how many).
V1_HITS = {"said": (88, ["17", "39", "69", "79", "96"]),
           "the": (107, ["29", "43", "46", "69", "79"]),
           '"said it"': (7, ["88", "98", "117", "22", "107"]),
           "Revised": (10, ["4", "7", "9", "2", "5"]),
           "minister": (16, ["122", "13", "22", "68", "88"])}


@pytest.fixture()
def index_v1(tmp_path: Path) -> Path:
    """A copy of the committed format-1 index, free to write to."""
    return Path(shutil.copytree(FIXTURES / "index-v1", tmp_path / "index-v1"))


@pytest.mark.parametrize("text", sorted(V1_HITS))
def test_a_format_1_index_finds_what_its_writer_found(index_v1, text):
    with SearchIndex.open(index_v1) as idx:
        found = idx.search(text, limit=5)
    assert (found.total, [hit.id for hit in found.hits]) == V1_HITS[text]


def test_a_format_1_index_takes_new_articles(index_v1, tmp_path):
    new = tmp_path / "new.jsonl"
    new.write_text(json.dumps({"id": "n1", "title": "Zanzibar cloves",
                               "body": "Zanzibar said the clove harvest rose."}) + "\n")
    with SearchIndex.open(index_v1) as idx:
        assert idx.index([new]).added == 1
        assert [hit.id for hit in idx.search("zanzibar").hits] == ["n1"]
        assert idx.search("said").total == V1_HITS["said"][0] + 1
