"""A seeded generator of news-wire articles: the tests' stand-in for Reuters-21578.

The real corpora may not be copied into the project (their licences allow research use
only), so the tests index articles written here instead: English wire prose about
Vietnam and Korea, with Vietnamese names in their diacritics (Nguyễn, Bùi Thanh Sơn,
Đà Nẵng), Korean names (Kim Jong-un, Yoon Suk-yeol), datelines (``HÀ NỘI —``,
``SEOUL, March 3 (Reuters) -``), acronyms (DPRK, RoK, WPK, ASEAN), dates written in the
forms archives use, and sign-offs. Words are drawn with Zipf-like weights (the r-th word
of a list about 1/r as often as the first), so that a few words are in most articles
and most words in few, as in news. The same seed always gives the same articles.

Records carry Reuters-21578's fields (``id``, ``title``, ``text``, ``date``, ``topics``,
``places``); about one in twelve has a title and no text, as Reuters has.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from bisect import bisect
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Minh", "Thanh", "Hoài", "Đức", "Quốc", "Xuân", "Hữu", "Ngọc"]
GIVEN = ["Sơn", "Vũ", "Trung", "Hùng", "Lan", "Hương", "Dũng", "Tuấn", "Hải", "Nam", "Phúc",
         "Thắng", "Nghĩa", "Quang", "Hà", "Linh", "Đạt", "Thủy", "Khoa", "Hòa"]
FIGURES = ["Bùi Thanh Sơn", "Nguyễn Minh Vũ", "Tô Lâm", "Phạm Minh Chính", "Lê Hoài Trung",
           "Kim Jong-un", "Yoon Suk-yeol", "Choe Son-hui", "Park Jin", "Lee Jae-myung",
           "Moon Jae-in", "Pak Myong-ho", "Cho Tae-yong"]
ROLES = ["Foreign Minister", "Deputy Minister of Foreign Affairs", "Trade Minister",
         "a spokesman for the ministry", "Prime Minister", "the central bank governor",
         "a senior official", "the party's general secretary", "an analyst at the institute"]
# Places: the dateline, and how the text names it.
PLACES = [("HÀ NỘI", "Hà Nội"), ("SEOUL", "Seoul"), ("ĐÀ NẴNG", "Đà Nẵng"),
          ("PYONGYANG", "Pyongyang"), ("HẢI PHÒNG", "Hải Phòng"), ("TOKYO", "Tokyo"),
          ("HỒ CHÍ MINH CITY", "Hồ Chí Minh City"), ("BUSAN", "Busan"), ("HUẾ", "Huế"),
          ("WASHINGTON", "Washington"), ("BANGKOK", "Bangkok"), ("CẦN THƠ", "Cần Thơ"),
          ("KUWAIT", "Kuwait"), ("JAKARTA", "Jakarta")]
ACRONYMS = ["DPRK", "RoK", "ASEAN", "WPK", "CPV", "UN", "IMF", "OPEC", "U.S.", "EU", "WTO"]
TOPICS = ["trade", "rice", "coffee", "oil", "shipping", "diplomacy", "interest", "money-fx",
          "grain", "wheat", "corn", "cocoa", "rubber", "steel", "fishing"]
NOUNS = ["trade", "government", "talks", "market", "prices", "exports", "rice", "oil", "bank",
         "rate", "port", "growth", "investment", "deficit", "coffee", "ministry", "imports",
         "shipping", "cooperation", "agreement", "delegation", "budget", "wheat", "corn",
         "tariffs", "inflation", "harbour", "visit", "summit", "relations", "output", "demand",
         "supply", "company", "shares", "profit", "loss", "earnings", "fishermen", "cocoa",
         "rubber", "steel", "crude", "currency", "reserves", "farmers", "harvest", "tourism",
         "railway", "factory", "security", "peninsula", "sanctions", "missile", "border"]
ADJECTIVES = ["new", "foreign", "economic", "bilateral", "annual", "first", "higher", "lower",
              "strategic", "regional", "domestic", "strong", "weak", "private", "joint",
              "comprehensive", "nuclear", "seasonal", "record", "fiscal"]
VERBS = ["rose", "fell", "agreed", "announced", "expected", "signed", "reported", "discussed",
         "welcomed", "approved", "raised", "cut", "extended", "reviewed", "opened"]
INFINITIVES = ["expand", "raise", "cut", "review", "promote", "strengthen", "open", "support",
               "reduce", "boost"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
# Rare words: made of syllables, each in few articles (the long tail of a news vocabulary).
_TAIL_SYLLABLES = ["ba", "ko", "ri", "ta", "mu", "sen", "vo", "lan", "dor", "pe", "quin", "zu",
                   "fa", "gel", "hu", "ni", "ost", "ram", "tu", "wel"]


def zipf_weights(count: int, exponent: float = 1.0) -> list[float]:
    """Cumulative weights that make the r-th of ``count`` items about 1/r^exponent as likely."""
    return list(accumulate(1 / rank ** exponent for rank in range(1, count + 1)))


@dataclass
class _Words:
    """One list of words and its Zipf weights."""
    words: list[str]
    cumulative: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self.cumulative = zipf_weights(len(self.words))

    def draw(self, rng: random.Random) -> str:
        return self.words[bisect(self.cumulative, rng.random() * self.cumulative[-1])]


@dataclass(frozen=True)
class NewsArticle:
    """A generated article: its JSONL record, and the date its ``date`` field writes."""
    record: dict
    day: dt.date


class NewsWriter:
    """Writes articles one after another from a seed: ``NewsWriter(7).articles(1200)``."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        tail = sorted({"".join(self.rng.sample(_TAIL_SYLLABLES, 3)) for _ in range(3000)})
        self.rng.shuffle(tail)
        self.nouns = _Words(NOUNS + tail)
        self.adjectives = _Words(ADJECTIVES)
        self.verbs = _Words(VERBS)
        self.infinitives = _Words(INFINITIVES)
        self.acronyms = _Words(ACRONYMS)
        self.places = _Words(PLACES)
        self.figures = _Words(FIGURES)

    def articles(self, count: int) -> list[NewsArticle]:
        return [self.article(number) for number in range(1, count + 1)]

    def article(self, number: int) -> NewsArticle:
        rng = self.rng
        day = dt.date(2018, 1, 1) + dt.timedelta(days=rng.randrange(8 * 365))
        dateline, place = self.places.draw(rng)
        title_only = rng.random() < 1 / 12
        text = "" if title_only else self._text(dateline, place, day)
        record = {"id": str(number), "title": self._title(place), "text": text,
                  "date": written_date(day, rng), "topics": self._topics(),
                  "places": [place.lower()]}
        return NewsArticle(record, day)

    def _title(self, place: str) -> str:
        rng = self.rng
        title = rng.choice([
            f"{self.nouns.draw(rng).capitalize()} {self.nouns.draw(rng)} {self.verbs.draw(rng)} in {place}",
            f"{self._person()} visits {place} for {self.nouns.draw(rng)} talks",
            f"{self.acronyms.draw(rng)} {self.nouns.draw(rng)} {self.verbs.draw(rng)}",
        ])
        return title.upper() if rng.random() < 0.3 else title  # Reuters sets many in capitals

    def _topics(self) -> list[str]:
        return sorted(set(self.rng.sample(TOPICS, self.rng.randrange(0, 3))))

    def _text(self, dateline: str, place: str, day: dt.date) -> str:
        rng = self.rng
        wire = rng.random() < 0.6
        opening = (f"{dateline}, {MONTHS[day.month - 1]} {day.day} (Reuters) - " if wire
                   else f"{dateline} — ")
        topic = [self.nouns.draw(rng) for _ in range(rng.randrange(2, 6))]
        sentences = [self._sentence(place, day, topic) for _ in range(rng.randrange(4, 14))]
        paragraphs = [" ".join(sentences[start:start + 3]) for start in range(0, len(sentences), 3)]
        sign_off = "Reuter" if wire else rng.choice(["— VNS", "— VNA/VNS", "— Yonhap"])
        return opening + "\n".join(paragraphs) + "\n" + sign_off

    def _person(self) -> str:
        rng = self.rng
        if rng.random() < 0.4:
            return self.figures.draw(rng)
        return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"

    def _sentence(self, place: str, day: dt.date, topic: list[str]) -> str:
        rng = self.rng

        def noun(rng: random.Random) -> str:  # an article keeps to its topic, mostly
            return rng.choice(topic) if rng.random() < 0.8 else self.nouns.draw(rng)

        adjective, verb, acronym = self.adjectives.draw, self.verbs.draw, self.acronyms.draw
        templates = [
            lambda: f"{self._person()}, {rng.choice(ROLES)}, said on {rng.choice(WEEKDAYS)} "
                    f"that the {adjective(rng)} {noun(rng)} of {noun(rng)} had {verb(rng)}.",
            lambda: f"The {adjective(rng)} {noun(rng)} {verb(rng)} {rng.randrange(1, 40)} pct "
                    f"to {rng.randrange(2, 900)} mln dlrs in {MONTHS[rng.randrange(12)]}, the "
                    f"{acronym(rng)} said.",
            lambda: f"A spokesman said the {noun(rng)} would {self.infinitives.draw(rng)} "
                    f"{noun(rng)} and {noun(rng)} by {written_in_text(day, rng)}.",
            lambda: f"{acronym(rng)} and {acronym(rng)} officials {verb(rng)} the {noun(rng)} "
                    f"{noun(rng)} with {self._person()} in {place}.",
            lambda: f"{self._person()} met {self._person()} in {self.places.draw(rng)[1]} on "
                    f"{written_in_text(day, rng)} to discuss {adjective(rng)} {noun(rng)}.",
            lambda: f"Exports of {noun(rng)} reached {rng.randrange(1, 30)} billion dlrs, up "
                    f"from {rng.randrange(1, 30)} billion dlrs a year earlier, the {noun(rng)} "
                    f"ministry said.",
            lambda: f"The {noun(rng)} and {noun(rng)} {verb(rng)} after the {adjective(rng)} "
                    f"{noun(rng)}, traders said.",
            lambda: f"{self._person()} told reporters the {noun(rng)} was {adjective(rng)}.",
            lambda: f"Net loss was {rng.randrange(1, 90)} cts a share, against a profit of "
                    f"{rng.randrange(1, 90)} cts a share in {day.year - 1}.",
            lambda: f"The {acronym(rng)} said it expected {noun(rng)} to {self.infinitives.draw(rng)} "
                    f"the {adjective(rng)} {noun(rng)} deficit.",
            lambda: f"In {self.places.draw(rng)[1]}, {noun(rng)} {verb(rng)} on "
                    f"{written_in_text(day, rng)}.",
            lambda: f"{self._person()} of the Workers' Party of Korea said the {noun(rng)} "
                    f"talks on the Korean Peninsula had {verb(rng)}.",
        ]
        return templates[bisect(_TEMPLATE_WEIGHTS, rng.random() * _TEMPLATE_WEIGHTS[-1])]()


