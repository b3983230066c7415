"""The date the prescription was written, told apart from the other dates on a referral.

Fax headers, print stamps, dates of birth, injury, expiry and follow-up are not it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from pipeline.extract.patterns import DATE_RE, parse_date, respell_months

# between a label's words, a colon or speck OCR put there: "DATE: OF ORDER"
_GAP = r"[\s:.,]+"
_RX_LABEL = re.compile(
    rf"(?:rx\s*date|date{_GAP}of{_GAP}(?:rx|prescription|order|referral|request)|"
    rf"order(?:ed)?{_GAP}date|referral{_GAP}date|date{_GAP}(?:written|signed|ordered|prescribed)|"
    r"prescribed\s+on|signed\s+on|signed|electronically\s+signed)\s*(?:on)?\s*[:\-]?\s*$",
    re.IGNORECASE,
)
_SEEN_ON = re.compile(
    r"\b(?:saw|seen|examined|evaluated|visited)\b[^.\n]{0,60}\bon\s*$", re.IGNORECASE
)
_SIGNED_ON = re.compile(r"\bsigned\b.*\bon\s*$", re.IGNORECASE)
_VISIT_DATE = re.compile(
    r"(?:date\s+of\s+(?:service|visit)|visit\s+date|\bdos\b)\s*[:\-]?\s*$", re.I
)
_PLAIN_DATE_LABEL = re.compile(r"(?:^|\s)dated?\s*[:;\-]?\s*$", re.IGNORECASE)  # "Date;"
_NOT_RX = re.compile(
    r"dob|d\.o\.b|birth|born|injur|\bdoi\b|accident|onset|expir|\bexp\b|valid|through|thru|"
    r"until|print|received|sent|fax|page\s*\d|from:|to:|\d{1,2}:\d\d|last\s+visit|appt|"
    r"appointment|follow|surgery|since|admit|discharge|"
    r"eff(?:ective)?|member\s+since|policy",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DateMention:
    value: date
    start: int
    end: int
    score: float


def prescription_dates(text: str) -> list[DateMention]:
    text = respell_months(text)  # "Novembor 18, 2026": same offsets
    found = []
    for match in DATE_RE.finditer(text):
        value = parse_date(match)
        if value is None:
            continue
        line_start = text.rfind("\n", 0, match.start()) + 1
        line_end = text.find("\n", match.end())
        before = text[line_start : match.start()]
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        opens_line = _specks_only(before)  # "|  10/9/2026": a form box's edge
        if opens_line:  # "Injured at work on\n2025-04-30", "Date of injury  Phone\n3/5/2025"
            before = _label_above(text, line_start) + before
        score = _score(before, line, match.start() / max(1, len(text)), opens_line)
        if _on_cover_sheet(text, line_start):
            score = min(score, _COVER_SHEET_SCORE)
        found.append(DateMention(value, match.start(), match.end(), score))
    return _recent(found)


# a fax cover sheet's "Pages: 2" (or "# of pages") near a date: the day it was sent
_PAGES_LINE = re.compile(r"^\W{0,3}(?:(?:#|no\.?|number)\s*of\s+)?pages?\s*[:;#.]", re.I | re.M)
_COVER_SHEET_LINES = 2
_COVER_SHEET_SCORE = 0.2  # below any label's: taken only where no other date is written


def _on_cover_sheet(text: str, line_start: int) -> bool:
    """The date's line stands within two lines of a cover sheet's page count.

    A cover sheet's "Date: 21-Nov-2026" is labelled as plainly as the prescription's
    own "Date: 2026-11-19" and comes first, so it won on the label alone; it is the
    day the fax was sent, like a fax header's. (A letterhead's "Fax:" line is no
    sign: letterheads stand above prescriptions' dates too.)
    """
    start = line_start
    for _ in range(_COVER_SHEET_LINES):
        start = text.rfind("\n", 0, max(0, start - 1)) + 1
    end = line_start
    for _ in range(_COVER_SHEET_LINES + 1):
        found = text.find("\n", end + 1)
        end = len(text) if found < 0 else found
    return bool(_PAGES_LINE.search(text, start, end))


def _recent(found: list[DateMention]) -> list[DateMention]:
    """Dates written within ten years of the document's latest date.

    A prescription is written when it is sent, so a date decades before the others is
    a birth date whose label OCR lost ("DOB:" five lines above "June 28, 1975"), not
    the Rx date it would otherwise be taken for.
    """
    plausible = [m.value for m in found if m.value.year < 2100]  # not OCR's "2907"
    if not plausible:
        return found
    latest = max(plausible)
    return [m for m in found if (latest - m.value).days <= _OLDEST_RX_DAYS]


_OLDEST_RX_DAYS = 3653


def _score(before: str, line: str, position: float, opens_line: bool) -> float:
    # only what stands between this date and the previous one labels it ("DOB 1/2/80) on")
    previous = list(DATE_RE.finditer(before))
    nearby = (before[previous[-1].end() :] if previous else before)[-40:]
    if _RX_LABEL.search(nearby) or _SIGNED_ON.search(before):
        return 3.0
    if _SEEN_ON.search(before) and not _NOT_RX.search(nearby):
        return 1.5  # "I saw her on May 2": the visit that produced the order
    if _NOT_RX.search(nearby) or (_NOT_RX.search(line) and not _PLAIN_DATE_LABEL.search(nearby)):
        return -1.0
    if _PLAIN_DATE_LABEL.search(nearby):
        return 2.0
    if _VISIT_DATE.search(nearby):
        return 1.5  # a chart note's visit date is the day the order was written
    if opens_line:
        alone = line.strip() and DATE_RE.fullmatch(line.strip(" .,;"))  # a letter's date line
        return 1.0 if alone or position < 0.25 or position > 0.6 else 0.5
    return 0.3


def _label_above(text: str, line_start: int, skip_speck: bool = True) -> str:
    """What labels a date that opens its line, from the line above.

    A sentence that breaks off before the date ("... Injured at work on") labels it, and
    so does a form's row of labels with the values in the row below ("Date of injury
    Phone" over "March 5, 2025"). A heading ("Order for Medical Massage") labels
    nothing it is not (no Rx, injury or birth words), so a letter's date line still
    counts as one. A line of one or two specks between them ("Signature  Date" / "i" /
    "17-May-2027", a signature's stroke read as a letter) is passed over.
    """
    if line_start == 0:
        return ""
    above_start = text.rfind("\n", 0, line_start - 1) + 1
    above = text[above_start : line_start - 1].rstrip()
    if skip_speck and len(above.strip()) <= 2 and above_start > 0:
        return _label_above(text, above_start, skip_speck=False)
    if _BREAKS_OFF.search(above):
        return above + " "
    if above and len(above) <= 80 and not re.search(r"\d", above):
        return above + "  "
    return ""


_SPECKS = " \t|[]{}~_'\"`‘’.,"  # what OCR makes of a box's edge or a speck of dust


def _specks_only(before: str) -> bool:
    """Nothing but specks before a date on its line: marks, and at most one letter
    (": i 1/21/2027", a signature's stroke read as "i", under "Signature  Date")."""
    rest = before.strip(_SPECKS)
    return not rest or (
        not re.search(r"\d", rest) and len(re.findall(r"[A-Za-z]", rest)) <= 1 and len(rest) <= 4
    )


_BREAKS_OFF = re.compile(r"\b(?:on|of|at|in|from|since|by|dated|before|after|until)$")
