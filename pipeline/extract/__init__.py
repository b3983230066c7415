"""The extract stage: a spaCy pipeline of the project's own components.

``spacy.blank("en")`` tokenizes; each component below is registered by name and
reads the document's text, records what it found as labelled spans in
``doc.spans["referral"]`` and fills its part of ``doc._.extraction``. No model is
downloaded: the rules are the project's, the code table is ICD-10-CM's.
"""

from __future__ import annotations

import re

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from models.config import OcrSettings, PayerEntry
from models.document import ReadDocument, Word
from models.extraction import CodeMention, Extraction
from models.referral import Duration, Frequency, Patient, Payer, Prescriber
from pipeline import icd10
from pipeline.extract import codes, dates, people, timing
from pipeline.extract import payer as payer_rules
from pipeline.extract.layout import Layout, PlacedWord
from pipeline.extract.patterns import parse_date

SPANS_KEY = "referral"
CODE_SPANS = "code_spans"  # characters of the codes found, for components after codes

if not Doc.has_extension("extraction"):
    Doc.set_extension("extraction", default=None)


def build_nlp(payers: list[PayerEntry], ocr: OcrSettings) -> Language:
    """The referral pipeline, configured from the settings (payers, confidence threshold)."""
    nlp = spacy.blank("en")
    doubt = {"field_word_confidence": ocr.field_word_confidence}
    nlp.add_pipe("referral_codes", config=doubt)
    numbers = max(ocr.field_number_confidence, ocr.field_word_confidence)
    nlp.add_pipe("referral_timing", config={**doubt, "field_number_confidence": numbers})
    payer_names = sorted({n for p in payers for n in (p.name, *p.aliases)})
    nlp.add_pipe("referral_parties", config={"payer_names": payer_names})
    nlp.add_pipe("referral_payer", config={"payers": [p.model_dump() for p in payers]})
    nlp.add_pipe("referral_rx_date")
    return nlp


def extract(nlp: Language, document: ReadDocument) -> Extraction:
    """Run the pipeline over a read document; the e-mail's sent date backs up ``rx_date``."""
    layout = Layout(document)
    doc = nlp.make_doc(layout.text)
    doc.user_data["layout"] = layout
    doc._.extraction = Extraction()
    doc.spans[SPANS_KEY] = []
    for _, component in nlp.pipeline:
        doc = component(doc)
    extraction: Extraction = doc._.extraction
    if extraction.rx_date is None and document.sent_date is not None:
        extraction.rx_date = document.sent_date
    return extraction


def _add_span(doc: Doc, start: int, end: int, label: str) -> None:
    span = doc.char_span(start, end, label=label, alignment_mode="expand")
    if span is not None:
        doc.spans[SPANS_KEY] = [*doc.spans[SPANS_KEY], Span(doc, span.start, span.end, label)]


def _layout(doc: Doc) -> Layout:
    return doc.user_data["layout"]


def _doubtful(
    layout: Layout, start: int, end: int, threshold: float, numbers_only: bool = False
) -> bool:
    confidence = layout.min_confidence(start, end, numbers_only)
    return confidence is not None and confidence < threshold


_FAINT_CELL = 0.25  # a word read this faintly carries no letter one can trust
_CELL_LETTERS = (5, 9)  # as long as a code is written, with or without its dot
# in text heights: as wide as a code ("m75121" read as "ee" at 0.21, 5.5 heights wide)
_CELL_WIDTH = (2.5, 8.0)
# in text heights: a line's letters (a speck's box is lower, a signature's or a logo's
# taller; a slanted line's box is taller than its letters, "ee" 2.0)
_CELL_HEIGHT = (0.5, 2.2)
# a word of a code's characters with three digits or more, read below this: a code
# tesseract could not make out ("S$16.1XXD" at 0.28, a hand-written S86.912A as
# "586-9120" at 0.31)
_FAINT_CODE_SHAPED = 0.40
# a word in a column of codes, just under one, read below this: a garbled code
# ("Ms5u.3)" at 0.41 for M54.31)
_FAINT_IN_COLUMN = 0.60
# a piece read below this: not one of its letters is known, a word's included
_NOTHING_READ = 0.10
# a code's first letter and digit ("M5 yuh" for a hand-written M54.41)
_CODE_OPENING = re.compile(r"[A-Z]\d")
# in text heights: a gap this wide after a word parts it from the rest of its line
_FAR_GAP = 6.0
_CODE_CHARACTERS = re.compile(r"[A-Za-z0-9.,$\-]+")
# a column label read faintly ("ICD-10.5m" for "ICD-10 code") is no code cell
_LABEL_WORD = re.compile(r"icd|dx|diag|code|assess|impress|" + codes.ICD_MISREAD, re.IGNORECASE)
# a word's lower-case run or a label's colon ("Rafilla:"): a code is capitals and digits
_WORDLIKE = re.compile(r"[a-z]{3}|:$")


