"""OpenSearch indexes the same terms as searchidx's own analysis, field by field: its
``_analyze`` of each field of a document, as the engine writes it, gives exactly the terms
(with positions and offsets where OpenSearch analyses the text itself) that
searchidx.analysis gives, on the seeds, on generated Vietnamese syllables and on
generated news."""

from __future__ import annotations

import pytest
from newsgen import NewsWriter
from opensearch_cluster import index_url
from syllables import syllables

from searchidx import bundled_seeds
from searchidx.analysis import WordForms, exact_terms, name_analyzer, normalize, prose_analyzer
from searchidx.engine.opensearch.location import ClusterLocation
from searchidx.engine.opensearch.mapping import index_body, pre_analysed


@pytest.fixture(scope="module")
def analysing(opensearch_cluster):
    """An OpenSearch index made with the engine's settings, and a function that gives its
    analysis of a text in one of its fields as ``(term, position, start, end)``."""
    client = ClusterLocation.parse(index_url(opensearch_cluster, "analysis-probe")).client()
    client.indices.delete(index="analysis-probe", ignore_unavailable=True)
    client.indices.create(index="analysis-probe", body=index_body(1, 0))

    def analyse(field: str, text: str) -> list[tuple[str, int, int, int]]:
        answer = client.indices.analyze(index="analysis-probe",
                                        body={"field": field, "text": text})
        return [(token["token"], token["position"], token["start_offset"],
                 token["end_offset"]) for token in answer["tokens"]]

    yield analyse
    client.indices.delete(index="analysis-probe")


def seed_texts() -> list[str]:
    return [normalize(path.read_text(encoding="utf-8"))
            for path in sorted(bundled_seeds().glob("*.txt"))]


def syllable_texts() -> list[str]:
    """Every generated syllable, in runs of 120, some capitalized (names to join), some in
    capitals, some as written after a line break."""
    words = [word.capitalize() if number % 3 == 0 else word.upper() if number % 7 == 0
             else word for number, word in enumerate(syllables())]
    return [" ".join(words[start:start + 120]) + "\n" for start in range(0, len(words), 120)]


def news_texts() -> list[str]:
    return [text for article in NewsWriter(seed=21).articles(60)
            for text in (article.record["title"], article.record["text"]) if text]


TEXTS = {"seeds": seed_texts, "syllables": syllable_texts, "news": news_texts}


def folded_words(text: str) -> list[tuple[str, int, int, int]]:
    """searchidx's folded words of ``text`` (not the joined names), with their offsets in
    UTF-16 units, as Java counts them."""
    prose = WordForms(name_analyzer()).prose(text)
    return sorted((term, position, _utf16(text, start), _utf16(text, end))
                  for term, occurrences in prose.terms.items()
                  for position, start, end in occurrences
                  if (position, term) not in set(prose.joined))


def _utf16(text: str, offset: int) -> int:
    return len(text[:offset].encode("utf-16-le")) // 2


def terms_only(tokens) -> list[str]:
    return [token[0] for token in tokens]


@pytest.mark.parametrize("texts", TEXTS)
def test_the_folded_fields_hold_searchidx_folded_words_at_the_same_places(analysing, texts):
    for text in TEXTS[texts]():
        assert sorted(analysing("body", text)) == folded_words(text)


@pytest.mark.parametrize("texts", TEXTS)
def test_the_stem_fields_hold_searchidx_prose_terms_word_by_word(analysing, texts):
    prose = WordForms(prose_analyzer())
    for text in TEXTS[texts]():
        document = pre_analysed({"title": text, "body": text})
        expected = prose.prose(text)
        assert terms_only(analysing("body_terms", document["body_terms"])) == expected.sequence
        assert terms_only(analysing("title_joined", document["title_joined"])) == [
            term for _, term in expected.joined]


@pytest.mark.parametrize("texts", TEXTS)
def test_the_name_fields_join_names_as_searchidx_does(analysing, texts):
    names = WordForms(name_analyzer())
    for text in TEXTS[texts]():
        document = pre_analysed({"place": text, "source": text})
        assert terms_only(analysing("place_joined", document["place_joined"])) == [
            term for _, term in names.prose(text).joined]


@pytest.mark.parametrize("texts", TEXTS)
def test_the_exact_field_holds_searchidx_exact_terms(analysing, texts):
    for text in TEXTS[texts]():
        document = pre_analysed({"title": text, "body": ""})
        tokens = terms_only(analysing("exact", document["exact"]))
        expected = exact_terms(f"{text}\n")
        assert {term: tokens.count(term) for term in tokens} == expected


def test_vietnamese_names_fold_and_join_on_the_cluster(analysing):
    text = "Ông Nguyễn Minh Vũ đến Hà Nội và ĐÀ NẴNG"
    document = pre_analysed({"body": text})
    assert terms_only(analysing("body", text)) == [
        "ong", "nguyen", "minh", "vu", "den", "ha", "noi", "va", "da", "nang"]
    assert "hanoi" in terms_only(analysing("body_joined", document["body_joined"]))
    assert set(terms_only(analysing("exact", document["exact"]))) >= {"vũ", "nội", "nẵng"}
