"""Regular-expression pieces shared by the extraction components: numbers and dates."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import date

from dateutil import parser as date_parser

NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a": 1,
    "an": 1,
    "once": 1,
    "twice": 2,
    "thrice": 3,
    "single": 1,
}
NUMBER = r"(?:\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
# OCR reads 0 as O and 1 as l or I inside dates; the digit class admits them.
_D = r"[0-9OoIl]"
DATE = (
    rf"(?:(?P<iso>(?:19|20)\d\d-{_D}{{1,2}}-{_D}{{1,2}})"
    rf"|(?P<num>{_D}{{1,2}}\s?[/.\-]\s?{_D}{{1,2}}\s?[/.\-]\s?(?:{_D}{{4}}|{_D}{{2}}))"
    rf"|(?P<mdy>{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?[,.]{{0,2}}\s+(?:19|20)\d\d)"
    rf"|(?P<dmy>\d{{1,2}}(?:st|nd|rd|th)?[\s\-]+{_MONTHS}[,\s\-]+(?:19|20)\d\d))"
)
DATE_RE = re.compile(rf"(?<![\w/.\-]){DATE}(?![\w/\-])", re.IGNORECASE)

_OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1"})

_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# a word where a date's month stands: before "12, 1949" or between "12" and "1949"
_MONTH_PLACE = re.compile(
    r"(?<![\w])(?P<before>[A-Za-z]{5,9})(?=\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+(?:19|20)\d\d)"
    r"|(?<=\d[\s\-])(?P<between>[A-Za-z]{5,9})(?=[,\s\-]+(?:19|20)\d\d)"
)


def one_letter_off(word: str) -> str:
    """A pattern for a word with any one of its letters misread ("Pationt" for "Patient")."""
    return "|".join(word[:i] + "[a-z]" + word[i + 1 :] for i in range(len(word)))


def respell_months(text: str) -> str:
    """The text with a date's month name spelled right where OCR misread one letter.

    "12 Aprit 1949", "Decembor 14, 2007": only a word of five letters or more standing
    where a month stands in a date (before a day and a year, or between them) is
    touched, and only to a full month name one letter away. Every offset stays, so
    evidence keeps the page's words; names are read from the text as written.
    """
    letters = list(text)
    for match in _MONTH_PLACE.finditer(text):
        word = match.group("before") or match.group("between")
        start = match.start("before") if match.group("before") else match.start("between")
        month = _month_one_letter_off(word.lower())
        if month is not None:
            letters[start : start + len(word)] = month
    return "".join(letters)


def _month_one_letter_off(word: str) -> str | None:
    if word in _MONTH_NAMES:
        return None
    close = [m for m in _MONTH_NAMES if one_substitution_apart(m, word)]
    return close[0] if len(close) == 1 else None


def one_substitution_apart(word: str, other: str) -> bool:
    """Same length, exactly one letter different: how OCR misreads a printed word."""
    return len(word) == len(other) and sum(a != b for a, b in zip(word, other, strict=True)) == 1


def number(text: str) -> int | None:
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    return NUMBER_WORDS.get(text)


def parse_date(match: re.Match[str], *, birth: bool = False) -> date | None:
    """A date as US documents write it (month first); None for impossible dates."""
    try:
        value = _parsed(match, birth)
        if birth and value is not None and value.year < 1900:
            # no living patient was born before 1900: OCR misread the century's 9
            # ("1488" for 1988, "1373" for 1973)
            value = value.replace(year=1900 + value.year % 100)
        return value
    except (ValueError, OverflowError, date_parser.ParserError):
        return None


def _parsed(match: re.Match[str], birth: bool) -> date | None:
    if match.group("iso"):
        year, month, day = (int(p) for p in match.group("iso").translate(_OCR_DIGITS).split("-"))
        return date(year, month, day)
    if match.group("num"):
        return _numeric(match.group("num").translate(_OCR_DIGITS), birth)
    text = match.group("mdy") or match.group("dmy")
    return date_parser.parse(text.replace(".", " ").replace("-", " "), fuzzy=False).date()


def _numeric(text: str, birth: bool) -> date | None:
    parts = [int(p) for p in re.split(r"\s?[/.\-]\s?", text.strip())]
    month, day, year = parts
    if year < 100:
        # Two-digit years: a birth year is in the past century unless that makes it
        # implausibly recent; a prescription is this century.
        year += 1900 if birth and year > 30 else 2000
    if month > 12 and day <= 12:
        month, day = day, month
    return date(year, month, day)


# more faint letters than this in one value leave it doubted: the readings multiply
MOST_FAINT_LETTERS = 2


def faint_letter_readings(
    written: str, faint: list[int], stand_ins: tuple[str, ...]
) -> Iterator[str]:
    """``written`` with its faint letters (positions in it) replaced in every way possible."""
    letters = list(written)
    for replacements in itertools.product(stand_ins, repeat=len(faint)):
        for position, letter in zip(faint, replacements, strict=True):
            letters[position] = letter
        yield "".join(letters)
