"""Finding ICD-10-CM codes in referral text, repairing OCR confusions against the table.

Full code shape (letter, two characters, up to four after the dot) so that ``S39.012A``
is never cut to ``S39``; with or without the dot; O/0, I/l/1, S/5/$, B/8, Z/2, G/6
confusions repaired only when the repaired code exists. CPT and HCPCS codes, NPIs,
phone numbers, ZIP codes and claim numbers are not diagnoses.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from pipeline import icd10
from pipeline.extract.patterns import MOST_FAINT_LETTERS, faint_letter_readings

CANDIDATE = re.compile(
    r"(?<![\w$§#/])(?<!\d-)(?:(?<!\d\.)|(?=[A-Za-z$§]))"  # "1.M54.41": a list number
    r"(?P<raw>[A-Za-z$§0-2568][0-9OoIlLSsBZzGg|][0-9A-Za-z|]"
    # the dot as written, with a speck read as a comma before it ("$16,.1XXA"), or as a comma
    # or as a dash after a letter-led code's third place ("s73-191d"; "M54-M55" stays apart)
    r"(?:\s?,?\.\s?[0-9A-Za-z|]{1,4}|,[0-9][0-9A-Za-z|]{0,3}|[0-9A-Za-z|]{1,4}"
    r"|(?<=[A-Za-z][0-9OoIlLSsBZzGg|][0-9A-Za-z|])-[0-9][0-9A-Za-z|]{0,3}(?![\w-]))?)"
    r"(?![\w/])(?!-\d)(?!\.\d)"
    r"(?!\s*(?:weeks?|wks?|months?|mos?|days?|visits?|sessions?|mg|lbs?|x\b|%))"
)
# "ICD-10" as OCR misreads its letters: "Tcb-10:", "1CD-10", "IC0-10"
# "ICD-10" with one of its three letters misread ("Tcb-10", "ICO-10", "ICK-10"): three
# letters and "-10" are never a code, whose second and third characters are digits
_I, _C, _D = r"[ITl1|!]", r"[CcOo(]", r"[DdbO0]"
ICD_MISREAD = rf"(?<![\w-])(?:{_I}{_C}[A-Za-z0]|{_I}[A-Za-z]{_D}|[A-Za-z]{_C}{_D})\s?-\s?10\b"
_DIAGNOSIS_CONTEXT = re.compile(
    r"icd|\bdx\b|diag|\bcodes?\b|assessment|impression|condition|^\s*A(?:/P)?\s*:|"  # SOAP "A:"
    + ICD_MISREAD,
    re.IGNORECASE | re.MULTILINE,
)
_NOT_A_DIAGNOSIS_BEFORE = re.compile(
    r"(?:cpt|hcpcs|npi|claim|member|policy|group|grp|\bid|account|acct|mrn|phone|fax|tel|"
    r"zip|ref|invoice|auth(?:orization)?|procedure|proc|modifier|license|lic|dea|suite|ste|"
    r"unit|apt|room|box)\s*(?:#|no\.?|number|code)?\s*[:#]?\s*$",
    re.IGNORECASE,
)
# "1.M25": a numbered list item, as diagnoses are listed under a label lines above
_LIST_NUMBER = re.compile(r"\s*\d{1,2}[.)]\s*")
# a dose, its unit glued on by a speck: "Acetaminophen 500.mg" is no S00.MG
_DOSE = re.compile(r"\d+(?:[.,]\d+)?[.,]?\s*(?:mg|mcg|ml)", re.IGNORECASE)
_AREA_CODE_BEFORE = re.compile(r"\(?\d{3}\)?[^\w$§]{0,2}$")  # "F206: 555.0121"
# "P360,555,0169": a phone label glued to the area code, the rest of the number after it
_PHONE_AFTER = re.compile(r"\)?[^\w$§\n]{1,2}\d{3}[^\w$§\n]{1,2}\d{4}(?!\d)")
_PHONE_BEFORE = re.compile(r"\d{3}\)?[^\w$§]?\d{3}[^\w$§]?$")
# a street number: a word or three, then a street's suffix ("A066 Main St, Seattle" for a
# faxed "4066 Main St"; "10370 NE 8th Ave")
_STREET_AFTER = re.compile(
    r"[ \t]+(?:[A-Za-z0-9]+[ \t]+){0,3}?(?:St|Street|Ave|Avenue|Blvd|Rd|Road|Way|Dr|Hwy|"
    r"Highway|Ln|Lane|Pkwy|Ct|Pl)\b\.?(?:[ \t]*[,|]|[ \t]+(?:[NSEW]|[NS][EW]|Suite|Ste)\b|[ \t]*$)",
    re.MULTILINE,
)
_LETTER_FOR = {
    "5": "S",
    "$": "S",
    "§": "S",
    "8": "B",
    "0": "O",
    "1": "I",
    "2": "Z",
    "6": "G",
    "|": "I",
}
# A leading S or B misread as 5, 8 or $ is repaired wherever the code is dotted; other
# leading digits (1 for I, 0 for O) only on a diagnosis line, where numbers are rarer.
_SAFE_LEADING = {"5", "8", "$", "§"}
# a three-character S category, its S read as "$": "M75.111; $13; Z56.82" lists S13 (a
# price too, which is why it counts only in a list of codes, after one or before one)
_CATEGORY_WITH_S_MISREAD = re.compile(r"[$§]\d\d")
# the end of a seven-character code padded with placeholder X's: "6XXD", "9XXA"
_PLACEHOLDER_END = re.compile(r"^.\d[0-9A-Z]{1,2}X{1,2}[A-Z]$")
_DIGIT_FOR = {
    "O": "0",
    "o": "0",
    "Q": "0",
    "D": "0",
    "I": "1",
    "l": "1",
    "|": "1",
    "i": "1",
    "L": "1",  # "SL3. 9XXD" for S13.9XXD
    "S": "5",
    "s": "5",
    "B": "8",
    "Z": "2",
    "z": "2",
    "G": "6",
    "g": "9",
    "q": "9",
}
_MAX_REPAIRS = 4096


@dataclass(frozen=True)
class FoundCode:
    code: str
    start: int
    end: int
    repaired: bool
    ambiguous: bool


def find_codes(text: str) -> list[FoundCode]:
    """Every code written in the text, in order of appearance (duplicates kept)."""
    found: list[FoundCode] = []
    text = _SAME_LETTER_READ_TWICE.sub(" ", _slashes_between_codes_as_spaces(text))
    blocks = diagnosis_blocks(text)
    for match in CANDIDATE.finditer(text):
        listed = bool(found) and _follows(text, found[-1].end, match.start())
        # "| 256.3 |" two rows under "DIAGNOSES", a description row between: Z56.3
        in_block = any(start <= match.start() < end for start, end in blocks)
        next_in_list = bool(found) and _LIST_GAP.fullmatch(text, found[-1].end, match.start())
        next_in_list = next_in_list or _CODE_LISTED_AFTER.match(text, match.end())
        next_in_list = next_in_list or (
            in_block and bool(found) and _next_in_a_column(text, found[-1].end, match)
        )
        result = _read_candidate(
            text, match, in_diagnoses=listed or in_block, next_in_list=bool(next_in_list)
        )
        if result is not None:
            found.append(_joined_with_tail(text, result))
    return found


# only separators between two codes of one line: "M75.111; $13; Z56.82"
_LIST_GAP = re.compile(r"[ \t;,/()]*")
# a separator, then a code's letter and digits: "$16, S46812D" lists S16 first
_CODE_LISTED_AFTER = re.compile(r"[ \t]*[;,][ \t]*[A-Za-z]\d[0-9A-Za-z]")


def _next_in_a_column(text: str, previous_end: int, match: re.Match[str]) -> bool:
    """Alone on its line, right under the line of a code read: the next row of a column
    of codes ("S335XXD" / "$33" / "S338XXD": S33 under S33.5XXD; seen, accepted without
    the non-billable S33)."""
    line_end = text.find("\n", match.end())
    rest = text[match.end() : len(text) if line_end < 0 else line_end]
    return (
        text.count("\n", previous_end, match.start()) == 1
        and not text[_line_start(text, match.start()) : match.start()].strip(" :;,.|-")
        and not rest.strip(" :;,.|-")
    )


# an S read twice, as itself and as "$": "S$16.1XXD" is "$16.1XXD" (read as S16.1XXD)
_SAME_LETTER_READ_TWICE = re.compile(r"(?<![\w$§])[Ss5](?=[$§]\d)")
# a code, a slash, and another code's letter and digits: "M54.50/S39.012A"
_SLASH_BETWEEN_CODES = re.compile(
    r"(?<![\w/])[A-Za-z]\d[0-9A-Za-z]\.?[0-9A-Za-z]{0,4}(?P<slash>/)(?=[A-Za-z]\d[0-9A-Za-z])"
)


def _slashes_between_codes_as_spaces(text: str) -> str:
    """Codes joined by a slash read apart (same offsets); a slash otherwise keeps a
    candidate from being a code, as in a date or a fraction."""
    while match := _SLASH_BETWEEN_CODES.search(text):  # "M54.50/M62.830/G89.29": in turn
        text = text[: match.start("slash")] + " " + text[match.end("slash") :]
    return text


def _follows(text: str, previous_end: int, start: int) -> bool:
    """On the line of the previous code or the next one: a list of diagnoses goes on."""
    return text.count("\n", previous_end, start) <= 1


_TAIL = re.compile(r" (?P<tail>[0-9A-Za-z]{1,3})(?![\w.])")


def _joined_with_tail(text: str, found: FoundCode) -> FoundCode:
    """OCR splits codes at a space ("S8681 1A"): join the tail when only that makes a leaf.

    A code that is already billable is left alone, so "M54.2 1x/wk" stays M54.2.
    """
    if icd10.facts(found.code).billable:
        return found
    tail = _TAIL.match(text, found.end)
    if tail is None:
        return found
    compact = found.code.replace(".", "") + tail.group("tail")
    candidates = (
        [compact.upper()]
        if icd10.exists(compact.upper())
        else [code for code, _ in _repairs(compact)]
    )
    leaves = sorted({c for c in candidates if icd10.facts(c).billable})
    if len(leaves) != 1:
        return found
    return FoundCode(icd10.dotted(leaves[0]), found.start, tail.end(), True, False)


def _read_candidate(
    text: str, match: re.Match[str], in_diagnoses: bool = False, next_in_list: bool = False
) -> FoundCode | None:
    raw = match.group("raw")
    if _DOSE.fullmatch(raw):
        return None
    compact = re.sub(r"\s?\.\s?|,|-", "", raw)
    has_dot = any(mark in raw for mark in ".,-")  # "M41,26", "s73-191d": the dot misread
    if sum(ch.isdigit() for ch in compact[1:]) < 2:
        return None  # words such as "Sol" or "BIG" repair into codes; real codes carry digits
    line_start = _line_start(text, match.start())
    before = text[line_start : match.start()]
    if _NOT_A_DIAGNOSIS_BEFORE.search(before[-30:]):
        return None
    if (compact.isdigit() and _AREA_CODE_BEFORE.search(before)) or _PHONE_BEFORE.search(before):
        return None  # "425 555.0134", "206 555 O151": the end of a phone number
    if _PHONE_AFTER.match(text, match.end()):
        return None
    if not has_dot and _STREET_AFTER.match(text, match.end()):
        return None  # a street number; a code is no address's first word
    context = _context(text, match.start(), match.end())
    in_dx_context = (
        in_diagnoses
        or bool(_DIAGNOSIS_CONTEXT.search(context))
        or bool(_LIST_NUMBER.fullmatch(before))
    )
    first_is_letter = compact[0].isalpha()
    if compact[0] == "x":
        return None  # a lower-case x before a number is a multiplication ("x10 weeks")
    listed_category = next_in_list and _CATEGORY_WITH_S_MISREAD.fullmatch(compact)
    if (
        not first_is_letter
        and not listed_category
        and not _leading_digit_allowed(compact, has_dot, in_dx_context)
    ):
        return _repair_described(text, match, compact)
    if "-" in raw and not raw[1:3].isdigit():
        return None  # a dash for the dot only after two digits as written: "SSS-09" is a phone's
    exact = compact.upper()
    if len(exact) == 3 and not has_dot and not in_dx_context and not _described(text, match):
        return None  # "B02" in a garbled letterhead or a suite number is no diagnosis
    if icd10.is_code_shape(exact) and icd10.exists(exact):
        return FoundCode(icd10.dotted(exact), match.start(), match.end(), False, False)
    repairs = _repairs(compact)
    if repairs:
        fewest = min(changes for _, changes in repairs)
        best = sorted({code for code, changes in repairs if changes == fewest})
        return FoundCode(icd10.dotted(best[0]), match.start(), match.end(), True, len(best) > 1)
    if not first_is_letter and compact[0] not in _SAFE_LEADING:
        return None  # "100.4" (a temperature) is no code: 0, 1, 2, 6 count only when it exists
    if "-" in raw:
        return None  # a dash for the dot only when that gives a real code: "A12-2025" is a form id
    if not first_is_letter:
        exact = _LETTER_FOR[compact[0]] + exact[1:]  # "$16.5XXD" is written as S16.5XXD
        if exact[0] == "S" and len(exact) == 7 and exact[-1].isdigit():
            return None  # an S code's 7th character is a letter: "555.0119" ends a phone number
    if _written_as_code(exact, has_dot, in_dx_context):
        return FoundCode(
            icd10.dotted(exact), match.start(), match.end(), not first_is_letter, False
        )
    return None


def _repair_described(text: str, match: re.Match[str], compact: str) -> FoundCode | None:
    """A digit-led word no rule reads as a code, unless exactly one of its repairs has its
    whole official description beside it: "Dual sensory impairment (27382)" is Z73.82,
    the description naming the code the letters were misread from."""
    described = [
        code
        for code, _ in _repairs(compact)
        if described_beside(
            text, FoundCode(icd10.dotted(code), match.start(), match.end(), True, False)
        )
    ]
    if len(described) != 1:
        return None
    return FoundCode(icd10.dotted(described[0]), match.start(), match.end(), True, False)


def _described(text: str, match: re.Match[str]) -> bool:
    """The code's official description stands on its line: "Pain, unspecified (R52)"."""
    facts = icd10.facts(match.group("raw").upper())
    if facts.description is None:
        return False
    line_start = _line_start(text, match.start())
    line_end = text.find("\n", match.end())
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    return facts.description.lower() in line.lower()


