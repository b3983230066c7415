"""PDF pages: the text layer where a page has one, OCR of the rendered page where not.

pdfplumber gives words with positions; pypdfium2 renders pages that are scans. A page
whose text layer is a fax server's header stamp over a scanned image is OCR'd too.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pdfplumber
import pypdfium2 as pdfium
from PIL import Image

from models.config import OcrSettings
from models.document import DocumentProblem, PageProblem, PageText, Word
from pipeline.read.errors import UnreadableDocument
from pipeline.read.ocr import ocr_page

_POINTS_PER_INCH = 72.0
_STAMP_ONLY_CHARACTERS = 200
_IMAGE_COVERAGE = 0.5


def read_pdf(
    data: bytes, settings: OcrSettings, first_number: int = 1
) -> Iterator[tuple[PageText, Image.Image | None]]:
    """Yield each page's words (and the page image the boxes refer to)."""
    try:
        document = pdfplumber.open(io.BytesIO(data))
        page_count = len(document.pages)
    except Exception as exc:  # pdfminer raises many unrelated types for damaged files
        raise _unreadable(exc) from exc
    if page_count == 0:
        raise UnreadableDocument(DocumentProblem.CORRUPT, "the PDF has no pages")
    if page_count > settings.max_pages:
        raise UnreadableDocument(
            DocumentProblem.TOO_MANY_PAGES, f"{page_count} pages, limit {settings.max_pages}"
        )
    with document:
        for index, page in enumerate(document.pages):
            number = first_number + index
            words = _text_layer(page, settings)
            if words is not None:
                yield _text_page(page, number, words, settings), None
            else:
                yield _ocr_rendered(data, index, number, settings)


def _text_layer(page: pdfplumber.page.Page, settings: OcrSettings) -> list[dict] | None:
    """The page's own words, or None when the page must be OCR'd instead."""
    try:
        words = page.extract_words(keep_blank_chars=False, use_text_flow=False)
    except Exception:  # a damaged content stream: fall back to the rendered page
        return None
    text = "".join(w["text"] for w in words)
    if "(cid:" in text:
        return None  # fonts without a Unicode map: the text layer is gibberish
    characters = sum(ch.isalnum() for ch in text)
    if characters < settings.min_text_characters:
        return None
    if characters < _STAMP_ONLY_CHARACTERS and _image_coverage(page) > _IMAGE_COVERAGE:
        return None
    return words


def _image_coverage(page: pdfplumber.page.Page) -> float:
    area = float(page.width * page.height) or 1.0
    covered = sum(
        max(0.0, float(im["x1"] - im["x0"])) * max(0.0, float(im["bottom"] - im["top"]))
        for im in page.images
    )
    return min(1.0, covered / area)


def _text_page(
    page: pdfplumber.page.Page, number: int, words: list[dict], settings: OcrSettings
) -> PageText:
    """Words in reading order, boxes in pixels of the page rendered at ``pdf_render_dpi``."""
    scale = settings.pdf_render_dpi / _POINTS_PER_INCH
    ordered = _lines(words)
    return PageText(
        number=number,
        method="text",
        width=round(float(page.width) * scale),
        height=round(float(page.height) * scale),
        words=[
            Word(
                text=w["text"],
                bbox=(w["x0"] * scale, w["top"] * scale, w["x1"] * scale, w["bottom"] * scale),
                line=line,
            )
            for line, w in ordered
        ],
    )


def _lines(words: list[dict]) -> list[tuple[int, dict]]:
    """Group words whose vertical centres are close into lines, left to right."""
    by_centre = sorted(words, key=lambda w: ((w["top"] + w["bottom"]) / 2, w["x0"]))
    lines: list[list[dict]] = []
    for word in by_centre:
        centre = (word["top"] + word["bottom"]) / 2
        height = max(1.0, word["bottom"] - word["top"])
        if lines:
            last = lines[-1][0]
            if abs((last["top"] + last["bottom"]) / 2 - centre) <= height * 0.5:
                lines[-1].append(word)
                continue
        lines.append([word])
    return [(i, w) for i, line in enumerate(lines) for w in sorted(line, key=lambda w: w["x0"])]


def _ocr_rendered(
    data: bytes, index: int, number: int, settings: OcrSettings
) -> tuple[PageText, Image.Image | None]:
    try:
        image = render_page(data, index, settings)
    except UnreadableDocument as exc:
        problem = (
            PageProblem.TOO_LARGE
            if exc.problem is DocumentProblem.TOO_LARGE
            else (PageProblem.UNDECODABLE)
        )
        return PageText(
            number=number, method="ocr", problem=problem, problem_detail=exc.detail
        ), None
    return ocr_page(image, number, settings)


def render_page(data: bytes, index: int, settings: OcrSettings) -> Image.Image:
    """Render one page to grayscale at ``pdf_render_dpi``, refusing oversized pages."""
    scale = settings.pdf_render_dpi / _POINTS_PER_INCH
    try:
        pdf = pdfium.PdfDocument(data)
        page = pdf[index]
        width, height = page.get_size()
        if width * scale * height * scale > settings.max_page_pixels:
            scale = (settings.max_page_pixels / (width * height)) ** 0.5
        bitmap = page.render(scale=scale, grayscale=True)
        return bitmap.to_pil().convert("L")
    except pdfium.PdfiumError as exc:
        raise UnreadableDocument(DocumentProblem.CORRUPT, f"page {index + 1}: {exc}") from exc


def _unreadable(exc: Exception) -> UnreadableDocument:
    # pdfplumber wraps pdfminer's errors: the real type is in the args or the cause.
    inner = [
        exc,
        exc.__cause__,
        exc.__context__,
        *(a for a in exc.args if isinstance(a, Exception)),
    ]
    names = {type(e).__name__ for e in inner if e is not None}
    message = str(exc)
    if any("Password" in n or "Encrypt" in n for n in names) or "password" in message.lower():
        return UnreadableDocument(DocumentProblem.ENCRYPTED, "the PDF is password-protected")
    return UnreadableDocument(
        DocumentProblem.CORRUPT, f"the PDF cannot be opened ({type(exc).__name__})"
    )
