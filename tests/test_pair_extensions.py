"""A long article's pair signature extension: its 128-byte signature fills up (a third or
more of its bits set), so an extension sized to its pairs rules out most of the phrases the
signature lets through, before their positions are read; results stay the same."""

from __future__ import annotations

import json
import random
from itertools import pairwise
from pathlib import Path

import pytest

from searchidx import SearchIndex, settings
from searchidx.analysis import (extension_bits, pair_bits, pair_code, pair_extension,
                                pair_signature, prose_terms)
from searchidx.engine import counters
from searchidx.index import IndexStore, _storage, build_schema

LETTERS = "bcdfgklmnprstvz"
VOWELS = "aeiou"


def _word(rng: random.Random) -> str:
    """A made-up word that is its own term (no stemming shortens it)."""
    while True:
        word = "".join(rng.choice(LETTERS) + rng.choice(VOWELS) for _ in range(3))
        if list(prose_terms(word)[0]) == [word]:
            return word


def _long_body(seed: int, words: int = 600, vocabulary: int = 250) -> str:
    """A made-up text of ``words`` words from ``vocabulary`` ones, each its own term."""
    rng = random.Random(seed)
    known = [_word(rng) for _ in range(vocabulary)]
    return " ".join(rng.choice(known) for _ in range(words))


def _sequence(text: str) -> list[str]:
    at = {position: term for term, occurrences in prose_terms(text)[0].items()
          for position, _, _ in occurrences}
    return [at[position] for position in sorted(at)]


def _has(bits_bytes: bytes, bits) -> bool:
    return all(bits_bytes[bit >> 3] & (1 << (bit & 7)) for bit in bits)


def _in_extension(extension: bytes, first: str, second: str) -> bool:
    return _has(extension, extension_bits(pair_code(first, second), len(extension)))


