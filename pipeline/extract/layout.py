"""The document's words laid out as one text, with a way back from characters to boxes.

The spaCy components match on text; every match is mapped back through this layout to
the page, the words as written, their box on the page image and their OCR confidence.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from models.document import ReadDocument, Word, text_height
from models.referral import Evidence

PAGE_BREAK = "\n\n"


@dataclass(frozen=True)
class PlacedWord:
    start: int
    end: int
    page: int
    word: Word


def _separator(previous: Word, word: Word) -> str:
    """A newline between lines; two spaces where a wide gap splits a line into columns.

    The double space lets the rules tell "Dolores Whitehorse   United Healthcare" (two
    form boxes on one line) from a four-word name.
    """
    if word.line != previous.line:
        return "\n"
    if previous.bbox and word.bbox:
        height = max(1.0, previous.bbox[3] - previous.bbox[1])
        if word.bbox[0] - previous.bbox[2] > 1.5 * height:
            return "  "
    return " "


class Layout:
    """Text of all pages (lines joined by newlines) and where each word sits in it."""

    def __init__(self, document: ReadDocument) -> None:
        parts: list[str] = []
        self.words: list[PlacedWord] = []
        offset = 0
        for page in document.pages:
            if not page.words:
                continue
            if parts:
                parts.append(PAGE_BREAK)
                offset += len(PAGE_BREAK)
            previous: Word | None = None
            for word in page.words:
                if previous is not None:
                    gap = _separator(previous, word)
                    parts.append(gap)
                    offset += len(gap)
                parts.append(word.text)
                self.words.append(PlacedWord(offset, offset + len(word.text), page.number, word))
                offset += len(word.text)
                previous = word
        self.text = "".join(parts)
        self._starts = [w.start for w in self.words]
        self._heights = {page.number: text_height(page.words) for page in document.pages}

    def text_height(self, page: int) -> int | None:
        """The page's typical word height in pixels (None: a text layer's or too few words)."""
        return self._heights.get(page)

    def words_in(self, start: int, end: int) -> list[PlacedWord]:
        """The words that overlap the character range ``[start, end)``."""
        first = max(0, bisect.bisect_right(self._starts, start) - 1)
        found = []
        for placed in self.words[first:]:
            if placed.start >= end:
                break
            if placed.end > start:
                found.append(placed)
        return found

    def evidence(self, start: int, end: int) -> Evidence | None:
        """Page, text as written, and the union box of the words on the first page touched."""
        words = self.words_in(start, end)
        if not words:
            return None
        page = words[0].page
        on_page = [w for w in words if w.page == page]
        boxes = [w.word.bbox for w in on_page if w.word.bbox is not None]
        bbox = None
        if boxes:
            bbox = (
                round(min(b[0] for b in boxes), 1),
                round(min(b[1] for b in boxes), 1),
                round(max(b[2] for b in boxes), 1),
                round(max(b[3] for b in boxes), 1),
            )
        return Evidence(page=page, text=self.text[start:end], bbox=bbox)

    def whole_words(self, start: int, end: int) -> tuple[int, int]:
        """The range widened to the whole words it touches ("3" in the word "-3")."""
        words = self.words_in(start, end)
        if not words:
            return start, end
        return min(start, words[0].start), max(end, words[-1].end)

    def faint_letters(self, start: int, end: int, threshold: float) -> list[int] | None:
        """Where in ``[start, end)`` the letters read below ``threshold`` stand.

        None when a word read below it has no letter scores (tesseract gives a word's
        only), so which of its letters are unsure is not known.
        """
        faint: list[int] = []
        for placed in self.words_in(start, end):
            word = placed.word
            if word.confidence is None or word.confidence >= threshold:
                continue
            if word.letters is None or len(word.letters) != len(word.text):
                return None
            faint.extend(
                placed.start + i - start
                for i, score in enumerate(word.letters)
                if score < threshold and start <= placed.start + i < end
            )
        return faint

    def min_confidence(self, start: int, end: int, numbers_only: bool = False) -> float | None:
        """The lowest OCR confidence among the words of a match (None for text layers);
        with ``numbers_only``, among its words that hold a digit."""
        values = [
            w.word.confidence
            for w in self.words_in(start, end)
            if not numbers_only or any(c.isdigit() for c in w.word.text)
        ]
        known = [v for v in values if v is not None]
        return min(known) if known else None
