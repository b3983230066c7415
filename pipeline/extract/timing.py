"""Frequency, duration and total visits, in all the ways clinicians write them.

Each mention found is scored by its context: a labelled field ("Frequency:",
"Duration:") or a mention right after the prescribed frequency counts; symptom history
("pain x 3 months"), follow-ups ("recheck in 6 wks"), medication schedules (BID) and
earlier therapy ("PT 2x/week in 2025") do not.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pipeline.extract.patterns import (
    MOST_FAINT_LETTERS,
    NUMBER,
    faint_letter_readings,
    number,
    one_substitution_apart,
)

_UNIT_WEEK = r"(?:weeks?|wks?|wk\.|w)"
_UNIT_MONTH = r"(?:months?|mos?|mths?|mo\.)"
_UNIT_DAY = r"(?:days?|d)"
_PERIOD_UNIT = rf"(?P<unit>{_UNIT_WEEK}|{_UNIT_MONTH}|{_UNIT_DAY})"
# "TMES", "t1mes", "ties": handwriting read by OCR loses or swaps the i, or loses the m
_TIMES = r"(?:x|×|t[il1|]?m[ea]?s|ties|times?|visits?|sessions?|treatments?|tx|txs)"
_PER = r"(?:/|per|a|an|each|every|in\s+a|q\.?)"
# "2x. per week", "2 times, weekly": a speck or comma OCR put after the count word
_SPECK = r"[.,]?"
# a value starts after a non-letter, non-digit: "Other: _1x/mo" written on a form's blank
_OPENS = r"(?<![A-Za-z0-9])"
# "1\n_to 2 times": a line break and a scanner's speck may stand inside a range
_RANGE = rf"(?P<n>{NUMBER})(?:\s*[_~]?\s*(?:-|–|to|or)\s*(?P<m>{NUMBER}))?"

FREQUENCY_FORMS: list[tuple[str, re.Pattern[str]]] = [
    (
        "times_per",
        re.compile(
            rf"{_OPENS}{_RANGE}\s*{_TIMES}{_SPECK}\s*{_PER}?\s*(?:1\s*)?{_PERIOD_UNIT}\b", re.I
        ),
    ),
    ("slash", re.compile(rf"{_OPENS}{_RANGE}\s*(?:/|per)\s*{_PERIOD_UNIT}\b", re.I)),
    (
        "times_adverb",
        re.compile(
            rf"{_OPENS}{_RANGE}\s*{_TIMES}{_SPECK}\s*(?P<adverb>weekly|monthly|daily|a\s+week)\b",
            re.I,
        ),
    ),
    (
        "word_times",
        re.compile(
            r"\b(?P<n>once|twice|thrice|one|two|three|four)(?:\s+(?:or|to|-)\s+(?P<m>twice|two|"
            r"three|four|five))?(?:\s+times?)?[\s-]*(?:(?:a|per|each|every|/)[\s-]*"
            rf"{_PERIOD_UNIT}|(?P<adverb>weekly|monthly|daily))\b",
            re.I,
        ),
    ),
    (
        "every_n",
        re.compile(rf"\b(?:every|q\.?)\s*(?P<p>\d{{1,2}}|two|three|four)\s*{_PERIOD_UNIT}\b", re.I),
    ),
    ("every_other", re.compile(rf"\b(?:every\s+other|alternate)\s+{_PERIOD_UNIT}\b", re.I)),
    # "massage 2 days a week" (but "works 5 days a week": only after a label or massage)
    (
        "days_per",
        re.compile(rf"{_OPENS}{_RANGE}\s*days?\s*{_PER}\s*(?P<unit>{_UNIT_WEEK})\b", re.I),
    ),
    # "massage every week": once a week (a count before it, "2 visits every week", wins)
    ("every_unit", re.compile(rf"\b(?:every|each)\s+(?P<unit>{_UNIT_WEEK}|{_UNIT_MONTH})\b", re.I)),
    (
        "abbreviation",
        re.compile(
            r"\b(?P<abbr>BIW|TIW|QW|QWK|Q\.?\s?WK|QOW|QOD|QM|Q\s?WEEK|semi-?weekly)\b", re.I
        ),
    ),
    ("adverb_alone", re.compile(r"\b(?P<adverb>weekly|monthly)\b", re.I)),
    # a form's label holds the period: "Sessions per week: 2", "Frequency (per week): 1-2"
    (
        "label_per",
        re.compile(
            r"\b(?:sessions?|visits?|treatments?|times|freq(?:uency)?)\s*\(?\s*(?:per|/|a|each)"
            rf"\s*(?P<unit>{_UNIT_WEEK}|{_UNIT_MONTH})\s*\)?\s*[:=#]\s*[_\s]*{_RANGE}"
            rf"(?![A-Za-z0-9])(?! ?(?:[x×/]|times|per\b|{_UNIT_WEEK}\b|{_UNIT_MONTH}\b))",
            re.I,
        ),
    ),
]
_ABBREVIATIONS = {
    "biw": (2, 1, "wk"),
    "tiw": (3, 1, "wk"),
    "qw": (1, 1, "wk"),
    "qwk": (1, 1, "wk"),
    "qweek": (1, 1, "wk"),
    "qow": (1, 2, "wk"),
    "qod": (1, 2, "d"),
    "qm": (1, 1, "mo"),
    "semiweekly": (2, 1, "wk"),
}
# what may not follow "2x6" is looked for on its own line: "2 x 10" above "6 sessions"
SHORTHAND = re.compile(
    r"(?<![\w./])(?P<n>[1-5])\s?[xX×*]\s?[.,]?(?P<d>\d{1,2})"
    r"(?![ \t]*(?:/|per\b|times|x\b|%|mg|lbs?\b|in\b|"
    r"inch|cm|mm|\"|'|[.,]\d|[-–]\d|\d))(?:\s*(?P<unit>weeks?|wks?|months?|mos?))?\b",
)
DURATION = re.compile(
    rf"(?:(?P<lead>for|x|×|over|next|lasting|duration|through|thru|total of|up to|in|within|after)"
    r"\s*:?\s*(?:the\s+)?(?:next\s+|following\s+|a\s+period\s+of\s+)?)?"
    rf"(?P<v>\d{{1,3}}|{NUMBER}|a|an)(?:\s*(?:-|–|to|or)\s*(?P<vmax>\d{{1,3}}|{NUMBER}))?"
    # a speck OCR put after the number: "x3. months", "6 to 8. weeks", "x10.weeks"
    r"(?:[.,](?=\s|[A-Za-z]))?"
    # "a 6-week course", OCR's "2-3-mo", or a speck between ("for 8 ~\nwks")
    r"(?:\s*-\s*|\s*(?:[~_`‘’'][ \t]*\n?\s*)?)"
    r"(?P<unit>weeks?|wks?|wk\.|months?|mos?|mths?|days?|years?|yrs?|w(?=\b)|m(?=\b)|d(?=\b))\b"
    r"(?P<after>\s+(?:of|ago|old|post|prior|since)\b)?",
    re.IGNORECASE,
)
# a form's label holds the unit: "Number of weeks: 6", "Duration (months): 3", "Total
# weeks: 4-6" (the unit after the number is DURATION's)
DURATION_IN_LABEL = re.compile(
    r"\b(?:(?:number|no\.?|#)\s*of\s+|total\s+|duration\s*|length\s*(?:of\s+treatment\s*)?)?"
    r"\(?\s*(?P<unit>weeks|wks|months|mos)(?:\s+of\s+(?:treatment|therapy|massage))?\s*\)?"
    rf"\s*[:=#]\s*[_\s]*(?P<v>\d{{1,3}}|{NUMBER})(?:\s*(?:-|–|to)\s*(?P<vmax>\d{{1,3}}|{NUMBER}))?"
    r"(?![A-Za-z0-9]|[.,/]\d)"
    r"(?! ?(?:[x×/]|times|per\b|visits?|sessions?|weeks?|wks?|months?|mos?|days?))",
    re.IGNORECASE,
)
VISITS = re.compile(
    rf"(?:(?P<label>total\s+(?:number\s+of\s+)?(?:visits|sessions|treatments)|#\s*of\s+(?:visits|sessions)|"
    r"number\s+of\s+(?:visits|sessions)|(?:authorized|approved)\s+visits|visits|sessions)\s*[:#=]?\s*"
    r"(?P<lv>\d{1,3})\b(?!\s*(?:/|per|x|times))"
    rf"|\b(?P<v>\d{{1,3}}|{NUMBER})\s*(?:total\s+)?(?:visits|sessions|treatments)\b"
    r"(?!\s*(?:/|per|a\b|an\b|each|every|weekly|monthly|q\b|of\s+(?:pt|physical|chiro))))",
    re.IGNORECASE,
)

_FREQUENCY_LABEL = re.compile(r"(?:freq(?:uency)?|how often|sessions?|schedule|rx|order)\b", re.I)
_DURATION_LABEL = re.compile(
    r"(?:duration|length|how long|dur\b|for how long|treatment period|course|weeks of)", re.I
)
_COMBINED_LABEL = re.compile(r"freq(?:uency)?\s*(?:/|&|and)\s*dur(?:ation)?", re.I)
_MASSAGE = re.compile(
    r"massage|therap|treat|\btx\b|sessions?|visits?|myofascial|soft tissue|bodywork|\bmt\b|"
    r"\blmp\b|manual",
    re.I,
)
# the words that make a sentence the order ("Referral to massage 3 times weekly", "Plan:
# start massage 2x/wk"): between two equally supported frequencies, say a history whose
# "Previous" OCR misread ("Provides massage 1x/wk"), the one ordered is the order
_ORDER_CUE = re.compile(
    r"\b(?:refer\w*|recommend\w*|prescri\w*|order\w*|plan|start|begin|initiate|please)\b",
    re.I,
)
_MEDICATION = re.compile(
    r"\b(?:mg|mcg|tabs?|tablets?|caps?|capsules?|po|prn|bid|tid|qid|qhs|ibuprofen|naproxen|"
    r"cyclobenzaprine|flexeril|gabapentin|tylenol|acetaminophen|meloxicam|tramadol|"
    r"medications?|meds|rx:\s*\w+\s+\d+\s*mg)\b",
    re.I,
)
# a year alone before a value is when earlier therapy was; a date's year ("12/01/2026
# 2x/week") is the order's own date
_PAST_THERAPY = re.compile(
    r"\b(?:pt|physical therapy|chiro\w*|previous\w*|prior|history|hx|tried|completed|had|"
    r"last year|ago|did|attended|was|were|in\s+(?:19|20)\d\d|"
    r"(?<![/\-.])(?:19|20)\d\d(?![/\-.]\d))\b",
    re.I,
)
# "2x/week in 2023", "1x/wk for 4 weeks in 2023": a year right after is past therapy
_IN_A_YEAR = re.compile(
    r"^\s*(?:(?:for|x)\s*\d+(?:\s*-\s*\d+)?\s*[a-z]+\.?\s*)?(?:in|during)\s+(?:19|20)\d\d\b",
    re.I,
)
_NOT_TREATMENT = re.compile(
    r"(?:follow[\s-]?up|f/u|recheck|re-?check|return(?:ing)?|\brtc\b|re-?eval\w*|revisit|"
    r"see\s+(?:me|"
    r"him|her|patient|pt)|\bago\b|since|history|\bhx\b|onset|pain|ache|aching|symptoms?|"
    r"complain\w*|c/o|reports?|has\s+had|had|injur\w*|accident|started|began|chronic|"
    r"for\s+the\s+(?:past|last)|past|last|prior|previous|\bpt\b|physical\s+therapy|chiro\w*|"
    r"appointment|appt|expires?|valid|good\s+for|stiffness|tightness|spasms?|hurt\w*|worse|"
    r"discomfort|headaches?|numbness|tingling|sore\w*)",
    re.I,
)


# a duration supported by nothing but its own lead word ("for 2 weeks" in a sentence of
# its own): the weakest that is still taken
ONLY_ITS_LEAD = 0.5


def context_words_start(text: str, start: int) -> int:
    """Where the words that can disqualify a value at ``start`` begin (its clause's last
    45 characters: "Symptoms for 2 weeks", "Follow up in 6 weeks")."""
    before = _clause_before(text, start)[-45:]
    return start - len(before)


# Unit and count words as a pen's letters come out of OCR ("montk", "wonthS", "weckly",
# "Limes", "visitspermontk"): five letters or more, so that one wrong letter cannot turn
# another word into one of these; words one letter from them that are words of their
# own are kept.
_UNIT_WORDS = ("weeks", "weekly", "month", "months", "monthly", "times", "visits", "sessions")
_REAL_NEIGHBOURS = frozenset({"mouth", "mouths", "tiles", "tides", "timed", "timer", "dimes"})
# "we@ks": an "@" is a letter misread (it stands in no unit, number or code)
_LETTER_RUN = re.compile(r"[A-Za-z@]{5,}")
# units a stray letter glued in front of leaves whole ("wmonths"; "xmonths" is above)
_SPECK_GLUED_UNITS = frozenset({"weeks", "months", "weekly", "monthly"})
_GLUED_BEFORE = re.compile(r"(?:x|times?|visits?|sessions?)?(?:per|a|an|each|every)?", re.I)


def names_the_treatment(word: str) -> bool:
    """The word is one of those that name massage or its sessions ("therapy", "visits")."""
    return bool(_MASSAGE.search(word))


def without_accents(text: str) -> str:
    """The text with accented Latin letters as their plain ones, every offset unchanged.

    (Seen: "3x/weék for 2-4 weeks", a speck over the e of a scanned "week" read as an
    accent; the frequency was missed.) Unit and count words are English: no accent of
    theirs is written, so any is a misreading. Names keep theirs (this text only finds
    values).
    """
    return "".join(_plain_letter(c) if ord(c) > 127 else c for c in text)


def _plain_letter(letter: str) -> str:
    base = unicodedata.normalize("NFKD", letter)[0]
    return base if base.isascii() and base.isalpha() else letter


def repair_unit_words(text: str) -> str:
    """The text with OCR-misread unit words spelled right, every offset unchanged.

    Only one-letter substitutions are repaired, so a value's position, and so its
    evidence box and the words it is shown as, stay those of the page.
    """
    letters = list(text)
    for run in _LETTER_RUN.finditer(text):
        repaired = _unit_word_nearest(run.group(0))
        if repaired is not None:
            letters[run.end() - len(repaired) : run.end()] = repaired
    return "".join(letters)


# A count of one read as a letter ("ix/week", "lx per wk"): the letter (l, i or I; an "L"
# is as often what is left of a hand-written "1-2") stands where only
# a number can, glued to the times sign of a frequency; no word is made of it, so the one
# is written back. A bar ("|x/wk") may be a table's rule, and a letter before a range's
# dash ("I-2x") may be one too: those stay as read (a cut range is doubted elsewhere).
_ONE_READ_AS_LETTER = re.compile(
    r"(?<![A-Za-z0-9.,/|])[lIi]"
    r"(?=[xX×]\s?(?:/|[Pp]er\b|a\s+[Ww]|an?\s+[Mm]o|[Tt]imes|[Ww]eekly|[Mm]onthly))",
)


# A count of four read as "A" ("A times a month", "Ax/week"): no English says "A times".
# Unlike a one read as "l", an A is a whole letter misread, so the value stays doubted.
_FOUR_READ_AS_LETTER = re.compile(r"(?<![A-Za-z0-9.,/|])A(?=\s?[Tt]imes\b|[xX×]\s?(?:/|[Pp]er\b))")


def repair_misread_fours(text: str) -> str:
    """The text with a frequency's count of four read as "A" written as "4" (same offsets)."""
    return _FOUR_READ_AS_LETTER.sub("4", text)


