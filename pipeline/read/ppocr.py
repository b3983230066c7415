"""The one place that talks to the second OCR engine: PP-OCR, through RapidOCR.

Tesseract reads print well and handwriting badly: a hand-filled "1 to 2 times a week"
comes back as "| to 2 fimes a week" or nothing, a written ``S39.012A`` as ``O97.``.
PP-OCR's text detector and recogniser (ONNX models shipped inside the
``rapidocr-onnxruntime`` wheel; nothing is downloaded at run time) read the same
strokes far better, at a cost of one to three seconds a page on one core. So it is not
the first reader: the pipeline asks it only for pages of a referral that tesseract's
reading would send to review or reject (see ``pipeline.second_engine``).

Like ``tesseract.py``: one engine per worker process, single-threaded (one worker per
core already uses every core), and any failure inside it becomes a typed ``OcrError``
so that a page this engine cannot read keeps its first reading instead of crashing.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PIL import Image

from models.config import OcrSettings
from models.document import Word
from pipeline.read.tesseract import OcrError, OcrWords, mean_confidence, rows_of_words

_SPACE_COLUMNS = 4  # recogniser output columns (8 px at 48 px high) that make a space
_ENDS_WORD = {":", ";"}  # "Dx:S03.43XD": a label's colon ends it, space or not
Box = tuple[float, float, float, float]


class SecondReaderMissing(OcrError):
    """The rapidocr-onnxruntime package (or its models) could not be loaded."""


class SecondReaderFailed(OcrError):
    """The engine raised while reading a page."""


class SecondReader:
    """PP-OCR loaded once (three small ONNX models, ~1 s), then page after page."""

    def __init__(self, settings: OcrSettings) -> None:
        self._max_side = settings.second_reader_max_side
        self._trust = settings.second_reader_trusts
        self._engine: Any = None

    def read_words(self, image: Image.Image, first: list[Word] | None = None) -> OcrWords:
        """Words with boxes in ``image`` pixels and confidences (0-1), in reading order.

        PP-OCR finds the lines of text; a line the first reading (``first``) already read
        with confidence is taken from it, and only the others are recognised, cut from
        the full-resolution page. Recognition is most of PP-OCR's cost (0.1 s a line),
        and a typed page's lines are mostly read well already.
        """
        engine = self._loaded()
        kept, unread = trusted_lines(self._lines(engine, image), first or [], self._trust)
        recognised = self._recognise(engine, image, unread)
        ordered = rows_of_words(kept + without_repeats(recognised, kept))
        return OcrWords(words=ordered, confidence=mean_confidence(ordered))

    def _lines(self, engine: Any, page: Image.Image) -> list[Box]:
        """The boxes of the page's lines, from PP-OCR's detector on a scaled-down copy.

        The page (grayscale) is scaled before it is made RGB, and the detector is called
        without the engine's own step that cuts every line out for recognition: both are
        the same pixels and boxes as before, without ~0.15 s a page of work nobody used.
        """
        scale = min(1.0, self._max_side / max(page.size))
        small = page
        if scale < 1.0:
            size = (round(page.width * scale), round(page.height * scale))
            small = page.resize(size, Image.Resampling.LANCZOS)
        try:
            found = _detected(engine, np.asarray(small.convert("RGB"))[:, :, ::-1])
        except Exception as exc:  # an ONNX or OpenCV error must cost a page, not the service
            raise SecondReaderFailed(f"second reader failed: {type(exc).__name__}") from exc
        boxes = []
        for quad in found or []:
            left, top, right, bottom = _bounds(quad)
            boxes.append((left / scale, top / scale, right / scale, bottom / scale))
        return boxes

    def _recognise(self, engine: Any, page: Image.Image, boxes: list[Box]) -> list[Word]:
        """The lines' words, with each letter's confidence and place from the recogniser.

        Uses the engine's recogniser directly (``text_rec``; rapidocr-onnxruntime is
        pinned): its public call gives one score a line, and a misread letter hides in
        a line's mean where it shows in the letter's own score.
        """
        if not boxes:
            return []
        crops, placed = [], []
        for left, top, right, bottom in boxes:
            margin = 0.15 * (bottom - top)
            crop_box = (
                max(0, int(left - margin)),
                max(0, int(top - margin)),
                min(page.width, int(right + margin)),
                min(page.height, int(bottom + margin)),
            )
            crops.append(np.asarray(page.crop(crop_box).convert("RGB"))[:, :, ::-1])
            placed.append((crop_box[0], top, crop_box[2], bottom))
        try:
            found, _ = engine.text_rec(crops, True)
        except Exception as exc:  # an ONNX or OpenCV error must cost a page, not the service
            raise SecondReaderFailed(f"second reader failed: {type(exc).__name__}") from exc
        words: list[Word] = []
        for line_box, result in zip(placed, found, strict=True):
            words.extend(_line_words(result, line_box))
        return words

    def load(self) -> None:
        """Load the models now (a worker's start-up) rather than on the first page."""
        self._loaded()

    def _loaded(self) -> Any:
        if self._engine is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:
                raise SecondReaderMissing("rapidocr-onnxruntime is not installed") from exc
            logging.getLogger("RapidOCR").setLevel(logging.ERROR)  # it logs per page
            self._engine = RapidOCR(
                intra_op_num_threads=1,
                inter_op_num_threads=1,
                max_side_len=self._max_side,
                use_cls=False,
                # one line per recogniser call: a batch pads every line to its widest,
                # so a line's reading would depend on its neighbours, and the padded
                # batch costs more than its lines one by one (measured on one core:
                # six 1280-pixel lines 0.72 s together, 0.27 s one at a time)
                rec_batch_num=1,
            )
        return self._engine


def _detected(engine: Any, image: np.ndarray) -> list[Any]:
    """The line quadrilaterals RapidOCR's own call gives with ``use_rec=False``.

    Its steps (rapidocr-onnxruntime is pinned) up to detection, and not the one after,
    which warps every detected line into a crop for a recogniser that is not asked.
    """
    raw_h, raw_w = image.shape[:2]
    scaled, ratio_h, ratio_w = engine.preprocess(image)
    record: dict[str, Any] = {"preprocess": {"ratio_h": ratio_h, "ratio_w": ratio_w}}
    scaled, record = engine.maybe_add_letterbox(scaled, record)
    boxes, _ = engine.auto_text_det(scaled)
    if boxes is None:
        return []
    return list(engine._get_origin_points(boxes, record, raw_h, raw_w))


def trusted_lines(
    boxes: list[Box], first: list[Word], trust: float
) -> tuple[list[Word], list[Box]]:
    """The first reading's words kept for the lines it read surely, and the lines left.

    PP-OCR's line boxes overlap where a line is cut in two; a word under both is kept
    once (seen: "in 3 wks wks or sooner sooner" before this).
    """
    kept: list[Word] = []
    taken: set[int] = set()
    unread: list[Box] = []
    for box in boxes:
        trusted = _trusted_words(box, first, trust)
        if trusted is None:
            unread.append(box)
            continue
        kept.extend(w for w in trusted if id(w) not in taken)
        taken.update(id(w) for w in trusted)
    return kept, unread


def without_repeats(recognised: list[Word], kept: list[Word]) -> list[Word]:
    """Recognised words that do not stand on a kept word (an overlapping line box's)."""
    return [w for w in recognised if not any(_stands_on(w, k) for k in kept)]


def _stands_on(word: Word, other: Word) -> bool:
    if word.bbox is None or other.bbox is None:
        return False
    middle_x = (word.bbox[0] + word.bbox[2]) / 2
    middle_y = (word.bbox[1] + word.bbox[3]) / 2
    left, top, right, bottom = other.bbox
    return left <= middle_x <= right and top <= middle_y <= bottom


def _trusted_words(box: Box, first: list[Word], trust: float) -> list[Word] | None:
    """The first reading's words on this line, when they cover it and all read surely."""
    left, top, right, bottom = box
    inside = [
        w
        for w in first
        if w.bbox is not None
        and left <= (w.bbox[0] + w.bbox[2]) / 2 <= right
        and top <= (w.bbox[1] + w.bbox[3]) / 2 <= bottom
    ]
    if not inside or any((w.confidence or 0.0) < trust for w in inside):
        return None
    covered = sum(w.bbox[2] - w.bbox[0] for w in inside if w.bbox is not None)
    if covered < 0.6 * (right - left):
        return None  # the first reading missed part of the line
    return inside


def _line_words(result: tuple[str, float, list[Any]], crop_box: Box) -> list[Word]:
    """One recognised line split into words, each boxed on the page.

    The recogniser often leaves spaces out ("to2 times aweek"); a gap of more than
    ``_SPACE_COLUMNS`` of its output columns between two letters is put back as one,
    and so is one after a label's colon. Each word's confidence is its least sure
    letter's, so a label glued to a value would lend the value its doubt.
    """
    text, _, info = result
    columns, _, letter_columns, _, scores = info
    flat = [c for word in letter_columns for c in word]
    if not text or len(flat) != len(text) or len(scores) != len(text):
        return []
    cell = (crop_box[2] - crop_box[0]) / max(1.0, float(columns))
    words: list[Word] = []
    letters: list[tuple[str, int, float]] = []
    for letter, column, score in zip(text, flat, scores, strict=True):
        split = bool(letters) and (
            column - letters[-1][1] > _SPACE_COLUMNS or letters[-1][0] in _ENDS_WORD
        )
        if letter.isspace() or split:
            words.extend(_word(letters, cell, crop_box))
            letters = []
        if not letter.isspace():
            letters.append((letter, column, float(score)))
    words.extend(_word(letters, cell, crop_box))
    return words


def _word(letters: list[tuple[str, int, float]], cell: float, crop_box: Box) -> list[Word]:
    if not letters:
        return []
    left, top, _, bottom = crop_box
    bbox = (
        round(left + max(0.0, letters[0][1] - 0.5) * cell, 1),
        float(top),
        round(left + (letters[-1][1] + 1) * cell, 1),
        float(bottom),
    )
    text = "".join(letter for letter, _, _ in letters)
    scores = tuple(round(score, 4) for _, _, score in letters)
    return [Word(text=text, bbox=bbox, confidence=min(scores), letters=scores)]


def _bounds(points: list[list[float]]) -> Box:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)
