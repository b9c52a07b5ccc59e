"""The web page in a real headless Chromium, driven by Selenium as a reader would use it.

Needs Debian's ``chromium`` and ``chromium-driver``; without them these tests are skipped.
Set ``SEARCHIDX_SCREENSHOT=docs/screenshot.png`` to keep the results page's screenshot
(``scripts/screenshot.sh`` does).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from test_web import HOSTILE_TITLE, SEED_000, SEED_001, SEED_004, build_web_index, serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                  # Date fields take their digits in the locale's order: month/day/year.
                  "--lang=en-US"]
DESKTOP, PHONE = (1100, 1100), (390, 844)

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs Chromium and its driver: apt-get install chromium chromium-driver")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`searchidx serve` on a free port, over the seeds and one article full of markup."""
    with serving(build_web_index(tmp_path_factory.mktemp("browser"))) as (address, _):
        yield address


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def desktop(browser: WebDriver) -> WebDriver:
    browser.set_window_size(*DESKTOP)
    return browser


def search_for(browser: WebDriver, site: str, text: str) -> None:
    """Open the page, type ``text`` into the search box and press Enter."""
    browser.get(site)
    box = browser.find_element(By.NAME, "q")
    box.clear()
    box.send_keys(text, Keys.ENTER)
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("q="))


def result_ids(browser: WebDriver) -> list[str]:
    links = browser.find_elements(By.CSS_SELECTOR, ".hit h2 a")
    return [link.get_attribute("href").split("/articles/")[1].split("?")[0] for link in links]


def assert_no_alert(browser: WebDriver) -> None:
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert  # noqa: B018 (the lookup is the check)


def test_typing_vu_shows_three_results_with_vu_highlighted(desktop, site, tmp_path):
    search_for(desktop, site, "Vu")
    assert sorted(result_ids(desktop)) == [SEED_000, SEED_001, SEED_004]
    assert "Vũ" in {mark.text for mark in desktop.find_elements(By.CSS_SELECTOR, ".hit mark")}
    assert desktop.find_element(By.NAME, "q").get_attribute("value") == "Vu"
    screenshot = Path(os.environ.get("SEARCHIDX_SCREENSHOT") or tmp_path / "results.png")
    assert desktop.save_screenshot(str(screenshot))


def test_following_a_result_opens_the_article_with_its_matches_highlighted(desktop, site):
    search_for(desktop, site, "Vu")
    link = desktop.find_element(By.CSS_SELECTOR, f".hit h2 a[href^='/articles/{SEED_001}']")
    title = link.text
    link.click()
    WebDriverWait(desktop, 10).until(expected_conditions.url_contains(f"/articles/{SEED_001}"))
    assert desktop.find_element(By.TAG_NAME, "h1").text == title
    marks = desktop.find_elements(By.CSS_SELECTOR, ".body mark")
    assert len(marks) > 1 and {mark.text for mark in marks} == {"Vũ"}


def test_the_date_filter_keeps_only_articles_from_those_days(desktop, site):
    search_for(desktop, site, "Vu")
    desktop.find_element(By.NAME, "since").send_keys("01/01/2025")
    desktop.find_element(By.CSS_SELECTOR, ".searchbar button").click()
    WebDriverWait(desktop, 10).until(expected_conditions.url_contains("since=2025-01-01"))
    assert result_ids(desktop) == [SEED_001]
    assert desktop.find_element(By.NAME, "since").get_attribute("value") == "2025-01-01"


def test_a_script_typed_as_the_query_shows_as_text(desktop, site):
    search_for(desktop, site, "<script>alert(1)</script>")
    assert_no_alert(desktop)
    assert not desktop.find_elements(By.TAG_NAME, "script")
    assert "<script>alert(1)</script>" in desktop.find_element(By.CSS_SELECTOR, ".summary").text
    assert desktop.find_element(By.NAME, "q").get_attribute("value") == "<script>alert(1)</script>"


def test_an_article_titled_with_markup_shows_the_markup_as_text(desktop, site):
    search_for(desktop, site, "harbour")
    link = desktop.find_element(By.CSS_SELECTOR, ".hit h2 a")
    assert link.text == HOSTILE_TITLE
    link.click()
    WebDriverWait(desktop, 10).until(expected_conditions.url_contains("/articles/world/hostile"))
    assert_no_alert(desktop)
    assert desktop.find_element(By.TAG_NAME, "h1").text == HOSTILE_TITLE
    assert not desktop.find_elements(By.CSS_SELECTOR, "script, img, svg, #injected")


def test_the_results_page_fits_a_phone_screen(browser, site):
    browser.set_window_size(*PHONE)
    search_for(browser, site, "Vu")
    page_width = browser.execute_script("return document.documentElement.scrollWidth")
    assert page_width <= browser.execute_script("return window.innerWidth")
    assert browser.find_element(By.CSS_SELECTOR, ".searchbar button").is_displayed()
