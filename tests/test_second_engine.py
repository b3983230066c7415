"""The second OCR engine (PP-OCR) and how its reading is reconciled with tesseract's.

The engine runs for real on handwriting drawn with a handwriting font; the
reconciliation rules are checked on extractions built by hand, since they are what
keeps two readings from adding up to an acceptance that either contradicts.
"""

from __future__ import annotations

from datetime import date

import pytest
from PIL import Image, ImageDraw, ImageFont

from models.config import RuleSettings
from models.document import PageText, ReadDocument, Word
from models.extraction import CodeMention, Extraction
from models.referral import Evidence, Frequency, Patient, Payer, Prescriber, Source
from pipeline.extract import build_nlp, codes, extract
from pipeline.extract.timing import faint_letters_decide_nothing
from pipeline.process import Pipeline
from pipeline.read import ReadResult
from pipeline.read.ppocr import SecondReader, trusted_lines, without_repeats
from pipeline.second_engine import ENGINE_CONFLICT, doubt_a_lost_range, read_again, reconcile
from synth.ink import font_paths

RULES = RuleSettings()  # the contract's categories, as config.toml has them
HAND_FONT = "hand-humor"
HAND_LINES = ["Dx: S39.012A, M54.50", "massage 2 times a week for 6 weeks"]


def _handwritten_page() -> Image.Image:
    """A 300 dpi page with two lines in the handwriting font the generator uses."""
    font = ImageFont.truetype(font_paths()[HAND_FONT], 64)
    page = Image.new("L", (2550, 900), 255)
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(HAND_LINES):
        draw.text((220, 220 + 180 * i), line, font=font, fill=0)
    return page


def test_the_second_engine_reads_handwritten_codes_with_boxes_on_the_page(settings) -> None:
    reading = SecondReader(settings.ocr).read_words(_handwritten_page())
    words = {w.text.strip(",."): w for w in reading.words}
    assert {"S39.012A", "M54.50"} <= set(words)
    left, top, right, bottom = words["S39.012A"].bbox
    assert 220 < left < right < 1500 and 180 < top < bottom < 360  # first line, page pixels
    assert all(0 <= w.confidence <= 1 for w in reading.words)
    assert all(len(w.letters) == len(w.text) for w in reading.words)
    assert all(w.confidence == min(w.letters) for w in reading.words)  # its least sure letter
    lines = {w.line for w in reading.words}
    assert len(lines) == 2  # rows rebuilt from the boxes


def test_read_again_replaces_only_ocr_pages(settings) -> None:
    image = _handwritten_page()
    text_page = PageText(number=1, method="text", words=[Word(text="typed", line=0)])
    ocr_page = PageText(number=2, method="ocr", words=[Word(text="garbled", line=0)])
    document = ReadDocument(source=Source(path="t", sha256=None, media_type=None))
    document.pages = [text_page, ocr_page]
    again = read_again(ReadResult(document=document, images={2: image}), SecondReader(settings.ocr))
    assert again is not None
    assert [w.text for w in again.pages[0].words] == ["typed"]
    assert "garbled" not in [w.text for w in again.pages[1].words]
    assert document.pages[1].words[0].text == "garbled"  # the first reading is kept as it was


def test_a_failing_second_engine_leaves_the_first_reading(settings) -> None:
    class Broken:
        def __call__(self, *args, **kwargs):
            raise RuntimeError("onnxruntime: bad allocation")

    reader = SecondReader(settings.ocr)
    reader._engine = Broken()  # the engine's boundary: its failure is what is under test
    document = ReadDocument(source=Source(path="t", sha256=None, media_type=None))
    document.pages = [PageText(number=1, method="ocr", words=[Word(text="x", line=0)])]
    assert (
        read_again(ReadResult(document=document, images={1: _handwritten_page()}), reader) is None
    )


def _mention(code: str, box: tuple[float, float, float, float], doubtful=False) -> CodeMention:
    return CodeMention(code=code, evidence=Evidence(page=1, text=code, bbox=box), doubtful=doubtful)


ROW = (300.0, 500.0, 600.0, 550.0)
OTHER_ROW = (300.0, 700.0, 600.0, 750.0)
WEEKLY = Frequency(count=2, period=1, period_unit="wk", text="2x/wk")


def test_the_second_reading_fills_what_the_first_missed() -> None:
    first = Extraction(codes=[_mention("S16.1XXA", ROW)])
    second = Extraction(codes=[_mention("S16.1XXA", ROW), _mention("M54.50", OTHER_ROW)])
    second.frequency = WEEKLY
    second.prescriber = Prescriber(name="Alan Park", credentials="MD")
    merged = reconcile(first, second, RULES)
    assert [m.code for m in merged.codes] == ["S16.1XXA", "M54.50"]
    assert merged.frequency == WEEKLY and merged.prescriber.name == "Alan Park"
    assert first.frequency is None  # the first extraction is not changed in place


def test_a_code_made_of_the_claim_number_is_not_added() -> None:
    """PP-OCR read "laim # R93068." where tesseract read "claim # RR93068" (its claim)."""
    first = Extraction(codes=[_mention("S13.4XXA", ROW)])
    first.payer = Payer(name="L&I", kind="lni", claim_number="RR93068")
    second = Extraction(codes=[_mention("S13.4XXA", ROW), _mention("R93.068", OTHER_ROW)])
    assert [m.code for m in reconcile(first, second, RULES).codes] == ["S13.4XXA"]
    first.payer = Payer(name="L&I", kind="lni", claim_number="BB55123")
    assert "R93.068" in [m.code for m in reconcile(first, second, RULES).codes]


