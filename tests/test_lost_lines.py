"""Lines tesseract's layout analysis dropped are found as uncovered ink and read again.

Tesseract drops a line only on some exact pixel arrangements, which a test cannot make
on purpose; so the page here is read for real and the words of one line are then taken
out of the reading, as tesseract's segmentation does: what the stage must do from there
(find that ink, read it, put it back in its place) runs on the real image with the real
tesseract.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from models.document import Word
from pipeline.read import lost_lines, tesseract
from pipeline.read.ocr import ocr_page
from synth.ink import font_paths

_ROWS = [
    ("ICD-10 code", "Description"),
    ("M62.830", "Muscle spasm of back"),
    ("G43.E19", ""),
    ("M54.30", ""),
]


def _form() -> Image.Image:
    """A diagnosis table with its rules and a frequency box, as a form prints at 300 dpi."""
    page = Image.new("L", (2000, 900), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(font_paths()["serif"], 40)
    for row, (code, description) in enumerate(_ROWS):
        top = 80 + row * 120
        draw.rectangle((60, top - 25, 1940, top + 85), outline=0, width=3)
        draw.line((700, top - 25, 700, top + 85), fill=0, width=3)
        draw.text((80, top), code, font=font, fill=0)
        draw.text((720, top), description, font=font, fill=0)
    draw.rectangle((60, 600, 1940, 710), outline=0, width=3)
    draw.text((80, 625), "Frequency: 1-2 times per week", font=font, fill=0)
    return page


def _without_line(words: list[Word], text: str) -> list[Word]:
    lost = {w.line for w in words if w.text == text}
    assert lost, f"tesseract did not read {text!r} in the first place"
    return [w for w in words if w.line not in lost]


def test_a_dropped_code_row_is_read_and_put_under_the_row_above(settings) -> None:
    page = _form()
    words = tesseract.read_words(page, settings.ocr).words
    kept = _without_line(words, "G43.E19")
    recovered = lost_lines.recover(page, kept, settings.ocr)
    texts = [w.text for w in recovered]
    assert "G43.E19" in texts
    order = [texts.index(t) for t in ("M62.830", "G43.E19", "M54.30")]
    assert order == sorted(order)  # in its place between the rows around it
    found = recovered[texts.index("G43.E19")]
    assert found.line not in {w.line for w in kept}  # a line of its own
    assert 60 < found.bbox[0] < 700 and 300 < found.bbox[1] < 400  # where it stands


def test_a_cells_frame_read_as_one_tall_word_hides_no_row(settings) -> None:
    """Seen: a table's frame read as one "—" 6.5 text heights tall where "m54.81" stood."""
    page = _form()
    words = tesseract.read_words(page, settings.ocr).words
    kept = _without_line(words, "G43.E19")
    frame = Word(text="—", line=99, confidence=0.69, bbox=(62.0, 250.0, 690.0, 560.0))
    recovered = lost_lines.recover(page, [*kept, frame], settings.ocr)
    assert "G43.E19" in [w.text for w in recovered]
    assert "—" in [w.text for w in recovered]  # what was read stays


def test_words_lost_from_the_start_of_a_line_join_that_line(settings) -> None:
    page = _form()
    words = tesseract.read_words(page, settings.ocr).words
    kept = [w for w in words if w.text not in ("Frequency:", "1-2")]
    recovered = lost_lines.recover(page, kept, settings.ocr)
    line = [w for w in recovered if w.line == next(x.line for x in kept if x.text == "times")]
    assert " ".join(w.text for w in line) == "Frequency: 1-2 times per week"


def test_nothing_lost_means_no_second_run(settings, tmp_path) -> None:
    """A complete reading, rules and a signature's stroke leave no region to read."""
    page = _form()
    draw = ImageDraw.Draw(page)
    xs = np.linspace(600, 1500, 60)
    draw.line(
        [(float(x), 800 + 25 * np.sin(x / 40)) for x in xs], fill=0, width=4
    )  # a signature: one long stroke
    words = tesseract.read_words(page, settings.ocr).words
    gray = np.asarray(page)
    assert lost_lines.lost_regions(gray, words, lost_lines.text_height(words)) == []
    marker = tmp_path / "ran"
    counting = tmp_path / "tesseract"
    counting.write_text(f"#!/bin/sh\ntouch {marker}\nexit 3\n")
    counting.chmod(0o755)
    watched = settings.ocr.model_copy(
        update={"tesseract_cmd": str(counting), "tesseract_engine": "program"}
    )
    assert lost_lines.recover(page, words, watched) == words
    assert not marker.exists()  # no tesseract run was paid for


