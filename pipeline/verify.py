"""The verify stage: a second, closer reading of the words a doubt rests on.

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

from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from models.config import OcrSettings
from models.extraction import Extraction
from models.referral import Evidence
from pipeline.extract import codes, timing
from pipeline.read import tesseract
from pipeline.read.tesseract import OcrError

_ENLARGE = 2
_MARGIN_LINES = 0.4  # above and below the words, in line heights
_MARGIN_SIDE = 1.0  # left and right, in line heights
_GAP = 40  # white pixels between stacked spots
_STACKED_PSM = 6  # one block of lines: each spot is one or two lines of text


@dataclass(frozen=True)
class Spot:
    """One doubted value's place in the stacked image: rows ``top`` to ``bottom``."""

    key: str
    top: int
    bottom: int


def settle_doubts(
    extraction: Extraction, images: dict[int, Image.Image], settings: OcrSettings
) -> Extraction:
    """Read each low-confidence value again from its spot; drop the doubts it confirms."""
    crops = {
        key: _crop(images[ev.page], ev)
        for key, ev in extraction.unsure.items()
        if ev.bbox is not None and ev.page in images and key in extraction.doubts
    }
    if not crops:
        return extraction
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
    return want is not None and any(m.values[: len(want)] == want for m in found)


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
