"""Fonts and a tiny display list shared by the PDF and raster back ends.

Coordinates are PDF points on a US-letter page (612 x 792) with the origin at the top left and
y growing downwards; a text item's y is its baseline.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field, replace
from functools import lru_cache

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

PAGE_W, PAGE_H = 612.0, 792.0

_DEJAVU = {
    "sans": "DejaVuSans.ttf",
    "sans-b": "DejaVuSans-Bold.ttf",
    "sans-i": "DejaVuSans-Oblique.ttf",
    "serif": "DejaVuSerif.ttf",
    "serif-b": "DejaVuSerif-Bold.ttf",
    "serif-i": "DejaVuSerif-Italic.ttf",
    "mono": "DejaVuSansMono.ttf",
    "mono-b": "DejaVuSansMono-Bold.ttf",
    "mono-i": "DejaVuSansMono-Oblique.ttf",
    "cond": "DejaVuSansCondensed.ttf",
    "cond-b": "DejaVuSansCondensed-Bold.ttf",
    "cond-i": "DejaVuSansCondensed-Oblique.ttf",
    "scond": "DejaVuSerifCondensed.ttf",
    "scond-b": "DejaVuSerifCondensed-Bold.ttf",
    "scond-i": "DejaVuSerifCondensed-Italic.ttf",
}
# Handwriting-like fonts used when installed (Debian packages fonts-dkg-handwriting and
# fonts-humor-sans); without them hand-filled fields fall back to DejaVu Sans Condensed Oblique.
_HAND_CANDIDATES = {
    "hand-dkg": ["fifthhorseman/dkg.ttf"],
    "hand-humor": ["humor-sans/Humor-Sans.ttf"],
}
_FONT_DIRS = ["/usr/share/fonts/truetype", "/usr/share/fonts", "/usr/local/share/fonts"]


def _find(rel: str) -> str | None:
    for d in _FONT_DIRS:
        p = os.path.join(d, rel)
        if os.path.exists(p):
            return p
        hits = glob.glob(os.path.join(d, "**", os.path.basename(rel)), recursive=True)
        if hits:
            return sorted(hits)[0]
    return None


@lru_cache(maxsize=1)
def font_paths() -> dict[str, str]:
    paths: dict[str, str] = {}
    for key, name in _DEJAVU.items():
        p = _find(os.path.join("dejavu", name))
        if p is None:
            raise RuntimeError(f"DejaVu font {name} not found (apt-get install fonts-dejavu)")
        paths[key] = p
    for key, rels in _HAND_CANDIDATES.items():
        for rel in rels:
            p = _find(rel)
            if p:
                paths[key] = p
                break
    return paths


def hand_fonts() -> list[str]:
    keys = [k for k in font_paths() if k.startswith("hand-")]
    return keys or ["cond-i"]


def rl_name(key: str) -> str:
    name = "Synth-" + key
    if name not in _registered:
        pdfmetrics.registerFont(TTFont(name, font_paths()[key]))
        _registered.add(name)
    return name


_registered: set[str] = set()


@lru_cache(maxsize=64)
def _charmap(key: str) -> frozenset:
    return frozenset(pdfmetrics.getFont(rl_name(key)).face.charToGlyph)


def covers(font: str, s: str) -> bool:
    """Whether the font has a glyph for every character of s."""
    cmap = _charmap(font)
    return all(ord(ch) in cmap or ch.isspace() for ch in s)


def width(s: str, font: str, size: float) -> float:
    return pdfmetrics.stringWidth(s, rl_name(font), size)


def wrap(s: str, font: str, size: float, w: float) -> list[str]:
    lines: list[str] = []
    for para in s.split("\n"):
        cur = ""
        for word in para.split(" "):
            cand = word if not cur else cur + " " + word
            if width(cand, font, size) <= w or not cur:
                cur = cand
            else:
                lines.append(cur)
                cur = word
        lines.append(cur)
    return lines


# ----------------------------------------------------------------------------- items

BLACK = (0, 0, 0)


@dataclass
class Text:
    x: float
    y: float
    s: str
    font: str
    size: float
    color: tuple = BLACK
    hand: bool = False
    seed: int = 0


@dataclass
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    w: float = 0.7
    color: tuple = BLACK


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float
    lw: float = 0.7
    color: tuple | None = BLACK
    fill: tuple | None = None


@dataclass
class Poly:
    pts: list
    w: float = 1.2
    color: tuple = BLACK


@dataclass
class Page:
    items: list = field(default_factory=list)


def shift(item, dx: float, dy: float):
    if isinstance(item, Text):
        return replace(item, x=item.x + dx, y=item.y + dy)
    if isinstance(item, Line):
        return replace(item, x1=item.x1 + dx, y1=item.y1 + dy, x2=item.x2 + dx, y2=item.y2 + dy)
    if isinstance(item, Rect):
        return replace(item, x=item.x + dx, y=item.y + dy)
    if isinstance(item, Poly):
        return replace(item, pts=[(x + dx, y + dy) for x, y in item.pts])
    raise TypeError(item)


class Ink:
    """Collects display items; helpers return the y below what they drew."""

    def __init__(self):
        self.items: list = []
        self._seed = 0

    def text(self, x, y, s, font, size, color=BLACK, hand=False):
        if s and not covers(font, s):
            font = "cond-i" if font.startswith("hand") else "sans"
        if s:
            self._seed += 1
            self.items.append(Text(x, y, s, font, size, color, hand, self._seed))
        return x + width(s, font, size)

    def rtext(self, xr, y, s, font, size, color=BLACK, hand=False):
        self.text(xr - width(s, font, size), y, s, font, size, color, hand)

    def ctext(self, xc, y, s, font, size, color=BLACK, hand=False):
        self.text(xc - width(s, font, size) / 2, y, s, font, size, color, hand)

    def line(self, x1, y1, x2, y2, w=0.7, color=BLACK):
        self.items.append(Line(x1, y1, x2, y2, w, color))

    def rect(self, x, y, w, h, lw=0.7, color=BLACK, fill=None):
        self.items.append(Rect(x, y, w, h, lw, color, fill))

    def poly(self, pts, w=1.2, color=BLACK):
        self.items.append(Poly(list(pts), w, color))

    def para(self, x, y, w, s, font, size, leading=None, color=BLACK, hand=False):
        """Wrapped paragraph below y (top of the first line); returns y below the last line."""
        leading = leading or size * 1.3
        for ln in wrap(s, font, size, w):
            self.text(x, y + size * 0.95, ln, font, size, color, hand)
            y += leading
        return y
