"""The verify stage reads again with the real tesseract.

A doubt is settled only when the second reading gives the very same value; a value the
page does not bear, a doubt of another kind, or a tesseract that fails leave it standing.
A diagnosis block that gave no reimbursable code is read once more, rules removed.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from models.document import PageText, ReadDocument, Word
from models.extraction import CodeMention, Extraction
from models.referral import Duration, Evidence, Frequency, Prescriber, Source
from pipeline.process import Pipeline
from pipeline.read import ReadResult
from pipeline.verify import look_again_for_codes, settle_doubts

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LINES = ["Diagnosis: S16.1XXA neck strain", "Massage 2x/week for 6 weeks"]


def _page() -> tuple[Image.Image, list[tuple[float, float, float, float]]]:
    """A 300 dpi page with two lines; the boxes of ``S16.1XXA`` and ``2x/week``."""
    page = Image.new("L", (2550, 1000), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 42)
    boxes = []
    for i, (line, word) in enumerate(zip(LINES, ["S16.1XXA", "2x/week"], strict=True)):
        x, y = 200, 200 + 120 * i
        draw.text((x, y), line, font=font, fill=0)
        before = line[: line.index(word)]
        left = x + draw.textlength(before, font=font)
        boxes.append((left, y, left + draw.textlength(word, font=font), y + 50))
    return page, boxes


def _doubted(code: str, code_box, frequency_box) -> Extraction:
    code_evidence = Evidence(page=1, text=code, bbox=code_box)
    frequency_evidence = Evidence(page=1, text="2x/week", bbox=frequency_box)
    return Extraction(
        codes=[CodeMention(code=code, evidence=code_evidence, doubtful=True)],
        frequency=Frequency(count=2, period=1, period_unit="wk", text="2x/week"),
        doubts=[f"diagnosis:{code}", "frequency", "duration"],
        unsure={f"diagnosis:{code}": code_evidence, "frequency": frequency_evidence},
        evidence={"frequency": frequency_evidence},
    )


def test_a_second_reading_that_agrees_settles_the_doubt(settings) -> None:
    page, (code_box, frequency_box) = _page()
    settled = settle_doubts(_doubted("S16.1XXA", code_box, frequency_box), {1: page}, settings.ocr)
    assert settled.doubts == ["duration"]  # a doubt not about reading stays
    assert set(settled.confirmed) == {"diagnosis:S16.1XXA", "frequency"}
    assert not settled.codes[0].doubtful


def test_a_second_reading_that_differs_keeps_the_doubt(settings) -> None:
    page, (code_box, frequency_box) = _page()
    first = _doubted("S16.1XXD", code_box, frequency_box)  # the page says S16.1XXA
    first.frequency = Frequency(count=3, period=1, period_unit="wk", text="3x/week")
    settled = settle_doubts(first, {1: page}, settings.ocr)
    assert set(settled.doubts) == {"diagnosis:S16.1XXD", "frequency", "duration"}
    assert settled.confirmed == [] and settled.codes[0].doubtful


def test_a_failing_tesseract_leaves_every_doubt(settings, tmp_path: Path) -> None:
    broken = tmp_path / "tesseract"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    ocr = settings.ocr.model_copy(
        update={"tesseract_cmd": str(broken), "tesseract_engine": "program"}
    )
    page, (code_box, frequency_box) = _page()
    settled = settle_doubts(_doubted("S16.1XXA", code_box, frequency_box), {1: page}, ocr)
    assert set(settled.doubts) == {"diagnosis:S16.1XXA", "frequency", "duration"}


def _ruled_diagnosis_table() -> tuple[Image.Image, PageText]:
    """A page with a DIAGNOSES header over a ruled table; the first reading saw only the
    header (as when tesseract's layout analysis drops the boxed cells)."""
    page = Image.new("L", (2550, 3300), 255)  # letter size at 300 dpi
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 42)
    draw.text((200, 200), "DIAGNOSES", font=font, fill=0)
    for row, code in enumerate(["S39.012A", "F41.1"]):
        top = 280 + 90 * row
        draw.rectangle((190, top, 1400, top + 90), outline=0, width=4)
        draw.line((600, top, 600, top + 90), fill=0, width=4)
        draw.text((220, top + 20), code, font=font, fill=0)
    header = Word(text="DIAGNOSES", bbox=(200, 200, 470, 250), confidence=0.95, line=0)
    return page, PageText(number=1, method="ocr", width=2550, height=3300, words=[header])


