"""A second OCR engine's reading of a document, reconciled with the first, field by field.

Asked only when tesseract's reading would not be accepted (``pipeline.process``): PP-OCR
reads the OCR'd pages again, the same spaCy pipeline extracts from that reading, and
the two extractions are merged so that the second can only fill what the first lacked
or confirm what the first doubted. Where the two engines read a value differently and
neither is clearly wrong, the field is doubted, so the referral goes to review: two
readings may never add up to an acceptance that either one contradicts.
"""

from __future__ import annotations

import re
from typing import TypeVar

from models.config import RuleSettings
from models.document import ReadDocument, Word
from models.extraction import CodeMention, Extraction
from models.referral import Evidence, Patient, Prescriber
from pipeline import icd10
from pipeline.read import ReadResult
from pipeline.read.ppocr import SecondReader
from pipeline.read.tesseract import OcrError

# a diagnosis doubt: the two engines read two real codes at one place, so which of them
# (and whether a reimbursable one) was written is unknown; never a ground to reject
ENGINE_CONFLICT = "diagnosis:engines-disagree"
# a range's dash glued before its second number, its first read as a mark ("\\-2", "|-2")
_RANGE_MARK = re.compile(r"^[\\|/lI!]?[-–~]\d")
PartyT = TypeVar("PartyT", Patient, Prescriber)
_TIMING_FIELDS = ("frequency", "duration", "visits")


def read_again(read: ReadResult, reader: SecondReader) -> ReadDocument | None:
    """The document with every OCR'd page's words replaced by the second engine's.

    Text-layer pages stay as they are. None when no page could be read again (the
    engine is missing or failed on every page): the first reading then stands alone.
    """
    pages, replaced = [], 0
    for page in read.document.pages:
        image = read.images.get(page.number)
        if image is None or page.method != "ocr":
            pages.append(page)
            continue
        try:
            words = reader.read_words(image, page.words).words
        except OcrError:
            pages.append(page)
            continue
        pages.append(page.model_copy(update={"words": words}))
        replaced += 1
    if not replaced:
        return None
    return read.document.model_copy(update={"pages": pages})


def doubt_a_lost_range(first: Extraction, merged: Extraction, document: ReadDocument) -> None:
    """A frequency or duration only the second engine read, no range, where tesseract's
    words at its place hold a range's mark before a number: the range's start was lost.

    (Seen: a hand-filled "1-2 TIMES PER WEEK" that tesseract read "\\-2 2 TIMES | PER.
    WEEK", no frequency found, and PP-OCR read "2 TMES PER WEEK" surely: accepted as
    twice a week.) Doubted as two readings that disagree are: a person decides.
    """
    for field in ("frequency", "duration"):
        value, at = getattr(merged, field), merged.evidence.get(field)
        if getattr(first, field) is not None or value is None or at is None or at.bbox is None:
            continue
        if (value.count_max if field == "frequency" else value.value_max) is not None:
            continue
        page = next((p for p in document.pages if p.number == at.page), None)
        if page is not None and any(
            _RANGE_MARK.match(word.text) and _just_before_or_in(word, at.bbox)
            for word in page.words
        ):
            _doubt(merged, field)


def _just_before_or_in(word: Word, box: tuple[float, float, float, float]) -> bool:
    """On the value's line, within it or up to three line heights before it."""
    if word.bbox is None:
        return False
    left, top, right, bottom = box
    middle_x, middle_y = (word.bbox[0] + word.bbox[2]) / 2, (word.bbox[1] + word.bbox[3]) / 2
    return top <= middle_y <= bottom and left - 3 * (bottom - top) <= middle_x <= right


def reconcile(first: Extraction, second: Extraction, rules: RuleSettings) -> Extraction:
    """The first extraction, completed and checked by the second (see the module doc)."""
    merged = first.model_copy(deep=True)
    _reconcile_codes(merged, second, rules)
    for field in _TIMING_FIELDS:
        _reconcile_value(merged, second, field)
    _drop_visits_read_in_a_frequency(merged, second)
    _fill_parties(merged, second)
    return merged


