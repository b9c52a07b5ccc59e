"""The on-disk format (``codec.py``): Whoosh reads what it writes as it reads its own."""

from __future__ import annotations

import itertools
import io
import json
import pickle
import random
import zlib
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from whoosh import fields
from whoosh.codec.whoosh3 import W3Codec, W3TermInfo
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.formats import Characters

from searchidx import SearchIndex, settings
from searchidx.engine.codec import (Block, Codec, Occurrences, RepeatedBytesColumn, _arrays_head,
                                    _joined_values, encoded_block, head_in_place,
                                    joined_values, keyed_positions, values_in_place,
                                    varying_positions)
from searchidx.index import IndexStore, build_schema
from searchidx.engine.format import write_format
from searchidx.engine.matching import _Postings, _positions_decoder
from searchidx.engine.terms import (CompactTermInfo, CompactTermsReader, decoded_term_info)
from searchidx.engine.whoosh_adapter import InliningTermInfo

from newsgen import NewsWriter, with_bodies

# A word in every article (blocks of 128, values kept apart), in a few (one small
# block), in one (kept in the term's entry).
WORDS = ["rice", "sorghum", "299"]


def _written_with(folder: Path, codec, field) -> tuple[int, list, list]:
    """Postings file size, the postings of each of ``WORDS`` as Whoosh's matcher reads
    them, and every article's field lengths; checks that ``matching`` decodes the
    postings as Whoosh does."""
    index = FileStorage(str(folder)).create().create_index(fields.Schema(body=field))
    with index.writer(codec=codec) as writer:
        for number in range(300):
            extra = " sorghum" if number % 20 == 0 else ""
            writer.add_document(body=f"report {number} on rice exports{extra}" + " and trade" * (number % 7))
    format_ = field.format
    with index.reader() as reader:
        postings = [list(reader.postings("body", word).items_as("characters")) for word in WORDS]
        lengths = [reader.doc_field_length(docnum, "body") for docnum in range(300)]
        for word, expected in zip(WORDS, postings):
            decoded = _Postings(reader, "body", word.encode())
            assert [(doc, format_.decode_characters(decoded.value(doc)))
                    for doc in sorted(decoded.all_ids())] == expected
    size = sum(path.stat().st_size for path in folder.iterdir())
    return size, postings, lengths


@pytest.mark.parametrize("field", [fields.TEXT(chars=True), build_schema()["body"]],
                         ids=["whoosh Characters", "searchidx Occurrences"])
def test_the_codec_writes_postings_whoosh_reads_as_its_own(tmp_path, field):
    ours = _written_with(tmp_path / "ours", Codec(), field)
    stock = _written_with(tmp_path / "stock", W3Codec(), field)
    assert ours[1:] == stock[1:]
    assert [len(postings) for postings in ours[1]] == [300, 15, 1]
    assert len(set(ours[2])) >= 7  # lengths that differ, read the same


@pytest.mark.parametrize("boost", [1.0, 2.2], ids=["counts", "a boost rounded up in blocks"])
@pytest.mark.parametrize("codec", [Codec, W3Codec], ids=["fixed infos", "pickled infos"])
def test_each_blocks_greatest_weight_is_read_from_its_info(tmp_path, monkeypatch, codec, boost):
    """(Bounds for pruning: whoosh3 pickles a block's info, Codec writes it in one layout;
    the info holds the greatest weight unrounded, the block its weights in single precision.)"""
    monkeypatch.setattr(settings, "POSTINGS_PER_BLOCK", 100)
    field = fields.TEXT(chars=True, field_boost=boost)
    _written_with(tmp_path, codec(), field)  # (blocks of 100, 128)
    with FileStorage(str(tmp_path)).open_index().reader() as reader:
        postings = _Postings(reader, "body", b"trade")  # 0 to 6 times in an article
        greatest = postings.max_weights(range(len(postings._last_ids)))
        assert greatest == [max(postings._block(number)[1]) for number in range(len(greatest))]
        assert len(greatest) > 1 and max(greatest) == pytest.approx(6 * boost)