def _faint_code_cells(
    layout: Layout, text: str, found: list[codes.FoundCode]
) -> list[tuple[int, int]]:
    """The first word of a diagnosis line, read too faintly to be anything, on a line
    where no code was read: the code column's cell, unread.

    (Seen: "S\\VE\\KXD" at 0.06 for S16.1XXD before "| STRAIN OF MUSCLE ... NECK
    LEVEL"; no rule saw a code in it, and the referral was accepted on its other codes.
    Alone on its line too: "m75121" under two typed codes read as "ee" at 0.21, and a
    hand-written "S86.912A" as "586-9120" at 0.31, each accepted without that code.)
    """
    taken = [(f.start, f.end) for f in found]
    spots = []
    for start, end in codes.diagnosis_blocks(text):
        for placed in layout.words_in(start, end):
            line_start = text.rfind("\n", 0, placed.start) + 1
            line_end = text.find("\n", placed.end)
            line_end = len(text) if line_end < 0 else line_end
            height = layout.text_height(placed.page)
            first_cell = placed.start == line_start and not any(
                line_start <= s < line_end for s, _ in taken
            )
            alone = line_end == placed.end
            if (
                (first_cell and _is_code_cell(placed.word, height, alone))
                or (
                    alone
                    and _after_the_lines_code(text, line_start, placed.start, taken)
                    and _is_code_cell(placed.word, height, alone=True)
                )
                or (
                    alone
                    and _listed_after_a_code(text, line_start, placed.start, taken)
                    and _is_listed_garble(placed.word, height)
                )
                or (
                    _before_a_listed_code(text, placed.end, line_end, taken)
                    and not _a_code_read(placed, taken)
                    and _is_code_cell(placed.word, height, alone=False)
                )
                or (
                    first_cell
                    and (alone or _far_from_the_next_word(layout, placed, line_end, height))
                    and _is_garbled_code(placed.word, height)
                    and _in_a_code_column(layout, placed, found, height)
                )
            ):
                spots.append((placed.start, placed.end))
    return spots


def _far_from_the_next_word(
    layout: Layout, placed: PlacedWord, line_end: int, height: int | None
) -> bool:
    """The next word of the line stands far to the right (a speck at the page's edge,
    "Ziii8o ... ae"), not as a description's first word would, right after the code."""
    rest = [p for p in layout.words_in(placed.end, line_end) if p.start >= placed.end]
    box = placed.word.bbox
    if not rest or box is None or rest[0].word.bbox is None or height is None:
        return False
    return rest[0].word.bbox[0] - box[2] > _FAR_GAP * height


def _faint_lines_in_the_code_column(
    layout: Layout, text: str, found: list[codes.FoundCode]
) -> list[tuple[int, int]]:
    """A diagnosis line of faint pieces only, as wide as a code, in a code's column.

    (Seen: a hand-written Z71.52 above a code read, as "7 id Oia" at 0.38, 0.23 and 0.00,
    and the referral accepted on the other code.) Each piece is too short to be taken
    for a code cell; the line together is one.
    """
    taken = [(f.start, f.end) for f in found]
    spots = []
    for start, end in codes.diagnosis_blocks(text):
        lines: dict[int, list[PlacedWord]] = {}
        for placed in layout.words_in(start, end):
            lines.setdefault(text.rfind("\n", 0, placed.start), []).append(placed)
        for line in lines.values():
            first, last = line[0], line[-1]
            if len(line) < 2 or any(first.start <= s < last.end for s, _ in taken):
                continue
            if _faint_code_wide(line, layout.text_height(first.page)) and _in_a_code_column(
                layout, first, found, layout.text_height(first.page)
            ):
                spots.append((first.start, last.end))
    return spots


