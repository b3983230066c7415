"""Straightening a page photographed or scanned at a slant, before OCR.

Tesseract copes with a degree or two of skew, but a phone photo taken a few degrees
off breaks its long lines into pieces and loses whole sentences (seen on generated
photos: the diagnosis line of a letter at 5 degrees read as nothing). The angle is
found by the projection profile: text lines turned level make the sharpest rows of
ink, so the angle whose row sums vary most is the page's skew. It is measured on a
small copy of the page, so it costs a few hundredths of a second.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

# a copy this wide is enough to see text lines and cheap to turn many times
_SAMPLE_WIDTH = 640
# lines must be clearly sharper turned than as they are, or the page stays as it is
_GAIN_NEEDED = 1.15


def skew_angle(gray: Image.Image, max_degrees: float) -> float:
    """The angle (degrees, anticlockwise) that levels the page's text lines; 0 if unsure."""
    ink = _ink(gray)
    if ink is None:
        return 0.0
    coarse = np.arange(-max_degrees, max_degrees + 0.01, 1.0)
    best = max(coarse, key=lambda a: _sharpness(ink, a))
    fine = np.arange(best - 0.8, best + 0.81, 0.2)
    best = max(fine, key=lambda a: _sharpness(ink, a))
    level = _sharpness(ink, 0.0)
    if level > 0 and _sharpness(ink, best) < _GAIN_NEEDED * level:
        return 0.0  # no angle makes the lines clearly sharper: a sideways page, a photo
    return round(float(best), 1)


def straightened(gray: Image.Image, max_degrees: float, min_degrees: float) -> Image.Image:
    """The page turned level when it is slanted by more than ``min_degrees``."""
    angle = skew_angle(gray, max_degrees)
    if abs(angle) < min_degrees:
        return gray
    return gray.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)


def _ink(gray: Image.Image) -> tuple[np.ndarray, np.ndarray] | None:
    """Where the dark marks are (columns, rows) on a small copy of the page.

    A mark is dark against its own surroundings (a blurred, brightest-nearby
    background), so the uneven light of a photo is no ink.
    """
    small = gray.reduce(max(1, gray.width // _SAMPLE_WIDTH))  # a box filter: fast
    tiny = small.resize((max(1, small.width // 8), max(1, small.height // 8)))
    background = tiny.filter(ImageFilter.MaxFilter(3)).resize(small.size)
    marks = np.asarray(background, np.int16) - np.asarray(small, np.int16) > 40
    if marks.mean() < 0.002:
        return None  # a blank page
    rows, columns = np.nonzero(marks)
    return columns.astype(np.float32), rows.astype(np.float32)


def _sharpness(ink: tuple[np.ndarray, np.ndarray], degrees: float) -> float:
    """How sharply the ink falls into rows once turned by ``degrees`` (a shear suffices
    for the few degrees a page is slanted)."""
    columns, rows = ink
    turned = rows - columns * np.tan(np.radians(degrees))
    counts = np.bincount((turned - turned.min()).astype(np.int32))
    return float(np.square(np.diff(counts.astype(np.float32))).sum())
