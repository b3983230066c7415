"""The payer (from the configured payer list) and the claim number."""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.config import PayerEntry

_LABEL = re.compile(
    r"(?:insurance|payer|payor|carrier|plan|coverage|billing|bill\s+to|ins\.?)\b"
    r"(?:\s+(?:is|company|name|carrier))?\s*[:#\-]?\s*$",
    re.I,
)
_ALTERNATIVES = re.compile(r"^\s*(?:/|or\b)", re.I)
_CLAIM = re.compile(
    r"\bclaim\s*(?:#|no\.?|number|num)?\s*[:#]?\s*(?P<claim>[A-Z0-9][A-Z0-9\-]{3,18}[A-Z0-9])\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PayerMention:
    entry: PayerEntry
    start: int
    end: int
    score: float


def alias_pattern(alias: str) -> str:
    """An alias as a tolerant pattern: flexible spaces, and I read as l or 1 in "L&I"."""
    parts = []
    for char in alias:
        if char == " ":
            parts.append(r"\s*")
        elif char == "I" and "&" in alias:
            parts.append(r"[Il1|]")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


def _with_case(alias: str) -> str:
    """Short capital acronyms (PIP, UHC, MVA) must match in capitals; words in any case."""
    pattern = alias_pattern(alias)
    if alias.isupper() and len(alias.replace(" ", "")) <= 4 and "&" not in alias:
        return pattern
    return f"(?i:{pattern})"


def compile_payers(entries: list[PayerEntry]) -> list[tuple[PayerEntry, re.Pattern[str]]]:
    compiled = []
    for entry in entries:
        aliases = sorted(set(entry.aliases) | {entry.name}, key=len, reverse=True)
        body = "|".join(_with_case(a) for a in aliases)
        compiled.append((entry, re.compile(rf"(?<![\w&])(?:{body})(?![\w&])")))
    return compiled


def payers(text: str, compiled: list[tuple[PayerEntry, re.Pattern[str]]]) -> list[PayerMention]:
    found = []
    for entry, pattern in compiled:
        for match in pattern.finditer(text):
            line_start = text.rfind("\n", 0, match.start()) + 1
            before = text[line_start : match.start()]
            score = 2.0 if _LABEL.search(before) else 1.0
            if entry.kind == "pip" and entry.name != "PIP":
                score += 0.5  # a named auto carrier beats the bare word "PIP"
            if re.search(r"claim", text[match.end() : match.end() + 15], re.I):
                score += 0.5
            if _ALTERNATIVES.match(text[match.end() : match.end() + 5]) or before.rstrip().endswith(
                "/"
            ):
                score = 0.2  # a form's printed choice ("L&I / PIP claim #"), not the payer
            found.append(PayerMention(entry, match.start(), match.end(), score))
    return found


def claim_numbers(text: str) -> list[tuple[str, int, int]]:
    found = []
    for match in _CLAIM.finditer(text):
        value = match.group("claim")
        if any(ch.isdigit() for ch in value) and not re.fullmatch(r"\d{1,3}", value):
            found.append((value.upper(), match.start("claim"), match.end("claim")))
    return found