def _faint_code_wide(line: list[PlacedWord], height: int | None) -> bool:
    """Of a line's height, no label among the pieces, the whole as wide as a code, and
    read as what is left of a code's cell, not of a sentence: every piece faint with no
    word among them, or a code's first letter and digit before a faint rest."""
    boxes = [p.word.bbox for p in line if p.word.bbox is not None]
    if height is None or len(boxes) < len(line):
        return False
    if any(_LABEL_WORD.match(p.word.text) or p.word.text.endswith(":") for p in line):
        return False  # a header row read faintly ("FED 10 Code")
    if not all(_line_sized(p.word, height) for p in line):
        return False
    width = (max(b[2] for b in boxes) - min(b[0] for b in boxes)) / height
    if not _CELL_WIDTH[0] <= width <= _CELL_WIDTH[1]:
        return False
    return _all_faint_pieces(line) or _opens_like_a_code(line)


def _all_faint_pieces(line: list[PlacedWord]) -> bool:
    """Every piece faint; a word's letters only where nothing of it was read surely.

    (Seen: S13.8XXD as "S oteeXAD" at 0.01 and 0.00 under two codes read, the referral
    accepted without it; a description's "pain" read at 0.23 is still a word.)
    """
    return all(
        p.word.confidence is not None
        and p.word.confidence < _FAINT_CODE_SHAPED
        and (p.word.confidence < _NOTHING_READ or not _WORDLIKE.search(p.word.text))
        for p in line
    )


def _opens_like_a_code(line: list[PlacedWord]) -> bool:
    """A code's letter and digit first, a code's length in all, the rest read unsurely.

    (Seen: a hand-written M54.41 as "M5 yuh" at 0.74 and 0.34 above two codes read; the
    referral was accepted on those two.)
    """
    joined = "".join(p.word.text for p in line)
    letters = sum(c.isalnum() for c in joined)
    return (
        bool(_CODE_OPENING.match(joined))
        and _CELL_LETTERS[0] <= letters <= _CELL_LETTERS[1]
        and any(
            p.word.confidence is not None and p.word.confidence < _FAINT_IN_COLUMN for p in line
        )
    )


def _in_a_code_column(
    layout: Layout, placed: PlacedWord, found: list[codes.FoundCode], height: int | None
) -> bool:
    """Left-aligned with a code read within three lines above or below it: the next
    code's cell (seen: "Ms5u.3)" at 0.41 under "$33.6XxD" for M54.31; not faint enough
    to be no word at all, but a cell in a column of codes)."""
    box = placed.word.bbox
    if box is None or height is None:
        return False
    for code in found:
        evidence = layout.evidence(code.start, code.end)
        if evidence is None or evidence.page != placed.page or evidence.bbox is None:
            continue
        lefts = [evidence.bbox[0], *_line_opening(layout, code.start)]
        if (
            any(abs(box[0] - left) <= height for left in lefts)
            and abs(box[1] - evidence.bbox[1]) <= 3 * height
        ):
            return True
    return False


def _line_opening(layout: Layout, start: int) -> list[float]:
    """Where the code's line begins, when a list's number stands before the code.

    (Seen: "1. M25541", "2. M4142", then "S oteeXAD" for "3. S13.8XXD", its number
    lost: the garble stands where the list's numbers do, left of the codes.)
    """
    line_start = layout.text.rfind("\n", 0, start) + 1
    before = [p for p in layout.words_in(line_start, start) if p.end <= start]
    if len(before) != 1 or not re.fullmatch(r"\d{1,2}[.)]?", before[0].word.text):
        return []
    box = before[0].word.bbox
    return [] if box is None else [box[0]]


def _is_garbled_code(word: Word, height: int | None) -> bool:
    """A code's length of letters and digits, both, read less than surely (digits alone,
    a date or a phone number, are no code)."""
    text, confidence = word.text, word.confidence
    if confidence is None or confidence >= _FAINT_IN_COLUMN or not text[0].isalnum():
        return False
    if not any(c.isdigit() for c in text) or not any(c.isalpha() for c in text):
        return False
    if text.endswith(":") or _LABEL_WORD.match(text) or re.search(r"[a-z]{4}", text):
        return False  # a label ("ICD-10.code"), a word; "Ziii8o" (a short run, a digit) is none
    letters = sum(c.isalnum() for c in text)
    return _CELL_LETTERS[0] <= letters <= _CELL_LETTERS[1] and _line_sized(word, height)