def test_a_code_the_first_misread_at_the_same_place_is_replaced() -> None:
    first = Extraction(codes=[_mention("O97.OC", ROW)], doubts=["diagnosis:O97.OC"])
    merged = reconcile(first, Extraction(codes=[_mention("S39.012A", ROW)]), RULES)
    assert [m.code for m in merged.codes] == ["S39.012A"] and merged.doubts == []


def test_both_engines_reading_the_same_doubted_code_settle_it() -> None:
    first = Extraction(codes=[_mention("S16.1XXA", ROW, doubtful=True)])
    first.doubts = ["diagnosis:S16.1XXA"]
    merged = reconcile(first, Extraction(codes=[_mention("S16.1XXA", ROW)]), RULES)
    assert merged.doubts == [] and not merged.codes[0].doubtful
    assert merged.confirmed == ["diagnosis:S16.1XXA"]


def test_a_description_left_without_its_code_is_settled_by_the_code_read_beside_it() -> None:
    description = "Strain of muscle and tendon of back wall of thorax, initial encounter"
    beside = Evidence(page=1, text=description, bbox=(650.0, 500.0, 2000.0, 550.0))
    first = Extraction(
        codes=[_mention("S16.1XXA", OTHER_ROW)],
        doubts=["diagnosis:unread"],
        unread_spots=[beside],
    )
    second = Extraction(codes=[_mention("S16.1XXA", OTHER_ROW), _mention("S29.012A", ROW)])
    assert reconcile(first, second, RULES).doubts == []
    other = Extraction(codes=[_mention("S16.1XXA", OTHER_ROW), _mention("S39.012A", ROW)])
    assert reconcile(first, other, RULES).doubts == ["diagnosis:unread"]  # not its code
    first.doubts = ["diagnosis:unread", "diagnosis:unread"]  # a second unread spot, unboxed
    assert "diagnosis:unread" in reconcile(first, second, RULES).doubts


def test_each_engine_reading_what_the_other_left_unread_settles_both() -> None:
    spot = Evidence(page=1, text="5336XXD", bbox=ROW)
    first = Extraction(
        codes=[_mention("S40.012D", OTHER_ROW)],
        doubts=["diagnosis:unread"],
        unread_spots=[spot],
    )
    spot = Evidence(page=1, text="540012D", bbox=OTHER_ROW)
    second = Extraction(
        codes=[_mention("S33.6XXD", ROW)],
        doubts=["diagnosis:unread"],
        unread_spots=[spot],
    )
    merged = reconcile(first, second, RULES)
    assert [m.code for m in merged.codes] == ["S40.012D", "S33.6XXD"] and merged.doubts == []
    third_row = (300.0, 900.0, 600.0, 950.0)  # the second left a spot no one read
    second.unread_spots = [Evidence(page=1, text="5l0O12D", bbox=third_row)]
    assert "diagnosis:unread" in reconcile(first, second, RULES).doubts


def test_every_unread_spot_read_by_the_second_engine_settles_them_all() -> None:
    """Seen: "(Mb4. 41)" unread, and its row's description without a code: two spots."""
    garbled = Evidence(page=1, text="Mb4. 41", bbox=(1600.0, 990.0, 1820.0, 1065.0))
    description = Evidence(
        page=1, text="Lumbago with sciatica, right side", bbox=(300.0, 990.0, 1580.0, 1065.0)
    )
    first = Extraction(
        codes=[_mention("G89.18", ROW)],
        doubts=["diagnosis:unread", "diagnosis:unread"],
        unread_spots=[garbled, description],
    )
    read_there = (1600.0, 995.0, 1818.0, 1060.0)
    second = Extraction(codes=[_mention("G89.18", ROW), _mention("M54.41", read_there)])
    merged = reconcile(first, second, RULES)
    assert merged.doubts == [] and "M54.41" in [m.code for m in merged.codes]
    elsewhere = Extraction(
        codes=[_mention("G89.18", ROW), _mention("M54.41", (300.0, 1500.0, 500.0, 1540.0))]
    )
    assert reconcile(first, elsewhere, RULES).doubts.count("diagnosis:unread") == 2


def test_a_code_the_second_read_cut_short_does_not_replace_the_first() -> None:
    """Tesseract read "Z00. 2" faintly; PP-OCR lost the 2 and read Z00, a header code."""
    first = _faint("Z00.2")
    merged = reconcile(first, Extraction(codes=[_mention("Z00", ROW)]), RULES)
    assert [m.code for m in merged.codes] == ["Z00.2"] and merged.doubts == ["diagnosis:Z00.2"]