def test_a_term_of_few_postings_is_kept_in_its_term_info_and_whoosh_reads_it(tmp_path):
    field = build_schema()["body"]
    _written_with(tmp_path, Codec(), field)  # checks the postings as Whoosh reads them
    from whoosh.index import open_dir

    with open_dir(str(tmp_path)).reader() as reader:
        inlined = {word: reader.term_info("body", word).is_inlined() for word in WORDS}
    assert settings.INLINE_MAX_POSTINGS < 15
    assert inlined == {"rice": False, "sorghum": False, "299": True}


def test_the_codec_writes_at_most_a_third_more_bytes_than_whoosh(tmp_path):
    """Its values are not compressed (reading one would mean inflating its whole block);
    its document numbers, weights and block headers take less room than whoosh3's."""
    field = fields.TEXT(chars=True)
    ours = _written_with(tmp_path / "ours", Codec(), field)[0]
    assert ours <= 4 / 3 * _written_with(tmp_path / "stock", W3Codec(), field)[0]


def test_prose_fields_keep_occurrences_in_their_own_format():
    schema = build_schema()
    assert type(schema["title"].format) is Occurrences
    assert type(schema["body"].format) is Occurrences


@st.composite
def occurrences(draw) -> list[tuple[int, int, int]]:
    """Where a word occurs in an article: rising positions, spans that do not overlap,
    offsets small and beyond 32,767 (which take four bytes a number)."""
    steps = draw(st.lists(st.tuples(st.integers(0, 40_000), st.integers(0, 70_000),
                                     st.integers(1, 40)), min_size=1, max_size=12))
    found, position, end = [], -1, 0
    for position_step, gap, length in steps:
        position += position_step + 1
        start = end + gap
        end = start + length
        found.append((position, start, end))
    return found


@st.composite
def any_occurrences(draw) -> list[tuple[int, int, int]]:
    """Where a word occurs in the longest article: positions and offsets up to 2,000,000
    (beyond the largest character code), spans that overlap (a joined name's words)."""
    steps = draw(st.lists(st.tuples(st.integers(0, 2_000_000), st.integers(-30, 2_000_000),
                                     st.integers(0, 40)), min_size=1, max_size=12))
    found, position, end = [], -1, 0
    for position_step, gap, length in steps:
        position += position_step + 1
        start = max(0, end + gap)
        end = start + length
        found.append((position, start, end))
    return found


def _fixed_layout() -> Occurrences:
    """Occurrences as a format-2 schema saved them (the fixture's, unpickled)."""
    from whoosh.index import open_dir

    generation = FIXTURES / "index-v2" / (FIXTURES / "index-v2" / "CURRENT").read_text().strip()
    return open_dir(str(generation)).schema["body"].format


FIXTURES = Path(__file__).parent / "fixtures"
LAYOUTS = {"varying": Occurrences(), "fixed": _fixed_layout()}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@given(occurrences=st.one_of(occurrences(), any_occurrences()))
def test_occurrences_read_back_as_whoosh_characters_reads_its_own(layout, occurrences):
    ours, whoosh = LAYOUTS[layout], Characters()
    value = ours.encode(occurrences)
    assert ours.decode_characters(value) == whoosh.decode_characters(whoosh.encode(occurrences)) \
        == occurrences
    assert ours.decode_positions(value) == [position for position, _, _ in occurrences]
    assert ours.decode_frequency(value) == len(occurrences)
    assert ours.decode_weight(value) == len(occurrences) * ours.field_boost


def test_a_schema_saved_before_the_varying_layout_writes_the_fixed_one():
    assert not LAYOUTS["fixed"].varying and LAYOUTS["varying"].varying
    assert LAYOUTS["fixed"].encode([(3, 10, 14)]) == b"h\x03\x00\x0a\x00\x04\x00"


def test_varying_occurrences_take_a_byte_a_number_below_128_and_three_below_65536():
    varying = LAYOUTS["varying"]
    assert len(varying.encode([(3, 10, 14)])) == 3
    assert len(varying.encode([(3, 10, 14), (90, 300, 305)])) == 7
    assert len(varying.encode([(60_000, 65_000, 65_004)])) == 7