def _reconcile_codes(merged: Extraction, second: Extraction, rules: RuleSettings) -> None:
    """Each code of the second reading settles, fills, replaces or contradicts the
    first reading's code at its place.

    Only the first reading's codes can be contradicted: two codes the second engine read
    in one word (seen: "G56.33.M79672", where tesseract read only "N79672" faintly) are
    two codes, not a disagreement, so the second takes its own place, not the first's.
    """
    faint_only: list[CodeMention] = []
    first_read = list(merged.codes)
    for mention in second.codes:
        doubt = f"diagnosis:{mention.code}"
        faint = mention.doubtful and doubt in second.unsure
        if mention.doubtful and not faint:
            continue  # an ambiguous repair: it neither adds nor settles
        same = next((m for m in merged.codes if m.code == mention.code), None)
        if same is not None:
            if not faint or doubt in merged.unsure:
                _settle(merged, doubt)  # two engines, one reading: only faintness doubted it
                same.doubtful = False
            continue
        under = next(
            (
                m
                for m in merged.codes
                if any(m is f for f in first_read) and _overlap(m.evidence, mention.evidence)
            ),
            None,
        )
        if faint:
            if under is None:
                faint_only.append(mention)
            elif _wrong_or_incomplete(merged, under) and _may_replace(mention, under):
                _replace_faintly(merged, under, mention, second)
            continue
        if under is None:
            if not _in_claim_number(mention, merged):
                merged.codes.append(mention)
        elif _cut_short(mention.code, under.code):
            continue  # letters lost, not another code
        elif under.described != mention.described:
            if mention.described:  # only the second reading's code is the one described
                _replace(merged, under, mention)
        elif under.doubtful or not icd10.facts(under.code).exists:
            _replace(merged, under, mention)
        else:
            _doubt(merged, ENGINE_CONFLICT)
    _carry_unread(merged, second)
    if merged.codes:
        faint_only = _list_beside_sure_codes(merged, faint_only, second)
        _doubt_a_rejection(merged, faint_only, rules)
    else:
        _add_faintly(merged, faint_only, second)
    if _every_unread_spot_read(merged) and _read_by_the_first(second, merged):
        _settle(merged, "diagnosis:unread")


def _in_claim_number(mention: CodeMention, merged: Extraction) -> bool:
    """A code only the second reading found, made of the claim number's characters.

    (Seen: tesseract read "claim # RR93068" and took it as the claim number; PP-OCR read
    "laim # R93068.", the label's first letter lost, and the number became R93.068.)
    """
    claim = (merged.payer.claim_number or "").upper()
    return bool(claim) and mention.code.replace(".", "") in claim


def _every_unread_spot_read(merged: Extraction) -> bool:
    """Each spot the first reading could not read as a code holds a code read there now.

    Every spot counts, not just the first (seen: "(Mb4. 41)" unread, and its row's
    description "Lumbago with sciatica, right side" without a code: two spots, both
    M54.41, which PP-OCR read surely); a doubt without a known spot settles nothing.
    """
    spots = merged.unread_spots
    return (
        bool(spots)
        and merged.doubts.count("diagnosis:unread") == len(spots)
        and all(
            any(_overlap(spot, m.evidence) for m in merged.codes)
            or _described_by(spot, merged.codes)
            for spot in spots
        )
    )


def _replace(merged: Extraction, under: CodeMention, mention: CodeMention) -> None:
    """The second engine's sure code in the place of the first reading's.

    Where only one of two codes read at one place has its whole official description
    beside it, that one is what was written (seen: tesseract "M79.18" before "Myalgia,
    other site", PP-OCR "1.m918" read as M91.8, the 7 lost): the other is the misreading,
    and two sure readings that disagree are then no reason for review.
    """
    _settle(merged, f"diagnosis:{under.code}")
    merged.codes[merged.codes.index(under)] = mention