def repair_misread_ones(text: str) -> str:
    """The text with a frequency's count of one read as a letter written as "1" (same
    offsets, so evidence still shows the page's own words)."""
    return _ONE_READ_AS_LETTER.sub("1", text)


# "six (6) weeks", "two (2) times": a number written in words and again in figures
_NUMBER_TWICE = re.compile(rf"\b(?P<word>{NUMBER})\s*\((?P<digits>\d{{1,2}})\)", re.I)


def drop_numbers_written_twice(text: str) -> str:
    """The text with the words of a number written twice left out ("six (6) weeks" reads
    as "6 weeks"), the figures where they stand, so every offset is unchanged."""

    def figures_only(match: re.Match[str]) -> str:
        if number(match.group("word")) != int(match.group("digits")):
            return match.group(0)  # "two (3)": which is meant is not for a rule to say
        at = match.start("digits") - match.start()
        return " " * at + match.group("digits") + " "

    return _NUMBER_TWICE.sub(figures_only, text)


# a scanner's speck read as a quote or tilde at a word's start: "one time a-‘week"
_SPECK_BEFORE_WORD = re.compile(r"(?<=[\s-])[‘’'`~]+(?=[A-Za-z])")
# and one after a range's "to", before its second number: "x3 to' 6 months"
_SPECK_AFTER_TO = re.compile(r"(?<=\b[Tt]o)[‘’'`~]+(?=\s*\d)")