def _leading_digit_allowed(compact: str, has_dot: bool, in_dx_context: bool) -> bool:
    """Whether a code that starts with a digit may be a misread letter."""
    if compact[0] in _SAFE_LEADING and has_dot and len(compact) >= 5:
        return True
    if compact[0] in "$§" and len(compact) >= 6 and compact[-1].isalpha():
        return True  # "$93524A": money never ends in a 7th-character letter
    if compact[0] in _SAFE_LEADING and _PLACEHOLDER_END.search(compact):
        return True  # "5336XXD": a placeholder X before a 7th character is no number
    if compact[0] not in _SAFE_LEADING:
        # 1 for I, 0 for O, 2 for Z, 6 for G: only a dotted code on a diagnosis line, so
        # that a year ("2025" would be Z02.5) or a phone number never turns into a code
        return in_dx_context and has_dot
    return in_dx_context and (has_dot or len(compact) >= 4)


def _written_as_code(exact: str, has_dot: bool, in_dx_context: bool) -> bool:
    """A code that is not in the table is still listed when it is plainly written as one.

    Undotted letter-and-four-digit strings outside a diagnosis line are HCPCS codes
    (G0283), not diagnoses.
    """
    if not icd10.is_code_shape(exact):
        return False
    return (has_dot and len(exact) > 3) or (in_dx_context and len(exact) >= 3)


