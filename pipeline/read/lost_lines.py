"""Text that tesseract's page layout analysis dropped: ink no word covers, read again.

Tesseract sometimes drops whole lines or cells of a page without a trace (seen: a form's
code rows "g43.e19" and "m54.30" under a full row, in a table whose description cells
were empty, so the referral was accepted without two of its codes; "1x/mo" at the left
edge of a box whose "x 6 wk" it read). The same page shifted by two pixels read them:
the loss is in the segmentation, not in the letters. Nothing written should vanish
silently, so after the page is read, ink of letter size that no word box covers, in runs
of two letters or more (or one, between two words of a line beside a number: a range's
lost "6-" of "6-8 wks"), is cut out, stacked into one image and read by tesseract once;
the words it gives join the page's lines where they stand.

What is not text is left alone: table rules are removed first, a signature is one long
stroke (wider than letters), specks are smaller than letters, a photo's background at the
image border is skipped. A page with nothing lost costs ~0.1 s of image work and no
tesseract run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image

from models.config import OcrSettings
from models.document import Word, text_height
from pipeline.read import tesseract
from pipeline.read.tesseract import OcrError

_GAP = 40  # white pixels around and between the stacked regions
_STACKED_PSM = 6  # one block of lines: each region is one line of text
_MARGIN = 0.35  # around a region, in text heights
_EDGE_MARKS = "|[]{}()_-~—'\"`‘’“”"
_MOST_REGIONS = 60
_BORDER = 0.02  # regions this near the image's edge are background, not text (photos)
# a row tesseract shredded: this many lines of a short faint piece or two, side by side
_PIECES_IN_A_ROW = 4
_PIECE_WIDTH = 1.6  # in text heights: a letter or two
_PIECE_CONFIDENCE = 0.75


@dataclass(frozen=True)
class LostRegion:
    """A run of uncovered letter-sized ink: its box on the page, in pixels."""

    left: int
    top: int
    right: int
    bottom: int
    lone: bool = False  # one letter in a gap between a line's words: kept only as a digit


def recover(image: Image.Image, words: list[Word], settings: OcrSettings) -> list[Word]:
    """The page's words with whatever the first reading dropped read and put in place.

    A row tesseract shredded into lines of a letter or two (``shredded_rows``) counts as
    lost too. A failed or timed-out second run leaves the words as they were: the page
    was read, and its confidence and every other guard still stand.
    """
    height = text_height(words)
    if height is None:
        return words
    shredded = shredded_rows(words, height)
    kept = [
        w for i, w in enumerate(words) if i not in shredded and not _box_of_no_letters(w, height)
    ]
    gray = np.asarray(image.convert("L"))
    regions = lost_regions(gray, kept, height)
    if not regions:
        return words
    stacked, tops = _stack(gray, regions, height, kept)
    try:
        reading = tesseract.read_words(stacked, settings, psm=_STACKED_PSM)
    except OcrError:
        return words
    found = _placed(reading.words, regions, tops, height)
    if not found:
        return words
    # a piece stays unless words were read over it now (a row of tick boxes that read
    # as nothing again keeps its marks)
    read_now = [w for line in found for w in line]
    left = [w for i, w in enumerate(words) if i not in shredded or not _read_before(w, read_now)]
    return merge(left, found, height)


def shredded_rows(words: list[Word], height: int) -> set[int]:
    """Words of a row tesseract cut into lines of a letter or two each.

    (Seen: a form's code row "G8928 | Other chronic postprocedural pain" read as 29
    lines "QO", "ies)", "2)", "ct", "i 8"..., so no ink was left uncovered and the
    referral was accepted without its G89.28.) A line of one or two words, each no
    wider than a couple of letters and faint (or a lone mark: "=", "|"), is a piece;
    four or more pieces side by side on one row are taken as unread: their ink is read
    again like a lost line, and the words read there take their place.
    """
    lines: dict[int, list[int]] = {}
    for i, word in enumerate(words):
        lines.setdefault(word.line, []).append(i)
    pieces = [
        members for members in lines.values() if _is_piece([words[i] for i in members], height)
    ]
    shredded: set[int] = set()
    for piece in pieces:
        anchor = words[piece[0]]
        row = [
            other
            for other in pieces
            if abs(_middle(words[other[0]]) - _middle(anchor)) < 0.5 * height
            and _gap(anchor, words[other[0]]) < 2 * height
        ]
        if len(row) >= _PIECES_IN_A_ROW:
            shredded.update(i for other in row for i in other)
    return shredded


def _is_piece(line: list[Word], height: int) -> bool:
    if len(line) > 2 or any(w.bbox is None for w in line):
        return False
    if any(w.bbox[2] - w.bbox[0] > _PIECE_WIDTH * height for w in line):
        return False
    faint = sum(w.confidence or 0.0 for w in line) / len(line) < _PIECE_CONFIDENCE
    return faint or all(len(w.text) == 1 for w in line)


def _gap(word: Word, other: Word) -> float:
    return max(other.bbox[0] - word.bbox[2], word.bbox[0] - other.bbox[2], 0.0)


# in text heights: no word read is taller (a slanted hand-written line's box is ~2)
_TALLEST_WORD = 4.0


def lost_regions(gray: np.ndarray, words: list[Word], height: int) -> list[LostRegion]:
    """Runs of two or more letter-sized ink blobs that no word's box covers, and a lone
    blob standing in a gap between a line's words beside a number (``_between_words``).

    Looked for at half resolution when letters are tall enough (a 300 dpi page's are
    ~30 pixels): a quarter of the pixels, the same blobs, ~0.1 s a page instead of 0.4.
    """
    scale = 2 if height >= 20 else 1
    if scale > 1:
        size = (gray.shape[1] // scale, gray.shape[0] // scale)
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    height = max(4, height // scale)
    ink = _ink(gray, block=31 // scale | 1)
    ink[_rules(ink, height) > 0] = 0
    pad = max(1, int(0.15 * height))
    uncut = ink.copy()
    for word in words:
        if word.bbox is not None:
            left, top, right, bottom = (int(v) // scale for v in word.bbox)
            ink[max(0, top - pad) : bottom + pad + 1, max(0, left - pad) : right + pad + 1] = 0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    letter = _letter_sized(stats, height)
    letters = (letter[labels]).astype(np.uint8) * 255
    runs = cv2.dilate(
        letters, cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, int(1.5 * height)), 1))
    )
    run_count, run_labels, run_stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
    members = _letters_per_run(stats, letter, run_labels, run_count)
    cut = _cut_from_words(stats, letter, run_labels, uncut, members)
    found = []
    for index, (x, y, w, h, _) in enumerate(run_stats):
        if not index or not members[index] or not _text_like(x, y, w, h, height, gray.shape):
            continue
        region = LostRegion(int(x) * scale, int(y) * scale, int(x + w) * scale, int(y + h) * scale)
        if members[index] >= 2:
            found.append(region)
        elif index not in cut and _between_words(region, words, height * scale):
            found.append(replace(region, lone=True))
    # a page whose reading missed this much is read poorly anyway (its confidence sends it
    # to review); the widest runs are read and the second run stays small
    widest = sorted(found, key=lambda r: r.right - r.left, reverse=True)[:_MOST_REGIONS]
    return sorted(widest, key=lambda r: (r.top, r.left))


def _box_of_no_letters(word: Word, height: int) -> bool:
    """A word whose box is many lines tall: a table's border read as "—", not letters.

    (Seen: a cell's frame read as one "—" 6.5 text heights tall over a typed "m54.81" in
    the cell below the first code; its box hid the code's ink from this stage, and the
    referral was accepted on the first code alone.)
    """
    return word.bbox is not None and word.bbox[3] - word.bbox[1] > _TALLEST_WORD * height


def _cut_from_words(
    stats: np.ndarray,
    letter: np.ndarray,
    run_labels: np.ndarray,
    uncut: np.ndarray,
    members: np.ndarray,
) -> set[int]:
    """Lone-letter runs whose blob's ink goes on into a word's box: the part of a read
    letter that stuck out of its box (seen: a "6" boxed short, its right half read alone
    as "5", making "6 visits" "6 5 visits"). Runs of two letters or more are not looked
    at: they are read whatever this says."""
    cut: set[int] = set()
    for x, y, w, h, _ in stats[letter]:
        run = int(run_labels[y + h // 2, x + w // 2])
        if members[run] != 1:
            continue
        rows = slice(y, y + h)
        left = x > 0 and uncut[rows, x - 1].any()
        right = x + w < uncut.shape[1] and uncut[rows, x + w].any()
        if left or right:
            cut.add(run)
    return cut


# words a lost number stands beside: a number, a range's or a times sign, a unit
_BESIDE_A_NUMBER = re.compile(
    r"\d|^(?:x|×|for|to|-|per)$|^(?:weeks?|wks?|months?|mos?|times|visits|sessions)\b",
    re.IGNORECASE,
)


def _between_words(region: LostRegion, words: list[Word], height: int) -> bool:
    """A lone letter in a gap inside a line: between two of its words, on their row.

    (Seen: "x 6-8 wks." read as "x 8 wks.", the 6 left between the words, and accepted
    as 8 weeks; one letter alone is no run, so it was not looked at.) Only beside a
    number, a times sign or a unit: elsewhere a lone blob is more often a speck or a mark
    than a lost letter, and every region added to the stacked image changes how
    tesseract reads the others a little (it adapts to the whole image).
    """
    middle_x, middle_y = (region.left + region.right) / 2, (region.top + region.bottom) / 2
    before: dict[int, str] = {}
    after: dict[int, str] = {}
    for word in words:
        if word.bbox is None or not word.bbox[1] <= middle_y <= word.bbox[3]:
            continue
        if middle_x - 2 * height < word.bbox[2] < middle_x:
            before[word.line] = word.text
        elif middle_x < word.bbox[0] < middle_x + 2 * height:
            after[word.line] = word.text
    return any(
        _BESIDE_A_NUMBER.search(before[line]) or _BESIDE_A_NUMBER.search(after[line])
        for line in before.keys() & after.keys()
    )


def _ink(gray: np.ndarray, block: int = 31) -> np.ndarray:
    """Dark against its surroundings: a photo's shading and a fax's grey are not ink."""
    mean = cv2.ADAPTIVE_THRESH_MEAN_C
    return cv2.adaptiveThreshold(gray, 255, mean, cv2.THRESH_BINARY_INV, block, 20)


def _rules(ink: np.ndarray, height: int) -> np.ndarray:
    """Table and underline rules: runs of ink much longer than any letter."""
    length = max(15, 3 * height)
    across = cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1))
    down = cv2.getStructuringElement(cv2.MORPH_RECT, (1, length))
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, across) | cv2.morphologyEx(
        ink, cv2.MORPH_OPEN, down
    )
    return cv2.dilate(rules, np.ones((3, 3), np.uint8))


def _letter_sized(stats: np.ndarray, height: int) -> np.ndarray:
    """Blobs as tall as letters, not much wider (a signature is wider), not specks."""
    widths, heights, areas = stats[:, 2], stats[:, 3], stats[:, 4]
    letter = (
        (heights >= 0.35 * height)
        & (heights <= 1.6 * height)
        & (widths <= 3 * height)
        & (areas >= 0.03 * height * height)
    )
    letter[0] = False  # the background
    return letter


def _letters_per_run(
    stats: np.ndarray, letter: np.ndarray, run_labels: np.ndarray, run_count: int
) -> np.ndarray:
    """How many letter blobs each run holds (each counted where its box's middle falls)."""
    rows = stats[letter]
    if not len(rows):
        return np.zeros(run_count, int)
    x = rows[:, 0] + rows[:, 2] // 2
    y = rows[:, 1] + rows[:, 3] // 2
    return np.bincount(run_labels[y, x], minlength=run_count)


def _text_like(x: int, y: int, w: int, h: int, height: int, shape: tuple[int, ...]) -> bool:
    rows, columns = shape[0], shape[1]
    margin = int(_BORDER * min(rows, columns))
    inside = x >= margin and y >= margin and x + w <= columns - margin and y + h <= rows - margin
    return inside and h <= 2 * height and w >= 1.2 * height


def _stack(
    gray: np.ndarray, regions: list[LostRegion], height: int, words: list[Word]
) -> tuple[Image.Image, list[int]]:
    """The regions one under another, each black on white with the rules taken out (a
    box's edge in a crop reads as "|" or "[" and its grey as noise)."""
    margin = int(_MARGIN * height)
    crops = []
    for region in regions:
        top, left = max(0, region.top - margin), max(0, region.left - margin)
        spot = gray[top : region.bottom + margin, left : region.right + margin]
        _, crop = cv2.threshold(spot, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        crop[_rules(_ink(spot), height) > 0] = 255
        if region.lone:
            _blank_words(crop, words, (left, top))
        crops.append(crop)
    width = max(c.shape[1] for c in crops) + 2 * _GAP
    height_in_all = sum(c.shape[0] for c in crops) + _GAP * (len(crops) + 1)
    canvas = np.full((height_in_all, width), 255, np.uint8)
    tops, y = [], _GAP
    for crop in crops:
        canvas[y : y + crop.shape[0], _GAP : _GAP + crop.shape[1]] = crop
        tops.append(y)
        y += crop.shape[0] + _GAP
    return Image.fromarray(canvas), tops


def _blank_words(crop: np.ndarray, words: list[Word], offset: tuple[int, int]) -> None:
    """White out the words read beside a lone letter: the margin cuts through them, and a
    neighbour's half letter reads as another ("6-8" cut at the 8 read as "6-€")."""
    for word in words:
        if word.bbox is None:
            continue
        left, top, right, bottom = (int(v) for v in word.bbox)
        rows = slice(max(0, top - offset[1]), max(0, bottom - offset[1] + 1))
        columns = slice(max(0, left - offset[0]), max(0, right - offset[0] + 1))
        crop[rows, columns] = 255


def _placed(
    read: list[Word], regions: list[LostRegion], tops: list[int], height: int
) -> list[list[Word]]:
    """The words read, moved back to where they stand on the page, one list a line."""
    margin = int(_MARGIN * height)
    lines: dict[tuple[int, int], list[Word]] = {}
    for word in read:
        if word.bbox is None or not word.text.strip(_EDGE_MARKS):
            continue  # a piece of a box's edge the rules left: "|", "[", "_"
        middle = (word.bbox[1] + word.bbox[3]) / 2
        index = _region_of(middle, regions, tops, margin)
        if index is None or (regions[index].lone and not any(c.isdigit() for c in word.text)):
            continue  # a lone speck between words read as a letter or a mark
        region = regions[index]
        dx = max(0, region.left - margin) - _GAP
        dy = max(0, region.top - margin) - tops[index]
        left, top, right, bottom = word.bbox
        box = (left + dx, top + dy, right + dx, bottom + dy)
        lines.setdefault((index, word.line), []).append(word.model_copy(update={"bbox": box}))
    return [sorted(line, key=lambda w: w.bbox[0]) for line in lines.values()]


def _region_of(
    middle: float, regions: list[LostRegion], tops: list[int], margin: int
) -> int | None:
    for index, (region, top) in enumerate(zip(regions, tops, strict=True)):
        if top <= middle <= top + region.bottom - region.top + 2 * margin:
            return index
    return None


def merge(words: list[Word], found: list[list[Word]], height: int) -> list[Word]:
    """The page's words with each recovered line joined to the line it stands on, or put
    after the nearest line above it (in its column) as a line of its own."""
    result = list(words)
    next_line = max((w.line for w in words), default=-1) + 1
    lettered = [w for w in words if not _box_of_no_letters(w, height)]
    for line in found:
        line = [w for w in line if not _read_before(w, lettered)]
        if not line:
            continue
        row = _row_beside(result, line, height)
        if row is not None:
            result = _join(result, [w.model_copy(update={"line": row}) for w in line])
            continue
        new = [w.model_copy(update={"line": next_line}) for w in line]
        next_line += 1
        at = _after_line_above(result, new)
        result[at:at] = new
    return result


def _read_before(word: Word, words: list[Word]) -> bool:
    """Most of the word lies in a word the page's reading has: a letter that stuck out of
    its box (the "t" of "times"), read twice, would be a word the document never had."""
    left, top, right, bottom = word.bbox
    area = max(1.0, (right - left) * (bottom - top))
    for other in words:
        if other.bbox is None:
            continue
        width = min(right, other.bbox[2]) - max(left, other.bbox[0])
        height = min(bottom, other.bbox[3]) - max(top, other.bbox[1])
        if width > 0 and height > 0 and width * height > 0.3 * area:
            return True
    return False


def _row_beside(words: list[Word], line: list[Word], height: int) -> int | None:
    """The line whose words share the recovered words' row and stand near them."""
    top, bottom = line[0].bbox[1], line[0].bbox[3]
    left, right = line[0].bbox[0], line[-1].bbox[2]
    best: tuple[float, int] | None = None
    for word in words:
        if word.bbox is None:
            continue
        overlap = min(bottom, word.bbox[3]) - max(top, word.bbox[1])
        if overlap < 0.5 * min(bottom - top, word.bbox[3] - word.bbox[1]):
            continue
        distance = max(word.bbox[0] - right, left - word.bbox[2], 0)
        if distance <= 6 * height and (best is None or distance < best[0]):
            best = (distance, word.line)
    return best[1] if best else None


def _join(words: list[Word], joining: list[Word]) -> list[Word]:
    """Insert words into their line in left-to-right order."""
    result = list(words)
    for word in joining:
        same = [i for i, w in enumerate(result) if w.line == word.line]
        after = [i for i in same if result[i].bbox and result[i].bbox[0] > word.bbox[0]]
        at = after[0] if after else same[-1] + 1
        result.insert(at, word)
    return result


def _after_line_above(words: list[Word], line: list[Word]) -> int:
    """Where a new line goes: after the nearest line above it (preferring one in the same
    column, so a code row lost under another follows it), and after the lines that come
    next in reading order and stand between the two (the other column's cell on the row
    above: a lost "Subscriber ID" value goes after "Group no.  5748446", not before it,
    or that number would follow the diagnosis block recovered under it)."""
    middle = _middle(line[0])
    left, right = line[0].bbox[0], line[-1].bbox[2]
    above = [(i, w) for i, w in enumerate(words) if w.bbox and _middle(w) < middle]
    if not above:
        return 0
    column = [(i, w) for i, w in above if w.bbox[0] < right and w.bbox[2] > left] or above
    anchor = max(column, key=lambda p: _middle(p[1]))[1]
    at = _line_end(words, anchor.line)
    while at < len(words) and words[at].bbox and _middle(anchor) <= _middle(words[at]) < middle:
        at = _line_end(words, words[at].line)
    return at


def _middle(word: Word) -> float:
    return (word.bbox[1] + word.bbox[3]) / 2


def _line_end(words: list[Word], line: int) -> int:
    return max(i for i, w in enumerate(words) if w.line == line) + 1