def test_a_code_the_second_read_with_letters_lost_inside_is_no_conflict() -> None:
    """Seen: PP-OCR "S66.13" (no billable code) where tesseract surely read S66.113A."""
    first = Extraction(codes=[_mention("S66.113A", ROW)])
    merged = reconcile(first, Extraction(codes=[_mention("S66.13", ROW)]), RULES)
    assert [m.code for m in merged.codes] == ["S66.113A"] and merged.doubts == []
    # what is left billable ("S66.111A" is S66.113A with no letter lost) is another code
    billable = reconcile(first, Extraction(codes=[_mention("S66.111A", ROW)]), RULES)
    assert ENGINE_CONFLICT in billable.doubts
    three_lost = reconcile(first, Extraction(codes=[_mention("S66", ROW)]), RULES)
    assert three_lost.doubts == []  # its start: cut short, as before
    # where the first reading is no code, the shorter one may be what was written
    misread = Extraction(codes=[_mention("M51.8618", ROW, doubtful=True)])
    replaced = reconcile(misread, Extraction(codes=[_mention("M51.818", ROW)]), RULES)
    assert [m.code for m in replaced.codes] == ["M51.818"]


def test_two_real_codes_read_differently_at_one_place_send_it_to_review() -> None:
    first = Extraction(codes=[_mention("S39.012A", ROW)])
    merged = reconcile(first, Extraction(codes=[_mention("S39.013A", ROW)]), RULES)
    assert [m.code for m in merged.codes] == ["S39.012A"]
    assert ENGINE_CONFLICT in merged.doubts


def test_two_codes_the_second_engine_read_in_one_word_are_both_listed() -> None:
    """Seen: hand-written "G56.33. M79672"; tesseract read only "N79672", faintly."""
    first = _faint("N79.672", (1400.0, 500.0, 1580.0, 550.0))
    line = (1200.0, 495.0, 1580.0, 555.0)  # PP-OCR's one word "G56.33.M79672"
    second = Extraction(codes=[_mention("G56.33", line), _mention("M79.672", line)])
    merged = reconcile(first, second, RULES)
    assert sorted(m.code for m in merged.codes) == ["G56.33", "M79.672"]
    assert merged.doubts == []


def test_of_two_codes_read_at_one_place_the_one_described_beside_it_stands() -> None:
    """Seen: tesseract "M79.18 Myalgia, other site"; PP-OCR "1.m918", the 7 lost: M91.8."""
    described = _mention("M79.18", ROW).model_copy(update={"described": True})
    kept = reconcile(
        Extraction(codes=[described]), Extraction(codes=[_mention("M91.8", ROW)]), RULES
    )
    assert [m.code for m in kept.codes] == ["M79.18"] and kept.doubts == []
    second = Extraction(codes=[described])
    replaced = reconcile(Extraction(codes=[_mention("M91.8", ROW)]), second, RULES)
    assert [m.code for m in replaced.codes] == ["M79.18"] and replaced.doubts == []


def test_a_frequency_read_differently_is_doubted_not_replaced() -> None:
    first = Extraction(frequency=WEEKLY)
    second = Extraction(frequency=Frequency(count=3, period=1, period_unit="wk", text="3x/wk"))
    merged = reconcile(first, second, RULES)
    assert merged.frequency == WEEKLY and "frequency" in merged.doubts
    faint = _faint_frequency(WEEKLY, ROW)  # tesseract's faint 2x/wk against a sure 3x/wk
    contradicted = reconcile(faint, second, RULES)
    assert contradicted.doubts == ["frequency"]
    assert contradicted.unsure == {}  # no longer settled by tesseract reading its spot


def _faint(code: str, box=ROW) -> Extraction:
    """An extraction whose one code was read with low confidence (and only that)."""
    mention = _mention(code, box, doubtful=True)
    doubt = f"diagnosis:{code}"
    return Extraction(codes=[mention], doubts=[doubt], unsure={doubt: mention.evidence})


def test_a_faint_second_reading_adds_no_code_and_only_doubted_values() -> None:
    second = _faint("M54.50", OTHER_ROW)
    second.frequency, second.doubts = WEEKLY, [*second.doubts, "frequency"]
    faint_box = Evidence(page=1, text="2x/wk", bbox=OTHER_ROW)
    second.unsure["frequency"] = faint_box
    merged = reconcile(Extraction(codes=[_mention("S16.1XXA", ROW)]), second, RULES)
    assert [m.code for m in merged.codes] == ["S16.1XXA"]
    # shown to the reviewer where it stands, but never enough to accept
    assert merged.frequency == WEEKLY and merged.doubts == ["frequency"]
    assert merged.unsure == {"frequency": faint_box}


def test_a_faint_code_in_the_row_of_a_listed_code_is_listed_doubted() -> None:
    """Seen: "F51.0, M7918"; F51.01 read faintly as F51.0, M79.18 surely, by PP-OCR alone."""
    left_of_row = (100.0, 505.0, 280.0, 545.0)
    merged = reconcile(
        Extraction(codes=[_mention("M79.18", ROW)]), _faint("F51.0", left_of_row), RULES
    )
    assert [(m.code, m.doubtful) for m in merged.codes] == [("M79.18", False), ("F51.0", True)]
    assert merged.doubts == ["diagnosis:F51.0"]
    assert merged.second_engine_only == ["diagnosis:F51.0"]  # tesseract reads its spot alone
    below = reconcile(
        Extraction(codes=[_mention("M79.18", ROW)]), _faint("F51.0", OTHER_ROW), RULES
    )
    assert [m.code for m in below.codes] == ["M79.18"] and below.doubts == []