def test_varying_positions_read_as_the_format_decodes_them():
    rng = random.Random(20)
    varying = LAYOUTS["varying"]
    for size in (1, 2, 511, 512, 513):  # one, a few, about a block's worth
        position, found = 0, []
        for _ in range(size):
            position += rng.choice([1, 2, 127, 128, 2047, 2048, 65_535, 1_200_000])
            found.append((position, position * 6, position * 6 + rng.randrange(1, 20)))
        value = varying.encode(found)
        assert list(varying_positions(value)) == varying.decode_positions(value) == \
            [position for position, _, _ in found]


@pytest.mark.parametrize("layout", [*sorted(LAYOUTS), "whoosh"])
@given(values=st.lists(st.one_of(occurrences(), any_occurrences()), min_size=1, max_size=40),
       data=st.data())
def test_a_terms_positions_read_in_place_are_those_the_format_decodes(layout, values, data):
    """Read in two blocks, where they lie among other bytes (the fixed layout's escape
    byte among them)."""
    field_format = LAYOUTS.get(layout) or Characters()
    ids = [3 * at + 1 for at in range(len(values))]  # the term's document numbers
    split = data.draw(st.integers(1, len(values)))
    blocks = []
    for part in (slice(0, split), slice(split, None)):
        ends, joined = joined_values([field_format.encode(found) for found in values[part]])
        before, after = data.draw(st.binary(max_size=8)), data.draw(st.binary(max_size=8))
        blocks.append((ids[part], [float(doc % 5) for doc in ids[part]], ends,
                       before + joined + after, len(before)))
    blocks = blocks[:1 if split == len(values) else 2]
    docs = sorted(data.draw(st.sets(st.sampled_from(range(ids[-1] + 3)), min_size=1)))
    weights_found: dict[int, float] = {}
    assert keyed_positions(blocks.__getitem__, [block[0][-1] for block in blocks], docs,
                           2 ** 32, -1, _positions_decoder(field_format), weights_found) \
        == [doc * 2 ** 32 - 1 + position for doc in docs if doc in ids
            for position, _, _ in values[ids.index(doc)]]
    assert weights_found == {doc: doc % 5 for doc in docs if doc in ids}


@st.composite
def block_heads(draw) -> tuple[list[int], object]:
    """A block's document numbers (rising; small and beyond 65,535) and weights as
    ``W3PostingsWriter`` minifies them: None (all 1.0), one float for all, or each one."""
    steps = draw(st.lists(st.integers(1, 70_000), min_size=1, max_size=140))
    ids = list(itertools.accumulate(steps))
    counts = st.integers(1, 70_000).map(float)
    each = {"min_size": len(ids), "max_size": len(ids)}
    weights = draw(st.one_of(st.none(), counts, st.lists(counts, **each),
                             st.lists(st.floats(0.1, 1e6), **each)))
    return ids, weights


@given(block_heads())
def test_a_block_gives_its_numbers_and_weights_as_whoosh_wrote_them(head):
    ids, weights = head
    block = Block(_arrays_head(ids, weights), b"")
    every = [1.0] * len(ids) if weights is None else (
        [weights] * len(ids) if isinstance(weights, float) else weights)
    read_ids, read_weights = block.ids_and_weights()
    assert (list(read_ids), list(read_weights)) == (ids, every)
    deltas = [ids[0]] + [later - earlier for earlier, later in zip(ids, ids[1:])]
    assert list(block[0]) == deltas and list(block[1]) == every  # as W3LeafMatcher reads it


def _packed_as_before(value: object) -> bytes:
    """A block's part as searchidx wrote it before arrays and joined values."""
    return b"z" + zlib.compress(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))


def test_a_block_written_before_arrays_and_joined_values_still_reads():
    deltas, weights = (3, 1, 4, 1, 5), (2, 7, 1, 8, 2)
    block = Block(_packed_as_before((deltas, weights)),
                  _packed_as_before((b"a", b"b", b"c", b"d", b"e")))
    assert block.ids_and_weights() == ([3, 4, 8, 9, 14], weights)
    assert (block[0], block[1], block[2]) == (deltas, weights, (b"a", b"b", b"c", b"d", b"e"))
    ends, joined = block.joined_values()
    assert (list(ends), joined) == ([1, 2, 3, 4, 5], b"abcde")


