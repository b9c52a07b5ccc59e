"""Dates: every form news archives write, the ambiguous day/month, dates that cannot be
read (the article is indexed undated and the run says so), and a search that never loads
the date parser."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import modules_a_search_loads
from searchidx import SearchIndex
from searchidx.cli import cli
from searchidx.dates import AmbiguousDate, UnreadableDate, parse_date, read_date

FEB_26_1987 = dt.date(1987, 2, 26)


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def dated(article_id: str, date: object, text: str = "Talks on Korea resumed.") -> dict:
    return {"id": article_id, "title": f"Talks {article_id}", "body": text, "date": date}


# --- the forms -------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "1987-02-26", "1987-02-26T15:01:01", "1987-02-26T15:01:01Z", "1987-02-26T23:30:00-05:00",
    "1987-02-26 15:01:01.79+07:00", "19870226",
    "Thu, 26 Feb 1987 15:01:01 GMT", "Thu, 26 Feb 1987 15:01:01 +0000",
    "26-FEB-1987 15:01:01.79", " 26-FEB-1987 15:01:01.79", "26-FEB-1987 15:01:01.79\x05\x05\x05RM",
    "February 26, 1987", "Feb. 26, 1987", "Thursday, February 26, 1987 3:01 PM",
    "26 February 1987", "26 Feb 1987 10:00 ICT", "1987/02/26", "26/02/1987", "26.02.1987",
])
def test_each_common_form_reads_as_the_date_it_writes(text):
    assert read_date(text) == FEB_26_1987


@pytest.mark.parametrize("text", ["26-FEB-1987 605:12:19.12",
                                  "26-FEB-1987 00:00:00.00    # date added by S Finch as guesswork"])
def test_a_date_field_gives_its_date_whatever_broken_time_or_comment_follows(text):
    assert read_date(text) == FEB_26_1987


def test_a_sentence_that_starts_with_a_date_is_not_a_date_line(tmp_path, index_dir):
    (tmp_path / "s.txt").write_text("26 February 1987 was a quiet day in Seoul.\n\nNothing "
                                    "happened.\n", encoding="utf-8")
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([tmp_path])
        article = idx.article("s")
    assert article.date is None and article.body.startswith("26 February 1987 was")


def test_a_time_zone_never_moves_the_date_to_another_day():
    assert read_date("1987-02-26T23:59:00-12:00") == read_date("1987-02-26T00:01+14:00") == \
        FEB_26_1987


@pytest.mark.parametrize("seconds", [541350061, 541350061.79])
def test_unix_timestamps_read_as_utc_dates(seconds):
    assert read_date(seconds) == FEB_26_1987


def test_an_ambiguous_day_and_month_is_read_only_in_the_order_given():
    with pytest.raises(AmbiguousDate, match="either way round"):
        read_date("03/04/2024")
    assert read_date("03/04/2024", date_order="dmy") == dt.date(2024, 4, 3)
    assert read_date("03/04/2024", date_order="mdy") == dt.date(2024, 3, 4)


def test_a_day_over_twelve_settles_the_order_without_one():
    assert read_date("13/04/2024") == read_date("04/13/2024") == dt.date(2024, 4, 13)


@pytest.mark.parametrize("text", ["May 1987", "May 26", "Thursday", "15:01", "sometime in May",
                                  "1987-02-30", "", "x" * 500])
def test_a_date_missing_a_part_or_not_a_date_is_unreadable(text):
    with pytest.raises(UnreadableDate):
        read_date(text)
    assert parse_date(text) is None


@pytest.mark.parametrize("value", [True, None, [1987, 2, 26], {"y": 1987}, 1e20])
def test_values_that_are_not_dates_are_unreadable(value):
    with pytest.raises(UnreadableDate):
        read_date(value)


# --- dates in the files indexed -------------------------------------------------------------------

def test_reuters_dates_are_read_so_date_filters_and_date_order_work(tmp_path, index_dir):
    jsonl = write_jsonl(tmp_path / "wire.jsonl", [
        dated("1", "26-FEB-1987 15:01:01.79"), dated("2", " 2-MAR-1987 09:10:00.00"),
        dated("3", "31-MAR-1987 23:59:59.99\x05\x05\x05RM"), dated("4", " 1-APR-1987 00:00:01.00")])
    with SearchIndex.open(index_dir, create=True) as idx:
        report = idx.index([jsonl])
        march = idx.search("Korea", since=dt.date(1987, 3, 1), until=dt.date(1987, 3, 31),
                           sort="date")
    assert report.unreadable_dates == [] and report.warnings == []
    assert [(hit.id, hit.date) for hit in march] == [("3", dt.date(1987, 3, 31)),
                                                     ("2", dt.date(1987, 3, 2))]


def test_unix_timestamps_in_jsonl_are_dates(tmp_path, index_dir):
    jsonl = write_jsonl(tmp_path / "feed.jsonl", [dated("i", 541350061), dated("f", 541350061.5)])
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([jsonl])
        assert idx.article("i").date == idx.article("f").date == FEB_26_1987


def test_front_matter_and_a_date_line_read_every_form(tmp_path, index_dir):
    (tmp_path / "a.md").write_text("---\ntitle: Korea talks\ndate: 26 February 1987\n---\n\n"
                                   "Talks on Korea resumed.\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Thu, 26 Feb 1987 15:01:01 GMT\n\nKorea talks\n\n"
                                    "Talks on Korea resumed.\n", encoding="utf-8")
    with SearchIndex.open(index_dir, create=True) as idx:
        idx.index([tmp_path])
        assert idx.article("a").date == idx.article("b").date == FEB_26_1987
        assert idx.article("b").title == "Korea talks"


def test_an_unreadable_date_leaves_the_article_undated_and_is_reported_once_with_examples(
        tmp_path, index_dir):
    jsonl = write_jsonl(tmp_path / "docs.jsonl", [
        dated("a", "26-FEB-1987"), dated("b", "sometime in May"), dated("c", "03/04/2024"),
        dated("d", "soon")])
    result = run("index", jsonl, "--index", index_dir)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [(
        f'searchidx: warning: 3 articles had a date that could not be read (indexed undated), '
        f'e.g. {jsonl} line 2: "sometime in May" (not a date); {jsonl} line 3: "03/04/2024" '
        f'(day and month could be either way round; set the date order to dmy or mdy); '
        f'{jsonl} line 4: "soon" (not a date)')]
    with SearchIndex.open(index_dir) as idx:
        assert idx.article("b").date is None and idx.stats().articles == 4


def test_the_json_report_lists_every_unreadable_date_and_the_warning(tmp_path, index_dir):
    jsonl = write_jsonl(tmp_path / "docs.jsonl", [dated(str(i), "soon") for i in range(5)])
    report = json.loads(run("index", jsonl, "--index", index_dir, "--format", "json").stdout)
    assert len(report["unreadable_dates"]) == 5
    assert report["warnings"][0].startswith("5 articles had a date that could not be read")


def test_date_order_reads_ambiguous_dates_in_jsonl_and_in_text_date_lines(tmp_path, index_dir):
    write_jsonl(tmp_path / "feed.jsonl", [dated("j", "03/04/2024")])
    (tmp_path / "t.txt").write_text("03/04/2024 10:00\n\nPort talks\n\nTalks on Korea resumed.\n",
                                    encoding="utf-8")
    for order, day in (("dmy", dt.date(2024, 4, 3)), ("mdy", dt.date(2024, 3, 4))):
        result = run("rebuild", tmp_path, "--index", index_dir, "--date-order", order)
        assert result.exit_code == 0 and result.stderr == ""
        with SearchIndex.open(index_dir) as idx:
            assert idx.article("j").date == day
            assert idx.article("t").date == day and idx.article("t").title == "Port talks"


def test_without_a_date_order_an_ambiguous_date_line_is_reported_and_not_taken_as_text(
        tmp_path, index_dir):
    (tmp_path / "t.txt").write_text("03/04/2024 10:00\n\nPort talks\n\nTalks on Korea resumed.\n",
                                    encoding="utf-8")
    with SearchIndex.open(index_dir, create=True) as idx:
        report = idx.index([tmp_path])
        article = idx.article("t")
    assert (article.date, article.title) == (None, "Port talks")
    assert "either way round" in report.unreadable_dates[0]


def test_a_search_never_loads_the_date_parser(corpus_index):
    assert not {name for name in modules_a_search_loads(corpus_index)
                if name.split(".")[0] == "dateutil"}
