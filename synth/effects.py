"""Physical degradations: scanner, fax machine, phone camera, screenshot."""

from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

from synth.ink import PAGE_H, PAGE_W, Page
from synth.render import _font, perspective_coeffs, raster, rotate_quarter

FAX_WIDTH = 1728
FAX_FINE_ROWS = 2156  # 11 in at 196 dpi


def _speckle(
    arr: np.ndarray, nrng: np.random.Generator, density: float, value_hi: int, max_size: int = 3
) -> None:
    h, w = arr.shape
    n = int(h * w * density)
    ys = nrng.integers(0, h - max_size, n)
    xs = nrng.integers(0, w - max_size, n)
    ks = nrng.integers(1, max_size + 1, n)
    vs = nrng.integers(0, value_hi + 1, n)
    for y, x, k, v in zip(ys, xs, ks, vs, strict=True):
        arr[y : y + k, x : x + k] = v


def scan(
    page: Page, rng: random.Random, nrng: np.random.Generator, rotation: int = 0
) -> tuple[bytes, tuple[float, float]]:
    """A flatbed/ADF scan: grayscale, skewed, blurred, noisy; JPEG bytes and page size."""
    dpi = rng.choice([200, 200, 240, 300])
    img = raster(page, dpi).convert("L")
    img = img.rotate(rng.uniform(-1.5, 1.5), resample=Image.BILINEAR, fillcolor=255)
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9) * dpi / 200))
    arr = np.asarray(img, dtype=np.float32)
    lo, hi = rng.uniform(10, 55), rng.uniform(218, 250)
    arr = lo + (hi - lo) * arr / 255.0
    arr += nrng.standard_normal(arr.shape, dtype=np.float32) * rng.uniform(2, 8)
    if rng.random() < 0.3:  # shadow along one edge (scanner lid / page edge)
        edge = int(arr.shape[1] * rng.uniform(0.01, 0.03))
        side = rng.choice([0, 1])
        ramp = np.linspace(0.35, 1.0, edge, dtype=np.float32)
        if side == 0:
            arr[:, :edge] *= ramp
        else:
            arr[:, -edge:] *= ramp[::-1]
    arr = np.clip(arr, 0, 255).astype(np.uint8)
    _speckle(arr, nrng, rng.uniform(2e-5, 2e-4), 90)
    out = Image.fromarray(arr, "L")
    out = rotate_quarter(out, rotation)
    size = (PAGE_W, PAGE_H) if rotation % 180 == 0 else (PAGE_H, PAGE_W)
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=rng.randint(60, 88), dpi=(dpi, dpi))
    return buf.getvalue(), size


def noise_page_jpeg(
    rng: random.Random, nrng: np.random.Generator, blank: bool
) -> tuple[bytes, tuple[float, float]]:
    w, h = 1700, 2200
    if blank:
        arr = 245 + nrng.standard_normal((h, w), dtype=np.float32) * 3
    else:
        arr = nrng.integers(0, 256, (h, w)).astype(np.float32)
        arr = np.asarray(
            Image.fromarray(arr.astype(np.uint8)).filter(
                ImageFilter.GaussianBlur(rng.uniform(0, 1.5))
            ),
            dtype=np.float32,
        )
    buf = io.BytesIO()
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L").save(buf, "JPEG", quality=75)
    return buf.getvalue(), (PAGE_W, PAGE_H)


