"""The one place the pipeline asks tesseract for words: its program (through pytesseract)
or its library (``tesseract_library``), whichever the settings name.

Version probe, argument builder, per-page time limit, and tesseract's failures
mapped to typed exceptions, so that a crash, a hang or a kill of tesseract becomes
a page problem in the record instead of a traceback.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import BinaryIO

import cv2
import pytesseract
from PIL import Image

from models.config import OcrSettings
from models.document import Word

_SPARSE_MODES = {11, 12}
_NETPBM_MODES = {"1", "L", "RGB"}
_SEGMENT_GAP = 3.0
log = logging.getLogger(__name__)


class OcrError(Exception):
    """Tesseract did not produce a result for a page."""


class OcrTimeout(OcrError):
    """Tesseract ran past the page time limit and was killed."""


class OcrFailed(OcrError):
    """Tesseract exited with an error, crashed or was killed by a signal."""


class TesseractMissing(OcrError):
    """The configured tesseract program is not installed or not executable."""


@dataclass(frozen=True)
class OcrWords:
    words: list[Word]
    confidence: float | None


def limit_threads() -> None:
    """One single-threaded tesseract per core: OpenMP threads inside each only fight.

    OpenCV (the lost-line stage, PP-OCR's pre-processing) would start a thread per core
    in every worker too; one worker per core already uses them all, and a benchmark run
    in one process would otherwise borrow the idle core and flatter its ratio.
    """
    os.environ["OMP_THREAD_LIMIT"] = "1"
    cv2.setNumThreads(1)


def version(settings: OcrSettings) -> str:
    _use_command(settings)
    try:
        return str(pytesseract.get_tesseract_version())
    except pytesseract.TesseractNotFoundError as exc:
        raise TesseractMissing(f"tesseract not found: {settings.tesseract_cmd}") from exc


def arguments(settings: OcrSettings, psm: int | None = None) -> str:
    """The tesseract options; LSTM engine, page segmentation chosen by measurement."""
    mode = settings.page_segmentation_mode if psm is None else psm
    return f"--oem 1 --psm {mode} -c preserve_interword_spaces=0"


def read_words(image: Image.Image, settings: OcrSettings, psm: int | None = None) -> OcrWords:
    """OCR one page image into words with boxes and confidences (0-1).

    By the library in-process where it is installed (``tesseract_engine = "library"``),
    otherwise by the program: the same engine, the same words (see
    ``pipeline.read.tesseract_library``).
    """
    mode = settings.page_segmentation_mode if psm is None else psm
    if settings.tesseract_engine == "library":
        # imported here: tesseract_library builds on this module's types and errors
        from pipeline.read import tesseract_library

        if tesseract_library.available():
            words = tesseract_library.read_words(image, settings, mode)
            return _in_rows(words) if mode in _SPARSE_MODES else words
        _warn_library_missing()
    return _read_by_the_program(image, settings, mode)


def _read_by_the_program(image: Image.Image, settings: OcrSettings, mode: int) -> OcrWords:
    _use_command(settings)
    try:
        with page_file(image) as path:
            data = pytesseract.image_to_data(
                path,
                lang=settings.languages,
                config=arguments(settings, mode),
                timeout=settings.page_timeout_seconds,
                output_type=pytesseract.Output.DICT,
            )
    except pytesseract.TesseractNotFoundError as exc:
        raise TesseractMissing(f"tesseract not found: {settings.tesseract_cmd}") from exc
    except pytesseract.TesseractError as exc:
        raise OcrFailed(f"tesseract failed with status {exc.status}") from exc
    except subprocess.CalledProcessError as exc:  # pytesseract's own `--version` probe
        raise OcrFailed(f"tesseract failed with status {exc.returncode}") from exc
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise OcrTimeout(f"tesseract took over {settings.page_timeout_seconds} s") from exc
        raise OcrFailed(f"tesseract failed: {exc}") from exc
    except (OSError, ValueError) as exc:
        raise OcrFailed(f"tesseract output could not be read: {type(exc).__name__}") from exc
    words = _words_from_data(data)
    return _in_rows(words) if mode in _SPARSE_MODES else words


def _in_rows(words: OcrWords) -> OcrWords:
    return OcrWords(words=rows_of_words(words.words), confidence=words.confidence)


@cache
def _warn_library_missing() -> None:
    """Once per process: the program still reads every page, only slower."""
    log.warning("tesserocr is not installed: pages are read by the tesseract program")


def orientation(image: Image.Image, settings: OcrSettings) -> tuple[int, float] | None:
    """Tesseract's OSD guess: (clockwise degrees to turn the page upright, confidence)."""
    _use_command(settings)
    try:
        with page_file(image) as path:
            osd = pytesseract.image_to_osd(
                path,
                config="--psm 0",
                timeout=settings.page_timeout_seconds,
                output_type=pytesseract.Output.DICT,
            )
    except (pytesseract.TesseractError, RuntimeError, OSError, ValueError):
        return None  # OSD finds too few characters on sparse or noisy pages
    return int(osd.get("rotate", 0)) % 360, float(osd.get("orientation_conf", 0.0))


@contextmanager
def page_file(image: Image.Image) -> Iterator[str]:
    """The page written where tesseract can read it, as uncompressed Netpbm.

    pytesseract would write PNG, and compressing a noisy 300 dpi scan took longer than
    tesseract took to read it (measured 1.8 s against 1.5 s for one page); a PGM file is
    written in milliseconds and tesseract reads it as fast.
    """
    with tempfile.NamedTemporaryFile(prefix="referral-page-", suffix=".pnm") as handle:
        write_netpbm(image, handle)
        handle.flush()
        yield handle.name


def write_netpbm(image: Image.Image, target: Path | BinaryIO) -> None:
    """PBM, PGM or PPM by the image's mode (other modes become RGB)."""
    if image.mode not in _NETPBM_MODES:
        image = image.convert("RGB")
    image.save(target, format="PPM")


def _use_command(settings: OcrSettings) -> None:
    # pytesseract keeps the program path in a module variable; set it from the settings
    # passed in on every call rather than once at import, so tests can point it elsewhere.
    pytesseract.pytesseract.tesseract_cmd = settings.tesseract_cmd


def _words_from_data(data: dict[str, list]) -> OcrWords:
    words: list[Word] = []
    line_ids: dict[tuple[int, int, int], int] = {}
    for i, text in enumerate(data.get("text", [])):
        text = (text or "").strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        line = line_ids.setdefault(key, len(line_ids))
        left, top = float(data["left"][i]), float(data["top"][i])
        box = (left, top, left + float(data["width"][i]), top + float(data["height"][i]))
        words.append(Word(text=text, bbox=box, confidence=conf / 100.0, line=line))
    confidence = mean_confidence(words)
    return OcrWords(words=words, confidence=confidence)


def mean_confidence(words: list[Word]) -> float | None:
    """Character-weighted mean, so a page is not judged by its stray one-letter specks."""
    weighted = [(w.confidence or 0.0, len(w.text)) for w in words]
    total = sum(n for _, n in weighted)
    if not total:
        return None
    return round(sum(c * n for c, n in weighted) / total, 4)


def rows_of_words(words: list[Word]) -> list[Word]:
    """Lines rebuilt from word boxes, for sparse-text modes that report no reading order.

    Words whose boxes overlap vertically form a row; a wide horizontal gap (a form's
    second column) starts a new line, so "Carrier: Kaiser" is not glued to the patient.
    """
    placed = sorted((w for w in words if w.bbox), key=lambda w: (w.bbox[1] + w.bbox[3]) / 2)
    rows: list[list[Word]] = []
    for word in placed:
        top, bottom = word.bbox[1], word.bbox[3]
        if rows:
            row_top = min(w.bbox[1] for w in rows[-1])
            row_bottom = max(w.bbox[3] for w in rows[-1])
            overlap = min(bottom, row_bottom) - max(top, row_top)
            if overlap > 0.5 * min(bottom - top, row_bottom - row_top):
                rows[-1].append(word)
                continue
        rows.append([word])
    ordered: list[Word] = []
    line = -1
    for row in rows:
        row.sort(key=lambda w: w.bbox[0])
        height = sorted(w.bbox[3] - w.bbox[1] for w in row)[len(row) // 2]
        previous_right = None
        for word in row:
            if previous_right is None or word.bbox[0] - previous_right > _SEGMENT_GAP * height:
                line += 1
            ordered.append(word.model_copy(update={"line": line}))
            previous_right = word.bbox[2]
    return ordered