def without_specks(text: str) -> str:
    """The text with specks OCR put before a word blanked, every offset unchanged.

    (Seen: "one time a-‘week x 6 wks" on a scanned letter; the speck after "a-" hid the
    frequency, and the referral went to review as having none; "x3 to' 6 months", where
    the range's start was lost and 6 months accepted for 3 to 6.) Only a mark standing
    where a word starts, or between a range's "to" and its number, goes, so "patient's"
    and "8 ~\nwks" stay as read.
    """
    return _SPECK_AFTER_TO.sub(_blanked, _SPECK_BEFORE_WORD.sub(_blanked, text))


def _blanked(match: re.Match[str]) -> str:
    return " " * len(match.group(0))


def without_codes(text: str, codes: list[tuple[int, int]]) -> str:
    """The text with the diagnosis codes read in it blanked, every offset unchanged.

    A code's own letters read as a value: "S63.8X9D" holds "x 9 d", nine days, which
    stood against a referral's "for 6 wks" and sent it to review.
    """
    letters = list(text)
    for start, end in codes:
        letters[start:end] = " " * (end - start)
    return "".join(letters)


# one letter that OCR split in two ("moriths"): the unit word is written over the pair
# and the freed place left as a space, so that no offset moves
_SPLIT_LETTERS = (("ri", "n"), ("rn", "m"), ("ni", "m"), ("vv", "w"))