def _after_the_lines_code(
    text: str, line_start: int, start: int, taken: list[tuple[int, int]]
) -> bool:
    """The line holds a code read and then only this word: the second code of a pair.

    (Seen: "M25.519  S33.8XXA" under "Assessment/Plan", the second read as "oe" at 0.06
    and the referral accepted on the first.) A description after a code has more words.
    """
    return any(
        line_start <= s and not text[line_start:s].strip() and not text[e:start].strip(" ,;")
        for s, e in taken
    )


def _before_a_listed_code(text: str, end: int, line_end: int, taken: list[tuple[int, int]]) -> bool:
    """The next thing on the line, past a list's commas or stops, is a code read.

    (Seen: "Diagnosis codes: R1083, R52." on a typed letter, the first read as "BIGRS."
    at 0.00; the referral was accepted on R52 alone.) A code's neighbour in a list is
    the list's previous item, whatever the label before it.
    """
    return any(end <= s < line_end and not text[end:s].strip(" ,;.") for s, _ in taken)


def _listed_after_a_code(
    text: str, line_start: int, start: int, taken: list[tuple[int, int]]
) -> bool:
    """A code read, then a list's comma or semicolon, then this word (the line's last).

    (Seen: "DX: S239XxA, SIbIKXA", a hand-written S16.1XXA read at 0.42 after the code
    before it; accepted on the first alone.)
    """
    return any(
        line_start <= s and e <= start and re.fullmatch(r"\s*[,;]\s*", text[e:start])
        for s, e in taken
    )


def _is_listed_garble(word: Word, height: int | None) -> bool:
    """Of a code's length, opening with a letter, no word or label, read less than surely."""
    text, confidence = word.text.rstrip(".,;"), word.confidence
    if confidence is None or confidence >= _FAINT_IN_COLUMN or not text[:1].isalpha():
        return False
    if _LABEL_WORD.match(text) or _WORDLIKE.search(text) or not text.isalnum():
        return False
    return _CELL_LETTERS[0] <= len(text) <= _CELL_LETTERS[1] and _line_sized(word, height)


def _a_code_read(placed: PlacedWord, taken: list[tuple[int, int]]) -> bool:
    """The word holds a code read (a faint "S70.00XA," before the next code is a code)."""
    return any(s < placed.end and placed.start < e for s, e in taken)


def _is_code_cell(word: Word, height: int | None, alone: bool) -> bool:
    """Read as a code's cell would be, faint: of a code's length before a description,
    as wide as a code alone on its line, or of a code's characters (then less faint).

    Not: a garble of marks ("1\\—~Y/", a signature), a word, a label, a speck or logo.
    """
    text, confidence = word.text, word.confidence
    if confidence is None or not text[0].isalnum() or not _line_sized(word, height):
        return False
    if _LABEL_WORD.match(text) or _WORDLIKE.search(text):
        return False
    if sum(c.isalnum() for c in text) < 0.6 * len(text):
        return False
    long_as_code = _CELL_LETTERS[0] <= len(text) <= _CELL_LETTERS[1]
    if confidence < _FAINT_CODE_SHAPED and long_as_code and _code_shaped(text):
        return True
    if confidence >= _FAINT_CELL:
        return False
    return (long_as_code and not alone) or (alone and _wide_as_code(word, height))


def _line_sized(word: Word, height: int | None) -> bool:
    if height is None or word.bbox is None:
        return True  # nothing to measure by: the other tests decide
    tall = (word.bbox[3] - word.bbox[1]) / height
    return _CELL_HEIGHT[0] <= tall <= _CELL_HEIGHT[1]


def _code_shaped(text: str) -> bool:
    return bool(_CODE_CHARACTERS.fullmatch(text)) and sum(c.isdigit() for c in text) >= 3


def _wide_as_code(word: Word, height: int | None) -> bool:
    if height is None or word.bbox is None:
        return False
    width = (word.bbox[2] - word.bbox[0]) / height
    return _CELL_WIDTH[0] <= width <= _CELL_WIDTH[1]