def fax(
    page: Page,
    rng: random.Random,
    nrng: np.random.Generator,
    fine: bool,
    rotation: int = 0,
    header: Page | None = None,
) -> Image.Image:
    """A received fax page: 1-bit, 1728 px wide, 196 (fine) or 98 (standard) rows per inch.
    rotation turns the page content (fed crooked); the header line stays upright on top."""
    img = raster(page, 204).convert("L")  # 1734 x 2244, square pixels
    if rng.random() < 0.5:
        img = img.rotate(rng.uniform(-0.8, 0.8), resample=Image.BILINEAR, fillcolor=255)
    if rotation % 180 == 90:
        side = rotate_quarter(img, rotation)
        scale = FAX_WIDTH / side.width
        side = side.resize((FAX_WIDTH, int(side.height * scale)), Image.BILINEAR)
        canvas = Image.new("L", img.size, 255)
        canvas.paste(side, (0, int(rng.uniform(0, 40))))
        img = canvas
    elif rotation % 360 == 180:
        img = rotate_quarter(img, 180)
    if header is not None:
        img = ImageChops.darker(img, raster(header, 204).convert("L"))
    img = img.resize((img.width, FAX_FINE_ROWS), Image.BILINEAR)
    left = (img.width - FAX_WIDTH) // 2
    img = img.crop((left, 0, left + FAX_WIDTH, FAX_FINE_ROWS))
    arr = np.asarray(img, dtype=np.float32)
    arr += nrng.standard_normal(arr.shape, dtype=np.float32) * rng.uniform(8, 25)
    black = arr < rng.uniform(135, 175)
    h, w = black.shape
    n = int(h * w * rng.uniform(1e-5, 1.5e-4))
    black[nrng.integers(0, h, n), nrng.integers(0, w, n)] = True
    if rng.random() < 0.25:  # transmission glitches: streaks and dropped segments
        for _ in range(rng.randint(1, 3)):
            y = rng.randrange(h - 3)
            x0 = rng.randrange(w // 2)
            x1 = x0 + rng.randrange(50, w // 2)
            if rng.random() < 0.5:
                black[y : y + rng.randint(1, 2), x0:x1] = True
            else:
                black[y : y + rng.randint(2, 6), x0:x1] = False
    if not fine:
        black = black[::2]
    return _to_1bit(black)


def _to_1bit(black: np.ndarray) -> Image.Image:
    return Image.fromarray(np.where(black, 0, 255).astype(np.uint8), "L").convert(
        "1", dither=Image.Dither.NONE
    )


def blank_or_noise_fax(
    rng: random.Random, nrng: np.random.Generator, fine: bool, blank: bool
) -> Image.Image:
    rows = FAX_FINE_ROWS if fine else FAX_FINE_ROWS // 2
    if blank:
        black = nrng.random((rows, FAX_WIDTH)) < 2e-4
    else:
        black = nrng.random((rows, FAX_WIDTH)) < rng.uniform(0.3, 0.6)
    return _to_1bit(black)


def tiff_bytes(pages: list[Image.Image], compression: str, fine: bool) -> bytes:
    buf = io.BytesIO()
    pages[0].save(
        buf,
        "TIFF",
        save_all=True,
        append_images=pages[1:],
        compression=compression,
        dpi=(204, 196 if fine else 98),
    )
    return buf.getvalue()


def _background(
    size: tuple[int, int], rng: random.Random, nrng: np.random.Generator
) -> Image.Image:
    """A desk or table: a mottled dark colour (fine grain comes with the camera noise)."""
    w, h = size
    base = np.array(
        rng.choice(
            [(92, 64, 40), (60, 60, 66), (40, 44, 60), (110, 90, 70), (70, 78, 70), (130, 120, 110)]
        ),
        np.float32,
    )
    low = nrng.standard_normal((6, 8)).astype(np.float32)
    low_img = Image.fromarray(np.clip(128 + low * 40, 0, 255).astype(np.uint8), "L")
    sw, sh = max(8, w // 8), max(8, h // 8)
    low_up = np.asarray(low_img.resize((sw, sh), Image.BICUBIC), np.float32)[:, :, None] / 128.0
    arr = base[None, None, :] * (0.75 + 0.25 * low_up)
    small = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    return small.resize((w, h), Image.BILINEAR)


def photo(
    page: Page, rng: random.Random, nrng: np.random.Generator, blur_out: bool = False
) -> bytes:
    """A phone photo of the page on a desk: perspective, uneven light, JPEG, maybe EXIF-rotated."""
    dpi = rng.uniform(170, 210)
    img = raster(page, dpi)
    pw, ph = img.size
    cw = int(pw * rng.uniform(1.1, 1.28))
    ch = int(cw * 4 / 3)
    bg = _background((cw, ch), rng, nrng)
    cx, cy = cw / 2 + rng.uniform(-0.03, 0.03) * cw, ch / 2 + rng.uniform(-0.03, 0.03) * ch
    scale = min(cw * 0.92 / pw, ch * 0.92 / ph) * rng.uniform(0.9, 1.0)
    ang = np.deg2rad(rng.uniform(-4, 4))
    corners = [(-pw / 2, -ph / 2), (pw / 2, -ph / 2), (pw / 2, ph / 2), (-pw / 2, ph / 2)]
    dst = []
    for x, y in corners:
        x, y = x * scale, y * scale
        j = 0.025 * cw
        x += rng.uniform(-j, j)
        y += rng.uniform(-j, j)
        dst.append((cx + x * np.cos(ang) - y * np.sin(ang), cy + x * np.sin(ang) + y * np.cos(ang)))
    src = [(0, 0), (pw, 0), (pw, ph), (0, ph)]
    coeffs = perspective_coeffs(dst, src)
    rgba = img.convert("RGBA")
    warped = rgba.transform(
        (cw, ch), Image.PERSPECTIVE, coeffs, Image.BILINEAR, fillcolor=(0, 0, 0, 0)
    )
    alpha = warped.getchannel("A")
    small = (cw // 8, ch // 8)
    shadow = alpha.resize(small, Image.BILINEAR).filter(ImageFilter.GaussianBlur(1.5))
    # smooth lighting field, computed small and scaled up
    yy, xx = np.mgrid[0 : small[1], 0 : small[0]].astype(np.float32)
    xx /= small[0]
    yy /= small[1]
    th = rng.uniform(0, 2 * np.pi)
    grad = (np.cos(th) * (xx - 0.5) + np.sin(th) * (yy - 0.5)) + 0.5
    lo = rng.uniform(0.6, 0.8)
    light = lo + (1 - lo) * grad
    lx, ly = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8)
    r2 = (xx - lx) ** 2 + ((yy - ly) * ch / cw) ** 2
    light = np.clip(light * (1 - 0.25 * np.clip(r2, 0, 1)) + 0.08, 0.3, 1.1)
    light_img = Image.fromarray((light * 200).astype(np.uint8), "L").resize(
        (cw, ch), Image.BILINEAR
    )
    shadow_img = ImageChops.offset(
        shadow.resize((cw, ch), Image.BILINEAR), rng.randint(4, 16), rng.randint(4, 16)
    )
    light_f = np.asarray(light_img, np.float32)[:, :, None] / 200
    a = np.asarray(alpha, np.float32)[:, :, None] / 255
    sh = 1 - 0.45 * np.asarray(shadow_img, np.float32)[:, :, None] / 255
    tint = np.array(
        [rng.uniform(0.9, 1.0), rng.uniform(0.9, 1.0), rng.uniform(0.85, 0.98)], np.float32
    )
    pg = np.asarray(warped.convert("RGB"), np.float32) * tint
    arr = pg * a + np.asarray(bg, np.float32) * sh * (1 - a)
    arr *= light_f
    arr += nrng.standard_normal((ch, cw, 1), dtype=np.float32) * rng.uniform(2, 5)
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.1) if not blur_out else 25))
    exif = Image.Exif()
    exif[0x010F] = "SynthPhone"
    exif[0x0110] = "Model S"
    r = rng.random()
    if r < 0.2:  # stored sideways: the EXIF orientation tells viewers to rotate 90 CW
        out = out.transpose(Image.Transpose.ROTATE_90)
        exif[0x0112] = 6
    elif r < 0.3:
        out = out.transpose(Image.Transpose.ROTATE_270)
        exif[0x0112] = 8
    elif r < 0.35:
        out = out.transpose(Image.Transpose.ROTATE_180)
        exif[0x0112] = 3
    else:
        exif[0x0112] = 1
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=rng.randint(70, 85), exif=exif.tobytes())
    return buf.getvalue()


