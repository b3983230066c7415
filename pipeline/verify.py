"""The verify stage: second readings, of the words a doubt rests on and of a diagnosis
block that gave no reimbursable code.

Tesseract's word confidence is a poor judge of codes and abbreviations: it scores
``S16.1XXA`` or ``2x/week`` low because they are not dictionary words, even when it read
them right. A value doubted only for that reason is read again from its own spot on the
page, cut out, enlarged and read without the rest of the page around it. When the second
reading gives the same value, the doubt is settled; when it gives anything else (or
nothing), the doubt stays and the referral goes to review, as before. Doubts of another
kind (two frequencies that disagree, an ambiguous repair) are never settled here.

All the spots of one document are stacked into one image, so the cost is one small
tesseract run per document that needs it, not one per value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np
from PIL import Image

from models.config import OcrSettings, RuleSettings, Settings
from models.document import PageText, ReadDocument, Word
from models.extraction import CodeMention, Extraction
from models.referral import Evidence, Source
from pipeline.check import diagnoses
from pipeline.extract import codes, timing
from pipeline.extract.layout import Layout
from pipeline.read import tesseract
from pipeline.read.tesseract import OcrError

_ENLARGE = 2
_MARGIN_LINES = 0.4  # above and below the words, in line heights
_MARGIN_SIDE = 1.0  # left and right, in line heights
_GAP = 40  # white pixels between stacked spots
_STACKED_PSM = 6  # one block of lines: each spot is one or two lines of text
_SINGLE_COLUMN_PSM = 4  # a diagnosis table read as one column of lines of varying size


@dataclass(frozen=True)
class Spot:
    """One doubted value's place in the stacked image: rows ``top`` to ``bottom``."""

    key: str
    top: int
    bottom: int


def settle_doubts(
    extraction: Extraction,
    images: dict[int, Image.Image],
    settings: OcrSettings,
    only: Collection[str] | None = None,
) -> Extraction:
    """Read each low-confidence value again from its spot; drop the doubts it confirms.

    ``only`` limits the reading to those doubts (the values the second engine alone
    read): a doubt tesseract's own reading raised was already read again before the
    second engine, and must not be settled by tesseract against a second engine that
    read it otherwise.
    """
    crops = {
        key: _crop(images[ev.page], ev)
        for key, ev in _spots_to_read(extraction).items()
        if ev.bbox is not None
        and ev.page in images
        and key in extraction.doubts
        and (only is None or key in only)
    }
    if not crops:
        return extraction
    extraction.reread.extend(k for k in crops if k not in extraction.reread)
    stacked, spots = _stack(crops)
    try:
        reading = tesseract.read_words(stacked, settings, psm=_STACKED_PSM)
    except OcrError:
        return extraction  # the doubts stand: review, as without this stage
    texts = _texts_by_spot(reading, spots)
    for key, text in texts.items():
        if _confirms(extraction, key, text):
            _settle(extraction, key)
    return extraction


def _spots_to_read(extraction: Extraction) -> dict[str, Evidence]:
    """The faint values' spots, and those of ranges read without their first number.

    (Seen: "|-2x/wk" read surely for "1-2x/wk", the 1 taken for a rule.) A range read
    whole from its spot alone settles the value completed from its end; the same cut
    reading again settles nothing (``_confirms``).
    """
    cut = {f: extraction.evidence[f] for f in extraction.cut_ranges if f in extraction.evidence}
    return {**cut, **extraction.unsure}


def _crop(page: Image.Image, evidence: Evidence) -> Image.Image:
    assert evidence.bbox is not None
    left, top, right, bottom = evidence.bbox
    line = max(8.0, bottom - top)
    box = (
        max(0, int(left - _MARGIN_SIDE * line)),
        max(0, int(top - _MARGIN_LINES * line)),
        min(page.width, int(right + _MARGIN_SIDE * line)),
        min(page.height, int(bottom + _MARGIN_LINES * line)),
    )
    spot = page.crop(box).convert("L")
    return spot.resize((spot.width * _ENLARGE, spot.height * _ENLARGE), Image.Resampling.LANCZOS)