def _document(page: PageText) -> ReadDocument:
    return ReadDocument(source=Source(path="t", sha256=None, media_type=None), pages=[page])


def test_second_look_finds_codes_in_a_ruled_table(settings) -> None:
    image, page = _ruled_diagnosis_table()
    found = look_again_for_codes(Extraction(), _document(page), {1: image}, settings)
    codes = {m.code: m for m in found.codes}
    assert set(codes) == {"S39.012A", "F41.1"}
    assert codes["S39.012A"].evidence.bbox[1] > 280  # placed on the page, not in the crop
    # a code seen only on a second look may save a referral from rejection, no more
    assert all(m.doubtful for m in found.codes)
    assert {"diagnosis:S39.012A", "diagnosis:F41.1"} <= set(found.doubts)


def test_second_look_is_not_taken_when_a_reimbursable_code_was_read(settings, tmp_path) -> None:
    broken = tmp_path / "tesseract"
    broken.write_text("#!/bin/sh\ntouch " + str(tmp_path / "ran") + "\nexit 1\n")
    broken.chmod(0o755)
    ocr = settings.ocr.model_copy(
        update={"tesseract_cmd": str(broken), "tesseract_engine": "program"}
    )
    image, page = _ruled_diagnosis_table()
    evidence = Evidence(page=1, text="M54.50", bbox=(0, 0, 10, 10))
    first = Extraction(codes=[CodeMention(code="M54.50", evidence=evidence)])
    after = look_again_for_codes(
        first, _document(page), {1: image}, settings.model_copy(update={"ocr": ocr})
    )
    assert [m.code for m in after.codes] == ["M54.50"] and not (tmp_path / "ran").exists()


def _referral_read(duration: Duration | None) -> tuple[Extraction, ReadResult]:
    """A referral whose code and frequency were read with low word confidence."""
    page, (code_box, frequency_box) = _page()
    extraction = _doubted("S16.1XXA", code_box, frequency_box)
    extraction.doubts.remove("duration")
    extraction.duration = duration
    extraction.prescriber = Prescriber(name="Alan Park", credentials="MD")
    words = [Word(text=t, bbox=(0, 0, 9, 9), confidence=0.9, line=0) for t in LINES]
    document = _document(
        PageText(number=1, method="ocr", width=page.width, height=page.height, words=words)
    )
    document.pages[0].confidence = 0.9
    return extraction, ReadResult(document=document, images={1: page})


def test_the_pipeline_rereads_a_doubt_that_alone_blocks_acceptance(settings) -> None:
    pipeline = Pipeline(settings)
    extraction, read = _referral_read(Duration(value=6, unit="wk", text="6 weeks"))
    first = pipeline._decide(read.document, extraction)
    assert [r.code.value for r in first.decision.reasons] == ["LOW_CONFIDENCE"]
    assert pipeline._read_again(extraction, read, first)
    assert pipeline._decide(read.document, extraction).decision.status == "accepted"


def test_the_pipeline_spends_no_reread_on_a_referral_that_needs_review_anyway(settings) -> None:
    pipeline = Pipeline(settings)
    extraction, read = _referral_read(duration=None)  # MISSING_DURATION holds
    first = pipeline._decide(read.document, extraction)
    assert not pipeline._read_again(extraction, read, first)
    assert extraction.confirmed == [] and "frequency" in extraction.doubts


def _shorthand_page(written: str) -> tuple[Image.Image, tuple[float, float, float, float]]:
    """A form's "Frequency/Duration" label with its value, a "3x2" shorthand, below it."""
    page = Image.new("L", (2550, 700), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 42)
    draw.text((200, 200), "Frequency/Duration", font=font, fill=0)
    draw.text((200, 330), written, font=font, fill=0)
    return page, (200, 330, 200 + draw.textlength(written, font=font), 380)


def _shorthand_read_faintly(box: tuple[float, float, float, float]) -> Extraction:
    evidence = Evidence(page=1, text="3x2", bbox=box)
    return Extraction(
        frequency=Frequency(count=3, period=1, period_unit="wk", text="3x2"),
        duration=Duration(value=2, unit="wk", text="3x2"),
        doubts=["frequency", "duration"],
        unsure={"frequency": evidence, "duration": evidence},
        evidence={"frequency": evidence, "duration": evidence},
    )