def _context(text: str, start: int, end: int) -> str:
    """The match's line and the line before it (labels often sit above a list of codes)."""
    line_start = _line_start(text, start)
    previous_start = _line_start(text, max(0, line_start - 1))
    line_end = text.find("\n", end)
    return text[previous_start : line_end if line_end >= 0 else len(text)]


def _repairs(compact: str) -> list[tuple[str, int]]:
    """Codes in the table reachable by undoing OCR confusions, with how many were undone."""
    options: list[list[str]] = []
    for position, char in enumerate(compact):
        upper = char.upper()
        choices = {upper} if upper.isalnum() else set()
        if position == 0:
            choices = {upper} if upper.isalpha() else set()
            if char in _LETTER_FOR:
                choices.add(_LETTER_FOR[char])
        elif position == 1:
            choices = {upper} if upper.isdigit() else set()
            if char in _DIGIT_FOR:
                choices.add(_DIGIT_FOR[char])
        else:
            if char in _DIGIT_FOR:
                choices.add(_DIGIT_FOR[char])
            if char in _LETTER_FOR:
                choices.add(_LETTER_FOR[char])
            if position == 6 and upper in "0O":
                choices.add("D")  # a 7th character is a letter: a round "D" read as 0 or O
        if not choices:
            return []
        options.append(sorted(choices))
    results = []
    for count, combo in enumerate(itertools.product(*options)):
        if count >= _MAX_REPAIRS:
            break
        candidate = "".join(combo)
        if icd10.is_code_shape(candidate) and icd10.exists(candidate):
            changes = sum(1 for a, b in zip(candidate, compact.upper(), strict=True) if a != b)
            results.append((candidate, changes))
    return results


