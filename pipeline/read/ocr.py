"""OCR of one page image, turned upright first when it arrived sideways or upside down.

Tesseract's orientation detection (OSD) is unreliable on standard-resolution faxes,
so the page is read as it is first; only when that reading is poor are the turned
readings tried, and the reading with the most confident text wins. An upright page,
the common case, therefore costs one tesseract run.
"""

from __future__ import annotations

from PIL import Image

from models.config import OcrSettings
from models.document import PageProblem, PageText
from pipeline.read import deskew, lost_lines, tesseract
from pipeline.read.tesseract import OcrError, OcrTimeout, OcrWords

_MIN_WORDS_UPRIGHT = 12
_CONFIDENT_WORDS_UPRIGHT = 15
_OSD_TRUSTED = 2.0
_BLANK_DARKEST = 192  # no pixel darker than this (0 black, 255 white): a blank page


def ocr_page(
    image: Image.Image, number: int, settings: OcrSettings
) -> tuple[PageText, Image.Image]:
    """Read a page; returns its words and the upright image the boxes refer to."""
    if is_blank(image):
        page = PageText(
            number=number, method="ocr", width=image.width, height=image.height, words=[]
        )
        return page, image
    if settings.deskew:
        image = deskew.straightened(image, settings.deskew_max_degrees, settings.deskew_min_degrees)
    try:
        rotation, words, upright, passes = _read_upright(image, settings)
    except OcrError as exc:
        problem = PageProblem.OCR_TIMEOUT if isinstance(exc, OcrTimeout) else PageProblem.OCR_FAILED
        page = PageText(
            number=number,
            method="ocr",
            width=image.width,
            height=image.height,
            problem=problem,
            problem_detail=str(exc),
        )
        return page, image
    found = words.words
    if settings.recover_lost_lines:
        found = lost_lines.recover(upright, found, settings)
    page = PageText(
        number=number,
        method="ocr",
        width=upright.width,
        height=upright.height,
        rotation=rotation,
        confidence=words.confidence,
        ocr_passes=passes,
        words=found,
    )
    return page, upright


def is_blank(image: Image.Image) -> bool:
    """Paper with no mark darker than light grey: nothing for tesseract to read.

    A blank page (a PDF's empty last page, a fax's blank sheet) cost a tesseract run of
    ~0.2 s for no words; a page with any real mark, even a speck, is read as before.
    """
    gray = image if image.mode == "L" else image.convert("L")  # pages arrive grey: no copy
    darkest, _ = gray.getextrema()
    return darkest >= _BLANK_DARKEST


def turned(image: Image.Image, clockwise: int) -> Image.Image:
    """The page turned clockwise by a multiple of 90 degrees (PIL turns anticlockwise)."""
    if clockwise % 360 == 0:
        return image
    return image.rotate(-clockwise, expand=True)


def _read_upright(
    image: Image.Image, settings: OcrSettings
) -> tuple[int, OcrWords, Image.Image, int]:
    first = tesseract.read_words(image, settings)
    if not first.words:
        return 0, first, image, 1  # a blank page: turning it finds no text either
    sideways = _is_sideways(first)
    if _is_good(first, settings) and not sideways:
        return 0, first, image, 1
    readings = {0: (first, image)}
    if not sideways:
        # upside down is the common mistake of a fax fed the wrong way: try it first,
        # and ask OSD (slow, and unsure on faxes) only if that settles nothing
        upside_down = turned(image, 180)
        readings[180] = (tesseract.read_words(upside_down, settings), upside_down)
        if _clear_winner(readings):
            return _best(readings)
    for rotation in _rotations_to_try(image, settings, sideways):
        if rotation in readings:
            continue
        candidate = turned(image, rotation)
        readings[rotation] = (tesseract.read_words(candidate, settings), candidate)
        if _clear_winner(readings):
            break
    return _best(readings)


def _best(
    readings: dict[int, tuple[OcrWords, Image.Image]],
) -> tuple[int, OcrWords, Image.Image, int]:
    upright_ones = [r for r in readings if not _is_sideways(readings[r][0])] or list(readings)
    best = max(upright_ones, key=lambda r: _score(readings[r][0]))
    words, upright = readings[best]
    return best, words, upright, len(readings)


def _clear_winner(readings: dict[int, tuple[OcrWords, Image.Image]]) -> bool:
    """Stop turning once one reading has well over twice the confident text of every other.

    A poor but upright fax beats its upside-down reading by far, so it costs two runs,
    not four.
    """
    scores = sorted((_score(words) for words, _ in readings.values()), reverse=True)
    return len(scores) >= 2 and scores[0] >= 15 and scores[0] > 2.5 * scores[1]


def _is_sideways(reading: OcrWords) -> bool:
    """Tesseract reads vertical lines of text too, but then its word boxes stand on end.

    Left as it is, such a page would be shown to staff sideways, with boxes to match.
    """
    words = [w for w in reading.words if w.bbox and len(w.text) >= 4]
    if len(words) < _MIN_WORDS_UPRIGHT:
        return False
    tall = sum(1 for w in words if (w.bbox[3] - w.bbox[1]) > (w.bbox[2] - w.bbox[0]))
    return tall > len(words) * 0.6


def _rotations_to_try(image: Image.Image, settings: OcrSettings, sideways: bool) -> list[int]:
    """OSD's answer first when it is confident, then upside down, then the sideways turns."""
    order = [90, 270] if sideways else [180, 90, 270]
    guess = tesseract.orientation(image, settings)
    if guess and guess[0] in order and guess[1] >= _OSD_TRUSTED:
        order.remove(guess[0])
        order.insert(0, guess[0])
    return order


def _is_good(reading: OcrWords, settings: OcrSettings) -> bool:
    """Upright beyond doubt: confident overall, or rich in confidently read real words.

    Measured on generated faxes: an upside-down reading has at most a handful of
    confident alphabetic words, an upright one (even a poor, hand-filled one) dozens;
    so a second, turned reading is only paid for on pages that need it.
    """
    if reading.confidence is None:
        return False
    confident_words = sum(
        1
        for w in reading.words
        if (w.confidence or 0.0) >= 0.8 and sum(ch.isalpha() for ch in w.text) >= 3
    )
    if confident_words >= _CONFIDENT_WORDS_UPRIGHT:
        return True
    return (
        reading.confidence >= settings.upright_confidence
        and len(reading.words) >= _MIN_WORDS_UPRIGHT
    )


def _score(reading: OcrWords) -> float:
    """Confident characters in real-looking words: upside-down text reads as low-confidence junk."""
    return sum(
        (w.confidence or 0.0) * len(w.text)
        for w in reading.words
        if (w.confidence or 0.0) >= 0.5 and sum(ch.isalnum() for ch in w.text) >= 2
    )
