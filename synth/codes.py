"""ICD-10-CM code pools and the contract's decision policy, for the synthetic generator.

Every code the generator prints is drawn from the simple_icd_10_cm code table (or, for the
INVALID_CODE scenario, checked against it to be absent), never from a hand-written list.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

import simple_icd_10_cm as icd

REIMBURSABLE_CATEGORIES = ("sprain", "strain", "tear", "pain")
PREAUTH_PAYERS = frozenset({"Premera", "Regence", "Group Health", "Kaiser Permanente"})

# Code-table prefixes (not codes) that massage referrals typically carry; the pools below are
# the billable leaf codes under them whose official description puts them in a category.
# fmt: off
_COMMON_REIMB_PREFIXES = {
    "M54.": 20, "M79.1": 6, "M79.6": 4, "M25.5": 6, "M75.1": 4, "M53.": 3, "M62.": 2, "S13.": 8,
    "S16.": 8, "S23.": 3, "S29.": 3, "S33.": 6, "S39.": 8, "S43.": 3, "S46.": 4, "S53.": 1,
    "S63.": 1, "S73.": 1, "S76.": 1, "S83.": 2, "S86.": 1, "S93.": 2, "G89.": 4, "R52": 1,
}
# fmt: on
# fmt: off
_NONREIMB_PREFIXES = (
    "F41.", "F43.", "F32.", "F51.", "Z00.", "Z56.", "Z73.", "Z71.", "R53.", "R51.", "R10.",
    "R25.", "R26.", "M62.8", "M62.4", "M99.0", "M43.6", "M47.", "M51.", "M41.", "S30.0",
    "S20.2", "S40.01", "S70.0", "G44.", "G43.", "G47.", "G56.",
)
# fmt: on

_TEAR_RE = re.compile(r"\b(tear|tears|torn)\b", re.I)
_PAIN_RE = re.compile(r"\b(pain|\w+algia|lumbago|sciatica)\b", re.I)
_ANY_RE = re.compile(r"sprain|strain|tear|torn|pain|algia|lumbago|sciatica", re.I)


def category(code: str) -> str | None:
    """The contract's reimbursable category of a dotted code, or None."""
    if not icd.is_valid_item(code):
        return None
    if not (code[0] in "MS" or code.startswith("G89") or code.startswith("R52")):
        return None
    desc = icd.get_description(code)
    if not _ANY_RE.search(desc):
        return None
    if re.search(r"\bsprain\b", desc, re.I):
        return "sprain"
    if re.search(r"\bstrain\b", desc, re.I):
        return "strain"
    if _TEAR_RE.search(desc):
        return "tear"
    if _PAIN_RE.search(desc):
        return "pain"
    return None


def is_valid(code: str) -> bool:
    return icd.is_valid_item(code) and not icd.is_chapter_or_block(code)


def is_billable(code: str) -> bool:
    return is_valid(code) and icd.is_leaf(code)


def is_reimbursable(code: str) -> bool:
    return is_billable(code) and category(code) is not None


def description(code: str) -> str | None:
    return icd.get_description(code) if is_valid(code) else None


@lru_cache(maxsize=1)
def _all_codes() -> tuple[str, ...]:
    return tuple(c for c in icd.get_all_codes(with_dots=True) if not icd.is_chapter_or_block(c))


def _under(prefixes) -> list[str]:
    return [c for c in _all_codes() if c.startswith(prefixes)]


def _s_code_ok(code: str) -> bool:
    # Referrals carry initial/subsequent encounters far more often than sequelae.
    return not (code[0] == "S" and len(code) == 8 and code[-1] == "S")


@lru_cache(maxsize=1)
def pools() -> dict[str, tuple[str, ...]]:
    """Code pools, each a tuple of dotted codes taken from the code table."""
    leaves = [c for c in _all_codes() if icd.is_leaf(c)]
    reimb_all = [c for c in leaves if category(c) is not None and _s_code_ok(c)]
    reimb_common = [c for c in reimb_all if c.startswith(tuple(_COMMON_REIMB_PREFIXES))]
    nonreimb = [
        c
        for c in _under(_NONREIMB_PREFIXES)
        if icd.is_leaf(c) and category(c) is None and _s_code_ok(c)
    ]
    # Header codes / codes lacking the 7th character: parents of common reimbursable leaves.
    nonbillable = sorted(
        {
            p
            for c in reimb_common
            for p in [icd.get_parent(c)]
            if p and icd.is_category_or_subcategory(p) and not icd.is_leaf(p)
        }
    )
    return {
        "reimb_common": tuple(reimb_common),
        "reimb_all": tuple(reimb_all),
        "nonreimb": tuple(nonreimb),
        "nonbillable": tuple(nonbillable),
    }