def _read_by_the_first(second: Extraction, merged: Extraction) -> bool:
    """The second reading left nothing unread that no reading read as a code.

    (Seen: tesseract left "5336XXD" unread and read "$40012D" as S40.012D; PP-OCR read
    S33.6XXD and left "540012D" unread: each engine read what the other could not.)
    """
    if "diagnosis:unread" not in second.doubts:
        return True
    spots = second.unread_spots
    return second.doubts.count("diagnosis:unread") == len(spots) and all(
        any(_overlap(spot, m.evidence) for m in merged.codes) for spot in spots
    )


def _wrong_or_incomplete(merged: Extraction, under: CodeMention) -> bool:
    """A first reading that is no code at all, or doubted for more than faintness."""
    if not icd10.facts(under.code).exists:
        return True
    return under.doubtful and f"diagnosis:{under.code}" not in merged.unsure


def _may_replace(mention: CodeMention, under: CodeMention) -> bool:
    return icd10.facts(mention.code).billable and not _cut_short(mention.code, under.code)


def _replace_faintly(
    merged: Extraction, under: CodeMention, mention: CodeMention, second: Extraction
) -> None:
    """A faint real code where tesseract read none ("M5u.50", "G56.O%") takes its place,
    doubted: the referral stays in review unless tesseract, reading that spot alone,
    gives the same code (``pipeline.process``), as for a faint frequency or duration.
    """
    old, new = f"diagnosis:{under.code}", f"diagnosis:{mention.code}"
    merged.doubts = [d for d in merged.doubts if d != old]
    merged.unsure.pop(old, None)
    merged.codes[merged.codes.index(under)] = mention.model_copy(update={"doubtful": True})
    _doubt_faint_second_reading(merged, second, new)


def _cut_short(code: str, longer: str) -> bool:
    """``code`` is ``longer`` with characters lost: its end ("Z00" where tesseract read
    "Z00. 2" faintly), or one or two inside a billable code where what is left is none
    ("S66.13" where tesseract read S66.113A): a reading that lost letters, not a reading
    of another code. (A longer reading that is no code may be the misread one: "M51.8618"
    for an M51.818 written, which PP-OCR read.)"""
    short, full = code.replace(".", ""), longer.replace(".", "")
    if len(short) >= len(full):
        return False
    if full.startswith(short):
        return True
    letters = iter(full)
    within = all(letter in letters for letter in short)  # in order, with gaps
    if not within or len(full) - len(short) > 2:
        return False
    return icd10.facts(longer).billable and not icd10.facts(code).billable


def _described_by(unread: Evidence, found: list[CodeMention]) -> bool:
    """An official description left without its code, whose code the second engine read.

    (Seen: tesseract lost the cell "S29.012A" and kept its description on the row;
    PP-OCR read the code in its cell, beside the description, not over it.)
    """
    described = icd10.codes_described_as(unread.text)
    listed = {m.code.replace(".", "") for m in found}
    return any(d.startswith(c) or c.startswith(d) for d in described for c in listed)


def _doubt_a_rejection(
    merged: Extraction, faint_only: list[CodeMention], rules: RuleSettings
) -> None:
    """A reimbursable code only the second engine read, faintly, forbids a rejection.

    Such codes are not added (on generated faxes most were phone numbers or addresses
    read as codes), but where nothing read surely is reimbursable the faint one may be
    the code the referral was written for (seen: M25.569 on a photo, tesseract read no
    code on its line): the referral then goes to a person, not to the rejected list.
    (A faint reading that is no code at all, in the list beside or under a listed code,
    is doubted already by ``_list_beside_sure_codes``: seen, hand-written "M25535" and
    "g89.29" under a sure Z56.6, read faintly as M25.535 and B89.29, and the fax rejected
    on Z56.6 alone; it costs a right rejection now and then, "G47.21 M51.25" whose second
    code read as the faint "r15125" going to review, though M51.25 is not reimbursable.)
    """
    if any(_reimbursable(m.code, rules) for m in merged.codes):
        return
    for mention in faint_only:
        doubt = f"diagnosis:{mention.code}"
        if _reimbursable(mention.code, rules):
            _doubt(merged, doubt)
            merged.unsure[doubt] = mention.evidence


