"""Reading saved news pages: the article of the page, not the page around it (searchidx.pages)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

from conftest import modules_a_search_loads
from searchidx import SearchIndex
from searchidx.documents import Article, SourceFile, read_file

TESTS = Path(__file__).resolve().parent
# tests/articles is the judged evaluation corpus (tests/eval): a page of its own goes beside.
SAVED_PAGE = TESTS / "pages" / "hai-phong-port-saved-page.html"
ASEAN_PAGE = TESTS / "articles" / "chang-ho-jin-asean-envoys.html"
ARTICLE_HTML = ("<p>HẢI PHÒNG — Officials of the port city met traders on Monday to discuss "
                "harbour fees, which rose by a fifth last year.</p>")


def read_page(path: Path) -> tuple[Article, list[str]]:
    content = read_file(SourceFile(path, path.stem))
    assert len(content.articles) == 1
    return content.articles[0], content.warnings


def write_page(tmp_path: Path, html: str, name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path


def page_of(head: str = "", body: str = ARTICLE_HTML) -> str:
    return f"<!doctype html><html><head>{head}</head><body><article>{body}</article></body></html>"


def run_searchidx(*args: object, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "searchidx", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


# --- the article, not the page ---------------------------------------------------------------

def test_a_saved_pages_text_is_its_article_without_menus_related_links_comments_or_sharing():
    body = read_page(SAVED_PAGE)[0].body
    assert body.startswith("HẢI PHÒNG — The northern port city of Hải Phòng opened")
    assert body.endswith("The city plans two more berths at Lạch Huyện by 2027. — VNS")
    for furniture in ("Politics", "Search the site", "Home", "We use cookies", "Accept all",
                      "Share on Facebook", "Email this article", "Related news",
                      "Quảng Ninh coal", "Comments (2)", "Great news for the whole region",
                      "Tân Vũ bridge", "Write your comment", "All rights reserved", "Tags:"):
        assert furniture not in body


def test_a_saved_pages_title_publication_date_and_url_come_from_its_metadata():
    article = read_page(SAVED_PAGE)[0]
    assert article.title == "Hải Phòng port opens deep-water berth for container ships"
    assert article.date == dt.date(2024, 3, 18)  # published, not modified (March 20)
    assert article.url == "https://vietnamnews.example/economy/hai-phong-deep-water-berth.html"


def test_the_headline_is_the_title_and_is_not_repeated_at_the_top_of_the_body():
    article = read_page(ASEAN_PAGE)[0]
    assert article.title == "Chang Ho Jin meets ASEAN envoys in Seoul"
    assert article.body.startswith("SEOUL — First Vice Foreign Minister Chang Ho Jin")


def test_a_saved_page_gets_the_dateline_place_and_sign_off_agency_a_text_file_gets():
    article = read_page(SAVED_PAGE)[0]
    assert (article.place, article.source) == ("HẢI PHÒNG", "VNS")


def test_a_page_without_a_sign_off_takes_its_site_name_as_source(tmp_path):
    head = '<meta property="og:site_name" content="Yonhap News Agency">'
    assert read_page(write_page(tmp_path, page_of(head)))[0].source == "Yonhap News Agency"


def test_scripts_json_ld_and_styles_of_a_saved_page_never_become_text():
    article = read_page(SAVED_PAGE)[0]
    for hidden in ("trackingpixel", "dataLayer", "schema.org", "NewsArticle", "position: fixed",
                   "cookie-banner", "sharer.php"):
        assert hidden not in article.body and hidden not in article.title


def test_text_written_as_escaped_markup_is_kept_exactly_as_the_page_shows_it(tmp_path):
    body = ARTICLE_HTML + "<p>Editors write &amp;lt;b&amp;gt; in the source to show &lt;b&gt;.</p>"
    text = read_page(write_page(tmp_path, page_of(body=body)))[0].body
    assert "Editors write &lt;b&gt; in the source to show <b>." in text


def test_character_references_give_nfc_text_without_control_characters(tmp_path):
    body = ARTICLE_HTML + "<p>The Cafe&#x301; Ha&#x300; Nội &#x1b;[2Jopened on the quay.</p>"
    text = read_page(write_page(tmp_path, page_of(body=body)))[0].body
    assert "The Café Hà Nội [2Jopened on the quay." in text
    assert unicodedata.is_normalized("NFC", text) and "\x1b" not in text


# --- dates ------------------------------------------------------------------------------------

def test_the_publication_date_comes_from_json_ld_date_published(tmp_path):
    head = ('<script type="application/ld+json">{"@type": "NewsArticle", '
            '"datePublished": "2021-11-05T09:30:00+09:00"}</script>')
    assert read_page(write_page(tmp_path, page_of(head)))[0].date == dt.date(2021, 11, 5)


def test_the_publication_date_comes_from_a_time_element(tmp_path):
    body = '<time datetime="2022-08-30T14:00:00Z">Tuesday afternoon</time>' + ARTICLE_HTML
    assert read_page(write_page(tmp_path, page_of(body=body)))[0].date == dt.date(2022, 8, 30)


def test_a_page_from_before_1995_keeps_its_date(tmp_path):
    head = '<meta property="article:published_time" content="1987-02-26T15:01:01Z">'
    assert read_page(write_page(tmp_path, page_of(head)))[0].date == dt.date(1987, 2, 26)


def test_a_page_dated_tomorrow_by_a_time_zone_ahead_keeps_its_date(tmp_path):
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    head = f'<meta property="article:published_time" content="{tomorrow}T01:00:00+09:00">'
    assert read_page(write_page(tmp_path, page_of(head)))[0].date == tomorrow


def test_a_page_without_dated_markup_is_undated_rather_than_dated_by_a_year_in_its_text(tmp_path):
    body = ARTICLE_HTML + "<p>The harbour was first dredged in 1998, on 3 May 1998.</p>"
    assert read_page(write_page(tmp_path, page_of(body=body)))[0].date is None


# --- lenient, and no page lost ----------------------------------------------------------------

def test_a_page_where_no_article_is_found_is_indexed_by_its_whole_text_with_a_warning(tmp_path):
    html = ('<html><body><nav>Home | World</nav><div class="footer">Port talks in Hà Nội '
            "ended on Monday.</div></body></html>")
    path = write_page(tmp_path, html)
    article, warnings = read_page(path)
    assert article.body == "Port talks in Hà Nội ended on Monday."
    assert warnings == [f"{path}: no article found in the page; its whole text is indexed"]


def test_an_xhtml_page_that_declares_its_encoding_is_read(tmp_path):
    html = ('<?xml version="1.0" encoding="iso-8859-1"?>\n'
            '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Port talks</title></head>'
            f"<body>{ARTICLE_HTML}</body></html>")
    assert read_page(write_page(tmp_path, html))[0].place == "HẢI PHÒNG"


def test_a_page_nested_too_deep_keeps_its_text_up_to_the_cut_and_warns_naming_the_file(tmp_path):
    path = write_page(tmp_path, page_of(body=ARTICLE_HTML + "<div>" * 1000 + "lost"))
    article, warnings = read_page(path)
    assert "Officials of the port city met traders on Monday" in article.body
    assert len(warnings) == 1 and warnings[0].startswith(f"{path}: the page is read only up to")


def test_a_comment_opened_and_never_closed_hides_only_what_follows_it(tmp_path):
    path = write_page(tmp_path, page_of(body=ARTICLE_HTML + "<!--" + "-" * 100_000))
    assert read_page(path)[0].body.startswith("HẢI PHÒNG — Officials of the port city")


def test_a_hundred_thousand_angle_brackets_stay_literal_text(tmp_path):
    path = write_page(tmp_path, page_of(body=ARTICLE_HTML + "<p>" + "<" * 100_000 + "</p>"))
    assert "<" * 100_000 in read_page(path)[0].body


def test_a_page_of_a_hundred_thousand_angle_brackets_is_indexed_and_found(tmp_path):
    # Its words took minutes (a headline test tried at every "<", where no run of capitals
    # such as "HẢI PHÒNG —" comes first); the timeout is only a guard against that.
    folder = tmp_path / "pages"
    folder.mkdir()
    article = "<p>Officials met traders to discuss harbour fees.</p>"
    write_page(folder, page_of(body=article + "<p>" + "<" * 100_000 + "</p>"))
    finished = run_searchidx("index", folder, "--index", tmp_path / "index", timeout=60)
    assert finished.returncode == 0, finished.stderr
    with SearchIndex.open(tmp_path / "index") as idx:
        assert idx.search("harbour fees").total == 1


def test_a_page_of_tens_of_thousands_of_unclosed_tags_is_indexed(tmp_path):
    # html.parser took 74 s for 25,000 "<a " and grows with the square of the count; the
    # timeout is only a guard against that: lxml reads this page in well under a second.
    folder = tmp_path / "pages"
    folder.mkdir()
    write_page(folder, "<html><body>" + ARTICLE_HTML + "<a " * 40_000)  # never closed
    finished = run_searchidx("index", folder, "--index", tmp_path / "index", timeout=60)
    assert finished.returncode == 0, finished.stderr
    with SearchIndex.open(tmp_path / "index") as idx:
        assert idx.search("harbour fees").total == 1


def test_a_page_of_more_elements_than_article_extraction_handles_is_read_as_plain_text(tmp_path):
    path = write_page(tmp_path, page_of(body=ARTICLE_HTML + "<div>x</div>" * 20_000))
    article, warnings = read_page(path)
    assert article.body.startswith("HẢI PHÒNG — Officials of the port city")
    assert warnings == [f"{path}: more than 10,000 HTML elements, too many for article "
                        "extraction; its whole text is indexed"]


def test_a_paragraph_of_thousands_of_inline_elements_is_read_as_plain_text(tmp_path):
    # trafilatura's time grows with the square of an element's children: 40,000 took 194 s
    path = write_page(tmp_path, page_of(body=ARTICLE_HTML + "<p>" + "<span>w</span> " * 5_000))
    article, warnings = read_page(path)
    assert article.body.count("w") >= 5_000
    assert warnings == [f"{path}: HTML elements with too many children for article extraction "
                        "(up to 5,000); its whole text is indexed"]


def test_a_long_drop_down_list_leaves_a_page_to_article_extraction(tmp_path):
    options = "<select>" + "<option>Country</option>" * 5_000 + "</select>"
    article, warnings = read_page(write_page(tmp_path, page_of(body=ARTICLE_HTML + options)))
    assert warnings == [] and "Country" not in article.body


# --- what a page costs the rest of searchidx ----------------------------------------------------

def test_a_search_never_loads_the_page_reader(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    shutil.copy(SAVED_PAGE, folder)
    with SearchIndex.open(tmp_path / "index", create=True) as idx:
        assert idx.index([folder]).added == 1
    loaded = modules_a_search_loads(tmp_path / "index")
    packages = {name.split(".")[0] for name in loaded}
    assert "searchidx.pages" not in loaded
    assert not packages & {"trafilatura", "htmldate", "justext", "courlan", "lxml"}


def test_the_page_reader_prints_nothing_on_stderr_but_searchidxs_own_warning(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    path = write_page(folder, '<html><body><div class="footer">Talks ended.</div></body></html>')
    finished = run_searchidx("index", folder, "--index", tmp_path / "index")
    assert finished.returncode == 0, finished.stderr
    assert finished.stderr.splitlines() == [
        f"searchidx: warning: {path}: no article found in the page; its whole text is indexed"]