def _joined_compressed_as_before(values: list[bytes]) -> bytes:
    """A block's joined values as searchidx wrote them before: the same, compressed."""
    plain = _joined_values(values)
    return b"j" + plain[1:2] + zlib.compress(plain[2:])


@given(st.lists(st.binary(max_size=300), min_size=1, max_size=140),
       st.sampled_from([_joined_values, _joined_compressed_as_before]), st.integers(0, 70_000))
def test_a_block_gives_back_its_values_joined_or_one_by_one(values, written, padding):
    values = [*values, b"x" * padding]  # ends beyond 65,535 take four bytes
    block = Block(_arrays_head(list(range(len(values))), None), written(values))
    assert block.values() == tuple(values) == block[2]  # as W3LeafMatcher reads it
    ends, joined = block.joined_values()
    assert [joined[start:end] for start, end in zip([0, *ends], ends)] == values


def _read_in_place(data: bytes, start: int, end: int):
    """A block's numbers and values as a search reads them in place, or None."""
    head = head_in_place(data, start)
    values = None if head is None else values_in_place(data, head[2], end)
    return None if values is None else (head[0], head[1], values)


@given(block_heads(), st.integers(0, 70_000), st.booleans())
def test_a_block_read_in_place_gives_what_unpickling_it_gives(head, padding, compressible):
    """Whatever its sizes (values beyond a pickle frame's 64 KB among them), a block
    :func:`encoded_block` writes reads in place as unpickled; one that is not a Block
    (fewer than 32 postings) is left to unpickling."""
    ids, weights = head
    values = tuple(bytes([65 + doc % 26]) * (1 + doc % 7) for doc in ids)
    values = (*values[:-1], values[-1] + b"x" * padding)
    written = encoded_block(ids, lambda: ids, weights, values, 6 if compressible else 0,
                            10.0, 1, 9)[39:]  # (after the block's info)
    data = b"before" + written + b"after"
    placed = _read_in_place(data, 6, 6 + len(written))
    unpickled = pickle.loads(written if written[:1] == b"\x80" else zlib.decompress(written))
    if type(unpickled) is not Block:
        assert placed is None
        return
    read_ids, read_weights, values_placed = placed
    assert (list(read_ids), list(read_weights)) == tuple(map(list, unpickled.ids_and_weights()))
    ends, base = values_placed.ends_at()
    expected_ends, expected = unpickled.joined_values()
    assert (list(ends), data[base:values_placed.end]) == (list(expected_ends), expected)


def test_a_blocks_head_reads_in_place_where_its_values_were_written_compressed():
    """Blocks written before values were plain kept them compressed (``j``): a weight is
    still read from the head where it lies; the values are left to unpickling."""
    ids, values = list(range(3, 123, 3)), [b"v%d" % doc for doc in range(40)]
    plain = _joined_values(values)  # b"J", the ends' code, then what was compressed
    block = pickle.dumps(Block(_arrays_head(ids, [2.0] * 40), b"j" + plain[1:2] + zlib.compress(plain[2:])),
                         pickle.HIGHEST_PROTOCOL)
    read_ids, read_weights, rest = head_in_place(block, 0)
    assert (list(read_ids), list(read_weights)) == (ids, [2.0] * 40)
    assert values_in_place(block, rest, len(block)) is None


def test_a_block_pickled_under_another_module_path_is_left_to_unpickling():
    block = pickle.dumps(Block(_arrays_head(list(range(40)), None), _joined_values([b"a"] * 40)),
                         pickle.HIGHEST_PROTOCOL).replace(b"searchidx.engine.codec", b"searchidx.codec_old__")
    assert head_in_place(block, 0) is None


def _storage_in_current_format(folder: Path) -> FileStorage:
    """A generation folder as searchidx makes one: it says its format first."""
    folder.mkdir(parents=True, exist_ok=True)
    write_format(folder)
    return FileStorage(str(folder)).create()