def test_a_faint_code_in_the_column_just_under_a_listed_code_is_listed_doubted() -> None:
    """Seen: "M5431" read faintly under S33.6XXD (tesseract: "Ms5u.3)"); accepted without it."""
    next_line = (302.0, 556.0, 520.0, 600.0)
    merged = reconcile(
        Extraction(codes=[_mention("S33.6XXD", ROW)]), _faint("M54.31", next_line), RULES
    )
    assert [(m.code, m.doubtful) for m in merged.codes] == [("S33.6XXD", False), ("M54.31", True)]
    assert merged.doubts == merged.second_engine_only == ["diagnosis:M54.31"]


def test_where_no_code_was_read_surely_a_faint_billable_one_is_listed_doubted() -> None:
    merged = reconcile(Extraction(), _faint("S16.1XXA"), RULES)
    assert [(m.code, m.doubtful) for m in merged.codes] == [("S16.1XXA", True)]
    assert merged.doubts == merged.second_engine_only == ["diagnosis:S16.1XXA"]
    assert reconcile(Extraction(), _faint("S16"), RULES).codes == []  # a header: cut short


def test_a_faint_reimbursable_code_keeps_a_referral_from_rejection(settings) -> None:
    first = Extraction(codes=[_mention("M99.04", ROW)])  # real, billable, not reimbursable
    merged = reconcile(first, _faint("M54.50", OTHER_ROW), RULES)
    assert [m.code for m in merged.codes] == ["M99.04"]
    assert merged.doubts == ["diagnosis:M54.50"]
    pipeline = Pipeline(settings)
    document = ReadDocument(source=Source(path="t", sha256=None, media_type=None))
    assert pipeline._decide(document, first).decision.status == "rejected"
    assert pipeline._decide(document, merged).decision.status == "needs_review"
    not_reimbursable = reconcile(first, _faint("F41.1", OTHER_ROW), RULES)
    assert not_reimbursable.doubts == []


def test_a_faint_unknown_code_listed_under_a_sure_one_keeps_it_from_rejection() -> None:
    """Hand-written "M25535" under a sure Z56.6, lost by tesseract, faint in PP-OCR."""
    first = Extraction(codes=[_mention("Z56.6", ROW)])
    next_line = (300.0, 560.0, 600.0, 610.0)
    merged = reconcile(first, _faint("M25.535", next_line), RULES)
    assert merged.doubts == ["diagnosis:M25.535"]
    assert "diagnosis:M25.535" not in merged.unsure  # tesseract reading it again settles nothing
    far_off = (1500.0, 560.0, 1800.0, 610.0)  # another column: an address, a phone
    assert reconcile(first, _faint("M25.535", far_off), RULES).doubts == []
    way_below = (300.0, 1500.0, 600.0, 1550.0)
    assert reconcile(first, _faint("M25.535", way_below), RULES).doubts == []
    beside = (700.0, 505.0, 900.0, 545.0)  # "G56.33. M79672": N79.672, on the code's row
    assert reconcile(first, _faint("N79.672", beside), RULES).doubts == ["diagnosis:N79.672"]


def test_a_faint_unknown_code_beside_a_sure_reimbursable_one_keeps_it_from_acceptance() -> None:
    """Hand-written "M75.401" read "r175401" (R17.5401, no code) beside a sure S93.512A:
    the referral was accepted on S93.512A alone. A code unread in the list is a doubt
    whatever the other codes are, and no second reading of that spot settles it."""
    first = Extraction(codes=[_mention("S93.512A", ROW)])
    beside = (20.0, 505.0, 280.0, 545.0)
    merged = reconcile(first, _faint("R17.5401", beside), RULES)
    assert merged.doubts == ["diagnosis:R17.5401"]
    assert "diagnosis:R17.5401" not in merged.unsure
    assert [m.code for m in merged.codes] == ["S93.512A"]
    far_off = (1500.0, 1200.0, 1800.0, 1250.0)  # a phone number's digits elsewhere
    assert reconcile(first, _faint("R17.5401", far_off), RULES).doubts == []


def test_a_faint_real_code_takes_the_place_of_no_code_doubted_and_to_be_reread() -> None:
    first = _faint("M5U.50")  # tesseract's "M5u.50": no such code
    merged = reconcile(first, _faint("M54.50"), RULES)
    assert [(m.code, m.doubtful) for m in merged.codes] == [("M54.50", True)]
    assert merged.doubts == ["diagnosis:M54.50"]
    assert merged.second_engine_only == ["diagnosis:M54.50"]  # tesseract reads its spot
    split = Extraction(codes=[_mention("G56", ROW, doubtful=True)], doubts=["diagnosis:G56"])
    assert [m.code for m in reconcile(split, _faint("G56.01"), RULES).codes] == ["G56.01"]


def test_a_faint_code_does_not_replace_a_real_one_or_replace_with_a_header() -> None:
    sure = Extraction(codes=[_mention("M54.50", ROW)])
    assert [m.code for m in reconcile(sure, _faint("M54.59"), RULES).codes] == ["M54.50"]
    faint_real = _faint("S39.012A")  # faint but real: tesseract's reading, read again, stays
    kept = reconcile(faint_real, _faint("S39.011A"), RULES)
    assert [m.code for m in kept.codes] == ["S39.012A"]
    header = reconcile(_faint("M74.M"), _faint("M79.1"), RULES)  # a header: likely cut short
    assert [m.code for m in header.codes] == ["M74.M"]