_DX_LABEL = re.compile(
    r"icd|\bdx\b|diagnos|assessment|impression|^\s*a\s*:|\bcodes?\b|" + ICD_MISREAD,
    re.IGNORECASE | re.MULTILINE,
)
_BLOCK_END = re.compile(
    r"^\s*(?:p\s*:|(?:plan|rx|treatment|therapy|frequency|freq|duration|prescription|order|"
    r"signature|insurance|payer|billing|comments?)\b)",  # "P:" ends in no word boundary
    re.IGNORECASE | re.MULTILINE,  # matched at a line's start inside the text
)
_CODE_LIKE = re.compile(
    r"(?<![\w/])(?<!\d-)(?:[\w$§|]{1,3},?[.,]\s?[\w|]{1,5}|[\w$§|]{4,9})(?![\w/])"
)
# an id's label a few specks before a word: no letter pair between them
_ID_LABEL_NEAR = re.compile(
    r"\b(?:member|policy|group|grp|claim|subscriber|account|acct)\s*(?:id|#|no\.?|number)\b"
    r"(?:(?![A-Za-z]{2}).){0,8}$",
    re.IGNORECASE,
)
_ICD_LABEL_BEFORE = re.compile(r"\bicd\s?-?\s?$", re.IGNORECASE)
_PROCEDURE_LINE = re.compile(r"\b(?:cpt|hcpcs|billing|procedures?)\b", re.IGNORECASE)
_PLACEHOLDERS = re.compile(r"^[A-Za-z$§](?=[0-9A-Za-z]{0,2}\d)[0-9A-Za-z]{1,3}X{1,3}", re.I)
_SHORTHAND = re.compile(r"^\d[xX×*]\d{1,2}$")
_DATE_LIKE = re.compile(r"^\d{1,4}[/.\-]\d{1,2}([/.\-]\d{1,4})?$")