def _unit_word_nearest(word: str) -> str | None:
    lower = word.lower()
    if lower in _REAL_NEIGHBOURS:
        return None
    for pair, letter in _SPLIT_LETTERS:
        at = lower.find(pair)
        if at < 0:
            continue
        joined = lower[:at] + letter + lower[at + 2 :]
        if _glued_unit(joined):
            return joined + " "
    if lower[1:] in _SPECK_GLUED_UNITS:
        return " " + lower[1:]  # "3-6 wmonthS": a speck read as a letter glued on the unit
    found = {
        unit
        for unit in _UNIT_WORDS
        if len(unit) <= len(lower)
        and _GLUED_BEFORE.fullmatch(lower[: len(lower) - len(unit)])
        and one_substitution_apart(lower[len(lower) - len(unit) :], unit)
    }
    return found.pop() if len(found) == 1 else None


def _glued_unit(word: str) -> bool:
    """A unit word itself, or one with a glued "x" or "per" before it ("xmonths")."""
    return any(
        word.endswith(unit) and _GLUED_BEFORE.fullmatch(word[: len(word) - len(unit)])
        for unit in _UNIT_WORDS
    )


@dataclass(frozen=True)
class Mention:
    """A value found in the text, where it stood, and how sure its context makes us."""

    start: int
    end: int
    score: float
    values: tuple


def frequencies(text: str, printed_rows: frozenset[int] = frozenset()) -> list[Mention]:
    """Frequency mentions, scored; ``printed_rows`` as in ``_checkbox_marks``."""
    found: list[Mention] = []
    labelled: list[Mention] = []
    for form, pattern in FREQUENCY_FORMS:
        for match in pattern.finditer(text):
            values = _frequency_values(form, match)
            if values is None:
                continue
            score = _frequency_score(text, match.start(), match.end(), form)
            found.append(Mention(match.start(), match.end(), score, values))
            if form == "label_per":
                labelled.append(found[-1])
    for match in SHORTHAND.finditer(text):
        if _shorthand_context(text, match):
            values = (int(match.group("n")), None, 1, "wk")
            score = _right_after_a_frequency(text, match.start(), found, 3.0)
            found.append(Mention(match.start(), match.end(), score, values))
    return _checkbox_marks(text, _without_overlaps(_labels_first(found, labelled)), printed_rows)


def _right_after_a_frequency(text: str, start: int, found: list[Mention], score: float) -> float:
    """A "5 x 6" right after a frequency ("1x per month 5 x 6 weeks") ties with it.

    (Seen: a speck over the "x" of "1x per month x 6 weeks" read as "5", and the
    shorthand's 5 a week outranked the order's once a month.) Two counts side by side
    are a conflict for a person to settle, not a choice for a rule.
    """
    for mention in found:
        if mention.end <= start and not text[mention.end : start].strip(" \t.,;:"):
            return mention.score
    return score


def _labels_first(found: list[Mention], labelled: list[Mention]) -> list[Mention]:
    """A form's "Visits per week: 2" over what overlaps it ("Total visits: 12  Visits per
    week: 2" also reads as 12 visits per week, and longer)."""
    return [
        m
        for m in found
        if m in labelled or all(m.end <= k.start or m.start >= k.end for k in labelled)
    ]


def durations(
    text: str,
    frequency_spans: list[tuple[int, int]],
    ordered_end: int | None = None,
    printed_rows: frozenset[int] = frozenset(),
) -> list[Mention]:
    """Duration mentions; text inside a frequency ("3 times a week") is not a duration.

    ``ordered_end`` is where the chosen frequency ends: a duration right after it belongs
    to the order and outranks one after another frequency (an earlier therapy's "3x/wk x
    2 wks" whose "chiropractic" OCR garbled, so it was not known as history).
    """
    found: list[Mention] = []
    frequency_ends = [end for _, end in frequency_spans]
    for match in DURATION.finditer(text):
        values = _duration_values(match)
        if values is None or _overlaps(match, frequency_spans):
            continue
        score = _duration_score(text, match, frequency_ends)
        if score == 3.0 and _right_after(text, match.start(), ordered_end):
            score = 3.5
        found.append(Mention(match.start(), match.end(), score, values))
    for match in DURATION_IN_LABEL.finditer(text):
        values = _duration_values(match, labelled=True)
        if values is None or _overlaps(match, frequency_spans):
            continue
        follow_up = _NOT_TREATMENT.search(_clause_before(text, match.start())[-45:])
        found.append(Mention(match.start(), match.end(), -1.0 if follow_up else 3.0, values))
    for match in SHORTHAND.finditer(text):
        if _shorthand_context(text, match):
            unit = match.group("unit") or "wk"
            value = float(match.group("d"))
            found.append(Mention(match.start(), match.end(), 3.0, (value, None, _unit(unit))))
    return _checkbox_marks(text, _without_overlaps(found), printed_rows)