def test_two_engines_reading_the_same_code_faintly_settle_it() -> None:
    merged = reconcile(_faint("S16.1XXA"), _faint("S16.1XXA"), RULES)
    assert merged.doubts == [] and not merged.codes[0].doubtful


def test_a_doubt_of_another_kind_is_not_settled_by_a_faint_agreement() -> None:
    first = Extraction(codes=[_mention("S16.1XXA", ROW, doubtful=True)])
    first.doubts = ["diagnosis:S16.1XXA"]  # an ambiguous repair, not faint words
    merged = reconcile(first, _faint("S16.1XXA"), RULES)
    assert merged.doubts == ["diagnosis:S16.1XXA"] and merged.codes[0].doubtful


def test_a_frequency_both_engines_read_faintly_alike_is_settled() -> None:
    evidence = Evidence(page=1, text="2x/wk", bbox=ROW)
    first = Extraction(frequency=WEEKLY, doubts=["frequency"], unsure={"frequency": evidence})
    second = Extraction(frequency=WEEKLY, doubts=["frequency"], unsure={"frequency": evidence})
    assert reconcile(first, second, RULES).doubts == []
    second.unsure = {}  # the second doubted it for another reason (two readings disagree)
    assert reconcile(first, second, RULES).doubts == ["frequency"]


def test_a_range_whose_first_number_was_lost_is_settled_by_the_whole_range() -> None:
    """Tesseract read "|-3x/week" (cut, doubted); PP-OCR read "2-3x/week" at its place."""
    cut = Frequency(count=3, period=1, period_unit="wk", text="3x/week")
    whole = Frequency(count=2, count_max=3, period=1, period_unit="wk", text="2-3x/week")
    here = Evidence(page=1, text="3x/week", bbox=ROW)
    first = Extraction(
        frequency=cut, doubts=["frequency"], cut_ranges=["frequency"], evidence={"frequency": here}
    )
    second = Extraction(frequency=whole, evidence={"frequency": here})
    merged = reconcile(first, second, RULES)
    assert merged.frequency == whole and merged.doubts == []
    elsewhere = Extraction(
        frequency=whole, evidence={"frequency": Evidence(page=1, text="x", bbox=OTHER_ROW)}
    )
    assert reconcile(first, elsewhere, RULES).doubts == ["frequency"]  # another line's range
    first.cut_ranges = []  # doubted for another reason: a different reading stays doubted
    assert reconcile(first, second, RULES).frequency == cut


def test_the_first_readings_prescriber_is_never_overwritten() -> None:
    first = Extraction(prescriber=Prescriber(name="Alan Park", credentials="MD"))
    second = Extraction(
        prescriber=Prescriber(name="Alan Parks", credentials="DO", npi="1234567893")
    )
    merged = reconcile(first, second, RULES)
    assert merged.prescriber.name == "Alan Park" and merged.prescriber.credentials == "MD"
    assert merged.prescriber.npi == "1234567893"  # a missing NPI is filled in


def test_a_name_only_the_second_read_keeps_the_npi_and_birth_date_of_the_first() -> None:
    """A form's name column lost by tesseract, its NPI and DOB read; PP-OCR read the names."""
    first = Extraction(
        prescriber=Prescriber(credentials="MD", npi="1683433118"),
        patient=Patient(dob=date(1968, 8, 21)),
    )
    second = Extraction(
        prescriber=Prescriber(name="Alan Park", credentials="DO"),
        patient=Patient(name="Dolores Obrien"),
    )
    merged = reconcile(first, second, RULES)
    assert merged.prescriber == Prescriber(name="Alan Park", credentials="MD", npi="1683433118")
    assert merged.patient == Patient(name="Dolores Obrien", dob=date(1968, 8, 21))
    second.patient = Patient(name="Dolores Obrien", dob=date(1968, 8, 21))
    named = reconcile(Extraction(patient=Patient(name="Dolores O'Brien")), second, RULES)
    assert named.patient == Patient(name="Dolores O'Brien", dob=date(1968, 8, 21))


def _faint_frequency(frequency: Frequency, box) -> Extraction:
    evidence = Evidence(page=1, text=frequency.text, bbox=box)
    return Extraction(
        frequency=frequency,
        doubts=["frequency"],
        unsure={"frequency": evidence},
        evidence={"frequency": evidence},
    )


def test_a_faint_other_value_where_tesseract_read_one_doubts_it() -> None:
    """Seen: tesseract "3 time per week" (sure), PP-OCR "1 time per week" (faint), same line."""
    here = Evidence(page=1, text="3 time per week", bbox=ROW)
    thrice = Frequency(count=3, period=1, period_unit="wk", text="3 time per week")
    once = Frequency(count=1, period=1, period_unit="wk", text="1 time per week")
    first = Extraction(frequency=thrice, evidence={"frequency": here})
    merged = reconcile(first, _faint_frequency(once, ROW), RULES)
    assert merged.doubts == ["frequency"]
    # shown in tesseract's stead, for tesseract to read the spot alone (pipeline.process)
    assert merged.frequency == once and merged.second_engine_only == ["frequency"]
    elsewhere = reconcile(first, _faint_frequency(once, OTHER_ROW), RULES)
    assert elsewhere.doubts == []  # another line's faint words (a history) doubt nothing


