"""The ICD-10-CM code table (CMS April 2026, shipped by simple-icd-10-cm).

Wraps the library's traps: look-ups are case-sensitive, and chapters, blocks and
categories count as "valid" too, so billable here means a leaf code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import simple_icd_10_cm as icd

from models.config import RuleSettings
from models.referral import Category

_CODE_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:[0-9A-Z]{1,4})?$")
_CATEGORY_WORDS: dict[Category, re.Pattern[str]] = {
    "sprain": re.compile(r"\bsprains?\b", re.IGNORECASE),
    "strain": re.compile(r"\bstrains?\b", re.IGNORECASE),
    "tear": re.compile(r"\b(?:tears?|torn)\b", re.IGNORECASE),
    "pain": re.compile(r"\b(?:pain|\w+algia|lumbago|sciatica)\b", re.IGNORECASE),
}
_CATEGORY_ORDER: tuple[Category, ...] = ("sprain", "strain", "tear", "pain")


@dataclass(frozen=True)
class CodeFacts:
    code: str
    exists: bool
    billable: bool
    description: str | None


def dotted(compact: str) -> str:
    """``M5450`` to ``M54.50``: the official form, a dot after the third character."""
    compact = compact.replace(".", "").upper()
    return compact if len(compact) <= 3 else f"{compact[:3]}.{compact[3:]}"


def is_code_shape(compact: str) -> bool:
    return bool(_CODE_SHAPE.match(compact))


@lru_cache(maxsize=65536)
def exists(compact: str) -> bool:
    """A real code (any level) in the table; ranges like ``M50-M54`` are blocks, not codes."""
    compact = compact.replace(".", "").upper()
    return is_code_shape(compact) and icd.is_valid_item(compact)


@lru_cache(maxsize=65536)
def facts(code: str) -> CodeFacts:
    compact = code.replace(".", "").upper()
    if not exists(compact):
        return CodeFacts(code=dotted(compact), exists=False, billable=False, description=None)
    return CodeFacts(
        code=dotted(compact),
        exists=True,
        billable=icd.is_leaf(compact),
        description=icd.get_description(compact),
    )


@lru_cache(maxsize=1)
def _by_description() -> dict[str, tuple[str, ...]]:
    """Official descriptions (lower case) to the codes that carry them."""
    index: dict[str, list[str]] = {}
    for compact in icd.get_all_codes(False):
        if is_code_shape(compact):
            index.setdefault(icd.get_description(compact).lower(), []).append(compact)
    return {text: tuple(codes) for text, codes in index.items()}


def codes_described_as(text: str) -> tuple[str, ...]:
    """The codes whose official description is exactly this text (case aside)."""
    return _by_description().get(text.strip(" .,;:-()").lower(), ())


def category(code: str, description: str | None, rules: RuleSettings) -> Category | None:
    """The contract's category: the first category word the official description contains.

    Only chapter M and S codes, G89 and R52 are candidates (so F41.1 "anxiety" or a
    "pain" word in another chapter does not count).
    """
    compact = code.replace(".", "").upper()
    if description is None or not _is_candidate(compact, rules):
        return None
    for name in _CATEGORY_ORDER:
        if _CATEGORY_WORDS[name].search(description):
            return name
    return None


def is_reimbursable(billable: bool, found: Category | None, rules: RuleSettings) -> bool:
    return billable and found is not None and found in rules.reimbursable_categories


def _is_candidate(compact: str, rules: RuleSettings) -> bool:
    return compact[:1] in rules.candidate_chapters or any(
        compact.startswith(prefix) for prefix in rules.candidate_prefixes
    )
