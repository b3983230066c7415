"""Back ends: display-list pages to a PDF text layer (reportlab) or to a PIL image."""

from __future__ import annotations

import io
import random
import zlib
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont
from reportlab import rl_config
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from synth.ink import PAGE_H, PAGE_W, Line, Page, Poly, Rect, Text, font_paths, rl_name, width


def _rgb255(c) -> tuple[int, int, int]:
    return tuple(int(round(v * 255)) for v in c)


def _jitter_rng(t: Text) -> random.Random:
    return random.Random(zlib.crc32(f"{t.s}|{t.x:.2f}|{t.y:.2f}|{t.seed}".encode()))


# ----------------------------------------------------------------------------- PDF


def _draw_vector(c: canvas.Canvas, page: Page, ph: float) -> None:
    c.setLineCap(1)
    c.setLineJoin(1)
    for it in page.items:
        if isinstance(it, Text):
            c.setFillColorRGB(*it.color)
            name = rl_name(it.font)
            if it.hand:
                r = _jitter_rng(it)
                x = it.x
                for ch in it.s:
                    c.setFont(name, it.size * r.uniform(0.95, 1.05))
                    c.drawString(x, ph - it.y + r.uniform(-0.4, 0.4), ch)
                    x += width(ch, it.font, it.size) * r.uniform(0.98, 1.06)
            else:
                c.setFont(name, it.size)
                c.drawString(it.x, ph - it.y, it.s)
        elif isinstance(it, Line):
            c.setStrokeColorRGB(*it.color)
            c.setLineWidth(it.w)
            c.line(it.x1, ph - it.y1, it.x2, ph - it.y2)
        elif isinstance(it, Rect):
            if it.fill is not None:
                c.setFillColorRGB(*it.fill)
            stroke = it.color is not None and it.lw > 0
            if stroke:
                c.setStrokeColorRGB(*it.color)
                c.setLineWidth(it.lw)
            c.rect(
                it.x,
                ph - it.y - it.h,
                it.w,
                it.h,
                stroke=int(stroke),
                fill=int(it.fill is not None),
            )
        elif isinstance(it, Poly):
            c.setStrokeColorRGB(*it.color)
            c.setLineWidth(it.w)
            p = c.beginPath()
            x0, y0 = it.pts[0]
            p.moveTo(x0, ph - y0)
            for x, y in it.pts[1:]:
                p.lineTo(x, ph - y)
            c.drawPath(p, stroke=1, fill=0)


def pdf_bytes(pages: list[tuple]) -> bytes:
    """pages: ("vector", Page) or ("image", jpeg_bytes, (w_pt, h_pt)). Deterministic output."""
    out = io.BytesIO()
    old = rl_config.useA85
    rl_config.useA85 = 0
    try:
        c = canvas.Canvas(out, pagesize=(PAGE_W, PAGE_H), invariant=1, pageCompression=1)
        c.setCreator("Synthetic referral generator")
        for spec in pages:
            if spec[0] == "vector":
                c.setPageSize((PAGE_W, PAGE_H))
                _draw_vector(c, spec[1], PAGE_H)
            else:
                _, data, (w, h) = spec
                c.setPageSize((w, h))
                c.drawImage(ImageReader(io.BytesIO(data)), 0, 0, w, h)
            c.showPage()
        c.save()
    finally:
        rl_config.useA85 = old
    return out.getvalue()


# ----------------------------------------------------------------------------- raster


@lru_cache(maxsize=512)
def _font(key: str, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_paths()[key], max(1, px))


def _hand_text(img: Image.Image, t: Text, scale: float, color) -> None:
    r = _jitter_rng(t)
    x = t.x * scale
    base = t.y * scale
    drift = 0.0
    slope = r.uniform(-0.012, 0.012)
    for ch in t.s:
        px = int(round(t.size * r.uniform(0.93, 1.07) * scale))
        font = _font(t.font, px)
        adv = font.getlength(ch)
        if ch.strip():
            pad = px // 2 + 2
            mask = Image.new("L", (int(adv + 2 * pad) + 1, 2 * px + 2 * pad), 0)
            ImageDraw.Draw(mask).text((pad, pad + px * 1.2), ch, font=font, fill=255, anchor="ls")
            mask = mask.rotate(r.uniform(-7, 7), resample=Image.BILINEAR)
            dy = r.uniform(-0.06, 0.06) * px + drift
            img.paste(color, (int(x - pad), int(base - pad - px * 1.2 + dy)), mask)
        drift += slope * adv
        x += adv * r.uniform(0.96, 1.06)


def raster(page: Page, dpi: float, size: tuple[float, float] = (PAGE_W, PAGE_H)) -> Image.Image:
    """Render a page to an RGB image at dpi."""
    s = dpi / 72.0
    img = Image.new("RGB", (int(round(size[0] * s)), int(round(size[1] * s))), (255, 255, 255))
    d = ImageDraw.Draw(img)
    for it in page.items:
        if isinstance(it, Text):
            color = _rgb255(it.color)
            if it.hand:
                _hand_text(img, it, s, color)
            else:
                font = _font(it.font, int(round(it.size * s)))
                d.text((it.x * s, it.y * s), it.s, font=font, fill=color, anchor="ls")
        elif isinstance(it, Line):
            d.line(
                [(it.x1 * s, it.y1 * s), (it.x2 * s, it.y2 * s)],
                fill=_rgb255(it.color),
                width=max(1, int(round(it.w * s))),
            )
        elif isinstance(it, Rect):
            box = [it.x * s, it.y * s, (it.x + it.w) * s, (it.y + it.h) * s]
            fill = _rgb255(it.fill) if it.fill is not None else None
            outline = _rgb255(it.color) if (it.color is not None and it.lw > 0) else None
            w = max(1, int(round(it.lw * s))) if outline else 0
            d.rectangle(box, fill=fill, outline=outline, width=w)
        elif isinstance(it, Poly):
            pts = [(x * s, y * s) for x, y in it.pts]
            d.line(pts, fill=_rgb255(it.color), width=max(1, int(round(it.w * s))), joint="curve")
    return img


def rotate_quarter(img: Image.Image, degrees: int) -> Image.Image:
    """Rotate the page content counter-clockwise by 0/90/180/270 degrees."""
    op = {
        90: Image.Transpose.ROTATE_90,
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_270,
    }.get(degrees % 360)
    return img.transpose(op) if op is not None else img


def perspective_coeffs(dst: list[tuple[float, float]], src: list[tuple[float, float]]):
    """Coefficients for Image.transform(PERSPECTIVE) mapping output dst quad to input src."""
    import numpy as np

    a = []
    b = []
    for (X, Y), (x, y) in zip(dst, src, strict=True):
        a.append([X, Y, 1, 0, 0, 0, -x * X, -x * Y])
        a.append([0, 0, 0, X, Y, 1, -y * X, -y * Y])
        b.extend([x, y])
    return list(np.linalg.solve(np.array(a, float), np.array(b, float)))