def visit_counts(text: str) -> list[Mention]:
    found = []
    for match in VISITS.finditer(text):
        raw = match.group("lv") or match.group("v")
        value = number(raw) if raw else None
        if not value or value > 200:
            continue
        before = _clause_before(text, match.start())
        if re.search(r"(?:after|had|completed|prior|previous|last|pt|chiro\w*)\s*$", before, re.I):
            continue
        score = 3.0 if match.group("label") else 2.0
        found.append(Mention(match.start(), match.end(), score, (value,)))
    return found


# "-3 times": a dash after a space, glued to the number
_GLUED_DASH = re.compile(r"(?:^|\s)[\-–]$")
# a lone number and a space before the value: a range whose dash was lost ("x 6 8 wks")
_DASH_LOST = re.compile(r"(?:^|\s)\d{1,2} $")
# a range's start and word before the value ("42 to.3 months"); not a date's or time's
# digits ("12/01/2026 - 2x/week")
_RANGE_BEFORE = re.compile(
    r"(?<![\d/:.\-])(?P<start>\d{1,2})\s*(?:(?i:to)|[\-–])\s*(?P<speck>[.,'`]?)\s*$"
)
# "up to 2x/week": the range word has what it needs before it
_RANGE_OPENED = re.compile(r"\bup\s*to\s*$", re.I)
_DANGLING_RANGE = re.compile(
    r"(?:(?:^|[^\d\s_~])[\s_~]*(?<![A-Za-z])(?i:to|or)\s*|[^\d\s\-–][\-–])$"
)


# what a faintly read letter might really have been: another letter, a digit, a space,
# or nothing (a speck read as a letter)
_LETTER_STANDS_IN = (*"abcdefghijklmnopqrstuvwxyz0123456789 ", "")


def faint_letters_decide_nothing(field: str, written: str, faint: list[int], values: tuple) -> bool:
    """Whether the value read from ``written`` stays ``values`` whatever its faint letters are.

    PP-OCR scores each letter; "x one montks" is doubted for its "k" (0.51), yet no
    letter there makes it anything but one month, while a faint "1" in "12 wks" or "-" in
    "1-2x/wk" could. Each faint letter (two together at most; more stay doubted) is
    replaced by every letter, digit, a space and nothing (a speck read as a letter), and
    the text read again with its units repaired as on the page: one other value among
    those readings and the doubt stands. A replacement that reads as no value at all
    changes nothing ("6 ?ks" is weeks or nothing). A text that means nothing alone (the
    "2x6" shorthand takes its meaning from its label) stays doubted.
    """
    if not faint or len(faint) > MOST_FAINT_LETTERS or _value_alone(field, written) != values:
        return False
    for reading in faint_letter_readings(written, faint, _LETTER_STANDS_IN):
        read = _value_alone(field, reading)
        if read is not None and read != values:
            return False
    return True


def _value_alone(field: str, written: str) -> tuple | None:
    """The value of the longest mention found in ``written`` read alone (None: none)."""
    spelled = repair_unit_words(written)
    if field == "frequency":
        found = frequencies(spelled)
    elif field == "duration":
        found = durations(spelled, [])
    else:
        found = visit_counts(spelled)
    longest = max(found, key=lambda m: m.end - m.start, default=None)
    return longest.values if longest is not None else None


def lost_range_start(text: str, start: int) -> bool:
    """Whether a value stands after a range word with no number before it ("x to 3 mos").

    The OCR dropped the range's first number (written "2 to 3 mos"): the value read is
    not what was prescribed, so it must be doubted rather than taken as "3 months". The
    same for a dash glued to a mark that was the first number ("|-2x/week" for
    "1-2x/week"), and for a dash after a space glued to a number no range can end at but
    2 or more ("-3 times perweek" for "2-3 times per week", the 2 lost); before a 1 it is
    a stray mark or bullet ("visits: -1x/wk"), since no range ends at 1. And for a lone
    number just before the value ("x 6 8 wks": the dash of 6-8 lost), whatever it is.
    """
    before = text[max(0, start - 16) : start]
    if _GLUED_DASH.search(before) and not re.match(r"1(?!\d)", text[start:]):
        return True
    if _broken_range(before, text[start:]):
        return True
    if _DASH_LOST.search(before):
        return True
    return bool(_DANGLING_RANGE.search(before[-12:])) and not _RANGE_OPENED.search(before)


def _broken_range(before: str, value: str) -> bool:
    """A number and a range word right before the value, not read as one range with it.

    (Seen: "for 2 to 3 months" read "42 to.3 months": the speck glued to the 3 and a
    start no range can have kept the range from being read, and "3 months" was taken.)
    """
    opened = _RANGE_BEFORE.search(before)
    if opened is None:
        return False
    if opened.group("speck"):
        return True
    end = re.match(r"\d+", value)
    return end is not None and int(opened.group("start")) >= int(end.group())


def range_from_its_end(values: tuple, cut: bool) -> tuple:
    """A range whose first number was lost, completed where only one start is possible.

    A range rises from at least 1, so "|-2x/week" or "x to 2 months" can only have been
    1-2; a longer one ("\\ to 3 times") keeps the value read and its doubt alone.
    """
    if cut and values[0] == 2 and values[1] is None:
        return (type(values[0])(1), values[0], *values[2:])
    return values


def best(mentions: list[Mention]) -> tuple[Mention | None, bool]:
    """The best-supported mention, and whether another, equally supported one disagrees."""
    kept = [m for m in mentions if m.score > 0]
    if not kept:
        return None, False
    top = max(m.score for m in kept)
    leaders = [m for m in kept if m.score == top]
    conflicting = len({m.values for m in leaders}) > 1
    return leaders[0], conflicting