def unread_codes(text: str, found: list[FoundCode]) -> list[tuple[int, int]]:
    """Code-like tokens in a diagnosis block that did not read as any code.

    A garbled code ("$13.6XXKD", "423552") would otherwise vanish, and the referral
    could be accepted on its other codes: these send it to review instead.
    """
    taken = [(f.start, f.end) for f in found]
    suspicious = []
    for start, end in diagnosis_blocks(text):
        for match in _CODE_LIKE.finditer(text, start, end):
            token = match.group(0)
            compact = re.sub(r"[\s.,]", "", token)
            if not (
                _looks_like_code(compact, token)
                or _alone_on_its_line(text, match)
                or _lost_its_letter(text, match)
                or _between_codes(text, match, taken)
                or _dotted_among_codes(text, match, taken)
            ):
                continue
            if any(s < match.end() and match.start() < e for s, e in taken):
                continue
            line_start = _line_start(text, match.start())
            before = text[line_start : match.start()]
            if _NOT_A_DIAGNOSIS_BEFORE.search(before[-30:]) or _PROCEDURE_LINE.search(before):
                continue
            if _ID_LABEL_NEAR.search(before[-30:]):
                continue  # "member ID D 1)V73428830": specks between an id's label and it
            if _ICD_LABEL_BEFORE.search(before):
                continue  # "ICD-10.5m": the label's own 10, the word after it garbled
            suspicious.append((match.start(), match.end()))
        suspicious += _unread_numbered_items(text, start, end, taken)
    return suspicious


# a numbered list item whose code's letter was read as a digit, so that the code pattern
# (which leaves digits after "1." alone: decimals) reads no code: glued to the item's
# number, "1.513.9XXD" (S13.9XXD), "4.5139" (S13.9); or apart from it, "3. 153.81"
# (R53.81) opening its line
_NUMBERED_ITEM = re.compile(
    r"(?<![\w.])\d{1,2}[.)](?:(?P<glued>\d[0-9OoIlSsBZz]\d?[.,]?[0-9A-Za-z]{1,4})"
    r"|[ \t]+(?P<apart>\d{3}\.[0-9A-Za-z]{1,4}))(?![\w/])"
)
_DATE = re.compile(r"\d{1,2}[./]\d{1,2}[./]\d{2,4}")