class CodesComponent:
    """ICD-10-CM codes, once each in order of first appearance, with evidence."""

    def __init__(self, field_word_confidence: float) -> None:
        self.threshold = field_word_confidence
        icd10.codes_described_as("")  # build the description index now, not on a document

    def __call__(self, doc: Doc) -> Doc:
        layout, extraction = _layout(doc), doc._.extraction
        seen: set[str] = set()
        found_codes = codes.find_codes(doc.text)
        doc.user_data[CODE_SPANS] = [(found.start, found.end) for found in found_codes]
        suspicious = codes.unread_codes(doc.text, found_codes)
        suspicious += codes.described_without_code(doc.text, found_codes)
        suspicious += _faint_code_cells(layout, doc.text, found_codes)
        suspicious += _faint_lines_in_the_code_column(layout, doc.text, found_codes)
        for start, end in suspicious:
            _add_span(doc, start, end, "UNREAD_CODE")
            extraction.doubts.append("diagnosis:unread")
            evidence = layout.evidence(start, end)
            if evidence is not None:
                extraction.unread_spots.append(evidence)
        for found in found_codes:
            _add_span(doc, found.start, found.end, "DIAGNOSIS")
            if found.code in seen:
                continue
            seen.add(found.code)
            evidence = layout.evidence(found.start, found.end)
            if evidence is None:
                continue
            faint = _doubtful(layout, found.start, found.end, self.threshold)
            if faint and not found.ambiguous:
                faint = not self._faintness_harmless(layout, doc.text, found)
            doubtful = found.ambiguous or faint or codes.tail_split_off(doc.text, found)
            described = codes.described_beside(doc.text, found)
            if described:
                faint = doubtful = False  # its whole official description stands beside it
            extraction.codes.append(
                CodeMention(
                    code=found.code,
                    evidence=evidence,
                    repaired=found.repaired,
                    doubtful=doubtful,
                    described=described,
                )
            )
            if doubtful:
                extraction.doubts.append(f"diagnosis:{found.code}")
            if faint and not found.ambiguous:
                extraction.unsure[f"diagnosis:{found.code}"] = evidence
        return doc

    def _faintness_harmless(self, layout: Layout, text: str, found: codes.FoundCode) -> bool:
        """The letters read faintly are none that could make it another code (PP-OCR only)."""
        start, end = layout.whole_words(found.start, found.end)
        faint = layout.faint_letters(start, end, self.threshold)
        return faint is not None and codes.faint_letters_decide_nothing(
            text, start, end, faint, found.code
        )


# a tick a form's text layer writes as text: "X" before an option, or a box's glyph
_TEXT_TICK = re.compile(r"[X☒☑✓✔]|\[[xX✓✔]\]")


def _rows_ticked_as_text(layout: Layout, text: str) -> frozenset[int]:
    """The lines (keyed by the newline before each) of text-layer pages with a tick in text.

    There a row of options shows every tick made; on an OCR'd page a tick can be lost,
    and on a page that draws its ticks as graphics none shows at all (both stay doubts).
    """
    pages: dict[int, list[PlacedWord]] = {}
    for placed in layout.words:
        pages.setdefault(placed.page, []).append(placed)
    rows: set[int] = set()
    for words in pages.values():
        printed = all(p.word.confidence is None for p in words)
        if printed and any(_TEXT_TICK.fullmatch(p.word.text) for p in words):
            rows.update(text.rfind("\n", 0, p.start) for p in words)
    return frozenset(rows)


# a frequency written without a count: once a week or month by its word alone
_COUNTLESS = re.compile(r"(?:weekly|monthly|every|each)\b", re.IGNORECASE)


