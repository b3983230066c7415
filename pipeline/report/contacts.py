"""The prescriber's phone and fax numbers, where the document shows them.

Kept simple: the stored words are joined into lines, and a number that follows
"Tel", "Phone", "Ph" or "Fax" is taken. Lines about the patient (patient, home, cell,
mobile, emergency) are skipped; of the rest, the number on the line nearest to the
prescriber's name wins, else the first. No number is guessed where none is labelled.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from models.document import PageText

_NUMBER = r"(\+?1[\s.\-]?)?(\(?\d{3}\)?[\s.\-]*\d{3}[\s.\-]*\d{4})"
PHONE_RE = re.compile(
    rf"\b(?:tel(?:ephone)?|phone|ph|office)\b\.?\s*(?:no\.?|number|#)?\s*[:#]?\s*{_NUMBER}",
    re.IGNORECASE,
)
FAX_RE = re.compile(rf"\bfax\b\.?\s*(?:no\.?|number|#)?\s*[:#]?\s*{_NUMBER}", re.IGNORECASE)
_PATIENT_LINE = re.compile(r"\b(?:patient|pt|home|cell|mobile|emergency)\b", re.IGNORECASE)


def lines(pages: Sequence[PageText]) -> list[tuple[int, str]]:
    """(page number, text) for every line of the document, in reading order."""
    found: list[tuple[int, str]] = []
    for page in pages:
        by_line: dict[int, list[str]] = {}
        for word in page.words:
            by_line.setdefault(word.line, []).append(word.text)
        found.extend((page.number, " ".join(words)) for _, words in sorted(by_line.items()))
    return found


def normalize(number: str) -> str:
    """``(206) 555-0100`` for any way of writing a ten-digit US number."""
    digits = re.sub(r"\D", "", number)[-10:]
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def prescriber_contacts(
    pages: Sequence[PageText], prescriber_name: str | None
) -> tuple[str | None, str | None]:
    """(phone, fax) of the prescriber's office, or None where the document shows none."""
    text_lines = lines(pages)
    anchor = _anchor(text_lines, prescriber_name)
    return _pick(text_lines, PHONE_RE, anchor), _pick(text_lines, FAX_RE, anchor)


def _anchor(text_lines: list[tuple[int, str]], name: str | None) -> int | None:
    if not name:
        return None
    surname = name.split()[-1].strip(",.").lower()
    for index, (_, text) in enumerate(text_lines):
        if surname and surname in text.lower():
            return index
    return None


def _pick(text_lines: list[tuple[int, str]], pattern: re.Pattern[str], anchor: int | None):
    candidates: list[tuple[int, str]] = []
    for index, (_, text) in enumerate(text_lines):
        for match in pattern.finditer(text):
            before = text[: match.start()]
            if _PATIENT_LINE.search(before[-40:]) or (
                pattern is PHONE_RE and _PATIENT_LINE.search(text) and not FAX_RE.search(text)
            ):
                continue
            candidates.append((index, normalize(match.group(2))))
    if not candidates:
        return None
    if anchor is None:
        return candidates[0][1]
    return min(candidates, key=lambda c: (abs(c[0] - anchor), c[0]))[1]
