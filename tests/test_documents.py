"""Reading articles: formats, encodings, and the layouts of real news pages."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from pathlib import Path

import pytest

from conftest import HOSTILE_HTML, SEED_IDS, seed_source
from searchidx.documents import SourceFile, UnreadableFile, find_files, read_file


def read_one(path: Path):
    content = read_file(SourceFile(path, path.stem))
    assert len(content.articles) == 1
    return content.articles[0]


def seed(number: str):
    return read_one(seed_source() / f"{SEED_IDS[number]}.txt")


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


# --- the seed layouts ----------------------------------------------------------------

def test_a_headline_after_a_timestamp_line_is_the_title_and_the_navigation_is_dropped():
    article = seed("003")
    assert article.title == "Hanoi advances dialogue-based peace on Korean Peninsula: FM says in Pyongyang"
    assert article.date == dt.date(2019, 2, 14)
    assert "Liberation Day" not in article.body
    assert "Smart City Summit" not in article.body
    assert article.body.startswith("Hanoi is willing to contribute")


def test_the_date_prefix_gives_the_date_and_is_not_part_of_the_text():
    article = seed("002")
    assert article.date == dt.date(2024, 3, 25)
    assert not article.body.lstrip().startswith("date")


def test_a_dateline_after_an_agency_prefix_gives_the_place():
    assert seed("002").place == "HÀ NỘI"


def test_a_plain_dateline_gives_the_place():
    assert seed("004").place == "HÀ NỘI"


def test_agency_sign_offs_give_the_source():
    assert seed("001").source == "VNA/VNS"
    assert seed("002").source == "VNS"
    assert seed("000").source is None


def test_without_a_headline_the_first_sentence_shortened_at_a_word_is_the_title():
    title = seed("000").title
    assert title.startswith("Permanent Deputy Minister of Foreign Affairs Nguyen Minh Vu")
    assert title.endswith("…") and len(title) <= 101


def test_the_title_from_the_first_sentence_skips_the_dateline():
    assert seed("004").title.startswith("Foreign Minister Bùi Thanh Sơn on Wednesday")


def test_an_article_without_a_date_has_none():
    assert seed("004").date is None


def test_seed_text_keeps_its_accents_in_nfc():
    body = seed("001").body
    assert "Nguyễn Minh Vũ" in body and unicodedata.is_normalized("NFC", body)


# --- encodings -----------------------------------------------------------------------------

def test_nfd_text_is_stored_in_nfc(tmp_path):
    path = write(tmp_path, "nfd.txt", unicodedata.normalize("NFD", "Tô Lâm gặp Nguyễn Văn An."))
    body = read_one(path).body
    assert body == "Tô Lâm gặp Nguyễn Văn An." and unicodedata.is_normalized("NFC", body)


def test_a_file_that_is_not_utf8_is_read_as_windows_1252_with_a_warning(tmp_path):
    path = write(tmp_path, "legacy.txt", "Café talks in Hanoi ‘today’.".encode("cp1252"))
    content = read_file(SourceFile(path, "legacy"))
    assert content.articles[0].body == "Café talks in Hanoi ‘today’."
    assert content.warnings == [f"{path}: not valid UTF-8; read as Windows-1252"]


def test_a_utf8_byte_order_mark_is_dropped(tmp_path):
    path = write(tmp_path, "bom.txt", "\ufeffHà Nội hosts talks.".encode("utf-8"))
    assert read_one(path).body == "Hà Nội hosts talks."


def test_crlf_line_ends_read_like_lf(tmp_path):
    path = write(tmp_path, "crlf.txt", b"Headline here\r\n\r\nThe body text.\r\n")
    article = read_one(path)
    assert (article.title, article.body) == ("Headline here", "The body text.")


@pytest.mark.parametrize("name, data, reason", [
    ("binary.txt", bytes(range(256)) * 4, "binary file, not text"),
    ("empty.txt", b"", "empty file"),
    ("blank.md", b"  \n\n \t\n", "empty file"),
    ("image.pdf", b"%PDF-1.4", "unsupported file type '.pdf'"),
])
def test_files_without_an_article_raise_unreadable_with_a_short_reason(tmp_path, name, data, reason):
    with pytest.raises(UnreadableFile, match=f"^{reason}$"):
        read_file(SourceFile(write(tmp_path, name, data), "x"))


def test_a_control_character_never_reaches_the_stored_text(tmp_path):
    path = write(tmp_path, "escape.txt", "Talks \x1b[31mred\x1b[0m end.")
    assert read_one(path).body == "Talks [31mred[0m end."


# --- markdown and HTML ------------------------------------------------------------------------

def test_a_markdown_heading_is_the_title(tmp_path):
    article = read_one(write(tmp_path, "note.md", "# Talks in Hà Nội\n\nThe ministers met."))
    assert (article.title, article.body) == ("Talks in Hà Nội", "The ministers met.")


def test_markdown_front_matter_gives_title_date_place_and_source(tmp_path):
    text = "---\ntitle: Summit ends\ndate: 2024-05-02\nplace: Seoul\nsource: Yonhap\n---\nBody text."
    article = read_one(write(tmp_path, "front.md", text))
    assert (article.title, article.date, article.place, article.source, article.body) == (
        "Summit ends", dt.date(2024, 5, 2), "Seoul", "Yonhap", "Body text.")


def test_html_title_comes_from_h1_and_script_style_nav_and_attributes_never_become_text(tmp_path):
    article = read_one(write(tmp_path, "page.html", HOSTILE_HTML))
    assert article.title == "Harbour talks & trade"
    for hidden in ("secretstyle", "secretscript", "secretnav", "secretonerror", "secretjs",
                   "secretwrite", "javascript", "onerror"):
        assert hidden not in article.body
    assert "Officials discussed harbour fees." in article.body


def test_escaped_markup_in_html_stays_literal_text(tmp_path):
    article = read_one(write(tmp_path, "page.html", HOSTILE_HTML))
    assert "The tag <b> is shown as text." in article.body


def test_html_without_h1_takes_its_title_element(tmp_path):
    page = "<html><head><title>Seoul talks</title></head><body><p>Text of it.</p></body></html>"
    assert read_one(write(tmp_path, "t.htm", page)).title == "Seoul talks"


def test_broken_html_still_yields_its_text(tmp_path):
    page = "<p>Unclosed <b>bold <i>talks in Hà Nội ended.</p></div><p>second"
    body = read_one(write(tmp_path, "broken.html", page)).body
    assert body == "Unclosed bold talks in Hà Nội ended.\n\nsecond"


def test_html_publication_date_comes_from_meta(tmp_path):
    page = ('<html><head><meta property="article:published_time" content="2023-07-01T08:00:00Z">'
            "</head><body><h1>T</h1><p>Body.</p></body></html>")
    assert read_one(write(tmp_path, "dated.html", page)).date == dt.date(2023, 7, 1)


# --- JSON lines ---------------------------------------------------------------------------------

def test_jsonl_gives_one_article_per_line_and_reports_bad_lines_by_number(tmp_path):
    lines = [
        json.dumps({"id": "a1", "title": "Talks", "date": "2024-01-05", "body": "Ministers met.",
                    "place": "Seoul", "source": "Yonhap", "url": "https://example.org/a1"}),
        "{not json",
        json.dumps({"id": "a2", "body": "HÀ NỘI — Second article text. — VNS"}),
        json.dumps({"title": "no id", "body": "x"}),
    ]
    content = read_file(SourceFile(write(tmp_path, "feed.jsonl", "\n".join(lines)), "feed"))
    first, second = content.articles
    assert (first.id, first.title, first.date, first.place, first.source, first.url) == (
        "a1", "Talks", dt.date(2024, 1, 5), "Seoul", "Yonhap", "https://example.org/a1")
    assert (second.id, second.place, second.source) == ("a2", "HÀ NỘI", "VNS")
    assert content.problems[0].startswith("line 2: not valid JSON")
    assert content.problems[1] == 'line 4: no "id"'


# --- finding files --------------------------------------------------------------------------------

def test_ids_are_paths_under_the_folder_without_extension(tmp_path):
    write(tmp_path, "a.txt", "x")
    (tmp_path / "world" / "asia").mkdir(parents=True)
    write(tmp_path / "world" / "asia", "b.html", "<p>x</p>")
    write(tmp_path, ".hidden.txt", "x")
    write(tmp_path, "photo.jpg", "x")
    assert [s.article_id for s in find_files(tmp_path)] == ["a", "world/asia/b"]


def test_a_single_file_takes_its_name_as_id(tmp_path):
    path = write(tmp_path, "001_e1d5feda7fea809b.txt", "x")
    assert [s.article_id for s in find_files(path)] == ["001_e1d5feda7fea809b"]