def _overlaps(match: re.Match[str], spans: list[tuple[int, int]]) -> bool:
    start = match.start("v")
    return any(s <= start < e for s, e in spans)


def _frequency_values(form: str, match: re.Match[str]) -> tuple | None:
    groups = match.groupdict()
    if form == "abbreviation":
        key = re.sub(r"[\s.\-]", "", groups["abbr"].lower())
        count, period, unit = _ABBREVIATIONS.get(key, (0, 0, ""))
        return (count, None, period, unit) if count else None
    if form == "every_n":
        period = number(groups["p"])
        return (1, None, period, _unit(groups["unit"])) if period else None
    if form == "every_other":
        return (1, None, 2, _unit(groups["unit"]))
    if form == "every_unit":
        return (1, None, 1, _unit(groups["unit"]))
    if form == "adverb_alone":
        return (1, None, 1, _adverb_unit(groups["adverb"]))
    count = number(groups["n"])
    count_max = number(groups["m"]) if groups.get("m") else None
    if not count or count > 14 or (count_max is not None and count_max <= count):
        return None
    unit = _adverb_unit(groups["adverb"]) if groups.get("adverb") else _unit(groups["unit"])
    if (
        form == "times_per"
        and re.fullmatch(r"w|d", groups["unit"] or "", re.I)
        and "x" not in match.group(0).lower()
    ):
        return None
    return (count, count_max, 1, unit)


def _frequency_score(text: str, start: int, end: int, form: str) -> float:
    sentence = _sentence(text, start, end)
    before = _clause_before(text, start)
    after = text[end : end + 25]
    if _MEDICATION.search(sentence) and not _FREQUENCY_LABEL.search(sentence[:20]):
        return -1.0
    if re.search(r"\b(?:follow[\s-]?up|f/u|recheck|re-?eval\w*|return|rtc)\b", before, re.I):
        return -1.0
    if _PAST_THERAPY.search(before[-25:]) or _IN_A_YEAR.search(text[end : end + 40]):
        return -1.0
    score = 1.0
    labels = _label_context(text, start)
    labelled = bool(_FREQUENCY_LABEL.search(labels) or _COMBINED_LABEL.search(labels))
    labelled = labelled or form == "label_per"
    if form == "days_per" and not (labelled or _MASSAGE.search(before)):
        return -1.0  # a work week or a symptom's days, not sessions
    if labelled:
        score += 2.0
    if _MASSAGE.search(before) or _MASSAGE.search(after):
        score += 1.0
    if _ORDER_CUE.search(before):
        score += 0.5
    if form in ("adverb_alone", "every_unit"):  # "weekly", "every week": a word, no count
        score -= 1.5
    return score


def _duration_values(match: re.Match[str], labelled: bool = False) -> tuple | None:
    raw_value = match.group("v").lower()
    lead = "" if labelled else (match.group("lead") or "").lower()
    if raw_value in ("a", "an") and lead != "for":
        return None
    value = 1 if raw_value in ("a", "an") else number(raw_value)
    value_max = number(match.group("vmax")) if match.group("vmax") else None
    if not value or value > 120 or (value_max is not None and value_max <= value):
        return None
    unit = _unit(match.group("unit"))
    if len(match.group("unit")) == 1 and lead not in ("x", "×", "for") and not labelled:
        return None
    return (float(value), float(value_max) if value_max else None, unit)


def _duration_score(text: str, match: re.Match[str], frequency_ends: list[int]) -> float:
    lead = (match.group("lead") or "").lower()
    if (
        lead in ("in", "within", "after")
        or match.group("after")
        and "of" not in match.group("after")
    ):
        return -1.0
    start = match.start()
    if re.match(r"\s*(?:in|during)\s+(?:19|20)\d\d\b", text[match.end() : match.end() + 20]):
        return -1.0  # "for 4 weeks in 2023": therapy that is over
    before = _clause_before(text, start)
    line = _sentence(text, start, match.end())
    labels = _label_context(text, start)
    if _DURATION_LABEL.search(labels) or _COMBINED_LABEL.search(labels):
        return 3.0
    near_frequency = any(0 <= start - end <= 30 for end in frequency_ends)
    between = _since_last_frequency(text, start, frequency_ends)
    if near_frequency and not _NOT_TREATMENT.search(between):
        return 3.0
    if (match.group("after") or "").strip().lower() == "of" and _MASSAGE.search(
        text[match.end() : match.end() + 40]
    ):
        return 3.0
    if _NOT_TREATMENT.search(before[-45:]) or _MEDICATION.search(line):
        return -1.0
    if lead and _MASSAGE.search(before):
        return 1.5
    if not lead:
        return 0.0
    return ONLY_ITS_LEAD


def _right_after(text: str, start: int, ordered_end: int | None) -> bool:
    if ordered_end is None or not 0 <= start - ordered_end <= 30:
        return False
    return not _NOT_TREATMENT.search(text[ordered_end:start])


def _shorthand_context(text: str, match: re.Match[str]) -> bool:
    """``2x6`` means 2 a week for 6 weeks in a frequency/duration field or massage order."""
    before = _label_context(text, match.start())
    return bool(
        _FREQUENCY_LABEL.search(before)
        or _COMBINED_LABEL.search(before)
        or _MASSAGE.search(before)
        or _DURATION_LABEL.search(before)
    )


def _since_last_frequency(text: str, start: int, frequency_ends: list[int]) -> str:
    previous = [end for end in frequency_ends if end <= start]
    return text[max(previous) : start] if previous else ""