def _listed_under(spot: Evidence, code: Evidence) -> bool:
    """In the column of a listed code, within three of its lines below it."""
    if spot.page != code.page or spot.bbox is None or code.bbox is None:
        return False
    line = max(1.0, code.bbox[3] - code.bbox[1])
    below = spot.bbox[1] - code.bbox[1]
    return 0 < below <= 3 * line and abs(spot.bbox[0] - code.bbox[0]) <= 2 * line


def _add_faintly(merged: Extraction, faint_only: list[CodeMention], second: Extraction) -> None:
    """Where no code was read surely, the billable codes read faintly are listed, doubted.

    (Seen: "DX; S\\6IXXA" lost by tesseract, "5161xXA" read faintly by PP-OCR.) Without
    them the referral goes to review as having no code at all; with them it goes to
    review showing the code where it stands, unless tesseract, reading that spot alone,
    gives the same code (``pipeline.process``). Where something was read surely, faint
    codes are not added: on generated faxes most were phone numbers or addresses.
    """
    for mention in faint_only:
        if icd10.facts(mention.code).billable:
            doubt = f"diagnosis:{mention.code}"
            merged.codes.append(mention.model_copy(update={"doubtful": True}))
            _doubt_faint_second_reading(merged, second, doubt)


def _list_beside_sure_codes(
    merged: Extraction, faint_only: list[CodeMention], second: Extraction
) -> list[CodeMention]:
    """A real code read faintly on the row of a listed code, or in its column just
    below, is listed too, doubted.

    (Seen: "F51.0, M7918", PP-OCR alone read both, F51.0 faintly with the 1 of F51.01
    lost; once M79.18 was read surely, the referral was accepted without its first
    code. And "M5431" read faintly in the code column under S33.6XXD, tesseract's
    "Ms5u.3)": accepted without M54.31.) A code in a row or column of codes is no phone
    number or address; it goes to review boxed, unless tesseract reading its spot alone
    gives the same code. A faint reading there that is no code at all is a code unread,
    and doubted for good (seen: a hand-written "M75.401" read "r175401" beside a sure
    S93.512A, and accepted on that one code). The faint codes elsewhere are returned.
    """
    elsewhere = []
    for mention in faint_only:
        beside = any(_in_the_list(mention.evidence, m.evidence) for m in merged.codes)
        if beside and icd10.exists(mention.code):
            merged.codes.append(mention.model_copy(update={"doubtful": True}))
            _doubt_faint_second_reading(merged, second, f"diagnosis:{mention.code}")
        elif beside:
            _doubt(merged, f"diagnosis:{mention.code}")  # no reading makes it a code
        else:
            elsewhere.append(mention)
    return elsewhere


def _in_the_list(spot: Evidence, code: Evidence) -> bool:
    """On a listed code's row, or in its column just below it."""
    return _same_row(spot, code) or _listed_under(spot, code)


def _same_row(a: Evidence, b: Evidence) -> bool:
    """Same page, boxes that share most of the shorter one's height."""
    if a.page != b.page or a.bbox is None or b.bbox is None:
        return False
    height = min(a.bbox[3], b.bbox[3]) - max(a.bbox[1], b.bbox[1])
    shorter = min(a.bbox[3] - a.bbox[1], b.bbox[3] - b.bbox[1])
    return height > 0.5 * shorter


def _reimbursable(code: str, rules: RuleSettings) -> bool:
    facts = icd10.facts(code)
    return icd10.is_reimbursable(
        facts.billable, icd10.category(facts.code, facts.description, rules), rules
    )