class TimingComponent:
    """Frequency, duration and total visits, each the best-supported mention."""

    def __init__(self, field_word_confidence: float, field_number_confidence: float) -> None:
        self.threshold = field_word_confidence
        self.number_threshold = field_number_confidence

    def __call__(self, doc: Doc) -> Doc:
        extraction, text = doc._.extraction, doc.text
        # same offsets; evidence keeps the page's words
        spelled = timing.repair_unit_words(timing.without_accents(text))
        spelled = timing.repair_misread_ones(spelled)
        spelled = timing.repair_misread_fours(spelled)
        spelled = timing.without_specks(timing.drop_numbers_written_twice(spelled))
        spelled = timing.without_codes(spelled, doc.user_data.get(CODE_SPANS, []))
        printed = _rows_ticked_as_text(_layout(doc), text)
        found = timing.frequencies(spelled, printed)
        frequency, frequency_conflict = timing.best(found)
        if frequency is not None:
            cut = timing.lost_range_start(text, frequency.start)
            count, count_max, period, unit = timing.range_from_its_end(frequency.values, cut)
            extraction.frequency = Frequency(
                count=count,
                count_max=count_max,
                period=period,
                period_unit=unit,
                text=text[frequency.start : frequency.end],
            )
            repaired = _count_repaired(text, spelled, frequency)
            lost = self._count_lost_before(_layout(doc), text, frequency)
            self._record(doc, frequency, "frequency", frequency_conflict or lost, cut, repaired)
            if _four_repaired(text, spelled, frequency):
                self._doubt_the_letter(doc, "frequency")
        supported = [(m.start, m.end) for m in found if m.score > 0]
        ordered_end = frequency.end if frequency is not None else None
        duration, duration_conflict = timing.best(
            timing.durations(spelled, supported, ordered_end, printed)
        )
        if duration is not None:
            cut = timing.lost_range_start(text, duration.start)
            value, value_max, unit = timing.range_from_its_end(duration.values, cut)
            extraction.duration = Duration(
                value=value,
                value_max=value_max,
                unit=unit,
                text=text[duration.start : duration.end],
            )
            unread_context = self._unread_context(_layout(doc), text, duration)
            self._record(doc, duration, "duration", duration_conflict or unread_context, cut)
        visits, _ = timing.best(timing.visit_counts(spelled))
        if visits is not None:
            extraction.visits = visits.values[0]
            self._record(doc, visits, "visits", False, False)
        return doc

    def _record(
        self,
        doc: Doc,
        mention: timing.Mention,
        field: str,
        conflict: bool,
        cut: bool,
        repaired: bool = False,
    ) -> None:
        """The value's span, evidence and doubts.

        A count read as a letter ("ix/week") holds no digit, so the number threshold,
        which guards a value's number, is applied to the whole mention instead.
        """
        layout, extraction = _layout(doc), doc._.extraction
        _add_span(doc, mention.start, mention.end, field.upper())
        evidence = layout.evidence(mention.start, mention.end)
        if evidence is not None:
            extraction.evidence[field] = evidence
        faint = _doubtful(layout, mention.start, mention.end, self.threshold) or _doubtful(
            layout, mention.start, mention.end, self.number_threshold, numbers_only=not repaired
        )
        if faint and not (conflict or cut):
            faint = not self._faintness_harmless(layout, doc.text, mention, field)
        if cut:
            extraction.cut_ranges.append(field)
        conflict = conflict or _after_a_digit_like_letter(doc.text, mention.start)
        if conflict or cut or faint:
            extraction.doubts.append(field)
        if faint and not (conflict or cut) and evidence is not None:
            extraction.unsure[field] = evidence

    def _unread_context(self, layout: Layout, text: str, mention: timing.Mention) -> bool:
        """A duration nothing but its lead word supports, after a word read faintly.

        The words before a "for 2 weeks" are what tell a prescribed duration from
        symptom history or a follow-up; one of them misread (seen: "'SyMproms for 2
        weeks" at 0.25, where the letter ordered no duration) leaves it unknown which.
        Doubted as a conflict is: reading the value again cannot settle its context.
        """
        if mention.score > timing.ONLY_ITS_LEAD:
            return False
        start = timing.context_words_start(text, mention.start)
        return any(
            placed.end <= mention.start
            and sum(c.isalpha() for c in placed.word.text) >= 3
            and placed.word.confidence is not None  # a text layer's words are sure
            and placed.word.confidence < self.threshold
            for placed in layout.words_in(start, mention.start)
        )

    @staticmethod
    def _doubt_the_letter(doc: Doc, field: str) -> None:
        """A value whose count was a letter misread ("A times a month"): doubted, and
        read again from its spot, where a sure "4" settles it."""
        extraction = doc._.extraction
        if field not in extraction.doubts:
            extraction.doubts.append(field)
        if field in extraction.evidence:
            extraction.unsure[field] = extraction.evidence[field]

    def _count_lost_before(self, layout: Layout, text: str, mention: timing.Mention) -> bool:
        """A frequency with no count ("weekly") right after a word read faintly: that word
        may have been its count (seen: "{wice weekly" at 0.41 for "twice weekly", taken as
        once a week). Doubted as a conflict is, since reading "weekly" again settles
        nothing."""
        if not _COUNTLESS.match(text, mention.start):
            return False
        line_start = text.rfind("\n", 0, mention.start) + 1
        before = [w for w in layout.words_in(line_start, mention.start) if w.end <= mention.start]
        if not before or timing.names_the_treatment(before[-1].word.text):
            return False  # "massage weekly": the word before is no count
        confidence = before[-1].word.confidence
        return confidence is not None and confidence < self.threshold

    def _faintness_harmless(
        self, layout: Layout, text: str, mention: timing.Mention, field: str
    ) -> bool:
        """The letters read faintly are none that could change the value (PP-OCR only).

        The whole words are weighed: a faint "-" glued to the "3" of "-3 times perweek" is
        where a range's first number was lost (seen; "2-3 times per week" was written).
        """
        start, end = layout.whole_words(mention.start, mention.end)
        faint = layout.faint_letters(start, end, self.threshold)
        written = text[start:end]
        return faint is not None and timing.faint_letters_decide_nothing(
            field, written, faint, mention.values
        )