@pytest.mark.parametrize("count", [1, 63, 64, 65, 300])
def test_stored_fields_read_back_as_written_before_during_and_after_the_dictionary(tmp_path,
                                                                                   count):
    """The first 64 articles' stored fields wait for the segment's dictionary; an article
    may store nothing, text of any script, or a long value."""
    rng = random.Random(count)
    words = ["rice", "Nguyễn", "서울", "dlrs", "said", "\x00", "<b>", "x" * 3000]
    stored = [{} if number % 17 == 5 else
              {"id": str(number), "body": " ".join(rng.choices(words, k=rng.randrange(0, 40)))}
              for number in range(count)]
    schema = fields.Schema(id=fields.ID(stored=True), body=fields.TEXT(stored=True))
    index = _storage_in_current_format(tmp_path).create_index(schema)
    with index.writer(codec=Codec()) as writer:
        for fields_of in stored:
            writer.add_document(**(fields_of or {"id": None}))
    with index.searcher() as searcher:
        assert [searcher.stored_fields(number) for number in range(count)] == stored


@pytest.fixture(scope="module")
def stored_reader(tmp_path_factory):
    """The per-document reader of a segment whose stored fields have a dictionary."""
    schema = fields.Schema(id=fields.ID(stored=True), body=fields.TEXT(stored=True))
    index = _storage_in_current_format(tmp_path_factory.mktemp("stored")).create_index(schema)
    with index.writer(codec=Codec()) as writer:
        for record in with_bodies(NewsWriter(4).articles(80)):
            writer.add_document(id=record["id"], body=record["body"])
    searcher = index.searcher()
    yield searcher.reader()._perdoc
    searcher.close()


def _inflated_by_zlib(dictionary: bytes, data: bytes) -> bytes | type:
    try:
        return zlib.decompressobj(zdict=dictionary).decompress(data)
    except zlib.error:
        return zlib.error


@given(st.binary(max_size=400), st.sampled_from(["whole", "cut", "checksum", "dictionary",
                                                 "trailing", "no dictionary"]))
def test_stored_fields_inflate_as_zlib_inflates_them_whole_or_damaged(stored_reader, text,
                                                                      damage):
    dictionary = stored_reader._dictionary
    deflate = zlib.compressobj(3) if damage == "no dictionary" else \
        zlib.compressobj(3, zdict=dictionary)
    data = deflate.compress(text) + deflate.flush()
    data = {"cut": data[:-5], "checksum": data[:-1] + bytes([data[-1] ^ 1]),
            "dictionary": data[:2] + bytes([data[2] ^ 1]) + data[3:],
            "trailing": data + b"\0"}.get(damage, data)
    try:
        inflated = stored_reader._inflated(data)
    except zlib.error:
        inflated = zlib.error
    assert inflated == _inflated_by_zlib(dictionary, data)


def _stored_bytes(folder: Path, codec) -> int:
    """The bytes of 300 generated articles stored (and nothing else) with ``codec``."""
    schema = fields.Schema(id=fields.STORED(), title=fields.STORED(), body=fields.STORED())
    index = _storage_in_current_format(folder).create_index(schema)
    with index.writer(codec=codec) as writer:
        for record in with_bodies(NewsWriter(20).articles(300)):
            writer.add_document(**record)
    return sum(path.stat().st_size for path in folder.iterdir())


def test_stored_fields_take_a_fifth_less_room_than_whoosh_deflating_each_alone(tmp_path):
    ours = _stored_bytes(tmp_path / "ours", Codec())
    assert ours <= 0.8 * _stored_bytes(tmp_path / "stock", W3Codec())


def test_an_index_written_in_many_runs_merges_into_one_segment(tmp_path):
    """Each run writes a segment whose spelling words each have a posting (whoosh3 gives it
    the last value the body wrote: here three bytes); merged, a word of more postings than
    a term info keeps goes to a block of values of a fixed size, which must split back."""
    sources = tmp_path / "sources"
    sources.mkdir()
    with SearchIndex.open(tmp_path / "index", create=True) as idx:
        for run in range(settings.INLINE_MAX_POSTINGS + 4):
            record = {"id": f"n{run}", "title": "Cloves", "body": f"Zanzibar cloves {run}"}
            (sources / f"{run}.jsonl").write_text(json.dumps(record) + "\n")
            idx.index([sources])
    whoosh_index = IndexStore(tmp_path / "index").open()
    whoosh_index.writer(codec=Codec()).commit(optimize=True)
    with whoosh_index.reader() as reader:
        assert reader.is_atomic() and reader.doc_count() == settings.INLINE_MAX_POSTINGS + 4
    with SearchIndex.open(tmp_path / "index") as idx:
        assert idx.search("zanzibar").total == settings.INLINE_MAX_POSTINGS + 4


