"""Tesseract in-process: the system's own libtesseract, through tesserocr.

The ``tesseract`` program pays for a process start, the LSTM model's load and a page
file's write and read on every page, and a run of it is most of a page's cost. The same
library called in-process loads the model once per worker and takes the page's pixels
as they are: measured on sixteen fax pages, 6.3 s against the program's 9.3 s, with
every word, box and line the same (the program's TSV keeps whole percent confidences,
so they are cut the same way here).

The same engine, not a newer one: tesserocr is built from source against the system's
libtesseract (``make system venv``), because its wheels bundle another tesseract that
reads differently (5.5.4 for 5.3.0: measured, two more wrong acceptances on a generated
set of 120 whose rules were tuned on 5.3.0's readings).

What the program gave for free, this module does itself: a time limit (tesseract's own
deadline, checked between words: a hang inside layout analysis is not cut), and every
failure as a typed ``OcrError``. A crash inside the library ends the worker process:
the watcher replaces it and retries the document (``pipeline.watch.service``), the
batch command reads the files left one per worker (``pipeline.process.process_many``).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from PIL import Image

from models.config import OcrSettings
from models.document import Word
from pipeline.read.tesseract import (
    OcrFailed,
    OcrTimeout,
    OcrWords,
    TesseractMissing,
    mean_confidence,
)

_RAW_MODES = {"L": 1, "RGB": 3}  # bytes per pixel of the modes handed over as they are


class LibraryMissing(TesseractMissing):
    """tesserocr is not installed here: the pipeline reads with the program instead."""


def read_words(image: Image.Image, settings: OcrSettings, psm: int) -> OcrWords:
    """Words with boxes, confidences (0-1) and line numbers, as the program's TSV gives."""
    engine = _engine(settings.languages)
    engine.SetPageSegMode(psm)
    if image.mode not in _RAW_MODES:
        image = image.convert("L" if image.mode in ("1", "LA", "I", "F") else "RGB")
    depth = _RAW_MODES[image.mode]
    try:
        engine.SetImageBytes(image.tobytes(), image.width, image.height, depth, image.width * depth)
        finished = engine.Recognize(int(settings.page_timeout_seconds * 1000))
        if not finished:
            raise OcrTimeout(f"tesseract took over {settings.page_timeout_seconds} s")
        words = _words(engine)
    except RuntimeError as exc:  # tesserocr's error for a page it cannot take
        raise OcrFailed(f"tesseract failed: {exc}") from exc
    finally:
        engine.Clear()  # the page's results, not the model
    return OcrWords(words=words, confidence=mean_confidence(words))


def available() -> bool:
    """Whether tesserocr can be imported (the program is used when it cannot)."""
    try:
        _module()
    except LibraryMissing:
        return False
    return True


@cache
def _engine(languages: str) -> Any:
    """One engine per worker process and language set, its model loaded once."""
    tesserocr = _module()
    try:
        return tesserocr.PyTessBaseAPI(lang=languages, oem=tesserocr.OEM.LSTM_ONLY)
    except RuntimeError as exc:  # no traineddata for a configured language
        raise TesseractMissing(f"tesseract cannot load the languages {languages!r}") from exc


def _module() -> Any:
    # libtesseract's OpenMP reads its thread limit once, when the library loads: one
    # worker per core already uses every core, and a forked worker must not inherit an
    # OpenMP thread pool (it hangs in its next parallel region)
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        import tesserocr
    except ImportError as exc:
        raise LibraryMissing("tesserocr is not installed") from exc
    return tesserocr


def _words(engine: Any) -> list[Word]:
    tesserocr = _module()
    level = tesserocr.RIL.WORD
    words: list[Word] = []
    found = engine.GetIterator()
    if found is None:
        return words
    line = -1  # tesseract's line; numbered like the TSV's, counting lines with words only
    numbers: dict[int, int] = {}
    for word in tesserocr.iterate_level(found, level):
        if word.IsAtBeginningOf(tesserocr.RIL.TEXTLINE):
            line += 1
        box = word.BoundingBox(level)
        try:
            text = (word.GetUTF8Text(level) or "").strip()
        except RuntimeError:  # tesserocr raises for a word without text
            continue
        confidence = word.Confidence(level)
        if not text or confidence < 0 or box is None:
            continue
        words.append(
            Word(
                text=text,
                bbox=tuple(float(v) for v in box),
                confidence=int(confidence) / 100.0,  # whole percent, as the program's TSV
                line=numbers.setdefault(line, len(numbers)),
            )
        )
    return words
