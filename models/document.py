"""What the read stage hands to the extract stage: the words of each page with boxes.

Kept apart from the contract record because it is larger (every word, its box and
confidence) and is what the store keeps for the review page's highlights.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from models.referral import PageMethod, Rotation, Source

BBox = tuple[float, float, float, float]


class Word(BaseModel):
    """One word as read: its text, box in page-image pixels and confidence (0-1; None for text)."""

    model_config = ConfigDict(frozen=True)

    text: str
    bbox: BBox | None = None
    confidence: float | None = None
    line: int = 0
    letters: tuple[float, ...] | None = Field(
        default=None,
        description="each letter's confidence, where the engine gives one (PP-OCR); a value "
        "is then doubted only for the letters that decide it",
    )


def text_height(words: list[Word]) -> int | None:
    """The page's typical word height (median of words of two letters or more), in pixels."""
    heights = sorted(
        w.bbox[3] - w.bbox[1] for w in words if w.bbox is not None and len(w.text) >= 2
    )
    if len(heights) < 3:
        return None  # a page too empty to know its letters' size
    return max(8, int(heights[len(heights) // 2]))


class PageProblem(StrEnum):
    """Why a page could not be read; each maps to a message for people in the CLI and web."""

    OCR_TIMEOUT = "ocr_timeout"
    OCR_FAILED = "ocr_failed"
    TOO_LARGE = "too_large"
    UNDECODABLE = "undecodable"


class PageText(BaseModel):
    number: int
    method: PageMethod
    width: int = 0
    height: int = 0
    rotation: Rotation = 0
    confidence: float | None = None
    ocr_passes: int = Field(default=0, description="tesseract runs spent on this page")
    words: list[Word] = Field(default_factory=list)
    problem: PageProblem | None = None
    problem_detail: str | None = None


class DocumentProblem(StrEnum):
    """Why a whole input could not be read (all map to UNREADABLE_DOCUMENT)."""

    EMPTY = "empty"
    UNSUPPORTED = "unsupported"
    CORRUPT = "corrupt"
    ENCRYPTED = "encrypted"
    TOO_LARGE = "too_large"
    NO_TEXT = "no_text"
    TOO_MANY_PAGES = "too_many_pages"
    MISSING = "missing"
    CRASHED = "crashed"


DOCUMENT_PROBLEM_TEXT: dict[DocumentProblem, str] = {
    DocumentProblem.EMPTY: "The file is empty",
    DocumentProblem.UNSUPPORTED: "The file is not a PDF, TIFF, PNG, JPEG or e-mail",
    DocumentProblem.CORRUPT: "The file is damaged or truncated and could not be opened",
    DocumentProblem.ENCRYPTED: "The PDF is password-protected",
    DocumentProblem.TOO_LARGE: "The page image is too large to read safely",
    DocumentProblem.NO_TEXT: "No readable text was found in the document",
    DocumentProblem.TOO_MANY_PAGES: "The document has more pages than the configured limit",
    DocumentProblem.MISSING: "The file does not exist",
    DocumentProblem.CRASHED: "Reading the file stopped the program that reads it",
}


class ReadDocument(BaseModel):
    """An input file after reading: its source facts, its pages, or why it failed."""

    source: Source
    pages: list[PageText] = Field(default_factory=list)
    problem: DocumentProblem | None = None
    problem_detail: str | None = None
    sent_date: date | None = Field(default=None, description="an e-mail's Date header")