def _absent_pairs(text: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Pairs of the text's words that never follow one another: those its signature passes,
    and of these, those its extension passes too."""
    sequence = _sequence(text)
    present = set(pairwise(sequence))
    words = sorted(set(sequence))
    signature, extension = pair_signature(text), pair_extension(text)
    passed = [(first, second) for first in words[:60] for second in words
              if (first, second) not in present and _has(signature, pair_bits(first, second))]
    return passed, [pair for pair in passed if _in_extension(extension, *pair)]


# --- the extension itself ------------------------------------------------------------------

def test_a_short_text_has_no_pair_extension():
    assert pair_extension("The harbour office logged forty ships today.") == b""


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_long_text_s_extension_has_the_bits_of_every_two_terms_at_consecutive_positions(seed):
    text = _long_body(seed)
    extension = pair_extension(text)
    assert extension and all(_in_extension(extension, *pair)
                             for pair in pairwise(_sequence(text)))


def test_an_extension_grows_with_its_text_s_distinct_pairs():
    shorter, longer = pair_extension(_long_body(4, words=400)), pair_extension(_long_body(4))
    assert len(longer) > len(shorter) >= len(pair_signature(_long_body(4)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_extension_rules_out_most_absent_pairs_a_long_text_s_signature_passes(seed):
    passed, still_passed = _absent_pairs(_long_body(seed))
    assert len(passed) > 1000 and len(still_passed) < len(passed) / 5


# --- searching --------------------------------------------------------------------------------

def _articles_file(folder: Path, bodies: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    jsonl = folder / "wire.jsonl"
    jsonl.write_text("".join(json.dumps({"id": key, "title": f"Report {key}", "body": body}) + "\n"
                             for key, body in bodies.items()), encoding="utf-8")
    return jsonl


BODIES = {"long": _long_body(1), "other": _long_body(2),
          "short": "The harbour office logged forty ships today."}


def _false_candidate(text: str) -> tuple[str, str]:
    """Two words of ``text`` that never follow one another, whose pair its signature
    passes and its extension does not."""
    passed, still_passed = _absent_pairs(text)
    return next(pair for pair in passed if pair not in still_passed)


def test_a_long_article_s_absent_phrase_its_signature_passes_is_ruled_out_before_positions(
        tmp_path):
    first, second = _false_candidate(BODIES["long"])
    with SearchIndex.open(tmp_path / "index", create=True) as idx:
        idx.index([_articles_file(tmp_path / "news", BODIES)])
        before = counters["phrase_candidates_ruled_out"]
        assert idx.search(f'"{first} {second}"').total == 0
        assert counters["phrase_candidates_ruled_out"] > before


def test_every_phrase_of_a_long_article_is_found(tmp_path):
    sequence = _sequence(BODIES["long"])
    with SearchIndex.open(tmp_path / "index", create=True) as idx:
        idx.index([_articles_file(tmp_path / "news", BODIES)])
        for first, second, third in zip(sequence[::7], sequence[1::7], sequence[2::7]):
            assert "long" in [hit.id for hit in idx.search(f'"{first} {second} {third}"',
                                                           limit=5).hits]


def _phrases() -> list[str]:
    """Phrases the long articles have, and some they do not that their signatures pass."""
    sequences = [_sequence(BODIES[key]) for key in ("long", "other")]
    present = [f'"{first} {second}"' for sequence in sequences
               for first, second in list(pairwise(sequence))[::25]]
    absent = [f'"{first} {second}"' for key in ("long", "other")
              for first, second in _absent_pairs(BODIES[key])[0][:20]]
    return present + absent


def test_phrases_find_the_same_in_an_index_written_without_pair_extensions(tmp_path):
    before = IndexStore(tmp_path / "before")  # no body_pairs_long: as format 4 made it
    generation, _ = before.create_generation()
    schema = build_schema()
    schema.remove("body_pairs_long")
    _storage(generation).create_index(schema)
    before.publish(generation)
    news = _articles_file(tmp_path / "news", BODIES)
    with SearchIndex.open(tmp_path / "before") as old, \
            SearchIndex.open(tmp_path / "now", create=True) as new:
        old.index([news])
        new.index([news])
        for phrase in _phrases():
            found, expected = old.search(phrase), new.search(phrase)
            assert [(hit.id, hit.score, hit.snippet) for hit in found] == \
                [(hit.id, hit.score, hit.snippet) for hit in expected], phrase


def _extensions_are_each_body_s_own(location: Path) -> int:
    """Each article's extension is the one its own stored body makes; how many there are."""
    with IndexStore(location).open().reader() as reader:
        extensions = reader.column_reader("body_pairs_long", translate=False)
        made = 0
        for docnum, stored in reader.iter_docs():
            assert extensions[docnum] == pair_extension(stored["body"]), stored["id"]
            made += bool(extensions[docnum])
    return made


def test_worker_processes_write_each_long_article_s_extension(tmp_path, monkeypatch):
    bodies = {f"a{n}": _long_body(n, words=300 + n) for n in range(40)}
    monkeypatch.setattr(settings, "PARALLEL_MIN_BYTES", 0)
    with SearchIndex.open(tmp_path / "index", create=True) as idx:
        assert idx.index([_articles_file(tmp_path / "news", bodies)]).added == 40
    assert _extensions_are_each_body_s_own(tmp_path / "index") == 40


def test_merged_segments_keep_each_long_article_s_extension(tmp_path):
    bodies = {f"a{n}": _long_body(n) for n in range(3)}
    index = tmp_path / "index"
    segments = []
    for update in range(12):  # small updates pile up segments, which the writer merges
        bodies[f"u{update}"] = _long_body(100 + update)
        bodies[f"a{update % 3}"] = _long_body(200 + update)
        with SearchIndex.open(index, create=True) as idx:
            idx.index([_articles_file(tmp_path / "news", bodies)])
        live = index / (index / "CURRENT").read_text().strip()
        segments.append(len(list(live.glob("*.seg"))))
    assert any(after < before for before, after in pairwise(segments))  # merged
    assert _extensions_are_each_body_s_own(index) == len(bodies)
    first, second = _false_candidate(bodies["a0"])
    with SearchIndex.open(index) as idx:
        before = counters["phrase_candidates_ruled_out"]
        assert "a0" not in [hit.id for hit in idx.search(f'"{first} {second}"').hits]
        assert counters["phrase_candidates_ruled_out"] > before