def test_a_faint_value_filling_a_gap_is_marked_as_the_second_engines_alone() -> None:
    merged = reconcile(Extraction(), _faint_frequency(WEEKLY, ROW), RULES)
    assert merged.frequency == WEEKLY and merged.doubts == ["frequency"]
    assert merged.second_engine_only == ["frequency"]
    both = reconcile(_faint_frequency(WEEKLY, ROW), _faint_frequency(WEEKLY, ROW), RULES)
    assert both.second_engine_only == [] and both.doubts == []


def test_a_line_the_first_reading_read_surely_is_not_read_again(settings) -> None:
    """Recognition is most of PP-OCR's cost; a confidently read line is taken as it was."""
    page = _handwritten_page()
    reader = SecondReader(settings.ocr)
    first_line = [w for w in reader.read_words(page).words if w.line == 0]
    left = min(w.bbox[0] for w in first_line)
    right = max(w.bbox[2] for w in first_line)
    top = min(w.bbox[1] for w in first_line)
    bottom = max(w.bbox[3] for w in first_line)
    sure = Word(text="TYPED-LINE", bbox=(left, top, right, bottom), confidence=0.99, line=0)
    unsure = Word(text="smudge", bbox=(220, 400, 900, 470), confidence=0.30, line=1)
    again = reader.read_words(page, [sure, unsure])
    texts = [w.text.lower() for w in again.words]
    assert "typed-line" in texts  # kept from the first reading
    assert "smudge" not in texts and "week" in texts  # the unsure line was read again


def test_a_lines_reading_does_not_depend_on_the_lines_read_with_it(settings) -> None:
    """Lines recognised together were padded to the widest one, which changed their letters.

    The same code line is read once beside a line three times as long and once alone
    (the long line trusted from a first reading): its letters and their scores must not
    change, or whether a neighbour needed reading again would decide what a code reads.
    """
    font = ImageFont.truetype(font_paths()[HAND_FONT], 64)
    page = Image.new("L", (2550, 900), 255)
    draw = ImageDraw.Draw(page)
    draw.text((220, 220), HAND_LINES[0], font=font, fill=0)
    draw.text(
        (120, 600), "then 1 time a week for 4 more weeks, recheck in 6 weeks", font=font, fill=0
    )
    reader = SecondReader(settings.ocr)
    together = reader.read_words(page).words
    long_line = [w.model_copy(update={"confidence": 0.99}) for w in together if w.bbox[1] > 500]
    alone = reader.read_words(page, long_line).words

    def code_line(words: list[Word]) -> list[tuple[str, tuple[float, ...]]]:
        return [(w.text, w.letters) for w in words if w.bbox[1] < 500]

    assert len(code_line(together)) >= 2 and len(long_line) >= 8
    assert code_line(alone) == code_line(together)


def test_a_word_under_two_overlapping_line_boxes_is_kept_once() -> None:
    """PP-OCR cuts a line in two boxes that overlap: "in 3 wks wks or sooner" before."""
    line = ["Return", "in", "3", "wks", "or", "sooner"]
    first = [
        Word(text=t, bbox=(100.0 * i, 500.0, 100.0 * i + 80, 540.0), confidence=0.95, line=0)
        for i, t in enumerate(line)
    ]
    halves = [(0.0, 495.0, 390.0, 545.0), (290.0, 495.0, 600.0, 545.0)]  # "wks" under both
    kept, unread = trusted_lines(halves, first, 0.80)
    assert [w.text for w in kept] == line and unread == []
    recognised = [
        Word(text="wks", bbox=(305.0, 500.0, 375.0, 540.0), confidence=0.9),  # on a kept word
        Word(text="prn", bbox=(700.0, 500.0, 760.0, 540.0), confidence=0.9),
    ]
    assert [w.text for w in without_repeats(recognised, kept)] == ["prn"]


def _hand_filled_prescription(path) -> None:
    """A typed pad (letter size, 300 dpi) whose diagnosis and orders are handwritten."""
    printed = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 40)
    hand = ImageFont.truetype(font_paths()[HAND_FONT], 70)
    page = Image.new("L", (2550, 3300), 255)
    draw = ImageDraw.Draw(page)
    typed = [
        (200, "Cascade Family Medicine"),
        (260, "1200 Pine St, Seattle, WA 98101  Tel 206-555-0100"),
        (420, "Patient: Jane Roe     DOB: 01/02/1980"),
        (1200, "Alan Park, MD     NPI 1234567893"),
    ]
    for top, line in typed:
        draw.text((220, top), line, font=printed, fill=0)
    draw.text((220, 620), "Dx: S39.012A", font=hand, fill=0)
    draw.text((220, 800), "massage 2 times a week", font=hand, fill=0)
    draw.text((220, 940), "for 6 weeks", font=hand, fill=0)
    page.save(path)