def screenshot(page: Page | None, rng: random.Random, nrng: np.random.Generator) -> bytes:
    """A screenshot of a document viewer showing the page (or an empty viewer)."""
    dpi = rng.uniform(115, 150)
    if page is None:
        img = Image.new("RGB", (int(PAGE_W * dpi / 72), int(PAGE_H * dpi / 72)), (255,) * 3)
    else:
        img = raster(page, dpi)
    pad = rng.randint(30, 120)
    bar = rng.randint(36, 56)
    W, H = img.width + 2 * pad, img.height + bar + 2 * pad // 3
    gray = rng.choice([(82, 86, 89), (230, 230, 230), (50, 54, 57), (204, 204, 204)])
    canvas = Image.new("RGB", (W, H), gray)
    d = ImageDraw.Draw(canvas)
    d.rectangle([0, 0, W, bar], fill=rng.choice([(32, 33, 36), (240, 240, 240), (45, 62, 80)]))
    light_bar = canvas.getpixel((2, 2))[0] > 128
    fg = (30, 30, 30) if light_bar else (235, 235, 235)
    title = rng.choice(
        ["Document Viewer", "Referral - Viewer", "Scan0001.pdf", "Fax Inbox", "EHR - Documents"]
    )
    d.text((72, bar // 2), title, font=_font("sans", bar // 3), fill=fg, anchor="lm")
    for i, c in enumerate([(237, 106, 94), (245, 191, 79), (98, 197, 84)]):
        d.ellipse([10 + i * 18 - 1, bar // 2 - 6, 10 + i * 18 + 11, bar // 2 + 6], fill=c)
    top = bar + pad // 3
    d.rectangle([pad + 4, top + 4, pad + img.width + 4, top + img.height + 4], fill=(20, 20, 20))
    canvas.paste(img, (pad, top))
    buf = io.BytesIO()
    canvas.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def exif_upright(data: bytes) -> Image.Image:
    return ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