def test_a_shorthand_read_under_its_label_is_confirmed_by_its_characters(settings) -> None:
    """Cut out alone, "3x2" means nothing; the same characters read again confirm it."""
    page, box = _shorthand_page("3x2")
    settled = settle_doubts(_shorthand_read_faintly(box), {1: page}, settings.ocr)
    assert settled.doubts == [] and set(settled.confirmed) == {"frequency", "duration"}
    other, box = _shorthand_page("3x4")
    kept = settle_doubts(_shorthand_read_faintly(box), {1: other}, settings.ocr)
    assert kept.doubts == ["frequency", "duration"] and kept.confirmed == []


def test_only_the_named_doubts_are_read_again(settings) -> None:
    page, (code_box, frequency_box) = _page()
    doubted = _doubted("S16.1XXA", code_box, frequency_box)
    settled = settle_doubts(doubted, {1: page}, settings.ocr, only=["frequency"])
    assert settled.confirmed == ["frequency"] and "diagnosis:S16.1XXA" in settled.doubts


def test_a_value_only_the_second_engine_read_is_settled_by_tesseract_at_its_spot(
    settings,
) -> None:
    pipeline = Pipeline(settings)
    extraction, read = _referral_read(Duration(value=6, unit="wk", text="6 weeks"))
    extraction.doubts, extraction.codes[0].doubtful = ["frequency"], False  # code read surely
    first = pipeline._decide(read.document, extraction)
    assert [r.code.value for r in first.decision.reasons] == ["LOW_CONFIDENCE"]
    extraction.reread = ["frequency"]  # tesseract's own doubt, read again before the engine
    assert not pipeline._confirm_second_engine_only(extraction, read, first)  # not again
    extraction.second_engine_only = ["frequency"]  # PP-OCR alone read "2x/week"
    assert pipeline._confirm_second_engine_only(extraction, read, first)
    assert pipeline._decide(read.document, extraction).decision.status == "accepted"


def test_a_faint_value_of_tesseracts_not_yet_read_again_is_read_after_the_second_engine(
    settings,
) -> None:
    """Seen: a visit count read faintly beside a missing frequency PP-OCR then found."""
    pipeline = Pipeline(settings)
    extraction, read = _referral_read(Duration(value=6, unit="wk", text="6 weeks"))
    extraction.doubts, extraction.codes[0].doubtful = ["frequency"], False
    first = pipeline._decide(read.document, extraction)
    assert pipeline._confirm_second_engine_only(extraction, read, first)
    assert extraction.doubts == [] and extraction.reread == ["frequency"]
    contradicted, read = _referral_read(Duration(value=6, unit="wk", text="6 weeks"))
    contradicted.doubts, contradicted.codes[0].doubtful = ["frequency"], False
    contradicted.unsure.pop("frequency")  # the second engine read another value surely
    assert not pipeline._confirm_second_engine_only(contradicted, read, first)
    assert contradicted.doubts == ["frequency"]


def _cut_range_page(written: str) -> tuple[Image.Image, tuple[float, float, float, float]]:
    """A typed line holding a frequency range, and the box of the range on the page."""
    page = Image.new("L", (2550, 600), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 42)
    x, y = 200, 200
    draw.text((x, y), f"Frequency: {written} for 6 weeks", font=font, fill=0)
    left = x + draw.textlength("Frequency: ", font=font)
    return page, (left, y, left + draw.textlength(written, font=font), y + 50)


def _cut_read(frequency: Frequency, box) -> Extraction:
    return Extraction(
        frequency=frequency,
        doubts=["frequency"],
        cut_ranges=["frequency"],
        evidence={"frequency": Evidence(page=1, text=frequency.text, bbox=box)},
    )


def test_a_range_read_without_its_start_is_settled_by_the_whole_range_at_its_spot(
    settings,
) -> None:
    """Seen: "|-2x/wk" read surely for "1-2x/wk"; 1-2 is completed from its end, doubted."""
    page, box = _cut_range_page("1-2x/week")
    completed = Frequency(count=1, count_max=2, period=1, period_unit="wk", text="|-2x/week")
    settled = settle_doubts(_cut_read(completed, box), {1: page}, settings.ocr)
    assert settled.doubts == [] and settled.confirmed == ["frequency"]
    other, box = _cut_range_page("2-3x/week")  # another range there: not the completed one
    assert settle_doubts(_cut_read(completed, box), {1: other}, settings.ocr).doubts == [
        "frequency"
    ]
    lost, box = _cut_range_page("-3x/week")  # the same cut reading again settles nothing
    three = Frequency(count=3, period=1, period_unit="wk", text="-3x/week")
    assert settle_doubts(_cut_read(three, box), {1: lost}, settings.ocr).doubts == ["frequency"]