def test_a_hand_filled_prescription_is_completed_by_the_second_engine(settings, tmp_path):
    """Tesseract alone reads ``537.012A`` and ``FOR & WEEKS``; with PP-OCR it is accepted."""
    path = tmp_path / "rx.png"
    _hand_filled_prescription(path)
    tesseract_only = settings.ocr.model_copy(update={"second_reader": False})
    alone = Pipeline(settings.model_copy(update={"ocr": tesseract_only})).process(path)
    assert alone.referral.decision.status != "accepted" and not alone.read.second_engine
    both = Pipeline(settings).process(path)
    assert both.read.second_engine
    record = both.referral
    assert [d.code for d in record.diagnoses] == ["S39.012A"]
    assert (record.frequency.count, record.frequency.period_unit) == (2, "wk")
    assert (record.duration.value, record.duration.unit) == (6, "wk")
    assert record.decision.status == "accepted"
    left, top, _, bottom = record.diagnoses[0].evidence.bbox
    assert 600 < top < bottom < 720 and left > 220  # boxed where the pen wrote it


def test_no_second_reading_when_a_surely_read_code_keeps_it_in_review(settings) -> None:
    """M25.51 is a real category but not billable; the reconciliation never overrules a
    code read surely, so reading the page again could not get the referral accepted."""
    pipeline = Pipeline(settings)
    page = PageText(number=1, method="ocr", words=[Word(text="M25.51", line=0)])
    document = ReadDocument(source=Source(path="t", sha256=None, media_type=None), pages=[page])
    read = ReadResult(document=document, images={1: Image.new("L", (100, 100), 255)})
    sure = Extraction(codes=[_mention("M25.51", ROW)])
    referral = pipeline._decide(document, sure)
    assert referral.decision.status == "needs_review"
    assert not pipeline._wants_second_engine(read, sure, referral)
    faint = _faint("M25.51")  # read faintly: the second reading may show another code
    assert pipeline._wants_second_engine(read, faint, pipeline._decide(document, faint))


def _second_engine_line(*words: tuple[str, tuple[float, ...] | None]) -> ReadDocument:
    """One line as PP-OCR gives it: each word with its letters' scores (None: a word score)."""
    read = []
    for i, (text, letters) in enumerate(words):
        confidence = min(letters) if letters else 0.5
        box = (100.0 + 200 * i, 100.0, 280.0 + 200 * i, 150.0)
        read.append(Word(text=text, bbox=box, confidence=confidence, letters=letters))
    page = PageText(number=1, method="ocr", words=read)
    return ReadDocument(source=Source(path="t", sha256=None, media_type=None), pages=[page])


def _strict_extraction(settings, document: ReadDocument) -> Extraction:
    ocr = settings.ocr
    strict = ocr.model_copy(update={"field_word_confidence": ocr.second_reader_word_confidence})
    return extract(build_nlp(settings.payers, strict), document)


SURE = 0.95


def test_a_faint_letter_that_cannot_change_the_value_is_no_doubt(settings) -> None:
    months = (SURE, SURE, SURE, SURE, 0.51, SURE)  # "montks": the k read at 0.51
    document = _second_engine_line(
        ("Duration:", (SURE,) * 9), ("x", (SURE,)), ("one", (SURE,) * 3), ("montks", months)
    )
    extraction = _strict_extraction(settings, document)
    assert (extraction.duration.value, extraction.duration.unit) == (1.0, "mo")
    assert "duration" not in extraction.doubts


def test_a_faint_digit_or_a_faint_word_without_letter_scores_stays_doubted(settings) -> None:
    faint_digit = _second_engine_line(
        ("Duration:", (SURE,) * 9), ("x", (SURE,)), ("3", (0.5,)), ("months", (SURE,) * 6)
    )
    word_score_only = _second_engine_line(
        ("Duration:", (SURE,) * 9), ("x", (SURE,)), ("one", (SURE,) * 3), ("montks", None)
    )
    lost_range_start = _second_engine_line(  # "2-3 times per week" with its 2 lost
        ("Frequency:", (SURE,) * 10),
        ("-3", (0.58, SURE)),
        ("times", (SURE,) * 5),
        ("perweek", (SURE, SURE, SURE, SURE, 0.54, SURE, SURE)),
    )
    for document in (faint_digit, word_score_only, lost_range_start):
        extraction = _strict_extraction(settings, document)
        value = extraction.duration or extraction.frequency
        assert value is not None and {"duration", "frequency"} & set(extraction.doubts)


def test_which_faint_letters_decide_a_value() -> None:
    weekly, one_month = (3, None, 1, "wk"), (1.0, None, "mo")
    assert faint_letters_decide_nothing("frequency", "3 times perweek", [12], weekly)
    assert faint_letters_decide_nothing("duration", "x one montks", [3, 10], one_month)
    assert faint_letters_decide_nothing("duration", "6 wks", [2], (6.0, None, "wk"))
    assert not faint_letters_decide_nothing("duration", "12 wks", [1], (12.0, None, "wk"))
    assert not faint_letters_decide_nothing("frequency", "1-2x/wk", [1], (1, 2, 1, "wk"))
    assert not faint_letters_decide_nothing("frequency", "3 times perweek", [0], weekly)
    # three faint letters, or a text that means nothing without its label, stay doubted
    assert not faint_letters_decide_nothing("duration", "x one montks", [3, 9, 10], one_month)
    assert not faint_letters_decide_nothing("duration", "2x6", [1], (6.0, None, "wk"))