def _stack(crops: dict[str, Image.Image]) -> tuple[Image.Image, list[Spot]]:
    width = max(c.width for c in crops.values()) + 2 * _GAP
    height = sum(c.height for c in crops.values()) + _GAP * (len(crops) + 1)
    canvas = Image.new("L", (width, height), 255)
    spots, y = [], _GAP
    for key, crop in crops.items():
        canvas.paste(crop, (_GAP, y))
        spots.append(Spot(key, y, y + crop.height))
        y += crop.height + _GAP
    return canvas, spots


def _texts_by_spot(reading: tesseract.OcrWords, spots: list[Spot]) -> dict[str, str]:
    """Each word goes to the spot its middle lies in; lines keep their breaks."""
    lines: dict[str, dict[int, list[str]]] = {s.key: {} for s in spots}
    for word in reading.words:
        if word.bbox is None:
            continue
        middle = (word.bbox[1] + word.bbox[3]) / 2
        for spot in spots:
            if spot.top - _GAP / 2 <= middle <= spot.bottom + _GAP / 2:
                lines[spot.key].setdefault(word.line or 0, []).append(word.text)
                break
    return {
        key: "\n".join(" ".join(w) for _, w in sorted(rows.items())) for key, rows in lines.items()
    }


def _confirms(extraction: Extraction, key: str, text: str) -> bool:
    """The second reading must give the very value the first one did."""
    if key.startswith("diagnosis:"):
        code = key.split(":", 1)[1]
        return any(f.code == code and not f.ambiguous for f in codes.find_codes(text))
    expected = _EXPECTED.get(key)
    if expected is None:
        return False
    want, found = expected(extraction), _FOUND[key](text)
    if key in extraction.cut_ranges:  # only the whole range, read this time, settles it
        found = [m for m in found if not timing.lost_range_start(text, m.start)]
    if want is not None and any(m.values[: len(want)] == want for m in found):
        return True
    written = extraction.unsure.get(key)
    if written is None or _FOUND[key](written.text):
        return False  # words that bear a value alone must give that value again
    return _same_characters(written.text, text)


def _same_characters(written: str, text: str) -> bool:
    """The spot read again gives the very characters the value was read from.

    A value read in its context ("Frequency/Duration" above "3x2") has no meaning in a
    spot cut out around it, so its value cannot be found there again; the same
    characters read again at the same place confirm it instead. Only for such words:
    words that bear a value alone ("2x/week") must give the value itself again.
    """
    mine, theirs = _bare(written), _bare(text)
    return len(mine) >= 3 and any(c.isdigit() for c in mine) and mine in theirs


def _bare(text: str) -> str:
    return "".join(text.split()).lower().replace("×", "x")


_EXPECTED: dict[str, Callable[[Extraction], tuple | None]] = {
    "frequency": lambda e: (
        (e.frequency.count, e.frequency.count_max, e.frequency.period, e.frequency.period_unit)
        if e.frequency
        else None
    ),
    "duration": lambda e: (
        (e.duration.value, e.duration.value_max, e.duration.unit) if e.duration else None
    ),
    "visits": lambda e: (e.visits,) if e.visits is not None else None,
}
_FOUND: dict[str, Callable[[str], list[timing.Mention]]] = {
    "frequency": timing.frequencies,
    "duration": lambda text: timing.durations(text, []),
    "visits": timing.visit_counts,
}


def _settle(extraction: Extraction, key: str) -> None:
    extraction.doubts = [d for d in extraction.doubts if d != key]
    extraction.confirmed.append(key)
    if key.startswith("diagnosis:"):
        code = key.split(":", 1)[1]
        for mention in extraction.codes:
            if mention.code == code:
                mention.doubtful = False


# --- A second look at the diagnosis block before a negative decision ----------------

_DIAGNOSIS_HEADER = re.compile(r"diagnos|icd|^dx\b|assessment|impression", re.IGNORECASE)
_BLOCK_INCHES = 1.7  # below the header: room for a table of four or five codes
_RULE_PIXELS = 100  # at 300 dpi a third of an inch: no letter has a stroke that long