def test_every_spelling_word_of_a_segment_reads_back_as_one_posting_at_its_first_document(tmp_path):
    """A segment's spelling words share one posting (their term infos are made once and
    reused); each word must still read back as its own, with the segment's other terms."""
    articles = with_bodies(NewsWriter(11).articles(120))
    source = tmp_path / "news.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in articles))
    with SearchIndex.open(tmp_path / "index", create=True) as idx:
        idx.index([source])
    with IndexStore(tmp_path / "index").open().reader() as reader:
        words = list(reader.lexicon("spell_body"))
        postings = {word: reader.postings("spell_body", word) for word in words}
        assert len(words) > 100
        assert {(tuple(matcher.all_ids()), reader.frequency("spell_body", word),
                 reader.doc_frequency("spell_body", word))
                for word, matcher in postings.items()} == {((0,), 1.0, 1)}
        assert all(reader.doc_frequency("id", record["id"]) == 1 for record in articles)


_DOCUMENT_NUMBERS = st.integers(0, 2**32 - 2)
_WEIGHTS = st.one_of(st.integers(1, 2**30).map(float),
                     st.floats(0.125, 1e6, width=32))


@st.composite
def term_infos(draw) -> CompactTermInfo:
    """Term infos as a postings writer makes them: a block term's extent or a rare term's
    inlined postings (counts or fractional weights; values, or None each)."""
    info = CompactTermInfo()
    info._df = draw(st.integers(1, 2**31))
    info._weight, info._maxweight = draw(_WEIGHTS), draw(_WEIGHTS)
    info._minlength, info._maxlength = draw(st.integers(1, 10**6)), draw(st.integers(1, 10**6))
    info._minid = draw(_DOCUMENT_NUMBERS)
    info._maxid = info._minid + draw(st.integers(0, 2**32 - 2 - info._minid))
    if draw(st.booleans()):
        info._offset, info._length = draw(st.integers(0, 2**50)), draw(st.integers(1, 2**31 - 1))  # whoosh3 packs a signed int
        return info
    ids = sorted(draw(st.sets(_DOCUMENT_NUMBERS, min_size=1, max_size=8)))
    info._minid, info._maxid = ids[0], ids[-1]  # as the writer gives them
    weights = draw(st.one_of(st.lists(st.integers(1, 2**20), min_size=len(ids), max_size=len(ids)),
                             st.lists(st.floats(0.1, 100.0), min_size=len(ids), max_size=len(ids))))
    values = draw(st.one_of(st.just([None] * len(ids)),
                            st.lists(st.binary(min_size=1, max_size=300), min_size=len(ids),
                                     max_size=len(ids))))
    info.set_inlined(ids, weights, values)
    return info


@given(term_infos())
def test_a_compact_term_info_reads_back_as_whoosh3_reads_its_own(info):
    decoded = decoded_term_info(info.to_bytes())
    assert type(decoded) is W3TermInfo
    assert _whoosh3_fields(decoded) == _whoosh3_fields(
        W3TermInfo.from_bytes(InliningTermInfo.to_bytes(info)))


@st.composite
def inlined_postings(draw) -> tuple[list, list, list, dict | None]:
    """A rare term's postings as a field gives them: documents ascending, weights (whole,
    fractional, or odd), values (or None), and each document's length code, or none."""
    ids = sorted(draw(st.sets(st.integers(0, 2**32 - 2), min_size=1, max_size=8)))
    weights = draw(st.lists(st.one_of(st.integers(-2, 2**25), st.integers(0, 2**25).map(float),
                                      st.floats(-1e6, 1e6, width=32)),
                            min_size=len(ids), max_size=len(ids)))
    values = draw(st.lists(st.one_of(st.none(), st.binary(max_size=300)),
                           min_size=len(ids), max_size=len(ids)))
    codes = draw(st.lists(st.integers(0, 255), min_size=len(ids), max_size=len(ids)))
    return ids, weights, values, dict(zip(ids, codes)) if draw(st.booleans()) else None