def _carry_unread(merged: Extraction, second: Extraction) -> None:
    """Something shaped like a code that the second engine could not read is a doubt too.

    (Seen: the first reading had no codes at all, the second read two of three and left
    the third as ``Nz551``; without this the two read codes would stand alone.)
    """
    if "diagnosis:unread" not in second.doubts:
        return
    for unread in second.unread_spots:
        if not any(_overlap(unread, m.evidence) for m in merged.codes):
            merged.doubts.append("diagnosis:unread")
            merged.unread_spots.append(unread)
    if second.doubts.count("diagnosis:unread") > len(second.unread_spots):
        _doubt(merged, "diagnosis:unread")  # a spot without a box: a doubt still


def _reconcile_value(merged: Extraction, second: Extraction, field: str) -> None:
    """Fill a missing value from a sure second reading; settle or doubt a present one.

    A value both engines read alike is settled even when each read it faintly (the
    doubt rested only on confidence, ``unsure``): two engines with different ways of
    failing rarely fail to the same value. A value the second engine read faintly, or
    doubted for another reason, settles nothing; read faintly at the very place where
    tesseract read another value, it doubts that one and is shown in its stead, for
    tesseract to read the spot alone (seen: "3 time per week" against "1 time per week"
    on a rotated fax, tesseract wrong): only the second engine's value read again there
    settles it. Where the first reading found
    nothing, the faint value fills the field, doubted, so the referral still goes to
    review unless tesseract, reading that spot alone, gives the same value
    (``pipeline.process``); the reviewer sees the value and where it stands. A range
    whose first number tesseract lost ("|-2x/week") is settled by a second reading of
    the whole range at the same place, and completed by it ("|-3x/week", "2-3x/week").
    """
    mine, theirs = getattr(merged, field), getattr(second, field)
    doubted = field in second.doubts
    faint = doubted and field in second.unsure
    if theirs is None or (doubted and not faint):
        return
    if mine is None and faint:
        _take_faintly(merged, second, field)  # the best guess: kept, doubted, shown boxed
    elif mine is None:
        setattr(merged, field, theirs)
        if field in second.evidence:
            merged.evidence[field] = second.evidence[field]
    elif _same_value(mine, theirs):
        if not doubted or field in merged.unsure or field in merged.cut_ranges:
            _settle(merged, field)
    elif field in merged.cut_ranges and _completes(mine, theirs, merged, second, field):
        setattr(merged, field, theirs)  # "|-3x/week" and "2-3x/week": the whole range
        merged.evidence[field] = second.evidence[field]
        if not doubted:  # a faint first number is the better guess, still doubted
            _settle(merged, field)
    elif faint and _read_at_same_place(merged, second, field):
        _take_faintly(merged, second, field)
    elif not doubted:
        _doubt(merged, field)  # two engines, two sure readings: a person decides
        merged.unsure.pop(field, None)  # no longer a doubt of confidence alone


def _drop_visits_read_in_a_frequency(merged: Extraction, second: Extraction) -> None:
    """A visit count the first reading took from words the second read as a frequency.

    (Seen: tesseract "4 Visits" and garble, PP-OCR "4 visitspermontk" on the same line:
    four visits a month, no total.) One phrase is one value; the frequency stands, and
    the total visits, with its doubt, goes. Not when the second reading found a visit
    count there too.
    """
    visits_at, frequency_at = merged.evidence.get("visits"), second.evidence.get("frequency")
    if merged.visits is None or visits_at is None or frequency_at is None:
        return
    if merged.frequency is None or second.frequency is None:
        return
    if not _same_value(merged.frequency, second.frequency):
        return
    if "visit" not in second.frequency.text.lower() or not _overlap(visits_at, frequency_at):
        return
    also_there = second.evidence.get("visits")
    if second.visits is not None and also_there is not None and _overlap(also_there, visits_at):
        return
    merged.visits = None
    merged.doubts = [d for d in merged.doubts if d != "visits"]
    merged.unsure.pop("visits", None)
    merged.evidence.pop("visits", None)


def _take_faintly(merged: Extraction, second: Extraction, field: str) -> None:
    """The second engine's faint value in the field, doubted, for tesseract to read again."""
    setattr(merged, field, getattr(second, field))
    if field in second.evidence:
        merged.evidence[field] = second.evidence[field]
    merged.cut_ranges = [f for f in merged.cut_ranges if f != field]
    _doubt_faint_second_reading(merged, second, field)