def test_a_failed_second_run_keeps_the_first_reading(settings, tmp_path) -> None:
    page = _form()
    words = tesseract.read_words(page, settings.ocr).words
    kept = _without_line(words, "G43.E19")
    crashing = tmp_path / "tesseract"
    crashing.write_text("#!/bin/sh\nexit 3\n")
    crashing.chmod(0o755)
    broken = settings.ocr.model_copy(
        update={"tesseract_cmd": str(crashing), "tesseract_engine": "program"}
    )
    assert lost_lines.recover(page, kept, broken) == kept


def _word(text: str, line: int, left: float, top: float) -> Word:
    return Word(
        text=text, line=line, confidence=0.9, bbox=(left, top, left + 20.0 * len(text), top + 30)
    )


def test_recovered_lines_follow_what_stands_above_them_in_reading_order() -> None:
    """Tesseract read the right column's "Group no. 5748446" after the billing header and
    lost the left column's cells and the diagnosis block under them: put back, the block
    must not come before the group number, or that number reads as a code in it."""
    read = [
        _word("BILLING", 0, 200, 990),
        _word("Group", 1, 1290, 1080),
        _word("no.", 1, 1400, 1080),
        _word("5748446", 2, 1290, 1123),
        _word("Treatment:", 3, 200, 1600),
    ]
    lost = [
        [_word("Subscriber", 0, 200, 1071), _word("ID", 0, 420, 1071)],
        [_word("ANK77305930", 0, 206, 1123)],
        [_word("DIAGNOSES", 0, 201, 1215)],
        [_word("S93.411D", 0, 207, 1322)],
    ]
    merged = lost_lines.merge(read, lost, 30)
    assert [w.text for w in merged] == [
        "BILLING",
        "Subscriber",
        "ID",
        "Group",
        "no.",
        "ANK77305930",
        "5748446",
        "DIAGNOSES",
        "S93.411D",
        "Treatment:",
    ]
    assert len({w.line for w in merged}) == 8  # each recovered line a line of its own


def test_a_page_read_through_the_ocr_stage_gets_its_dropped_row_back(settings, tmp_path) -> None:
    """End to end through ``ocr_page``: a tesseract that drops the "G43.E19" row from its
    page reading (as its layout analysis does) but reads the stacked crops as it is."""
    dropping = tmp_path / "tesseract"
    dropping.write_text(
        "#!/bin/sh\n"
        'tesseract "$@" || exit $?\n'
        'case "$*" in *"--psm 3"*) sed -i "/G43.E19/d" "$2.tsv" ;; esac\n'
    )
    dropping.chmod(0o755)
    forgetful = settings.ocr.model_copy(
        update={"tesseract_cmd": str(dropping), "tesseract_engine": "program"}
    )
    page, _ = ocr_page(_form(), 1, forgetful)
    assert "G43.E19" in [w.text for w in page.words]
    switched_off = forgetful.model_copy(update={"recover_lost_lines": False})
    page, _ = ocr_page(_form(), 1, switched_off)
    assert "G43.E19" not in [w.text for w in page.words]  # the wrapper does drop it


def _shredded(word: Word, pieces: list[str], first_line: int) -> list[Word]:
    """The word as tesseract shreds a row: lines of a faint letter or two side by side."""
    left, top, right, bottom = word.bbox
    width = (right - left) / len(pieces)
    return [
        Word(
            text=text,
            line=first_line + i,
            confidence=0.3,
            bbox=(left + i * width, top, left + (i + 1) * width - 4, bottom),
        )
        for i, text in enumerate(pieces)
    ]


def test_a_row_shredded_into_one_letter_lines_is_read_again(settings) -> None:
    """Seen: a code row read as "QO", "ies)", "ise)", "ND", "[ee]", each a line of its own
    and faint; its ink was covered, so the code was lost and the referral accepted."""
    page = _form()
    words = tesseract.read_words(page, settings.ocr).words
    (code,) = [w for w in words if w.text == "G43.E19"]
    pieces = _shredded(code, ["QO", "ies)", "ise)", "ND", "[ee]"], first_line=100)
    shredded = [w for w in words if w is not code] + pieces
    recovered = lost_lines.recover(page, shredded, settings.ocr)
    texts = [w.text for w in recovered]
    assert "G43.E19" in texts
    assert not {"QO", "ies)", "ise)", "ND", "[ee]"} & set(texts)  # the pieces made way