# printed check boxes, as drawn or as OCR reads their sides
_BOX = re.compile(r"[\[\]()☐☑☒□■|]")
# "Other: x 6 mos": what the prescriber wrote in an option row's blank is the choice
_WRITE_IN = re.compile(r"\bother[ \t]*[:;.]?[ \t]*(?:[-–_][ \t]*)?\Z", re.I)
# a ticked box as OCR reads it among printed options: "[]12 weeks Dd 8 weeks"
_TICK_READ_AS = re.compile(r"(?<![\w/])(?:Dd|Bd|Kd|&|®)\s*$")
# a ticked box: "[X]", "[Xl" and "[XI]" (its side read as a letter), "OX" (a round box);
# PP-OCR reads a crossed box as "α" or "β" ("α1x/week", "βother: x3 months") and an
# empty one as nothing
_CHECKED = re.compile(
    r"(?:\[\s*[xX✓✔]\s*[\]|)JlI1]{0,2}|\(\s*[xX]\s*[\])J|]?|[☒☑✓✔αβ]|(?<![\w/])O?[xX]J?)"
    r"\s*(?:other\s*:?\s*)?$",
    re.IGNORECASE,
)


# a text layer's tick drawn over the end of its row's label: "FREQUENCYX: 1x/week  2x/week"
_TICK_ON_LABEL = re.compile(r"(?<=[A-Za-z]{3})X[ \t]*:[ \t]*$")


def _ticked_before(before: str) -> bool:
    return bool(_CHECKED.search(before) or _TICK_ON_LABEL.search(before))


def _checkbox_marks(
    text: str, mentions: list[Mention], printed_rows: frozenset[int] = frozenset()
) -> list[Mention]:
    """On lines of printed options ("[ ] 1x/week [X] 2x/week"), the ticked one counts.

    A ticked mention (also "[X] Other: 1 mo" on a line of its own) is raised, and so is
    a value written in an option row's "Other:" blank, whose tick OCR often loses; unticked
    options on option lines drop out when something is ticked. If nothing is ticked
    they all stay, disagree, and the referral goes to review as unsure, except on
    ``printed_rows`` (keyed like ``by_line``): rows of a text layer whose page writes its
    ticks as text, where no tick read is no tick made, so the field was left blank (seen:
    "For: [ ] 4 weeks [ ] 6 weeks", nothing ticked, doubted as "4 weeks" instead of
    missing).
    """
    by_line: dict[int, list[Mention]] = {}
    for mention in mentions:
        # the line its value stands on: "FOR\n4 weeks 6 weeks 8 weeks" is a row of options
        by_line.setdefault(text.rfind("\n", 0, mention.end - 1), []).append(mention)
    option_lines = {key for key, line in by_line.items() if _is_option_line(text, line)}
    ticked = {m for m in mentions if _ticked_before(text[max(0, m.start - 14) : m.start])}
    for key, line_mentions in by_line.items():
        if key in option_lines:  # "X 8 weeks" among options is a tick, not "for 8 weeks"
            ticked.update(
                m
                for m in line_mentions
                if m.score >= 0  # "Chiropractic 3x/wk x 2 wks" is history, not an option
                and (
                    re.match(r"[xX]\s", text[m.start : m.end])
                    or _WRITE_IN.search(text[max(0, m.start - 12) : m.start])
                )
            )
            ticked.update(_tick_read_as_a_sign(text, line_mentions))
            ticked.update(_odd_box_out(text, line_mentions))
    blank = {k for k in option_lines & printed_rows if not ticked.intersection(by_line[k])}
    if blank:
        left = [m for m in mentions if not (m.score >= 0 and m in _on_rows(by_line, blank))]
        return _checkbox_marks(text, left)
    if not ticked:
        return _undecided_options(mentions, by_line, option_lines)
    kept = []
    for key, line_mentions in by_line.items():
        options = key in option_lines
        for mention in line_mentions:
            if mention in ticked:
                kept.append(
                    Mention(mention.start, mention.end, mention.score + 2.5, mention.values)
                )
            elif not options:
                kept.append(mention)
    return sorted(kept, key=lambda m: m.start)


def _on_rows(by_line: dict[int, list[Mention]], rows: set[int]) -> set[Mention]:
    return {m for key in rows for m in by_line[key]}


# an empty printed box as OCR reads it: "[]", "[1", "L]", "CJ", "(1", "O", "Ll", "[|]",
# "‘D" (seen beside three other empty boxes on a row whose write-in was the choice: the
# D, a square's shape, had made "12 weeks" the odd box out, ticked)
_EMPTY_BOX = re.compile(r"[\[\](){}|1lIiLJCcOoD0_‘’'`.,:;~\-—–]{1,4}")
# short words a value may follow on an option row that are no box at all
_NOT_A_BOX = frozenset({"of", "to", "or", "on", "in", "at", "a", "an", "by", "is", "x"})


def _tick_read_as_a_sign(text: str, line_mentions: list[Mention]) -> list[Mention]:
    """An option behind a mark OCR makes of a ticked box ("Dd", "&", "®"), when every
    other option of the row sits behind an empty box.

    A noisy empty box reads as "&" too (seen: "CO 1x/week EJ 2x/week & 3x/week CJ
    1-2x/week", nothing ticked, accepted as 3x/week); on a row where another mark is
    not an empty box either, the sign proves nothing.
    """
    offered = [m for m in line_mentions if m.score >= 0]
    marks = _marks_before(text, offered)
    signed = [
        mention
        for mention in offered
        if _TICK_READ_AS.search(text[max(0, mention.start - 6) : mention.start])
    ]
    others_empty = sum(bool(_EMPTY_BOX.fullmatch(mark)) for mark in marks) == len(offered) - 1
    return signed if len(signed) == 1 and others_empty else []


def _marks_before(text: str, offered: list[Mention]) -> list[str]:
    """The word just before each option of a row: its box, as OCR read it."""
    marks, previous_end = [], text.rfind("\n", 0, offered[0].end - 1) + 1 if offered else 0
    for mention in offered:
        words = text[previous_end : max(previous_end, mention.start)].split()
        marks.append(words[-1] if words else "")
        previous_end = mention.end
    return marks


