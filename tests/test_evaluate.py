"""The evaluation harness (scripts/evaluate.py) on set (a), for searchidx only.

This checks that the harness works: judgments, queries and articles agree, and the
measures come out in [0, 1]. It does not check the quality targets: the lead reads the
numbers that ``python scripts/evaluate.py`` prints.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import load_script

pytest.importorskip("ir_measures", reason="the evaluation needs ir-measures: pip install -e '.[eval]'")


@pytest.fixture(scope="module")
def evaluate():
    """scripts/evaluate.py, imported as a module."""
    return load_script("evaluate")


@pytest.fixture(scope="module")
def judged(evaluate):
    return evaluate.judged_set()


def test_every_judged_query_has_a_text_and_enough_queries(judged) -> None:
    judged_qids = {qrel.query_id for qrel in judged.qrels}
    assert judged_qids == set(judged.queries)
    assert len(judged.queries) >= 40
    assert all(query.strip() for query in judged.queries.values())


def test_every_query_has_a_relevant_article(judged) -> None:
    relevant = {qrel.query_id for qrel in judged.qrels if qrel.relevance > 0}
    assert relevant == set(judged.queries)
    assert {qrel.relevance for qrel in judged.qrels} <= {0, 1, 2}


def test_every_judged_id_is_an_article_and_every_article_is_judged(evaluate, judged) -> None:
    article_ids = [article.id for article in evaluate.load_articles(judged.roots)]
    assert len(article_ids) == len(set(article_ids))
    assert {qrel.doc_id for qrel in judged.qrels} == set(article_ids)


def test_judgments_for_unknown_articles_are_refused(evaluate, judged) -> None:
    articles = [article for article in evaluate.load_articles(judged.roots) if article.id != "saigon-metro-line"]
    with pytest.raises(ValueError, match="saigon-metro-line"):
        evaluate.check_judgments(judged, articles)


def test_searchidx_runs_set_a_and_scores_in_range(evaluate, judged, tmp_path: Path) -> None:
    [result] = evaluate.evaluate(judged, ["searchidx"], tmp_path / "a")
    articles = evaluate.load_articles(judged.roots)
    assert result.documents == len(articles)
    assert set(result.rankings) == set(judged.queries)
    assert {doc for ranking in result.rankings.values() for doc in ranking} <= {a.id for a in articles}
    assert set(result.scores) == set(judged.measures)
    assert all(0.0 <= value <= 1.0 for value in result.scores.values())
    assert all(0.0 <= value <= 1.0 for values in result.per_query.values() for value in values.values())
    assert "| searchidx |" in evaluate.table(judged, [result])


def test_fts5_query_quotes_words_and_keeps_phrases(evaluate) -> None:
    assert evaluate.fts5_query('Kim Jong-un "Korean Peninsula"') == '"Kim" "Jong-un" "Korean Peninsula"'
    assert evaluate.fts5_query('title:Hanoi place:"HÀ NỘI"') == 'title:"Hanoi" "HÀ NỘI"'
    assert evaluate.fts5_query('say "hi') == '"say" """hi"'


def test_the_spelling_set_counts_corrections_to_the_word_meant_and_rare_words_kept(evaluate) -> None:
    result = evaluate.SpellingResult(
        articles=10, seed=19, misspelled={evaluate.FREQUENT: {"prics": "prices", "gvernment": "government"}},
        suggested={"prics": "Prices", "gvernment": None, "zorba quintal": "zorba quintet"},
        rare_pairs=[("zorba", "quintal")])
    assert result.corrected_share() == 0.5 and result.left_as_typed_share() == 0.5
    assert result.mistakes() == ["gvernment -> None (meant government)"]
    table = evaluate.spelling_table(result)
    assert "| misspellings of frequent words and names corrected to the word meant (2) | 0.500 |" in table
    assert "| rare words left as typed (2) | 0.500 |" in table


def test_engine_opensearch_compares_the_cluster_with_the_local_engine(evaluate):
    assert evaluate.parse_args(["--engine", "opensearch"]).systems == ["searchidx", "opensearch"]