# letters OCR makes of digits (1, 0, 5, 8, 2), glued before a value's first digit
_DIGIT_LIKE_LETTERS = frozenset("IlO|oSBZ")


def _after_a_digit_like_letter(text: str, start: int) -> bool:
    """A value whose number is glued to a letter that may be one of its digits.

    (Seen: PP-OCR read a hand-written "x 12 wks" as "xI2wkS", sure of the "I", and "2 wks"
    was accepted.) Reading the spot again would give the same letters: doubted as a
    conflict is.
    """
    return (
        start > 0 and text[start : start + 1].isdigit() and text[start - 1] in _DIGIT_LIKE_LETTERS
    )


def _count_repaired(text: str, spelled: str, mention: timing.Mention) -> bool:
    """Whether a number of the mention was a letter on the page ("ix/week")."""
    return any(
        text[i] != spelled[i] and spelled[i].isdigit() for i in range(mention.start, mention.end)
    )


def _four_repaired(text: str, spelled: str, mention: timing.Mention) -> bool:
    """Whether the mention's count was an "A" on the page ("A times a month")."""
    return any(text[i] == "A" and spelled[i] == "4" for i in range(mention.start, mention.end))


def _folded(name: str) -> str:
    return " ".join(name.lower().split())


class PartiesComponent:
    """Patient (name, date of birth) and prescriber (name, credentials, NPI)."""

    def __init__(self, payer_names: list[str]) -> None:
        # a payer's name is no one's: "Premera Blue Cross" on the line under a form's
        # "Pt  Insurance" labels was taken as the patient
        self._payer_names = {_folded(n) for n in payer_names}

    def __call__(self, doc: Doc) -> Doc:
        layout, extraction, text = _layout(doc), doc._.extraction, doc.text
        mentions = [m for m in people.patients(text) if _folded(m.name) not in self._payer_names]
        patient = max(mentions, key=lambda m: m.score, default=None)
        if patient:
            patient = people.with_accents_written_elsewhere(patient, mentions)
        dob = self._birth_date(text, patient)
        extraction.patient = Patient(name=patient.name if patient else None, dob=dob)
        if patient:
            _add_span(doc, patient.start, patient.end, "PATIENT")
            self._evidence(extraction, layout, "patient.name", patient.start, patient.end)
        npis = people.npis(text)
        prescriber = self._prescriber(text, patient.name if patient else None, npis)
        npi = self._npi(npis, prescriber)
        extraction.prescriber = Prescriber(
            name=prescriber.name if prescriber else None,
            credentials=prescriber.credentials if prescriber else None,
            npi=npi[0] if npi else None,
        )
        if prescriber:
            _add_span(doc, prescriber.start, prescriber.end, "PRESCRIBER")
            self._evidence(extraction, layout, "prescriber.name", prescriber.start, prescriber.end)
        if npi:
            self._evidence(extraction, layout, "prescriber.npi", npi[1], npi[2])
        return doc

    @staticmethod
    def _evidence(extraction: Extraction, layout: Layout, field: str, start: int, end: int) -> None:
        evidence = layout.evidence(start, end)
        if evidence is not None:
            extraction.evidence[field] = evidence

    @staticmethod
    def _birth_date(text: str, patient: people.PersonMention | None):
        mentions = people.births(text)
        if not mentions:
            return None
        anchor = patient.start if patient else 0
        match, _ = min(mentions, key=lambda m: abs(m[1] - anchor))
        return parse_date(match, birth=True)

    @staticmethod
    def _prescriber(
        text: str, patient_name: str | None, npis: list[tuple[str, int, int]]
    ) -> people.PersonMention | None:
        mentions = people.prescribers(text, patient_name)
        if not mentions:
            return None
        anchors = [start for _, start, _ in npis] + people.sign_off_positions(text)
        counts: dict[str, int] = {}
        for mention in mentions:
            counts[mention.name.lower()] = counts.get(mention.name.lower(), 0) + 1

        def support(mention: people.PersonMention) -> float:
            near = any(abs(mention.start - a) <= 150 for a in anchors)
            repeated = 0.3 * (counts[mention.name.lower()] - 1)
            return (
                mention.score
                + (0.5 if near else 0.0)
                + repeated
                + 0.2 * mention.start / max(1, len(text))
            )

        chosen = max(mentions, key=support)
        if chosen.credentials is None:
            same = [m for m in mentions if m.name == chosen.name and m.credentials]
            if same:
                chosen = people.PersonMention(
                    chosen.name, chosen.start, chosen.end, same[0].credentials, chosen.score
                )
        return chosen

    @staticmethod
    def _npi(
        npis: list[tuple[str, int, int]], prescriber: people.PersonMention | None
    ) -> tuple[str, int, int] | None:
        if not npis:
            return None
        if prescriber is None or len(npis) == 1:
            return npis[0]
        return min(npis, key=lambda n: abs(n[1] - prescriber.end))