def _odd_box_out(text: str, line_mentions: list[Mention]) -> list[Mention]:
    """The one option whose box reads as something other than an empty box.

    OCR turns a ticked box into letters ("H 2x/week", "He weeks", "Kl 6weeks", "vA") no
    list of tick shapes can foresee, while it reads empty ones as a few strokes ("[]",
    "L]", "[1", "CJ", "O"). When every other option of the row (two at least) sits
    behind an empty box and one sits behind a short mark that is not one, that one is
    ticked. A row where a box was lost, or where two marks are not empty, decides
    nothing.
    """
    offered = [m for m in line_mentions if m.score >= 0]
    marks = _marks_before(text, offered)
    empty = [bool(_EMPTY_BOX.fullmatch(mark)) for mark in marks]
    odd = [
        mention
        for mention, mark, is_empty in zip(offered, marks, empty, strict=True)
        if not is_empty and _looks_like_a_tick(mark)
    ]
    if len(odd) == 1 and sum(empty) == len(offered) - 1 >= 2:
        return odd
    return []


def _looks_like_a_tick(mark: str) -> bool:
    """A short mark with no digit that is no word a label could end with ("FOR", "OF")."""
    return (
        0 < len(mark) <= 3
        and not re.search(r"\d|[:;]$", mark)
        and mark.lower() not in _NOT_A_BOX
        and len(re.findall(r"[A-Za-z]", mark)) <= 2
    )


def _undecided_options(
    mentions: list[Mention], by_line: dict[int, list[Mention]], option_lines: set[int]
) -> list[Mention]:
    """Printed options with no tick read: none may win by its context alone.

    (Seen: "FOR [] 4 weeks He weeks [] 8 weeks", the tick and the 6 lost; "4 weeks" came
    right after the frequency row and outscored the others, so a duration no one had
    ticked was taken as sure.) Every option of such a row takes the row's best score,
    so the choice is a conflict and goes to review.
    """
    raised: dict[Mention, float] = {}
    for key in option_lines:
        offered = [m for m in by_line[key] if m.score >= 0]
        top = max((m.score for m in offered), default=0.0)
        raised.update({m: top for m in offered})
    return [Mention(m.start, m.end, raised[m], m.values) if m in raised else m for m in mentions]


def _is_option_line(text: str, line_mentions: list[Mention]) -> bool:
    """Values a line offers as printed choices: three or more, or two beside boxes.

    A follow-up ("return in 4 wks") or "RTC 8 weeks" sharing a prose line with an
    earlier therapy's "x 2 wks" makes no line of options (seen on generated faxes).
    """
    offered = sum(1 for m in line_mentions if m.score >= 0)
    if offered >= 3:  # a row of choices, its boxes drawn as graphics in a text PDF
        return True
    if offered < 2:
        return False
    line_start = text.rfind("\n", 0, line_mentions[0].end - 1) + 1
    line_end = text.find("\n", line_mentions[-1].end)
    return bool(_BOX.search(text[line_start : line_end if line_end >= 0 else len(text)]))


def _label_context(text: str, start: int) -> str:
    """The words a value answers to: its own clause, the label cell to its left on the
    same row ("Freq:  weekly", the two spaces a column gap), or the label row above."""
    line_start = text.rfind("\n", 0, start) + 1
    before = text[line_start:start]
    segment = before.split("  ")[-1]
    if re.search(r"[A-Za-z]{3}", segment) or line_start == 0:
        return _clause_before(text, start)
    if re.search(r"[A-Za-z]{3}", before):
        return before
    previous_start = text.rfind("\n", 0, line_start - 1) + 1
    return text[previous_start : line_start - 1] + " " + segment


def _clause_before(text: str, start: int) -> str:
    """The text from the start of the line (or sentence) up to a position.

    A value that opens a line continues a sentence the line above left unfinished
    ("... helpful. Chiropractic care" / "3x/wk x 2 wks after the injury"): that
    sentence's words count, or earlier therapy wrapped onto a new line reads as the
    order.
    """
    line_start = text.rfind("\n", 0, start) + 1
    segment = text[line_start:start]
    if not segment.strip() and line_start > 0:
        segment = _unfinished_line_above(text, line_start) + " " + segment
    sentence = re.split(r"(?<=[.;!?])\s+(?=[A-Z])", segment)
    return sentence[-1] if sentence else segment


def _unfinished_line_above(text: str, line_start: int) -> str:
    """The last column of the line above, when it ends mid-sentence (no stop or colon)."""
    above = text[text.rfind("\n", 0, line_start - 1) + 1 : line_start - 1]
    tail = above.split("  ")[-1].rstrip()
    if not tail or tail[-1] in ".;:!?)]|" or not re.search(r"[a-z]{2}", tail):
        return ""
    return tail


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence (within its line) around a match: medication cues elsewhere don't count."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    offset = 0
    for piece in re.split(r"(?<=[.;!?])\s+", line):
        if line_start + offset + len(piece) >= end:
            return piece
        offset += len(piece) + 1
    return line


def _unit(text: str | None) -> str:
    text = (text or "").lower()
    if text.startswith("w"):
        return "wk"
    if text.startswith("m"):
        return "mo"
    if text.startswith("d"):
        return "d"
    if text.startswith("y"):
        return "a"
    return "wk"


def _adverb_unit(text: str) -> str:
    text = text.lower()
    if "month" in text:
        return "mo"
    if "dai" in text:
        return "d"
    return "wk"


def _without_overlaps(mentions: list[Mention]) -> list[Mention]:
    """Where two forms matched overlapping text, keep the longer (then better) one."""
    ordered = sorted(mentions, key=lambda m: (-(m.end - m.start), -m.score, m.start))
    kept: list[Mention] = []
    for mention in ordered:
        if all(mention.end <= k.start or mention.start >= k.end for k in kept):
            kept.append(mention)
    return sorted(kept, key=lambda m: m.start)