@lru_cache(maxsize=1)
def _by_prefix() -> dict[str, dict[str, tuple[str, ...]]]:
    p = pools()
    return {
        "reimb": {
            k: tuple(c for c in p["reimb_common"] if c.startswith(k))
            for k in _COMMON_REIMB_PREFIXES
        },
        "nonreimb": {
            k: tuple(c for c in p["nonreimb"] if c.startswith(k)) for k in _NONREIMB_PREFIXES
        },
    }


def pick_reimbursable(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return rng.choice(pools()["reimb_all"])
    groups = {k: v for k, v in _by_prefix()["reimb"].items() if v}
    keys = list(groups)
    key = rng.choices(keys, weights=[_COMMON_REIMB_PREFIXES[k] for k in keys])[0]
    return rng.choice(groups[key])


def pick_nonreimbursable(rng: random.Random) -> str:
    groups = {k: v for k, v in _by_prefix()["nonreimb"].items() if v}
    return rng.choice(groups[rng.choice(list(groups))])


def pick_nonbillable(rng: random.Random) -> str:
    """A header code or a code lacking its 7th character (an ancestor of a common code)."""
    for _ in range(100):
        leaf = pick_reimbursable(rng)
        heads = [
            a
            for a in icd.get_ancestors(leaf)
            if icd.is_category_or_subcategory(a) and not icd.is_leaf(a)
        ]
        if heads:
            return rng.choice(heads)
    return rng.choice(pools()["nonbillable"])


def _exists_any_form(code: str) -> bool:
    return icd.is_valid_item(code) or icd.is_valid_item(code.replace(".", ""))


def pick_invalid(rng: random.Random) -> tuple[str, str]:
    """A well-formed code that is not in ICD-10-CM, and the real code it was mutated from."""
    for _ in range(200):
        base = pick_reimbursable(rng)
        chars = list(base)
        positions = [i for i, ch in enumerate(chars) if ch.isdigit() and i >= 1]
        i = rng.choice(positions[1:] or positions)
        chars[i] = rng.choice([d for d in "0123456789" if d != chars[i]])
        cand = "".join(chars)
        if rng.random() < 0.3 and "." in cand and len(cand) <= 6 and not cand.startswith("S"):
            cand = cand + rng.choice("6789")
        if not _exists_any_form(cand):
            return cand, base
    raise RuntimeError("could not build an invalid code")


def written_form(code: str, rng: random.Random) -> str:
    """How a clinician might write the dotted code: as is, without the dot, lower case."""
    r = rng.random()
    if r < 0.62:
        return code
    if r < 0.85:
        return code.replace(".", "")
    if r < 0.95:
        return code.lower()
    return code.replace(".", "").lower()


def decide(
    unreadable: bool,
    codes: list[str],
    has_frequency: bool,
    has_duration: bool,
    has_prescriber: bool,
    payer_name: str | None,
) -> tuple[str, list[str]]:
    """The contract's decision order, returning (status, sorted reason codes)."""
    if unreadable:
        return "needs_review", ["UNREADABLE_DOCUMENT"]
    if not codes:
        return "needs_review", ["NO_DIAGNOSIS_CODE"]
    notes = ["PREAUTH_REQUIRED"] if payer_name in PREAUTH_PAYERS else []
    if all(is_billable(c) for c in codes) and not any(is_reimbursable(c) for c in codes):
        return "rejected", sorted(["NO_REIMBURSABLE_DIAGNOSIS", *notes])
    reasons = []
    if any(not is_valid(c) for c in codes):
        reasons.append("INVALID_CODE")
    if any(is_valid(c) and not icd.is_leaf(c) for c in codes):
        reasons.append("NON_BILLABLE_CODE")
    if not has_frequency:
        reasons.append("MISSING_FREQUENCY")
    if not has_duration:
        reasons.append("MISSING_DURATION")
    if not has_prescriber:
        reasons.append("MISSING_PRESCRIBER")
    status = "needs_review" if reasons else "accepted"
    return status, sorted(reasons + notes)
