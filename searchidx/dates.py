"""Reading the dates news archives write: one calendar date, or a reason it cannot be read.

Forms read: ISO 8601 with or without time and zone (``2024-03-04``, ``2024-03-04T10:00+07:00``,
``20240304``), RFC 2822 (``Thu, 26 Feb 1987 15:01:01 GMT``), Reuters' ``26-FEB-1987
15:01:01.79``, ``February 26, 1987``, ``26 February 1987``, ``1987/02/26``, numeric
day/month forms (``26/02/1987``, ``26.02.1987``) and, from JSON numbers, Unix timestamps in
seconds (UTC). The date is the one written: a time zone never moves it to another day.

An all-numeric date whose day and month could be swapped (``03/04/2024``) is read only
when the order is given (``date_order="dmy"`` or ``"mdy"``); without it the date is
unreadable, never guessed. A date missing its year, month or day (``May 1987``) is
unreadable too. A value is read up to its first control character.

The parsing is python-dateutil's, imported only when a date is read: a search never
loads it.
"""

from __future__ import annotations

import datetime as dt
import re

from .settings import MAX_DATE_CHARS

__all__ = ["DATE_ORDERS", "AmbiguousDate", "UnreadableDate", "parse_date", "read_date"]

DATE_ORDERS = ("dmy", "mdy")

# ISO 8601 (extended or basic form, with an optional time and zone), read without the parser.
_ISO_DATE = re.compile(r"(?P<year>\d{4})(?P<dash>-?)(?P<month>\d{2})(?P=dash)(?P<day>\d{2})"
                       r"(?:[T ]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?\s*"
                       r"(?:Z|[+-]\d{2}(?::?\d{2})?)?)?")
# A date ends at a control character: what follows one is markup, not text (Reuters-21578
# writes "27-MAR-1987 00:02:59.13" then ^E^E^E and a desk code).
_CONTROL_CHAR = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A year written first (1987/02/26) is followed by the month, then the day.
_YEAR_FIRST = re.compile(r"\d{4}[-/.]\d")
_MONTH_NAME = re.compile(r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec", re.IGNORECASE)
# The most words a date with its time takes: "Thursday, February 26, 1987 3:01 PM".
_MOST_DATE_WORDS = 6
# Two sets of defaults: a field missing from the text takes different values in each (a
# result with none of the first set's values needs no second look).
_DEFAULTS = (dt.datetime(1, 1, 1), dt.datetime(2, 2, 2))


class UnreadableDate(ValueError):
    """A value that holds no complete, unambiguous date; the message says why."""


class AmbiguousDate(UnreadableDate):
    """A date whose day and month could be either way round, and no order was given."""


def parse_date(text: str, *, date_order: str | None = None) -> dt.date | None:
    """The date ``text`` writes, or None when it is not a readable date (see :func:`read_date`)."""
    try:
        return read_date(text, date_order=date_order)
    except UnreadableDate:
        return None


def read_date(value: str | int | float, *, date_order: str | None = None,
              trailing_text: bool = True) -> dt.date:
    """The date a text (or a Unix timestamp, as a number) writes; raise :class:`UnreadableDate`
    naming the reason otherwise. ``date_order`` (``"dmy"``/``"mdy"``) settles ``03/04/2024``.

    With ``trailing_text`` (a value known to be a date, such as a date field), a complete
    date followed by words that are not (a broken time, a comment) gives that date;
    without, the whole text must be a date (to tell a date line from a sentence).
    """
    if date_order not in (None, *DATE_ORDERS):
        raise ValueError(f"date order must be one of {', '.join(DATE_ORDERS)}, not {date_order!r}")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise UnreadableDate(f"not a date: {type(value).__name__}")
    if not isinstance(value, str):
        return _from_timestamp(value)
    text = _CONTROL_CHAR.split(value, maxsplit=1)[0].strip()
    if not text or len(text) > MAX_DATE_CHARS:
        raise UnreadableDate("not a date" if text else "empty date")
    try:
        return _from_text(text, date_order)
    except AmbiguousDate:
        raise
    except UnreadableDate:
        if not trailing_text:
            raise
        return _from_leading_words(text, date_order)


def _from_text(text: str, date_order: str | None) -> dt.date:
    iso = _ISO_DATE.fullmatch(text)
    if iso:
        return _calendar_date(int(iso["year"]), int(iso["month"]), int(iso["day"]))
    return _from_words(text, date_order)


def _from_leading_words(text: str, date_order: str | None) -> dt.date:
    """The date written by the longest run of leading words that is one (Reuters-21578 has
    "31-MAR-1987 605:12:19.12" and "9-APR-1987 00:00:00.00  # date added by S Finch")."""
    words = text.split()
    for count in range(min(len(words) - 1, _MOST_DATE_WORDS), 0, -1):
        try:
            return _from_text(" ".join(words[:count]), date_order)
        except AmbiguousDate:
            raise
        except UnreadableDate:
            continue
    raise UnreadableDate("not a date")


def _from_timestamp(seconds: int | float) -> dt.date:
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).date()
    except (OverflowError, OSError, ValueError):
        raise UnreadableDate(f"timestamp {seconds} is out of range") from None


def _calendar_date(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as error:
        raise UnreadableDate(str(error)) from None


def _from_words(text: str, date_order: str | None) -> dt.date:
    """A date in words or numbers, which must name its year, month and day."""
    month_first = _parse(text, dayfirst=False, default=_DEFAULTS[0])
    took_a_default = 1 in (month_first.year, month_first.month, month_first.day)
    if took_a_default and month_first != _parse(text, dayfirst=False, default=_DEFAULTS[1]):
        raise UnreadableDate("incomplete date (no year, month or day)")
    if _MONTH_NAME.search(text) or _YEAR_FIRST.match(text):
        return month_first.date()
    day_first = _parse(text, dayfirst=True, default=_DEFAULTS[0])
    if day_first.date() == month_first.date():
        return month_first.date()
    if date_order is None:
        raise AmbiguousDate("day and month could be either way round; set the date order to "
                            "dmy or mdy")
    return (day_first if date_order == "dmy" else month_first).date()


def _parse(text: str, *, dayfirst: bool, default: dt.datetime) -> dt.datetime:
    from dateutil.parser import ParserError, parse

    try:
        # The zone is passed over: it never moves the date written ("ICT" is read as well).
        return parse(text, dayfirst=dayfirst, default=default, ignoretz=True)
    except (ParserError, ValueError, OverflowError):
        raise UnreadableDate("not a date") from None