@pytest.mark.parametrize("term_info_class", [CompactTermInfo, InliningTermInfo])
@pytest.mark.parametrize("field", [build_schema()["body"], build_schema()["id"],
                                   fields.SpellField(build_schema()["body"].analyzer)],
                         ids=["values of any size", "no values", "values of a fixed size"])
@given(postings=inlined_postings(), split=st.integers(1, 8))
def test_a_rare_terms_info_made_at_once_is_the_bytes_its_term_info_gives(
        term_info_class, field, postings, split):
    writer = Codec().postings_writer(io.BytesIO())  # (a kept term writes nothing there)
    writer.term_info_class = term_info_class
    ids, weights, values, length_codes = postings
    writer.start_postings(field.format, W3TermInfo())  # the path for a term of any size,
    for part in (slice(split), slice(split, None)):  # given in pieces (as from two workers)
        if ids[part]:
            writer.add_postings(ids[part], weights[part], values[part], length_codes)
    kept = writer.finish_postings().to_bytes()
    assert writer.inlined_term_bytes(field.format, ids, weights, values, length_codes) == kept


def test_a_rare_terms_compact_info_is_under_half_of_whoosh3s():
    info = CompactTermInfo()
    info._df, info._weight, info._maxweight, info._minlength, info._maxlength = 1, 2.0, 2.0, 90, 90
    info._minid = info._maxid = 20_000
    info.set_inlined([20_000], [2], [b"\x05\x1e\x06"])
    assert len(info.to_bytes()) * 2 < len(InliningTermInfo.to_bytes(info))


def _terms_index(folder: Path, version: int):
    """An index of 300 articles (words, numbers, dates: keys of text and of bytes) written
    by :class:`Codec` in a generation folder of format ``version``."""
    schema = fields.Schema(body=build_schema()["body"], date=fields.DATETIME(),
                           count=fields.NUMERIC(), tag=fields.ID())
    storage = _storage_in_current_format(folder)
    (folder / "FORMAT.json").write_text(json.dumps({"format": "searchidx", "version": version}))
    index = storage.create_index(schema)
    rng = random.Random(4)
    words = [f"w{number:03d}" for number in range(400)] + ["Nguyễn", "서울", "rice"]
    with index.writer(codec=Codec()) as writer:
        for number in range(300):
            writer.add_document(body=" ".join(rng.choices(words, k=30)),
                                date=datetime(1987, 1 + number % 12, 1 + number % 28),
                                count=rng.randrange(-10**9, 10**9), tag=f"t{number % 7}")
    return index


def _table_answers(reader) -> dict:
    """What a segment's terms table is asked: every term and info, lookups (present and
    missing), terms from prefixes, a cursor's walk and its jumps, close words."""
    terms = reader._terms
    everything = [(term, _whoosh3_fields(info)) for term, info in terms.items()]
    asked = [(term, term in terms, terms.doc_frequency(*term), terms.frequency(*term))
             for term, _ in everything[::7]]
    missing = [("body", b"w0005"), ("body", b""), ("tag", b"t9"), ("none", b"x")]
    cursor = terms.cursor("body", reader.schema["body"])
    walk = [cursor.text()] + [cursor.next() for _ in range(20)]
    jumps = [(cursor.find(word), _whoosh3_fields(cursor.term_info())) for word in ("w1", "w3995")]
    return {"everything": everything, "asked": asked,
            "missing": [term in terms for term in missing],
            "from": {prefix: list(terms.terms_from("body", prefix))[:40]
                     for prefix in (b"", b"w2", b"w39", b"\xea", b"zz")},
            "items from": [(term, _whoosh3_fields(info))
                           for term, info in itertools.islice(terms.items_from("tag", b"t3"), 5)],
            "walk": walk, "jumps": jumps,
            "close": list(reader.terms_within("body", "w123", 1))}


