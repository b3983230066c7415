"""The read stage: any input file to pages of words with boxes (text layer or OCR).

``read_file`` never raises for bad input: a damaged, empty, encrypted or unsupported
file comes back as a ``ReadDocument`` with ``problem`` set, so it still gets a record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from models.config import OcrSettings
from models.document import DocumentProblem, PageProblem, PageText, ReadDocument
from models.referral import Source
from pipeline.read import email, image, pdf, sniff
from pipeline.read.errors import UnreadableDocument
from pipeline.read.ocr import ocr_page

PageImages = dict[int, Image.Image]


@dataclass
class ReadResult:
    """The document's words, and the page images their boxes refer to (OCR'd pages)."""

    document: ReadDocument
    images: PageImages = field(default_factory=dict)
    second_engine: bool = False  # PP-OCR read the pages again (pipeline.second_engine)


def read_file(path: Path, settings: OcrSettings, display_path: str | None = None) -> ReadResult:
    data = path.read_bytes()
    return read_bytes(data, display_path or str(path), settings)


def read_bytes(data: bytes, display_path: str, settings: OcrSettings) -> ReadResult:
    kind = sniff.media_type(data[:2048]) if data else None
    source = Source(
        path=display_path, sha256=hashlib.sha256(data).hexdigest(), media_type=kind, pages=0
    )
    document = ReadDocument(source=source)
    result = ReadResult(document=document)
    try:
        if not data:
            raise UnreadableDocument(DocumentProblem.EMPTY, "the file is empty")
        if kind is None:
            raise UnreadableDocument(DocumentProblem.UNSUPPORTED, "unknown file type")
        for page, page_image in _pages(data, kind, settings, document):
            document.pages.append(page)
            if page_image is not None:
                result.images[page.number] = page_image
    except UnreadableDocument as exc:
        document.problem, document.problem_detail = exc.problem, exc.detail
    document.source.pages = len(document.pages)
    if document.problem is None and not _has_text(document, settings):
        document.problem = DocumentProblem.NO_TEXT
        document.problem_detail = _no_text_detail(document)
    return result


def _pages(
    data: bytes, kind: str, settings: OcrSettings, document: ReadDocument
) -> Iterator[tuple[PageText, Image.Image | None]]:
    if kind == sniff.EMAIL:
        message = email.parse_message(data)
        document.sent_date = email.sent_date(message)

        def attachment(content: bytes, media: str, number: int):
            return _file_pages(content, media, settings, number)

        yield from email.read_email(message, attachment)
    else:
        yield from _file_pages(data, kind, settings, 1)


def _file_pages(
    data: bytes, kind: str, settings: OcrSettings, first_number: int
) -> Iterator[tuple[PageText, Image.Image | None]]:
    if kind == sniff.PDF:
        yield from pdf.read_pdf(data, settings, first_number)
        return
    opened = image.open_image(data, settings)
    number = first_number
    frames = image.iter_frames(opened, settings)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            return
        except image.PageTooLarge as exc:
            yield (
                PageText(
                    number=number,
                    method="ocr",
                    problem=PageProblem.TOO_LARGE,
                    problem_detail=str(exc),
                ),
                None,
            )
            number += 1
            continue
        yield ocr_page(frame, number, settings)
        number += 1


def _has_text(document: ReadDocument, settings: OcrSettings) -> bool:
    """Enough real characters somewhere: an image of noise OCRs to scattered specks."""
    characters = sum(
        sum(ch.isalnum() for ch in word.text)
        for page in document.pages
        for word in page.words
        if word.confidence is None or word.confidence >= 0.6
    )
    return characters >= settings.min_text_characters


def _no_text_detail(document: ReadDocument) -> str:
    failed = [p for p in document.pages if p.problem is not None]
    if failed and len(failed) == len(document.pages):
        return "; ".join(f"page {p.number}: {p.problem_detail}" for p in failed)
    return "no readable text was found"