def look_again_for_codes(
    extraction: Extraction,
    document: ReadDocument,
    images: dict[int, Image.Image],
    settings: Settings,
) -> Extraction:
    """When no reimbursable code was read, read each OCR'd diagnosis block once more.

    Tesseract's page layout analysis drops whole table cells (a code in a ruled box),
    and a referral would then be rejected, or found without codes, on what it did read.
    The block under a diagnosis header is cut out, read with and without the table's
    rules, in single-column mode. Codes found only this way carry a doubt: they turn
    a rejection into a review (with what was seen listed for staff), never an accept.
    """
    if _has_reimbursable(extraction, settings.rules):
        return extraction
    seen = {m.code for m in extraction.codes}
    for page in document.pages:
        found = _diagnosis_block(page, images[page.number]) if page.number in images else None
        if page.method != "ocr" or found is None:
            continue
        block, top = found
        for mention in _codes_in_block(block, (0, top), page.number, settings):
            if mention.code not in seen:
                seen.add(mention.code)
                extraction.codes.append(mention.model_copy(update={"doubtful": True}))
                extraction.doubts.append(f"diagnosis:{mention.code}")
    return extraction


def _has_reimbursable(extraction: Extraction, rules: RuleSettings) -> bool:
    return any(d.reimbursable for d in diagnoses(extraction.codes, rules))


def _diagnosis_block(page: PageText, image: Image.Image) -> tuple[Image.Image, int] | None:
    """The strip under the page's first diagnosis header, and where it starts.

    One block a page: a second header ("ICD-10 code" under "DIAGNOSES") is mostly the
    same block, and each look costs a tesseract run.
    """
    header = next((w for w in page.words if w.bbox and _DIAGNOSIS_HEADER.search(w.text)), None)
    if header is None or header.bbox is None:
        return None
    top = max(0, int(header.bbox[1]) - 10)
    height = round(_BLOCK_INCHES * image.height / 11)  # a letter page is 11 inches tall
    return image.crop((0, top, image.width, min(image.height, top + height))), top


def _codes_in_block(
    block: Image.Image, offset: tuple[int, int], page_number: int, settings: Settings
) -> list[CodeMention]:
    """The block as it is and without its rules, one above the other: one tesseract run."""
    gap = 2 * _GAP
    stacked = Image.new("L", (block.width, 2 * block.height + gap), 255)
    stacked.paste(block.convert("L"), (0, 0))
    stacked.paste(_without_rules(block), (0, block.height + gap))
    try:
        reading = tesseract.read_words(stacked, settings.ocr, psm=_SINGLE_COLUMN_PSM)
    except OcrError:
        return []
    halves: tuple[list[Word], list[Word]] = ([], [])
    for word in reading.words:
        if word.bbox is None:
            continue
        lower = (word.bbox[1] + word.bbox[3]) / 2 > block.height + gap / 2
        shift = (offset[0], offset[1] - (block.height + gap if lower else 0))
        halves[lower].append(_shifted(word, shift))
    found: list[CodeMention] = []
    for words in halves:
        page = PageText(number=page_number, method="ocr", words=words)
        layout = Layout(
            ReadDocument(source=Source(path="", sha256=None, media_type=None), pages=[page])
        )
        for code in codes.find_codes(layout.text):
            evidence = layout.evidence(code.start, code.end)
            if evidence is not None:
                found.append(
                    CodeMention(
                        code=code.code, evidence=evidence, repaired=code.repaired, doubtful=True
                    )
                )
    return found


def _without_rules(block: Image.Image) -> Image.Image:
    """The block with its table rules (long dark runs across or down) painted white."""
    pixels = np.asarray(block.convert("L"))
    dark = pixels < 160
    rules = _long_runs(dark) | _long_runs(dark.T).T
    cleaned = pixels.copy()
    cleaned[rules] = 255
    return Image.fromarray(cleaned)


def _long_runs(dark: np.ndarray) -> np.ndarray:
    """Pixels inside a horizontal run of at least ``_RULE_PIXELS`` dark pixels."""
    n = _RULE_PIXELS
    sums = np.pad(np.cumsum(dark, axis=1, dtype=np.int32), ((0, 0), (1, 0)))
    full = (sums[:, n:] - sums[:, :-n]) == n  # a run of n starts here
    padded = np.pad(full, ((0, 0), (n - 1, n - 1)))
    covered = np.pad(np.cumsum(padded, axis=1, dtype=np.int32), ((0, 0), (1, 0)))
    return ((covered[:, n:] - covered[:, :-n]) > 0)[:, : dark.shape[1]]


def _shifted(word: Word, offset: tuple[int, int]) -> Word:
    if word.bbox is None:
        return word
    left, top, right, bottom = word.bbox
    dx, dy = offset
    return word.model_copy(update={"bbox": (left + dx, top + dy, right + dx, bottom + dy)})