def _whoosh3_fields(info) -> dict | None:
    """A term info's fields, an extent's length as a number (whoosh3 reads it back as a
    1-tuple)."""
    if info is None:
        return None
    fields_of = dict(info.__dict__)
    if isinstance(fields_of["_length"], tuple):
        (fields_of["_length"],) = fields_of["_length"]
    return fields_of


def test_the_compact_terms_table_answers_every_question_as_whoosh3s_hash_file(tmp_path):
    compact, hashed = _terms_index(tmp_path / "ours", 4), _terms_index(tmp_path / "stock", 3)
    with compact.reader() as ours, hashed.reader() as theirs:
        assert isinstance(ours._terms, CompactTermsReader)
        assert not isinstance(theirs._terms, CompactTermsReader)
        found = _table_answers(ours)
        assert found["missing"] == [False] * 4
        assert len(found["everything"]) > 20 * 16  # many blocks of keys
        assert found == _table_answers(theirs)


def test_the_compact_terms_file_is_under_half_of_whoosh3s(tmp_path):
    sizes = []
    for version in (4, 3):
        with _terms_index(tmp_path / str(version), version).reader() as reader:
            segment = reader.segment()
            sizes.append(reader.storage().file_length(segment.make_filename(W3Codec.TERMS_EXT)))
    assert 2 * sizes[0] < sizes[1]


@pytest.mark.parametrize("allow_offsets", [True, False])
@given(st.lists(st.binary(max_size=40), max_size=1_200))
def test_a_variable_bytes_column_reads_back_every_value_as_whoosh_reads_it(allow_offsets, values):
    """The stored fields' column finds each value's start from the lengths when asked."""
    from whoosh.columns import VarBytesColumn

    from searchidx.engine.whoosh_adapter import QuickVarBytesColumn

    storage = RamStorage()
    with storage.create_file("column") as dbfile:
        writer = QuickVarBytesColumn(allow_offsets=allow_offsets).writer(dbfile)
        for docnum, value in enumerate(values):
            writer.add(docnum, value)
        writer.finish(len(values) + 3)  # documents after the last value read empty
        length = dbfile.tell()
    read = [[column.reader(storage.open_file("column"), 0, length, len(values) + 3)[docnum]
             for docnum in range(len(values) + 3)]
            for column in (QuickVarBytesColumn(), VarBytesColumn())]
    assert read[0] == read[1] == values + [b""] * 3


@pytest.mark.parametrize("distinct", [1, 300, 70_000])
def test_a_repeated_bytes_column_reads_back_every_value_however_many_are_distinct(tmp_path,
                                                                                 distinct):
    """Whoosh's RefBytesColumn writes the default for every value after 65,535 distinct ones."""
    values = [f"/archive/{number % distinct}.jsonl".encode() for number in range(70_000)]
    storage = FileStorage(str(tmp_path))
    with storage.create_file("column") as dbfile:
        writer = RepeatedBytesColumn().writer(dbfile)
        for docnum, value in enumerate(values):
            if docnum % 1000 != 7:  # a document without a value reads the default
                writer.add(docnum, value)
        writer.finish(len(values))
        length = dbfile.tell()
    with storage.open_file("column") as dbfile:
        reader = RepeatedBytesColumn().reader(dbfile, 0, length, len(values))
        assert list(reader) == [b"" if docnum % 1000 == 7 else value
                                for docnum, value in enumerate(values)]


def test_the_stored_fields_dictionary_reads_back_in_a_segment_of_more_than_32768_articles(
        tmp_path):
    """The dictionary is one value at document 0 of its column; whoosh3 writes offsets for a
    column of more than 2**15 documents, and could not read them back for such a column."""
    from searchidx.engine.codec import _DICTIONARY_COLUMN

    storage, documents, dictionary = FileStorage(str(tmp_path)), 2 ** 15 + 1, b"d" * 8192
    column_file = storage.create_file("dictionary")
    writer = _DICTIONARY_COLUMN.writer(column_file)
    writer.add(0, dictionary)
    writer.finish(documents)
    column_file.close()
    reader = _DICTIONARY_COLUMN.reader(storage.open_file("dictionary"), 0,
                                       storage.file_length("dictionary"), documents)
    assert reader[0] == dictionary