def test_pieces_where_nothing_is_read_again_stay(settings) -> None:
    """A row of marks where nothing is read again (a tick box row) keeps them, while a
    line lost elsewhere on the page is read and put back in the same run."""
    page = _form()
    words = _without_line(tesseract.read_words(page, settings.ocr).words, "G43.E19")
    blank = Word(text="x", line=0, confidence=0.3, bbox=(800.0, 780.0, 1000.0, 820.0))
    pieces = _shredded(blank, ["[", "]", "[", "]", "["], first_line=100)
    assert lost_lines.shredded_rows(words + pieces, 40)  # taken for a shredded row
    recovered = lost_lines.recover(page, words + pieces, settings.ocr)
    assert "G43.E19" in [w.text for w in recovered]
    assert all(p in recovered for p in pieces)


def test_a_short_row_of_faint_words_is_no_shredded_row() -> None:
    words = [_word(t, i, 200 + 60 * i, 500) for i, t in enumerate(["a", "b", "c"])]
    faint = [w.model_copy(update={"confidence": 0.3}) for w in words]
    assert lost_lines.shredded_rows(faint, 30) == set()  # three pieces are not a row
    wide = [_word("Occipital", 5 + i, 200 + 300 * i, 500) for i in range(5)]
    assert lost_lines.shredded_rows(wide, 30) == set()  # words, not letters


_ORDER = "Massage two times weekly x 6-8 wks."


def _order_line() -> tuple[Image.Image, float]:
    """The order's line, and where its 8 starts."""
    page = Image.new("L", (2000, 300), 255)
    font = ImageFont.truetype(font_paths()["serif"], 40)
    ImageDraw.Draw(page).text((80, 120), _ORDER, font=font, fill=0)
    return page, 80 + font.getlength(_ORDER[: _ORDER.index("8")])


def test_a_number_lost_between_words_is_read_back_into_its_line(settings) -> None:
    """Seen: "x 6-8 wks." read as "x 8 wks." (the 6 and its dash left between the words,
    one letter, no run) and accepted as 8 weeks."""
    page, eight_starts = _order_line()
    words = tesseract.read_words(page, settings.ocr).words
    (whole,) = [w for w in words if w.text == "6-8"]
    eight = whole.model_copy(update={"text": "8", "bbox": (eight_starts, *whole.bbox[1:])})
    lost = [eight if w is whole else w for w in words]
    recovered = lost_lines.recover(page, lost, settings.ocr)
    # read alone (the words beside it whited out), in its place: "6- 8 wks" is 6-8 weeks
    assert " ".join(w.text for w in recovered) == _ORDER.replace("6-8", "6- 8")
    assert len({w.line for w in recovered}) == 1


def test_a_lone_letter_between_words_comes_back_only_as_a_number(settings) -> None:
    """A lone blob between words is more often a speck or a mark: only digits are kept."""
    page, _ = _order_line()
    words = tesseract.read_words(page, settings.ocr).words
    without_x = [w for w in words if w.text != "x"]
    assert lost_lines.lost_regions(np.asarray(page), without_x, 40)  # looked at
    assert lost_lines.recover(page, without_x, settings.ocr) == without_x


def test_a_letter_that_sticks_out_of_its_box_is_not_read_again(settings) -> None:
    """Seen: a "6" boxed short; its right half, read alone as "5", made "6 5 visits"."""
    page, eight_starts = _order_line()
    words = tesseract.read_words(page, settings.ocr).words
    (whole,) = [w for w in words if w.text == "6-8"]
    middle_of_eight = eight_starts + (whole.bbox[2] - eight_starts) / 2
    short = whole.model_copy(
        update={"bbox": (whole.bbox[0], whole.bbox[1], middle_of_eight, whole.bbox[3])}
    )
    boxed_short = [short if w is whole else w for w in words]
    height = lost_lines.text_height(boxed_short)
    assert lost_lines.lost_regions(np.asarray(page), boxed_short, height) == []
