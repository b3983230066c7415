"""Page images from TIFF, PNG and JPEG files, made ready for OCR.

Faxes arrive at 204x98 dpi ("standard") or 204x196 ("fine"): non-square pixels that
squash glyphs unless rescaled, and too coarse for tesseract unless upscaled. Phone
photos carry their orientation in EXIF. Both are fixed here, before OCR.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from models.config import OcrSettings
from models.document import DocumentProblem
from pipeline.read.errors import UnreadableDocument

# Images that carry no real resolution (screen defaults): size decides instead.
_PLACEHOLDER_DPI = {0, 1, 72, 96}
_LETTER_INCHES = (8.5, 11.0)


class PageTooLarge(Exception):
    """A page image beyond the configured pixel limit (a decompression-bomb guard)."""


def open_image(data: bytes, settings: OcrSettings) -> Image.Image:
    """Open lazily and check the pixel count before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise UnreadableDocument(DocumentProblem.TOO_LARGE, str(exc)) from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise UnreadableDocument(DocumentProblem.CORRUPT, f"image cannot be opened: {exc}") from exc
    if image.width * image.height > settings.max_page_pixels:
        raise UnreadableDocument(
            DocumentProblem.TOO_LARGE,
            f"page image is {image.width}x{image.height} pixels, over the limit of "
            f"{settings.max_page_pixels}",
        )
    return image


def iter_frames(image: Image.Image, settings: OcrSettings) -> Iterator[Image.Image]:
    """Every page of a (multi-page) image, decoded, upright per EXIF and OCR-ready."""
    for index, frame in enumerate(ImageSequence.Iterator(image)):
        if index >= settings.max_pages:
            raise UnreadableDocument(
                DocumentProblem.TOO_MANY_PAGES, f"more than {settings.max_pages} pages"
            )
        if frame.width * frame.height > settings.max_page_pixels:
            raise PageTooLarge(f"page {index + 1} is {frame.width}x{frame.height} pixels")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                frame.load()
                upright = ImageOps.exif_transpose(frame) if index == 0 else frame.copy()
        except (OSError, ValueError, SyntaxError) as exc:
            raise UnreadableDocument(
                DocumentProblem.CORRUPT, f"page {index + 1} cannot be decoded: {exc}"
            ) from exc
        yield prepare_for_ocr(upright, _resolution(frame), settings)


_FILTERS = {
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}


def prepare_for_ocr(
    image: Image.Image, dpi: tuple[float, float] | None, settings: OcrSettings
) -> Image.Image:
    """Grayscale, square pixels, and at least the target resolution.

    Fax "standard" pages (204x98) are stretched vertically to square pixels, then the
    page is upscaled towards ``target_dpi``: tesseract loses characters on coarse pages.
    """
    gray = _grayscale(image)
    x_dpi, y_dpi = dpi if dpi else _estimated_dpi(gray)
    width, height = gray.size
    if abs(x_dpi - y_dpi) / max(x_dpi, y_dpi) > 0.1:
        height = round(height * x_dpi / y_dpi)
        y_dpi = x_dpi
    scale = min(2.0, settings.target_dpi / x_dpi) if x_dpi < settings.target_dpi * 0.9 else 1.0
    size = (round(width * scale), round(height * scale))
    if size != gray.size:
        gray = gray.resize(size, _FILTERS[settings.upscale_filter])
    return gray


def _grayscale(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "P"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    return image.convert("L")


def _resolution(frame: Image.Image) -> tuple[float, float] | None:
    dpi = frame.info.get("dpi")
    if not dpi:
        return None
    try:
        x_dpi, y_dpi = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        return None
    if round(x_dpi) in _PLACEHOLDER_DPI or round(y_dpi) in _PLACEHOLDER_DPI:
        return None
    return x_dpi, y_dpi


def _estimated_dpi(image: Image.Image) -> tuple[float, float]:
    """No usable resolution stored: assume the image spans a letter-size page."""
    short, long = sorted(image.size)
    dpi = max(short / _LETTER_INCHES[0], long / _LETTER_INCHES[1])
    return dpi, dpi
