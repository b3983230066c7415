"""Patient, prescriber (name, credentials, NPI) and their dates of birth.

Labels decide first ("Patient:", "Ordered by:"); a free-text letter's "my patient,
Dana Whitfield" and a signature's "Helen Okafor, MD" come next. Several providers on a
letterhead: the one who is labelled, signs, or stands by the NPI is the prescriber.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pipeline.extract.patterns import DATE, one_letter_off, respell_months

_NAME_WORD = (
    r"(?:[A-ZÀ-Ý](?:'[A-ZÀ-Ý])?[a-zà-ÿ]+(?:[A-ZÀ-Ý][a-zà-ÿ]+)?(?:[\-'’][A-ZÀ-Ý]?[a-zà-ÿ]+)*"
    r"|[A-ZÀ-Ý](?:'[A-ZÀ-Ý])?[A-ZÀ-Ý]+(?:[\-'’][A-ZÀ-Ý]+)*)"
)
_INITIAL = r"[A-Z]\.(?![A-Z]\.)"  # "D.C." after a name is credentials, not an initial
# Names stay on one line ([ \t], never a newline) and may carry "St." or "van".
# "St. Clair" as written and as OCR leaves it in capitals ("ST- CLAIR": the dot read as a dash)
_PARTICLE = r"(?:St\.|Ste\.|ST[.\-]|STE[.\-]|van|von|de|del|da|di|le|la|bin|ibn)"
NAME = (
    rf"(?:{_NAME_WORD})(?:[ \t]+(?:{_INITIAL}|{_PARTICLE}[ \t]+{_NAME_WORD}|{_NAME_WORD})){{1,3}}"
)
LAST_FIRST = (
    rf"(?P<last>(?:{_PARTICLE}[ \t]+)?{_NAME_WORD}(?:[\-\s](?:{_NAME_WORD}))?),\s*"
    rf"(?P<first>{_NAME_WORD}(?:\s+{_INITIAL}|\s+[A-Z]\b)?)"
)
CREDENTIALS = (
    r"(?P<cred>M\.?D\.?|D\.?O\.?|N\.?D\.?|PA-C|P\.?A\.?|ARNP|A\.?R\.?N\.?P\.?|FNP-?C?|DNP|NP|"
    r"R\.?N\.?|D\.?C\.?|DPT|P\.?T\.?|MSPT|LMP|OD|DDS|MBBS)(?!\w|\.\w)"
)
_CREDENTIAL_FORMS = {
    "MD": "MD",
    "DO": "DO",
    "ND": "ND",
    "PA-C": "PA-C",
    "PA": "PA",
    "ARNP": "ARNP",
    "FNP": "FNP",
    "FNP-C": "FNP-C",
    "FNPC": "FNP-C",
    "DNP": "DNP",
    "NP": "NP",
    "RN": "RN",
    "DC": "DC",
    "DPT": "DPT",
    "PT": "PT",
    "MSPT": "MSPT",
    "LMP": "LMP",
    "OD": "OD",
    "DDS": "DDS",
    "MBBS": "MBBS",
}
_NOT_NAME_WORDS = {
    # a document's title ("Chart Note", "Progress Note")
    "chart",
    "note",
    "progress",
    # a treatment an order is for ("Rx for Soft Tissue Mobilization")
    "soft",
    "tissue",
    "mobilization",
    "myofascial",
    "release",
    "lymphatic",
    "drainage",
    "trigger",
    "swedish",
    "relaxation",
    "neuromuscular",
    "information",
    "name",
    "date",
    "birth",
    "signature",
    "address",
    "phone",
    "insurance",
    "diagnosis",
    "referral",
    "order",
    "prescription",
    "therapy",
    "massage",
    "medical",
    "dear",
    "therapist",
    "doctor",
    "provider",
    "patient",
    "clinic",
    "health",
    "family",
    "medicine",
    "center",
    "group",
    "physician",
    "frequency",
    "duration",
    "dob",
    "sex",
    "male",
    "female",
    "age",
    "mrn",
    "id",
    "plan",
    "claim",
    "member",
    "fax",
    "tel",
    "treatment",
    "notes",
    "reason",
    "the",
    "and",
    "for",
    "with",
    "please",
    "see",
    "thank",
    "you",
    "regards",
    "sincerely",
    "chiropractic",
    "clinical",
    "associates",
    "partners",
    "care",
    "pain",
    "back",
    "neck",
    "low",
    "right",
    "left",
    "strain",
    "sprain",
    "dx",
    "icd",
    "code",
    "codes",
    "none",
    "other",
    "ordered",
    "by",
    "signed",
    "electronically",
    "npi",
    "page",
    "from",
    "to",
    "re",
    "cc",
    "subject",
    "internal",
    "orthopedics",
    "sports",
    "spine",
    "rehab",
    "rehabilitation",
    "services",
    "llc",
    "pllc",
    "inc",
    "hospital",
    "institute",
    "north",
    "south",
    "east",
    "west",
    "street",
    "ave",
    "avenue",
    "suite",
    "road",
    "blvd",
    "way",
    "wa",
    "seattle",
    "tacoma",
    "spokane",
    "naturopathic",
    "urgent",
    "primary",
    "physicians",
    "medical center",
    "today",
    "rx",
    "signature:",
    "attending",
    "license",
    "hello",
    "hi",
    "team",
    "office",
    "staff",
    "front",
    "desk",
    "schedule",
    "our",
    "my",
    "pt",
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "is",
    "has",
    "was",
    "reports",
    "per",
    "week",
    "weeks",
    "month",
    "months",
    "visit",
    "visits",
    "session",
    "sessions",
    "x",
    "times",
}
PATIENT_LABEL = re.compile(
    r"(?:patient(?:'s)?\s*(?:full\s+)?name|pt\.?\s*name|name\s+of\s+patient|patient|client(?:\s+name)?|"
    r"member\s+name|insured)\s*[:;\-#=]?\s*|(?:\bre|\bname)\s*:\s*|(?m:^re\b\.?\s+)"
    r"|(?:(?m:^)|(?<=  ))(?:name|pt)\b\.?\s*"
    # a label's word with one letter misread ("Pationt name", "Clieut:"): labels only
    rf"|\b(?:{one_letter_off('patient')}|{one_letter_off('client')})(?:\s+name\b|\s*:)\s*",
    re.IGNORECASE,
)
_PATIENT_IN_PROSE = re.compile(
    rf"(?:my\s+patient|our\s+patient|the\s+patient|patient|regarding|referring|see|evaluate|"
    rf"treat|I\s+saw|I\s+examined|seen|"
    # an e-mail's "Sending over the referral for Lucía Ferreira", "order for Keisha Iversen"
    rf"(?:referral|order|prescription|script|Rx)\s+for)"
    rf",?\s+(?:(?:Mr|Mrs|Ms|Miss)\.?\s+)?(?P<name>{NAME})",
)
_NAME_BEFORE_BIRTH = re.compile(
    rf"(?:(?P<last>(?:{_PARTICLE}[ \t]+)?{_NAME_WORD}(?:[\-\s]{_NAME_WORD})?),\s*"
    rf"(?P<first>{_NAME_WORD})|(?P<name>{NAME}))"
    # on the birth date's own line: "Aetna PPO" ending the line above a "D.O.B." is no name
    r"[ \t]*[,(]?[ \t]*(?:DOB|D\.O\.B|date\s+of\s+birth|born)\b",
)
# "DOB" as OCR reads a pad's small label: "pop", "D0B", "bob" (d/b/p mirror each other),
# only right before a date's digits on its line, so a name "Bob" is not one
_DOB_AS_READ = r"\b[DPB][O0][BP8]\b(?=[ \t:;,.]*[0-9])"
_DOB = re.compile(
    rf"(?:\bDOB|D\.\s?[O0]\.\s?B\.?|{_DOB_AS_READ}|date\s+of\s+birth|birth\.?\s*date|"
    rf"\bborn(?:\s+on)?)"
    # "DOB:  sf  1951-08-21", "Birth date:  _  02 October 1975": specks before the date
    rf"\s*[:;#\-]?\s*(?:\n\s*)?(?:[^A-Za-z0-9\s]{{1,3}}\s+|[a-z]{{1,2}}\s+)?{DATE}",
    re.IGNORECASE,
)
_PRESCRIBER_LABEL = re.compile(
    r"(?:prescrib(?:er|ing\s+(?:provider|physician|clinician|practitioner))|ordered\s+by|"
    r"ordering\s+(?:provider|physician|clinician)|referr(?:ing|ed)\s+(?:by|provider|physician|"
    r"doctor|clinician|practitioner)|physician(?:\s+name)?|provider(?:\s+name)?|practitioner|"
    r"doctor|(?:electronically\s+)?signed(?:\s+by)?|signature|attending|clinician|"
    r"treating\s+(?:provider|physician))\s*[:\-]?\s*",
    re.IGNORECASE,
)
_DOCTOR = re.compile(rf"\bDr\.?\s+(?P<name>{NAME})")
# credentials with a colon glued on are a label: "Chart Note\nPT: ST. CLAIR, INES" (the
# patient); a speck after a space is not ("Keisha Kim RN :", "Farid Begay, ND :")
_NAME_WITH_CREDENTIALS = re.compile(rf"(?P<name>{NAME})\s*,?\s+{CREDENTIALS}(?![:;])")
# "Liam-Schultz, M.D.": the space of a signed name read as a dash (no one signs one word)
_JOINED_NAME_WITH_CREDENTIALS = re.compile(
    rf"(?<![\w\-])(?P<first>[A-Z][a-z]+)[\-_~](?P<last>[A-Z][a-z]+)\s*,?\s+{CREDENTIALS}"
)
# "NPL # 1753555139", "NPI No.; 2723957942", "NPI'1614331639": the label as OCR reads it
# (the ten digits' check digit, not the label, is what guards against a phone number)
_NPI_LABEL = r"\bNP[IL1l|]"
_NPI = re.compile(
    rf"{_NPI_LABEL}\s*(?:#|no\.?|number|num)?\s*[:#;.,'\"‘’|]*\s*(?P<npi>[0-9OoIl|]{{10}})(?!\d)",
    re.I,
)
# a form's table: "Prescriber  Credentials  NPI" on one line, the values on the next
_NPI_BELOW = re.compile(
    rf"{_NPI_LABEL}\b[^\n]*\n[^\n]*?(?<![\w-])(?P<npi>[0-9OoIl|]{{10}})(?![\w-])", re.I
)
_SIGN_OFF = re.compile(
    r"sincerely|regards|signature|signed|electronically|thank you|respectfully", re.I
)
_OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1"})


@dataclass(frozen=True)
class PersonMention:
    name: str
    start: int
    end: int
    credentials: str | None = None
    score: float = 0.0


def npi_is_valid(npi: str) -> bool:
    """The NPI check digit: Luhn over the prefix 80840 and the first nine digits."""
    if not re.fullmatch(r"\d{10}", npi):
        return False
    digits = [int(d) for d in "80840" + npi[:9]]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


def npis(text: str) -> list[tuple[str, int, int]]:
    """Labelled NPIs that pass the check digit (after undoing O/0 and l/1 confusions)."""
    found = []
    for pattern in (_NPI, _NPI_BELOW):
        for match in pattern.finditer(text):
            value = match.group("npi").translate(_OCR_DIGITS)
            if npi_is_valid(value):
                found.append((value, match.start("npi"), match.end("npi")))
    return sorted(set(found), key=lambda f: f[1])


def clean_name(raw: str) -> str | None:
    """Trim label words that the name pattern swallowed; title-case names written in capitals."""
    words = raw.split()
    while words and words[-1].lower().strip(".:,") in _NOT_NAME_WORDS:
        words.pop()
    while words and words[0].lower().strip(".:,") in _NOT_NAME_WORDS:
        words.pop(0)
    if len(words) < 2 or len(words) > 4:
        return None
    if any(w.lower().strip(".,") in _NOT_NAME_WORDS for w in words):
        return None
    words = [w.title() if w.isupper() and len(w) > 2 else w for w in words]
    words = [_SAINT.sub(lambda m: m.group(1).title() + ".", w) for w in words]
    return " ".join(words)


_SAINT = re.compile(r"^(st|ste)[.\-]$", re.I)  # "ST-" (OCR's dash for the dot) is "St."


def patients(text: str) -> list[PersonMention]:
    found: list[PersonMention] = []
    for match in PATIENT_LABEL.finditer(text):
        label = match.group(0).lower()
        mention = _name_after(text, match.end()) or _name_in_column_below(text, match)
        if mention is None:
            continue
        score = 3.0 if "patient" in label or "pt" in label or "client" in label else 2.0
        if label.strip().startswith("name") and _in_provider_block(text, match.start()):
            continue
        found.append(PersonMention(mention[0], mention[1], mention[2], None, score))
    for match in _PATIENT_IN_PROSE.finditer(text):
        name = clean_name(match.group("name"))
        if name:
            found.append(PersonMention(name, match.start("name"), match.end("name"), None, 1.5))
    # "my patient Mei. Kaur, date of birth ...": a speck inside the name (same offsets)
    for match in _NAME_BEFORE_BIRTH.finditer(_SPECK_IN_NAME.sub(" ", text)):
        written = match.group("name") or f"{match.group('first')} {match.group('last')}"
        name = clean_name(written)
        if name:
            found.append(PersonMention(name, match.start(), match.end(), None, 2.5))
    return found


def with_accents_written_elsewhere(
    chosen: PersonMention, mentions: list[PersonMention]
) -> PersonMention:
    """The chosen name spelled as another mention of it spells it with its accents.

    OCR drops accents ("Lucia Ferreira" on the attached fax) that a text layer keeps
    (the e-mail body's "referral for Lucía Ferreira"); the letters must be the same.
    """
    letters = _unaccented(chosen.name)
    if letters != chosen.name.lower():
        return chosen  # written with accents already
    for other in mentions:
        if other.name != chosen.name and _unaccented(other.name) == letters:
            return PersonMention(
                other.name, chosen.start, chosen.end, chosen.credentials, chosen.score
            )
    return chosen


def _unaccented(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _name_in_column_below(
    text: str, label: re.Match[str]
) -> tuple[str, int, int, str | None] | None:
    """A form's header row ("Patient  DOB  Sex") with the values in the row below.

    Only for a label that opens its row, whose own row held no name (its neighbours
    are other headers, maybe garbled: "Patient  DOT  Se"): the first cell below is then
    the patient's ("D'Angelo, Elijah  03-Oct-1998").
    """
    line_start = text.rfind("\n", 0, label.start()) + 1
    line_end = text.find("\n", label.end())
    if text[line_start : label.start()].strip() or line_end < 0:
        return None
    if _PROSE.search(text, label.end(), line_end):
        return None  # "Patient reports neck pain x 6 months.": a sentence, not a header row
    below = _name_after(text, line_end + 1, with_credentials=True)
    if below is None or below[3] is not None:
        return None  # "Helen Nakamura, MD" below a sentence: the prescriber, not the patient
    return below


_PROSE = re.compile(r"[a-z]{3,}[ \t]+[a-z]{3,}[ \t]+[a-z]{3,}")  # three words of a sentence


_DOB_BELOW = re.compile(
    rf"(?:\bDOB|D\.\s?O\.\s?B\.?|date\s+of\s+birth|birth\.?\s*date)[^\n\d]*\n"
    rf"[^\n]{{0,60}}?{DATE}",
    re.IGNORECASE,
)


def births(text: str) -> list[tuple[re.Match[str], int]]:
    """Dates of birth after their label, or in the box under it on a form."""
    text = respell_months(text)  # "12 Aprit 1949"
    found = [(m, m.start()) for m in _DOB.finditer(text)]
    if not found:
        found = [(m, m.start()) for m in _DOB_BELOW.finditer(text)]
    return found


def prescribers(text: str, patient_name: str | None) -> list[PersonMention]:
    found: list[PersonMention] = []
    for match in _PRESCRIBER_LABEL.finditer(text):
        label = match.group(0).lower()
        after = text[match.end() : match.end() + 80]
        doctor = re.match(r"(?:Dr\.?\s+)", after)
        offset = match.end() + (doctor.end() if doctor else 0)
        mention = _name_after(text, offset, with_credentials=True)
        if mention is None:
            continue
        score = 3.0 if "sign" not in label else 2.5
        found.append(PersonMention(mention[0], mention[1], mention[2], mention[3], score))
    for match in _NAME_WITH_CREDENTIALS.finditer(text):
        name = clean_name(match.group("name"))
        if name:
            found.append(
                PersonMention(
                    name, match.start("name"), match.end(), _credential(match.group("cred")), 1.0
                )
            )
    for match in _JOINED_NAME_WITH_CREDENTIALS.finditer(text):
        name = clean_name(f"{match.group('first')} {match.group('last')}")
        if name:
            credentials = _credential(match.group("cred"))
            found.append(PersonMention(name, match.start(), match.end(), credentials, 0.9))
    found.extend(_signature_block_names(text))
    for match in _DOCTOR.finditer(text):
        name = clean_name(match.group("name"))
        if name:
            found.append(PersonMention(name, match.start("name"), match.end("name"), None, 0.8))
    if patient_name:
        found = [m for m in found if m.name.lower() != patient_name.lower()]
    return [m for m in found if _plausible(m.name)]


def _plausible(name: str) -> bool:
    """A prescriber's name has a word of three letters or more with a vowel in it.

    OCR junk that passes for a name ("Td TS") would hide a missing prescriber and let a
    referral through; a real "Bo Li" is rare and only costs a review.
    """
    return any(len(w) >= 3 and re.search(r"[aeiouyà-ÿ]", w, re.I) for w in name.split())


# above its NPI, "Nguyen O'Neil, Do": credentials after the comma in any case OCR gives
_SIGNED_CREDENTIALS = r"(?P<signed>(?i:md|do|nd|pa-c|arnp|np|rn|dc|dpt|pt))"
_NAME_LINE = re.compile(
    rf"^[ \t]*(?:Dr\.?\s+)?(?P<name>{NAME})"
    rf"(?:\s*,?\s*{CREDENTIALS}|\s*,\s*{_SIGNED_CREDENTIALS})?[ \t]*$",
    re.M,
)
_NPI_LINE = re.compile(rf"^[^\n]{{0,12}}{_NPI_LABEL}\b", re.M | re.I)


def _signature_block_names(text: str) -> list[PersonMention]:
    """A name alone on its line right above an NPI line: a letter's signature block
    ("Best regards, / <scribble> / Chloe McAllister / NPI #: ..."), with no label.

    Only the NPI anchors it: a sign-off alone is followed as often by the name of the
    clinic's staff member who sent the e-mail, who is no prescriber.
    """
    found = []
    for npi_line in _NPI_LINE.finditer(text):
        start = _lines_back(text, npi_line.start(), 1)
        for match in _NAME_LINE.finditer(text, start, npi_line.start()):
            words, credentials = _split_credentials(match.group("name").split())
            if match.group("cred") or match.group("signed"):
                credentials = _credential(match.group("cred") or match.group("signed"))
            name = clean_name(" ".join(words))
            if name and len(name.split()) == len(words):  # nothing trimmed: no "Group"
                found.append(
                    PersonMention(name, match.start("name"), match.end(), credentials, 2.0)
                )
    return found


def _split_credentials(words: list[str]) -> tuple[list[str], str | None]:
    """ "Patrick Johansson MD" or "Olivia Yamamoto D. O.": the name greedily took them."""
    for size in (2, 1):
        tail = "".join(words[-size:])
        if len(words) > size + 1 and re.fullmatch(CREDENTIALS, tail):
            return words[:-size], _credential(tail)
    return words, None


def _lines_back(text: str, position: int, lines: int) -> int:
    for _ in range(lines):
        position = max(0, text.rfind("\n", 0, max(0, position - 1)))
    return position


_SPECK_IN_NAME = re.compile(  # "ST. CLAIR" in capitals is a name's particle too
    r"(?<=[A-Za-zÀ-ÿ]{2})(?<!\b[Ss][Tt])(?<!\b[Ss][Tt][Ee])\.(?=[ \t]+[A-ZÀ-Ý])"
)


# one or two lower-case letters before a capital: a speck, unless a name's particle
_SPECK_WORD = re.compile(r"(?!(?:de|da|di|do|du|le|la|al|el)\b)[a-z]{1,2}[ \t]+(?=[A-ZÀ-Ý])")


def _name_after(
    text: str, offset: int, with_credentials: bool = False
) -> tuple[str, int, int, str | None] | None:
    """A person's name right after a label, on the same line (or the next, for forms)."""
    line_end = text.find("\n", offset)
    segment = _before_next_label(text[offset : line_end if line_end >= 0 else len(text)])
    if not segment.strip(" _:.\t|") and line_end >= 0:
        # a form with the label above its box: the value is at the start of the next line
        next_end = text.find("\n", line_end + 1)
        offset = line_end + 1
        segment = _before_next_label(text[offset : next_end if next_end >= 0 else len(text)])
    stripped = segment.lstrip(" _:;.\t-")  # "Patient .  Nadia MacLeod": a speck
    speck = _SPECK_WORD.match(stripped)  # "Patient: ie Lucia Ferreira": a speck read as letters
    if speck and not with_credentials:  # "Signed: ly Pech VY" is a signature's scrawl
        stripped = stripped[speck.end() :]
    lead = len(segment) - len(stripped)
    if not with_credentials:  # "DMITRI. ORTIZ": a speck after a word of a patient's name
        stripped = _SPECK_IN_NAME.sub(" ", stripped)
    last_first = re.match(
        LAST_FIRST + r"(?=\s*(?:$|[,;(]|\s{2}|DOB|D\.O\.B|Date|Sex|Age|MRN|\d))", stripped
    )
    if last_first and not re.match(rf"{NAME}\s*,?\s*{CREDENTIALS}", stripped):
        name = clean_name(f"{last_first.group('first')} {last_first.group('last')}")
        if name:
            return name, offset + lead, offset + lead + last_first.end(), None
    # the name ends where a word ends: "Td TS6# 05°60" (an upside-down fax header) is no name
    match = re.match(
        rf"(?:Dr\.?\s+)?(?P<name>{NAME})(?![\w#°])(?:\s*,?\s*{CREDENTIALS})?", stripped
    )
    if not match:
        return None
    # "Yvonne Kaur DPT": the name took the credentials written in capitals without a comma
    words, written_after = _split_credentials(match.group("name").split())
    name = clean_name(" ".join(words))
    if not name:
        return None
    credentials = _credential(match.group("cred")) if match.group("cred") else written_after
    if not with_credentials:
        credentials = None
    return name, offset + lead + match.start("name"), offset + lead + match.end(), credentials


_NEXT_LABEL = re.compile(
    r"(?:\s{2,}|\s+(?=[A-Za-z][\w./]{0,18}(?:\s\#)?\s?:)"
    r"|\s+(?=(?:DOB|D\.O\.B|Date of birth|Birth ?date|Sex|Age|MRN|Phone|Tel|Ins|Insurance|"
    r"Member|Carrier|Payer|ID)\b))",
    re.IGNORECASE,
)


_LABEL_WORDS = re.compile(
    r"(?i)(?:DOB|D\.O\.B|Date|Birth\s?date|Birth|Sex|Phone|MRN|Insurance|Carrier|Payer|Plan|Claim|"
    r"Member|ID|Group|Grp|Credentials?|NPI|Signature|Address|Age|Gender|Tel)\b"
)


def _before_next_label(segment: str) -> str:
    """Cut a line at the next label ("Carrier:", "DOB"): it belongs to another field."""
    stripped = segment.lstrip(" _:;.\t-|")
    lead = len(segment) - len(stripped)
    if re.match(_LABEL_WORDS, stripped):
        return ""
    match = _NEXT_LABEL.search(stripped)
    if match and match.start() > 0:
        return segment[: lead + match.start()]
    return segment


def _credential(raw: str | None) -> str | None:
    if not raw:
        return None
    key = raw.upper().replace(".", "")
    return _CREDENTIAL_FORMS.get(key, key)


def _in_provider_block(text: str, start: int) -> bool:
    line_start = text.rfind("\n", 0, max(0, start - 1))
    before = text[max(0, line_start - 80) : start].lower()
    return bool(re.search(r"provider|physician|prescriber|referring|ordering", before))


def sign_off_positions(text: str) -> list[int]:
    return [m.start() for m in _SIGN_OFF.finditer(text)]