def _read_at_same_place(merged: Extraction, second: Extraction, field: str) -> bool:
    here, there = merged.evidence.get(field), second.evidence.get(field)
    return here is not None and there is not None and _overlap(here, there)


def _completes(
    cut: object, whole: object, merged: Extraction, second: Extraction, field: str
) -> bool:
    """The second reading is the range the first read only the end of, at its place."""
    if not _read_at_same_place(merged, second, field):
        return False
    end, first = cut.model_dump(exclude={"text"}), whole.model_dump(exclude={"text"})  # type: ignore[attr-defined]
    high = "count_max" if "count_max" in first else "value_max"
    low = "count" if "count" in first else "value"
    if first[high] is None or end[high] is not None or first[high] != end[low]:
        return False
    rest = {k for k in first if k not in (high, low)}
    return all(first[k] == end[k] for k in rest)


def _same_value(mine: object, theirs: object) -> bool:
    if isinstance(mine, int) or isinstance(theirs, int):
        return mine == theirs
    exclude = {"text"}
    return mine.model_dump(exclude=exclude) == theirs.model_dump(exclude=exclude)  # type: ignore[attr-defined]


def _fill_parties(merged: Extraction, second: Extraction) -> None:
    """Names, NPI, dates and payer the first reading missed (never overwritten).

    A prescriber whose name only the second engine read keeps the NPI and credentials
    tesseract read (seen: a form's "MD.  1683433118" row under its labels, the name
    column lost; taking the second reading's prescriber whole dropped the NPI); the
    patient likewise keeps a date of birth.
    """
    if merged.prescriber.name is None and second.prescriber.name is not None:
        merged.prescriber = _completed(merged.prescriber, second.prescriber)
        for key in ("prescriber.name", "prescriber.npi"):
            if key in second.evidence and key not in merged.evidence:
                merged.evidence[key] = second.evidence[key]
    elif merged.prescriber.npi is None and second.prescriber.npi is not None:
        merged.prescriber = merged.prescriber.model_copy(update={"npi": second.prescriber.npi})
    if merged.patient.name is None and second.patient.name is not None:
        merged.patient = _completed(merged.patient, second.patient)
    elif merged.patient.dob is None and second.patient.dob is not None:
        merged.patient = merged.patient.model_copy(update={"dob": second.patient.dob})
    if merged.rx_date is None:
        merged.rx_date = second.rx_date
    if merged.payer.name is None and second.payer.name is not None:
        merged.payer = second.payer
        merged.preauth_required = second.preauth_required


def _completed(mine: PartyT, theirs: PartyT) -> PartyT:
    """The second reading's person with every field the first reading had kept."""
    kept = {k: v for k, v in mine.model_dump().items() if v is not None}
    return theirs.model_copy(update=kept)


def _settle(merged: Extraction, doubt: str) -> None:
    if doubt in merged.doubts:
        merged.doubts = [d for d in merged.doubts if d != doubt]
        merged.confirmed.append(doubt)


def _doubt_faint_second_reading(merged: Extraction, second: Extraction, doubt: str) -> None:
    """A value only the second engine read, faintly: doubted, boxed where it stands, and
    marked for tesseract to read its spot again (``pipeline.process``)."""
    _doubt(merged, doubt)
    merged.unsure[doubt] = second.unsure[doubt]
    merged.second_engine_only.append(doubt)


def _doubt(merged: Extraction, doubt: str) -> None:
    if doubt not in merged.doubts:
        merged.doubts.append(doubt)


def _overlap(a: Evidence, b: Evidence) -> bool:
    """Two values read from the same place: same page, boxes that share most of a line."""
    if not _same_row(a, b):
        return False
    assert a.bbox is not None and b.bbox is not None
    return min(a.bbox[2], b.bbox[2]) > max(a.bbox[0], b.bbox[0])
