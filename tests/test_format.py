"""Indexes written in an earlier on-disk format open, search and update."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from whoosh.index import open_dir

from searchidx import SearchIndex

from test_cli import installed_command

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


def _zanzibar_article(tmp_path: Path, body: str) -> Path:
    """A JSON-lines file of one new article, "n1", with this body."""
    new = tmp_path / "new.jsonl"
    new.write_text(json.dumps({"id": "n1", "title": "Zanzibar cloves", "body": body}) + "\n")
    return new


def test_a_format_1_index_takes_new_articles(index_v1, tmp_path):
    new = _zanzibar_article(tmp_path, "Zanzibar said the clove harvest rose.")
    with SearchIndex.open(index_v1) as idx:
        assert idx.index([new]).added == 1
        assert [hit.id for hit in idx.search("zanzibar").hits] == ["n1"]
        assert idx.search("said").total == V1_HITS["said"][0] + 1


# Fixtures written by scripts/make_format_fixture.py, each with the hits its writer found.
LATER_FIXTURES = ["index-v2", "index-v3", "index-v4", "index-v5"]


@pytest.fixture(params=LATER_FIXTURES)
def later_fixture(request, tmp_path: Path) -> tuple[Path, dict]:
    """A copy of a committed index of format 2 or later, and what its writer found."""
    source = FIXTURES / request.param
    hits = json.loads((source / "hits.json").read_text(encoding="utf-8"))
    return Path(shutil.copytree(source, tmp_path / request.param)), hits


def test_an_index_of_each_later_format_finds_what_its_writer_found(later_fixture):
    location, hits = later_fixture
    with SearchIndex.open(location) as idx:
        found = {text: idx.search(text, limit=5) for text in hits}
    assert {text: [result.total, [hit.id for hit in result.hits]]
            for text, result in found.items()} == hits
    assert all(hit.snippet for result in found.values() for hit in result.hits)


def test_an_index_of_each_later_format_takes_new_articles_in_its_own_format(later_fixture,
                                                                            tmp_path):
    location, hits = later_fixture
    said_before = (_live_generation(location) / "FORMAT.json").read_bytes()
    new = _zanzibar_article(tmp_path, "Zanzibar said it sold the clove harvest.")
    with SearchIndex.open(location) as idx:
        assert idx.index([new]).added == 1
        assert [hit.id for hit in idx.search('"zanzibar said it"').hits] == ["n1"]
        assert idx.search('"said it"').total == hits['"said it"'][0] + 1
    assert (_live_generation(location) / "FORMAT.json").read_bytes() == said_before


def test_an_update_of_an_index_of_format_2_writes_what_searchidx_of_format_2_reads(tmp_path):
    """Stored fields deflated with a dictionary came with format 3: the segment an update
    adds to a format-2 index keeps them where whoosh3 (and searchidx of format 2) reads."""
    from whoosh.codec.whoosh3 import W3PerDocReader

    location = Path(shutil.copytree(FIXTURES / "index-v2", tmp_path / "index-v2"))
    new = tmp_path / "new.jsonl"
    new.write_text(json.dumps({"id": "n1", "title": "Zanzibar", "body": "Cloves."}) + "\n")
    with SearchIndex.open(location) as idx:
        idx.index([new])
    with open_dir(str(_live_generation(location))).reader() as reader:
        stored = [W3PerDocReader(segment.storage(), segment.segment()).stored_fields(number)
                  for segment, _ in reader.leaf_readers()
                  for number in range(segment.doc_count_all())]
    assert {"id": "n1", "title": "Zanzibar"}.items() <= next(
        fields for fields in stored if fields.get("id") == "n1").items()


def _terms_files_compact(location: Path) -> list[bool]:
    """Whether each segment of the live generation keeps its terms in a compact table."""
    from searchidx.engine.terms import CompactTermsReader

    with open_dir(str(_live_generation(location))).reader() as reader:
        return [isinstance(segment._terms, CompactTermsReader)
                for segment, _ in reader.leaf_readers()]


def test_an_index_of_format_4_keeps_every_segments_terms_in_a_compact_table():
    assert _terms_files_compact(FIXTURES / "index-v4") == [True, True, True]


def test_an_index_of_format_4_keeps_each_files_path_once_a_segment():
    """Every article of a JSONL file has its path: a column of format 4 keeps it once, and
    a byte per article naming it (format 3 kept it for each article)."""
    with open_dir(str(_live_generation(FIXTURES / "index-v4"))).reader() as reader:
        for segment, _ in reader.leaf_readers():
            name = f"{segment.segment().segment_id()}.path.col"
            paths = set(segment.column_reader("path"))
            assert segment.storage().file_length(name) <= segment.doc_count_all() + sum(
                len(path) + 2 for path in paths) + 2


def test_an_index_of_format_5_keeps_a_pair_signature_extension_column_in_every_segment():
    """Every tenth article's body is whole, long enough for an extension (its phrases in
    ``hits.json`` are found through it); the others' are short, their extensions empty."""
    with open_dir(str(_live_generation(FIXTURES / "index-v5"))).reader() as reader:
        segments = [segment for segment, _ in reader.leaf_readers()]
        assert len(segments) == 3 and all(segment.has_column("body_pairs_long")
                                          for segment in segments)
        sizes = [len(value) for segment in segments
                 for value in segment.column_reader("body_pairs_long", translate=False)]
        assert any(sizes) and not all(sizes)


def test_an_update_of_an_index_of_format_3_writes_the_terms_file_searchidx_of_format_3_reads(
        tmp_path):
    """The compact terms table came with format 4: a segment an update adds to a format-3
    index keeps whoosh3's terms file (which searchidx of format 3 reads)."""
    location = Path(shutil.copytree(FIXTURES / "index-v3", tmp_path / "index-v3"))
    new = tmp_path / "new.jsonl"
    new.write_text(json.dumps({"id": "n1", "title": "Zanzibar", "body": "Cloves."}) + "\n")
    with SearchIndex.open(location) as idx:
        idx.index([new])
        assert [hit.id for hit in idx.search("zanzibar").hits] == ["n1"]
    assert _terms_files_compact(location) == [False] * 4


def _live_generation(location: Path) -> Path:
    return location / (location / "CURRENT").read_text().strip()


def test_a_new_index_says_its_format_and_version(seeded):
    said = json.loads((_live_generation(seeded.location) / "FORMAT.json").read_text())
    assert said == {"format": "searchidx", "version": 5}


@pytest.mark.parametrize("said", ['{"format": "searchidx", "version": 6}',
                                  '{"format": "other-engine", "version": 1}',
                                  '{"format": "searchidx", "version": "2\\nx"}', "not json"])
def test_an_index_in_an_unknown_format_is_refused_in_one_line_with_exit_2(seed_dir, index_dir,
                                                                           said):
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([seed_dir])
    (_live_generation(index_dir) / "FORMAT.json").write_text(said)
    completed = subprocess.run([installed_command(), "search", "Vũ", "--index", str(index_dir)],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.count("\n") == 1
    assert "reads searchidx versions 1–5" in completed.stderr
    assert f"searchidx rebuild PATH… --index {index_dir}" in completed.stderr


def test_rebuild_makes_an_index_of_an_unknown_format_readable(seed_dir, index_dir):
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([seed_dir])
    said = '{"format": "searchidx", "version": 9}'
    (_live_generation(index_dir) / "FORMAT.json").write_text(said)
    with SearchIndex.open(index_dir) as idx:
        idx.rebuild([seed_dir])
        assert idx.search("Vũ").total == 3