_TEMPLATE_WEIGHTS = zipf_weights(12, 0.7)


def written_date(day: dt.date, rng: random.Random) -> str | int:
    """``day`` as an archive's date field writes it, in one of the common forms."""
    moment = dt.datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60),
                         rng.randrange(60), tzinfo=dt.timezone.utc)
    return rng.choice([
        day.isoformat(),                                              # 2024-03-03
        moment.isoformat(),                                           # 2024-03-03T15:01:01+00:00
        moment.strftime("%d-%b-%Y %H:%M:%S.").upper() + "79",         # 03-MAR-2024 15:01:01.79
        moment.strftime("%a, %d %b %Y %H:%M:%S GMT"),                 # Sun, 03 Mar 2024 15:01:01 GMT
        f"{MONTHS[day.month - 1]} {day.day}, {day.year}",             # March 3, 2024
        f"{day.day} {MONTHS[day.month - 1]} {day.year}",              # 3 March 2024
        day.strftime("%Y/%m/%d"),                                     # 2024/03/03
        int(moment.timestamp()),                                      # 1709478061
    ])


def written_in_text(day: dt.date, rng: random.Random) -> str:
    """``day`` as prose writes it."""
    return rng.choice([f"{MONTHS[day.month - 1]} {day.day}", f"{day.day} {MONTHS[day.month - 1]} {day.year}",
                       f"{MONTHS[day.month - 1]} {day.day}, {day.year}", day.isoformat(),
                       f"{WEEKDAYS[day.weekday()]}, {MONTHS[day.month - 1]} {day.day}"])


def queries_from(texts: list[str], count: int, seed: int = 0) -> list[str]:
    """Two-word queries, each of two words of one of ``texts``: every query has a hit."""
    rng = random.Random(seed)
    chosen = []
    for text in rng.sample(texts, count):
        words = sorted({word for word in text.split() if word.isalpha()})
        chosen.append(" ".join(rng.sample(words, 2)))
    return chosen


def write_jsonl(path: Path, records: list[dict]) -> Path:
    """One record a line, UTF-8, as the real corpora are written."""
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records),
                    encoding="utf-8")
    return path


def rewrite_reports(path: Path, bodies: dict[str, str]) -> None:
    """One JSON line an article (its id, the title "Report <id>" and its body), with an
    mtime later than the file had, so that an update sees the change on a coarse clock."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    write_jsonl(path, [{"id": article_id, "title": f"Report {article_id}", "body": body}
                       for article_id, body in bodies.items()])
    if path.stat().st_mtime_ns <= before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def with_bodies(articles: list[NewsArticle]) -> list[dict]:
    """The articles that have a text, as searchidx JSONL records (id, title, body)."""
    return [{"id": a.record["id"], "title": a.record["title"], "body": a.record["text"]}
            for a in articles if a.record["text"]]