class PayerComponent:
    """The payer named on the referral, its kind, pre-authorization, and the claim number."""

    def __init__(self, payers: list[dict]) -> None:
        self.compiled = payer_rules.compile_payers([PayerEntry.model_validate(p) for p in payers])

    def __call__(self, doc: Doc) -> Doc:
        layout, extraction, text = _layout(doc), doc._.extraction, doc.text
        # a form's printed choices ("L&I / PIP claim #") name no payer of this patient
        mentions = [m for m in payer_rules.payers(text, self.compiled) if m.score >= 0.5]
        claims = payer_rules.claim_numbers(text)
        chosen = max(mentions, key=lambda m: m.score, default=None)
        carriers = [m for m in mentions if m.entry.kind == "pip" and m.entry.name != "PIP"]
        if chosen and chosen.entry.kind == "pip" and carriers:
            chosen = max(carriers, key=lambda m: m.score)  # "Safeco PIP": the carrier pays
        extraction.payer = Payer(
            name=chosen.entry.name if chosen else None,
            kind=chosen.entry.kind if chosen else None,
            claim_number=claims[0][0] if claims else None,
        )
        extraction.preauth_required = bool(chosen and chosen.entry.preauth)
        if chosen:
            _add_span(doc, chosen.start, chosen.end, "PAYER")
            evidence = layout.evidence(chosen.start, chosen.end)
            if evidence is not None:
                extraction.evidence["payer.name"] = evidence
        return doc


class RxDateComponent:
    """The date the prescription was written."""

    def __call__(self, doc: Doc) -> Doc:
        layout, extraction = _layout(doc), doc._.extraction
        born = extraction.patient.dob  # a birth date whose label OCR garbled is no Rx date
        mentions = [
            m for m in dates.prescription_dates(doc.text) if m.score >= 0.5 and m.value != born
        ]
        if not mentions:
            return doc
        top = max(m.score for m in mentions)
        chosen = next(m for m in mentions if m.score == top)
        extraction.rx_date = chosen.value
        _add_span(doc, chosen.start, chosen.end, "RX_DATE")
        evidence = layout.evidence(chosen.start, chosen.end)
        if evidence is not None:
            extraction.evidence["rx_date"] = evidence
        return doc


@Language.factory("referral_codes", default_config={"field_word_confidence": 0.45})
def _make_codes(nlp: Language, name: str, field_word_confidence: float) -> CodesComponent:
    return CodesComponent(field_word_confidence)


@Language.factory(
    "referral_timing",
    default_config={"field_word_confidence": 0.45, "field_number_confidence": 0.60},
)
def _make_timing(
    nlp: Language, name: str, field_word_confidence: float, field_number_confidence: float
) -> TimingComponent:
    return TimingComponent(field_word_confidence, field_number_confidence)


@Language.factory("referral_parties", default_config={"payer_names": []})
def _make_parties(nlp: Language, name: str, payer_names: list[str]) -> PartiesComponent:
    return PartiesComponent(payer_names)


@Language.factory("referral_payer", default_config={"payers": []})
def _make_payer(nlp: Language, name: str, payers: list[dict]) -> PayerComponent:
    return PayerComponent(payers)


@Language.factory("referral_rx_date")
def _make_rx_date(nlp: Language, name: str) -> RxDateComponent:
    return RxDateComponent()