def _unread_numbered_items(
    text: str, start: int, end: int, taken: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Items of a diagnosis list read as numbers (seen twice, each accepted without it)."""
    spots = []
    for match in _NUMBERED_ITEM.finditer(text, start, end):
        if any(s < match.end() and match.start() < e for s, e in taken):
            continue
        glued = match.group("glued")
        if glued is not None and _code_shaped(glued) and not _DATE.fullmatch(match.group(0)):
            spots.append((match.start(), match.end()))
        elif (
            match.group("apart")
            and not text[_line_start(text, match.start()) : match.start()].strip()
        ):
            spots.append((match.start("apart"), match.end()))
    return spots


def _code_shaped(glued: str) -> bool:
    """Three digits or more, and a dot, a letter or four characters: "12.345" is a number."""
    shaped = len(glued) >= 4 or any(c in ".," or c.isalpha() for c in glued)
    return shaped and sum(c.isdigit() for c in glued) >= 3


def _line_start(text: str, position: int) -> int:
    return text.rfind("\n", 0, position) + 1


def described_without_code(text: str, found: list[FoundCode]) -> list[tuple[int, int]]:
    """Lines of a diagnosis block that are an official description whose code is missing.

    OCR can drop a table cell ("R52 | Pain, unspecified" read as just the description);
    the referral must then not be accepted on its other codes.
    """
    listed = {f.code.replace(".", "") for f in found}
    missing = []
    for start, end in diagnosis_blocks(text):
        position = start
        for line in text[start:end].split("\n"):
            for piece in re.split(r"\s{2,}|;|\(|\)", line):
                bare = _without_codes(piece)  # codes taken out (the lenient shape takes some words)
                described = icd10.codes_described_as(bare) or _described_after_marks(piece)
                if described and not _covered(described, listed):
                    offset = text.find(piece, position)
                    missing.append((offset, offset + len(piece)))
            position += len(line) + 1
    return missing


# what follows a code whose end OCR split off: ".O%", " ,OXXD", "-IXAD" (a tail of digits,
# O/I/l read for 0/1, the placeholder X, perhaps a 7th character), not another code
_SPLIT_TAIL = re.compile(r"[ ]?[.,\-](?P<tail>[0-9OoIl|Xx]{1,3}[0-9A-Za-z%]{0,2})(?=[\s,;)]|$)")


def tail_split_off(text: str, found: FoundCode) -> bool:
    """Whether a header code ("S33", "G56") stands before what looks like its lost end.

    (Seen: "S33 ,OXXD" for S33.9XXD, "G56.O%" for G56.01.) The header code is real but
    not what was written, so it is doubted, and a second reading of the whole code at
    its place may replace it; a billable code has nothing left to lose.
    """
    match = _SPLIT_TAIL.match(text, found.end)
    if match is None or not re.search(r"[0-9XO]", match.group("tail")):
        return False
    return not icd10.facts(found.code).billable


def described_beside(text: str, found: FoundCode) -> bool:
    """Whether the code's whole official description follows it, on its line or wrapped.

    "Z00.01: Encounter for general adult medical examination with abnormal findings":
    the description was read too, and it names this code alone, so a faint or
    ambiguous reading of the code is settled by it. A long description may wrap onto
    the next line ("...biceps, unspecified\narm, initial encounter"). A shortened
    description (siblings share its words) settles nothing.
    """
    line_end = text.find("\n", found.end)
    if line_end < 0:
        line_end = len(text)
    next_end = text.find("\n", line_end + 1)
    wrapped = text[found.end : next_end if next_end >= 0 else len(text)].replace("\n", " ")
    code = found.code.replace(".", "")
    return _described_before(text, found, code) or any(
        code in icd10.codes_described_as(_description_written(rest))
        for rest in (text[found.end : line_end], wrapped)
    )


def _described_before(text: str, found: FoundCode, code: str) -> bool:
    """The description written first, the code after it: "Dual sensory impairment
    (Z7382)", "DIAGNOSIS CODE(S) Other acute postprocedural pain (G8918)". The words
    that end right before the code are tried from each word on, so a label in front
    does not hide it; only this code's own whole description counts."""
    line_start = _line_start(text, found.start)
    words = text[line_start : found.start].rstrip(" (:-–—[|").split()
    return any(
        code in icd10.codes_described_as(" ".join(words[first:]))
        for first in range(max(0, len(words) - _LONGEST_DESCRIPTION_WORDS), len(words))
    )


_LONGEST_DESCRIPTION_WORDS = 30


def _description_written(rest: str) -> str:
    # a speck before the description ("271.82 ° Exercise counseling") is no word of it
    return re.split(r"\s{2,}|;|\|", re.sub(r"^[\W_]+", "", rest))[0]


def _described_after_marks(piece: str) -> tuple[str, ...]:
    """The codes the piece describes, from its first word or after a word or two with a
    digit in front: a list number glued to a garbled code ("4.5139 Sprain of joints and
    ligaments of unspecified parts of neck", S13.9 read as a decimal) is no word of it."""
    words = piece.split()
    for first in range(min(_MARKS_BEFORE_A_DESCRIPTION, len(words) - 1) + 1):
        if first and not any(c.isdigit() for c in words[first - 1]):
            break
        described = icd10.codes_described_as(" ".join(words[first:]))
        if described:
            return described
    return ()


_MARKS_BEFORE_A_DESCRIPTION = 2


def _covered(described: tuple[str, ...], listed: set[str]) -> bool:
    """A description of S16.1 is answered by S16.1XXA (its child) on the referral."""
    return any(d.startswith(c) or c.startswith(d) for d in described for c in listed)


def _without_codes(piece: str) -> str:
    return CANDIDATE.sub("", piece).strip(" .,;:-")


_DOTTED_SHAPE = re.compile(r"[A-Za-z$§]\w{2}\.\w{1,4}")


def _dotted_among_codes(text: str, match: re.Match[str], taken: list[tuple[int, int]]) -> bool:
    """A code's dotted shape with no digit left, on the line of a code read ("Dx: S23U29D.
    SUB.NGA. SIEAXXA": a hand-written S46.119A whose every digit tesseract lost)."""
    if not _DOTTED_SHAPE.fullmatch(match.group(0).strip()):
        return False
    line_start = _line_start(text, match.start())
    line_end = text.find("\n", match.end())
    line_end = len(text) if line_end < 0 else line_end
    return any(line_start <= s < line_end for s, _ in taken)


def _alone_on_its_line(text: str, match: re.Match[str]) -> bool:
    """A bare number of a code's length alone on a diagnosis line ("2734" for Z73.4)."""
    line_start = _line_start(text, match.start())
    line_end = text.find("\n", match.end())
    before = text[line_start : match.start()].strip(" -_.*|")
    after = text[match.end() : line_end if line_end >= 0 else len(text)].strip(" .,;|")
    token = match.group(0)
    return not before and not after and token.isdigit() and 4 <= len(token) <= 7


def _between_codes(text: str, match: re.Match[str], taken: list[tuple[int, int]]) -> bool:
    """A word of a code's length between two codes read, only separators around it:
    "S$39.011D, 2564, r26.81." lists Z56.4, its Z read as 2 (seen, accepted without it;
    a number alone is otherwise no code, since CPT codes and ZIPs are numbers too). The
    list's first item counts too, right after its label and before a code read
    ("Diagnosis codes: 95693, s161xxd.": G56.93, its G read as 9; seen, accepted)."""
    token = match.group(0)
    if not 4 <= len(token) <= 8 or sum(c.isdigit() for c in token) < 3:
        return False  # ",OXXD" after "S33" is its lost end, doubted as such
    after_one = any(_LIST_GAP.fullmatch(text, e, match.start()) for _, e in taken)
    before_one = any(_LIST_GAP.fullmatch(text, match.end(), s) for s, _ in taken)
    opens_list = bool(_LIST_LABEL.search(text, _line_start(text, match.start()), match.start()))
    return (after_one or opens_list) and before_one


# a diagnosis list's label and nothing after it but separators: "Diagnosis codes: "
_LIST_LABEL = re.compile(r"(?:diagnos[a-z]*|dx|icd-?10)(?:\s+codes?)?\s*(?:\(s\))?\s*:\s*$", re.I)


_LETTER_LOST = re.compile(r"\d{2}\.[0-9A-Za-z]{2,4}")


def _lost_its_letter(text: str, match: re.Match[str]) -> bool:
    """A code's digits and dot, its letter lost, opening a diagnosis line: "79.673" under
    "ICD-10 code" for M79.673 (seen, accepted on the other codes). A number written
    with decimals ("BMI 31.2", "98.6 F") follows a word or has fewer of them."""
    line_start = _line_start(text, match.start())
    before = text[line_start : match.start()]
    opens_line = not before.strip(" -_.*|[]()") or bool(_LIST_NUMBER.fullmatch(before))
    return opens_line and bool(_LETTER_LOST.fullmatch(match.group(0)))


def _looks_like_code(compact: str, token: str) -> bool:
    """Mixed letters and digits of a code's length; not dates, years, CPT codes or ZIPs."""
    digits = sum(ch.isdigit() for ch in compact)
    if _PLACEHOLDERS.search(compact):  # "S3.6XXA": a digit lost, the placeholder X kept
        digits += compact.upper().count("X")
    if not 4 <= len(compact) <= 9 or digits < 3 or _DATE_LIKE.match(token.strip()):
        return False
    if _SHORTHAND.match(compact):
        return False  # "2x12": two a week for twelve weeks (a code's second place is a digit)
    if re.fullmatch(r"\d{1,2},\s?(?:19|20)\d\d", token.strip()):
        return False  # "Nov 10, 2025"
    return not compact.isdigit() or 6 <= len(compact) <= 7


def diagnosis_blocks(text: str) -> list[tuple[int, int]]:
    """From each diagnosis label to the next section label, at most six lines (merged)."""
    blocks: list[tuple[int, int]] = []
    for label in _DX_LABEL.finditer(text):
        line_start = _line_start(text, label.start())
        position, lines = line_start, 0
        while position < len(text) and lines < 6:
            line_end = text.find("\n", position)
            line_end = len(text) if line_end < 0 else line_end
            if lines and _BLOCK_END.match(text, position):
                break
            position, lines = line_end + 1, lines + 1
        end = min(position, len(text))
        if blocks and line_start <= blocks[-1][1]:
            blocks[-1] = (blocks[-1][0], max(blocks[-1][1], end))
        else:
            blocks.append((line_start, end))
    return blocks


# what a faint letter may really be: an upper-case letter, a digit, a dot, a space, or
# nothing (a speck read as a letter)
_LETTER_STANDS_IN = (*"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789. ", "")


def faint_letters_decide_nothing(
    text: str, start: int, end: int, faint: list[int], code: str
) -> bool:
    """Whether every letter the faint ones could be leaves ``code`` the only code read there.

    PP-OCR scores each letter. "M7918" (its M at 0.50) is M79.18 whatever that letter is:
    no other code in the table differs from it there. A faint last "1" in "G56.01" could
    be G56.00 or G56.02, a faint 5 in "5161xXA" T16.1XXA: both stay doubted. Each faint
    letter (``faint``: positions in ``text[start:end]``, two at most) is replaced by
    every letter, digit, a dot, a space and nothing, and the line read again for codes as
    on the page; a
    reading that gives no code, or a code not in the table, changes nothing (a prescriber
    who wrote an invalid code is no likelier than a misread), any other real code and the
    doubt stands.
    """
    if not faint or len(faint) > MOST_FAINT_LETTERS or not icd10.exists(code):
        return False
    line_start = _line_start(text, start)
    before = text[_line_start(text, max(0, line_start - 1)) : start]  # labels above
    line_end = text.find("\n", end)
    after = text[end : line_end if line_end >= 0 else len(text)]
    if _real_codes_at(before, text[start:end], after) != {code}:
        return False
    return all(
        _real_codes_at(before, reading, after) <= {code}
        for reading in faint_letter_readings(text[start:end], faint, _LETTER_STANDS_IN)
    )


def _real_codes_at(before: str, written: str, after: str) -> set[str]:
    """The codes in the table read from ``written`` in its place on the line."""
    line = before + written + after
    return {
        found.code
        for found in find_codes(line)
        if found.end > len(before)
        and found.start < len(before) + len(written)
        and icd10.exists(found.code)
    }