def test_a_faint_letter_no_other_real_code_could_have_is_no_doubt(settings) -> None:
    """Seen: PP-OCR read "M7918" with its M at 0.50; no other code is ?79.18."""
    document = _second_engine_line(("Dx:", (SURE,) * 3), ("M7918", (0.50, SURE, SURE, SURE, SURE)))
    extraction = _strict_extraction(settings, document)
    assert [(m.code, m.doubtful) for m in extraction.codes] == [("M79.18", False)]
    assert extraction.doubts == []
    faint_end = _second_engine_line(("Dx:", (SURE,) * 3), ("M54.42", (SURE,) * 5 + (0.58,)))
    doubted = _strict_extraction(settings, faint_end)  # M54.40 and M54.41 are codes too
    assert [(m.code, m.doubtful) for m in doubted.codes] == [("M54.42", True)]
    assert "diagnosis:M54.42" in doubted.unsure


def test_which_faint_letters_decide_a_code() -> None:
    def harmless(text: str, word: str, faint: list[int], code: str) -> bool:
        start = text.index(word)
        return codes.faint_letters_decide_nothing(text, start, start + len(word), faint, code)

    assert harmless("Dx: M7918", "M7918", [0], "M79.18")
    assert harmless("Dx: M54.50", "M54.50", [3], "M54.50")  # a faint dot
    assert not harmless("Dx: 5161xXA", "5161xXA", [0, 4], "S16.1XXA")  # T16.1XXA, V16.1XXA
    assert not harmless("Dx: G56.01,", "G56.01,", [5, 6], "G56.01")  # G56.00, G56.02...
    assert not harmless("Dx: S33.6XXA", "S33.6XXA", [7], "S33.6XXA")  # D and S end codes too
    assert not harmless("Dx: M7918", "M7918", [0, 1, 2], "M79.18")  # three: stays doubted
    assert not harmless("Dx: S20.2214", "S20.2214", [7], "S20.2214")  # no such code to keep


def test_a_visit_count_the_second_engine_read_as_a_frequency_goes() -> None:
    """Seen: tesseract "4 Visits" (faint, garble after it), PP-OCR "4 visitspermontk"."""
    visits_here = Evidence(page=1, text="4 Visits", bbox=(300.0, 500.0, 420.0, 550.0))
    first = Extraction(
        visits=4,
        doubts=["visits"],
        unsure={"visits": visits_here},
        evidence={"visits": visits_here},
    )
    monthly = Frequency(count=4, period=1, period_unit="mo", text="4 visitspermontk")
    second = Extraction(
        frequency=monthly, evidence={"frequency": Evidence(page=1, text=monthly.text, bbox=ROW)}
    )
    merged = reconcile(first, second, RULES)
    assert merged.frequency == monthly
    assert (merged.visits, merged.doubts, merged.unsure) == (None, [], {})
    elsewhere = first.model_copy(
        update={"evidence": {"visits": visits_here.model_copy(update={"bbox": OTHER_ROW})}}
    )
    kept = reconcile(elsewhere, second, RULES)  # a total on another line is a total
    assert kept.visits == 4 and kept.doubts == ["visits"]
    weekly = reconcile(first, Extraction(frequency=WEEKLY, evidence=second.evidence), RULES)
    assert weekly.visits == 4  # "2x/wk" over a visit count: no phrase of visits, kept


@pytest.mark.parametrize(
    ("first_words", "count_max", "doubted"),
    [
        (["Frequency:", "\\-2", "2", "TIMES", "|", "PER.", "WEEK"], None, True),
        (["Frequency:", "|-2", "TIMES", "PER", "WEEK"], None, True),
        (["Frequency:", "2", "TIMES", "|", "PER.", "WEEK"], None, False),  # no range mark
        (["Frequency:", "\\-2", "2", "TIMES", "|", "PER.", "WEEK"], 2, False),  # a range read
    ],
)
def test_a_range_mark_under_a_value_only_the_second_engine_read_doubts_it(
    first_words, count_max, doubted
) -> None:
    """Seen: a hand-filled "1-2 TIMES PER WEEK", tesseract "\\-2 2 TIMES | PER. WEEK" (no
    frequency found), PP-OCR "2 TMES PER WEEK" surely: accepted as twice a week."""
    words, left = [], 250.0
    for text in first_words:
        words.append(
            Word(text=text, bbox=(left, 450.0, left + 20 * len(text), 490.0), confidence=0.8)
        )
        left += 20 * len(text) + 15
    document = ReadDocument(
        source=Source(path="t", sha256=None, media_type=None, pages=1),
        pages=[PageText(number=1, method="ocr", words=words)],
    )
    value = Frequency(
        count=1 if count_max else 2, count_max=count_max, period=1, period_unit="wk", text="2 TMES"
    )
    at = Evidence(page=1, text="2 TMES PER WEEK", bbox=(520.0, 445.0, 900.0, 492.0))
    merged = Extraction(frequency=value, evidence={"frequency": at})
    doubt_a_lost_range(Extraction(), merged, document)
    assert ("frequency" in merged.doubts) is doubted
    merged_too = Extraction(frequency=value, evidence={"frequency": at})
    doubt_a_lost_range(Extraction(frequency=value), merged_too, document)
    assert merged_too.doubts == []  # tesseract read a frequency: reconcile weighed the two
