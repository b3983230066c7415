"""The extraction components on text as clinicians and fax machines write it."""

from __future__ import annotations

import pytest

from models.document import PageText, ReadDocument, Word
from models.referral import Source
from pipeline.extract import build_nlp, extract, people
from pipeline.extract.codes import find_codes
from pipeline.extract.patterns import parse_date
from pipeline.extract.people import npi_is_valid
from pipeline.extract.timing import repair_unit_words


@pytest.fixture(scope="module")
def nlp(settings):
    return build_nlp(settings.payers, settings.ocr)


def _read(text: str, confidence: float | None = None) -> ReadDocument:
    rows = [[(token, confidence) for token in row.split()] for row in text.splitlines()]
    return _read_with(rows, "ocr" if confidence else "text")


def _read_with(rows: list[list[tuple[str, float | None]]], method: str = "ocr") -> ReadDocument:
    """A page of words with a confidence each (None: a text layer's)."""
    words = [
        Word(
            text=token,
            line=line,
            confidence=confidence,
            bbox=(10.0 * i, 20.0 * line, 10.0 * i + 9, 20.0 * line + 15),
        )
        for line, row in enumerate(rows)
        for i, (token, confidence) in enumerate(row)
    ]
    page = PageText(number=1, method=method, words=words)
    return ReadDocument(
        source=Source(path="t", sha256=None, media_type=None, pages=1), pages=[page]
    )


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("P 425 555.0134 Fax 425 555 0135\nDx: S16.1XXD", ["S16.1XXD"]),  # a phone, not S55.0134
        ("MEDI  425,555.0177  >>  Page 001 of 001\nDx: M79.10", ["M79.10"]),  # a fax header
        ("Ph 206 555 0120 F 206:555.0121\nDx: M79.10", ["M79.10"]),
        ("Ph2065550120F206: 555.0121\nDx: M79.10", ["M79.10"]),  # as PP-OCR reads it
        ("P360,555,0169 F (360) 595-0170\nDx: M79.10", ["M79.10"]),  # not P36.0
        ("P (206) 555-0150  Fax 206 555 O151\nICD-10: M79.10", ["M79.10"]),  # not O15.1
        ("ICD-10: S39.012A, M54.50", ["S39.012A", "M54.50"]),
        ("the following diagnoses: SL3. 9XXD; Strain of muscle", ["S13.9XXD"]),
        ("Dx: M5450 and m54.5O", ["M54.50"]),
        ("Dx code(s): $16.1XXA strain", ["S16.1XXA"]),
        ("Diagnosis S39.0l2A", ["S39.012A"]),
        ("Dx: S13.4 sprain", ["S13.4"]),
        ("ICD: S39.999A", ["S39.999A"]),  # not in ICD-10-CM: still listed
        ("CPT 97124, 97140; HCPCS G0283. NPI 1234567893. Claim # BK48213", []),
        ("Call (206) 555-0142, Seattle WA 98102", []),
        # a phone's area code broken by specks, a group number read under a diagnosis
        # block: an S code's 7th character is a letter, so neither is S55.0119 or S74.8446
        ("Kirkland WA 98089 |_Ph | Ph 2¢ 20 06 555.0119 Fax 206 555 0120", []),
        ("DIAGNOSES\nS93.411D\nGroup no.\n5748446", ["S93.411D"]),
        # a digit-led word no rule reads as a code, named by its description beside it
        (
            "DX/ICD-10:\nDual sensory impairment (27382)\nOther fatigue (R53.83)",
            ["Z73.82", "R53.83"],
        ),
        ("Claim 27382 for sensory impairment", []),
        (
            "DIAGNOSES\nICD-10 code  Description\n$16,.1XXA\n$39.012A  Strain",
            ["S16.1XXA", "S39.012A"],
        ),
        # the dot read as a dash after a letter-led code; a range or a phone stays apart
        ("ICD-10 code  Description\n$39.012A  Strain\n[s73-191d  .  oe", ["S39.012A", "S73.191D"]),
        ("Seen A12-2025; call 206-555-0101", []),
        ("Dx: M54.31\nPhone 360 SSS-09 ext 4", ["M54.31"]),  # "555-0109" cut: no S55.09
        ("Dx: M54.2 Cervicalgia; M54.2 again", ["M54.2"]),
        ("Diagnosis (ICD-10): 1.M54.41; 2.$13.5XXD", ["M54.41", "S13.5XXD"]),  # list numbers
        ("Ibuprofen 1.5 mg; Dx 2.5S39", []),
        ("Medications:\nAcetaminophen 500.mg q6h prn\nDx: M79.10", ["M79.10"]),  # a dose
        ("Diagnoses: harassment on the job (256.81); scoliosis (M41,26)", ["Z56.81", "M41.26"]),
        ("Diagnosis: M54.5 since 2025; temp 100.4 F", ["M54.5"]),
        ("Assessment:\n1. $40.011D Contusion of shoulder\n2. $93524A ,", ["S40.011D", "S93.524A"]),
        ("Dx:\nM54.5\nR52", ["M54.5", "R52"]),  # a list of codes goes on without its label
        (  # a code on a line of its own below a wrapped description, its S read as 5
            "DIAGNOSES:\n$40012D Contusion of left shoulder, subsequent\nencounter\n5336XXD",
            ["S40.012D", "S33.6XXD"],
        ),
        ("18417 Pacific Hwy S, Federal W VA B02 Beatriz Whitfield, PA-C", []),
        ("Paid $12500 deposit", []),
        # a category's S read as "$" between two codes of a list; a price is no code
        (
            "Dx: strain (s16.1xxd); M75.111; $13; status (Z56.82)",
            ["S16.1XXD", "M75.111", "S13", "Z56.82"],
        ),
        ("Dx: M54.50\nCopay $13 per visit", ["M54.50"]),
        # the same alone on its line in a column of codes, under a code's line
        (
            "Diagnosis (ICD-10): S39.012A\n: S335XXD\n$33\nS338XXD",
            ["S39.012A", "S33.5XXD", "S33", "S33.8XXD"],
        ),
        ("Diagnosis: S39.012A\nCopay\n$33", ["S39.012A"]),  # a label's line between: a price
        ("ASSESSMENT\n$16, S46812D\nPlan:", ["S16", "S46.812D"]),  # listed before a code
        ("Copay $16, M54.50 noted", ["M54.50"]),
        # a 7th character's round D read as 0
        ("DX:\n3. 543.4110 - Sprain of right coracohumeral (ligament)", ["S43.411D"]),
        ("Dx: S13.4XX0", ["S13.4XXD"]),
        # an S read twice, as itself and as "$"
        ("Dx: M542, $13.9XXD, S$16.1XXD, $46219A", ["M54.2", "S13.9XXD", "S16.1XXD", "S46.219A"]),
        # codes joined by slashes; spinal levels and dates are no codes
        ("Dx: M54.50/M62.830/S39.012A", ["M54.50", "M62.830", "S39.012A"]),
        ("Dx: M54.50, L4/L5 and T12/L1 disc, seen 12/05/2025", ["M54.50"]),
        # a street number read with a letter ("4066 Main St" as "A066") is no code
        ("A066 Main St, Seattle, WA 98154\nDx: S16.1XXA", ["S16.1XXA"]),
        ("Dx: M5450 St Joseph's referral", ["M54.50"]),
        # the ICD label misread, a speck before the description: Z71.82 is named by it
        ("Tcb-10: .\n271.82 ° Exercise counseling:\n$13.4XXD Sprain", ["Z71.82", "S13.4XXD"]),
        ("Objective: trigger points.\nA:\nPain, unspecified (r52)\nP:", ["R52"]),  # SOAP note
        ("Pain, unspecified (R52) since the fall", ["R52"]),  # described on its line
        ("Assessment:\n1. $40,011D Contusion of right shoulder", ["S40.011D"]),
        (  # a table's rows: the Z read as 2 two rows below the last code, still in the block
            "DIAGNOSES\nICD-10 code  Description\n| m25.50\n| m41.112\n"
            "| Juvenile idiopathic scoliosis, cervical region\n| 256.3  |\nTREATMENT ORDERED",
            ["M25.50", "M41.112", "Z56.3"],
        ),
        (  # the plan is no longer the diagnosis block: G0283 is HCPCS, not G02.83
            "Assessment:\nS93.501A, S16.6XXD\nPlan:\n- Billing: G0283, 97010, 98941",
            ["S93.501A", "S16.6XXD"],
        ),
        (  # "P:" (a SOAP plan) ends the block too
            "Assessment:\nM54.6 Pain in thoracic spine\nP:\n- Billing: 98941, 97124, G0283",
            ["M54.6"],
        ),
        (  # a numbered list item, its label six lines up: the header code M25 is listed
            "Diagnoses:\nServices:\nPRESCRIPTION\nOyelaran, Gustavo\n04/28/1963\nKaiser\n"
            "9693714\n1.M25\n2. m54.31: Sciatica, right side",
            ["M25", "M54.31"],
        ),
    ],
)
def test_codes(nlp, text, codes) -> None:
    assert [c.code for c in extract(nlp, _read(text)).codes] == codes


def test_code_is_never_cut_short() -> None:
    assert [f.code for f in find_codes("S39.012A")] == ["S39.012A"]


def test_code_evidence_keeps_written_text_and_box(nlp) -> None:
    found = extract(nlp, _read("Patient notes\nDx: $16.1XXA")).codes[0]
    assert found.evidence.text == "$16.1XXA" and found.repaired
    assert found.evidence.bbox == (10.0, 20.0, 19.0, 35.0)


@pytest.mark.parametrize(
    ("text", "frequency", "duration"),
    [
        ("Frequency: 2x/wk\nDuration: 6 weeks", (2, None, 1, "wk"), (6, None, "wk")),
        ("Massage twice weekly x 6 wks", (2, None, 1, "wk"), (6, None, "wk")),
        ("Medical massage 1-2 times per week for 4-6 weeks", (1, 2, 1, "wk"), (4, 6, "wk")),
        ("Massage therapy BIW for 3 mos", (2, None, 1, "wk"), (3, None, "mo")),
        ("Massage TIW x 8 wks", (3, None, 1, "wk"), (8, None, "wk")),
        ("Massage every other week for 12 months", (1, None, 2, "wk"), (12, None, "mo")),
        ("Massage 4 visits per month for 1 year", (4, None, 1, "mo"), (1, None, "a")),
        ("Freq/Dur: 2x6", (2, None, 1, "wk"), (6, None, "wk")),
        ("Massage once a week for 3 months.", (1, None, 1, "wk"), (3, None, "mo")),
        ("Medical massage 2 days a week for 6 weeks", (2, None, 1, "wk"), (6, None, "wk")),
        ("Massage every week for 2 months", (1, None, 1, "wk"), (2, None, "mo")),
        # OCR's specks and split letters: "n" read "ri", a dot after the number
        (
            "Referral Lo medical massage therapy 2/wk x6 moriths.",
            (2, None, 1, "wk"),
            (6, None, "mo"),
        ),
        (
            "Referral to therapeutic massage 1x/week x 6 to 8. weeks.",
            (1, None, 1, "wk"),
            (6, 8, "wk"),
        ),
        ("Massage 2 tirnes per week, x3. months", (2, None, 1, "wk"), (3, None, "mo")),
        ("Works 5 days a week. Massage semi-weekly x 4 wks", (2, None, 1, "wk"), (4, None, "wk")),
        ("Massage 2 visits every week x 4 wks", (2, None, 1, "wk"), (4, None, "wk")),
        ("Pain worse every week. Recheck each month.", None, None),
        (
            "Low back pain x 3 months. PT 2x/week in 2025. Ibuprofen 600 mg TID.\n"
            "Massage 2x/wk. Recheck in 6 wks.",
            (2, None, 1, "wk"),
            None,
        ),
        ("Patient reports pain for 3 months. Follow up in 8 weeks.", None, None),
        (
            "Massage 2 times per week for 6 mos.\nPrevious massage\n1x/wk for 4 weeks in 2023.",
            (2, None, 1, "wk"),
            (6, None, "mo"),
        ),
        ("Comments: Chiropractic care 3x/wk x 2 wks after the injury. RTC in 6 wks", None, None),
        ("- Referral to medical massage 3 x.6.", (3, None, 1, "wk"), (6, None, "wk")),
        ("medical massage monthly x 2-3-mo.", (1, None, 1, "mo"), (2, 3, "mo")),
        ("Massage weekly, a 6-week course", (1, None, 1, "wk"), (6, None, "wk")),
        ("Freq  Duration\n1TO 2 TMES A WEEK | X 2 MONTHS", (1, 2, 1, "wk"), (2, None, "mo")),
        (  # a text PDF's check boxes are graphics: only the tick "X" is in the text
            "Frequency: X 1x/week  2x/week  3x/week  1-2x/week  Other:\n"
            "For:  4 weeks  6 weeks X 8 weeks  12 weeks  Other:",
            (1, None, 1, "wk"),
            (8, None, "wk"),
        ),
        (  # labels in the cell to the left; "RTC 8 weeks" is a follow-up
            "Low back pain since MVA. Chiropractic care\n3x/wk x 2 wks after the injury. RTC 8"
            " weeks.\nDx: M54.30\nFreq:  weekly\nDur:  for 3 to 6 months",
            (1, None, 1, "wk"),
            (3, 6, "mo"),
        ),
        (
            "for therapeutic massage 1\n_to 2 times a week for 8 wks.",  # a speck in the range
            (1, 2, 1, "wk"),
            (8, None, "wk"),
        ),
        (
            "Frequency: 2x/week\nDuration: [14 weeks [16 weeks Dd 8 weeks []12 weeks",
            (2, None, 1, "wk"),
            (8, None, "wk"),  # the ticked box was read as "Dd"
        ),
        (  # "Chiropractic" garbled: the order's own duration, not the history's, counts
            "Chicpnactic care 3x/wk x 2 wks after the injury.\n"
            "- Referral to medical massage therapy 2-3x/wk for 4 weeks",
            (2, 3, 1, "wk"),
            (4, None, "wk"),
        ),
        (  # "Previous" misread and the year cut: the ordered one, not the history, counts
            "HPI\nProvides massage 1x/wk for 4 weeks in 1  2023, helpful.\nPLAN\n"
            "- Referral to medical. massage therapy 3 times weekly x 12 wk.",
            (3, None, 1, "wk"),
            (12, None, "wk"),
        ),
        ("Massage twice-weekly x 6 wks", (2, None, 1, "wk"), (6, None, "wk")),
        (  # a speck between the number and its unit, the unit on the next line
            "for therapeutic massage 4x/month for 8 ~\nwks.  ,\nDiagnosis codes: M54.59.",
            (4, None, 1, "mo"),
            (8, None, "wk"),
        ),
        ("Massage 2x/wk for 6 or 8 weeks", (2, None, 1, "wk"), (6, 8, "wk")),  # not 8 weeks
        ("Massage once-a-week for 8 weeks", (1, None, 1, "wk"), (8, None, "wk")),
        # "2 x 10" under a combined label, the visit count on the next line
        ("Frequency/Duration 2 x 10\n6 sessions", (2, None, 1, "wk"), (10, None, "wk")),
        (  # a pen's unit words as OCR reads them
            "Frequency: 4 visitspermontk\nLength of treatment:  x6 wonthS",
            (4, None, 1, "mo"),
            (6, None, "mo"),
        ),
        ("FREQUENCY 2 Limes, per week\nDUR  x one montks", (2, None, 1, "wk"), (1, None, "mo")),
        # a speck read as a letter glued on the unit; a letter read as "@"
        ("FREQUENCY & DURATION 2x/wk x 3-6 wmonthS", (2, None, 1, "wk"), (3, 6, "mo")),
        (
            "FREQUENCY OF VISITS: every other week\nDURATION OF CARE: 2 we@ks",
            (1, None, 2, "wk"),
            (2, None, "wk"),
        ),
        (
            "FREQUENCY OF TREATMENT 2 ties per week\nDUR\nx 6 mos",
            (2, None, 1, "wk"),
            (6, None, "mo"),
        ),
        (  # OCR lost the ticks; the values written in the "other:" blanks are the order
            "Frequency: 1x/week 2x/week 3x/week 1-2x/week other: 2to 3times, weekly\n"
            "For: 4 weeks 6 weeks 8weeks 12weeks other: X6mos",
            (2, 3, 1, "wk"),
            (6, None, "mo"),
        ),
        (  # ticks as OCR reads them: "[Xl" (the box's side a letter), "OX" (a round box)
            "Frequency [1] 2x/week [] 3x/week [Xl 1-2x/week [1 Other:\n"
            "For: [14 weeks [16 weeks [18 weeks [112 weeks [Xl other: x 6 mos",
            (1, 2, 1, "wk"),
            (6, None, "mo"),
        ),
        (  # written on the blank's underline
            "Freq: O 1x/week O 2x/week O 3x/week OX Other: _1x/mo\nDur: x 6 wks",
            (1, None, 1, "mo"),
            (6, None, "wk"),
        ),
        (  # ticks read as letters no list foresees: the one box that is not empty
            "Frequency: [] 1x/week H 2x/week [] 3x/week L] 1-2x/week\n"
            "Duration: L] 4 weeks [1 6 weeks He 8 weeks CJ 12 weeks",
            (2, None, 1, "wk"),
            (8, None, "wk"),
        ),
        (  # PP-OCR reads a crossed box as a Greek letter and an empty one as nothing
            "Frequency α1x/week 2x/week 3x/week 1-2x/week other:\n"
            "Dur\n4 weeks 6 weeks 8 weeks 12 weeks βother: x3 months.",
            (1, None, 1, "wk"),
            (3, None, "mo"),
        ),
        ("Freq/Dur |-2x/week for 4 Weeks", (1, 2, 1, "wk"), (4, None, "wk")),  # only 1-2
        (  # a text layer's tick drawn over the end of the row's label
            "FREQUENCYX: 1x/week  2x/week  3x/week  1-2x/week  Other:\n"
            "DUR:  4 weeks X 6 weeks  8 weeks  12 weeks  Other:",
            (1, None, 1, "wk"),
            (6, None, "wk"),
        ),
    ],
)
def test_frequency_and_duration(nlp, text, frequency, duration) -> None:
    found = extract(nlp, _read(text))
    got_f = found.frequency
    assert (got_f and (got_f.count, got_f.count_max, got_f.period, got_f.period_unit)) == (
        frequency or None
    )
    got_d = found.duration
    assert (got_d and (got_d.value, got_d.value_max, got_d.unit)) == (duration or None)


@pytest.mark.parametrize(
    ("text", "frequency", "duration"),
    [
        # a form whose labels hold the unit
        ("Sessions per week: 2\nNumber of weeks: 6", (2, None, 1, "wk"), (6, None, "wk")),
        ("Frequency (per week): 1-2\nDuration (weeks): 6", (1, 2, 1, "wk"), (6, None, "wk")),
        ("Visits/month: __4__\nMonths: _3_", (4, None, 1, "mo"), (3, None, "mo")),
        ("Weeks of treatment: 4-6\nTimes per week: 2", (2, None, 1, "wk"), (4, 6, "wk")),
        ("Follow up (weeks): 4\nMassage 2x/week x 6 weeks", (2, None, 1, "wk"), (6, None, "wk")),
        # a number in words and again in figures
        (
            "Massage therapy two (2) times per week for eight (8) weeks",
            (2, None, 1, "wk"),
            (8, None, "wk"),
        ),
        # a date's year before the order is not an earlier therapy's year
        ("Ordered 12/01/2026: massage 2x/week x 6 weeks", (2, None, 1, "wk"), (6, None, "wk")),
        ("2026-11-20 massage twice weekly for 4 weeks", (2, None, 1, "wk"), (4, None, "wk")),
        (
            "PT 2025 2x/week, helped.\nMassage once weekly x 4 wks",
            (1, None, 1, "wk"),
            (4, None, "wk"),
        ),
        # a scanner's speck read as a quote where a word starts
        ("massage one time a-‘week x 6 wks, 6", (1, None, 1, "wk"), (6, None, "wk")),
        ("massage 2x ’weekly for ~8 weeks", (2, None, 1, "wk"), (8, None, "wk")),
        # one between a range's "to" and its number (PP-OCR: "x3 to' 6 months.")
        ("Referral to massage 2 x week x3 to' 6 months.", (2, None, 1, "wk"), (3, 6, "mo")),
        ("FREQUENCY & DURATION: 3x/weék for 2-4 weeks", (3, None, 1, "wk"), (2, 4, "wk")),
        (
            "Frequency -  BIW\nDuration  x10.weeks\n20 sessions",
            (2, None, 1, "wk"),
            (10, None, "wk"),
        ),
    ],
)
def test_forms_and_writings_beyond_the_usual(nlp, text, frequency, duration) -> None:
    found = extract(nlp, _read(text))
    got_f, got_d = found.frequency, found.duration
    assert (got_f.count, got_f.count_max, got_f.period, got_f.period_unit) == frequency
    assert (got_d.value, got_d.value_max, got_d.unit) == duration
    assert found.doubts == []


def test_a_form_label_with_its_unit_gives_way_to_no_other_cell(nlp) -> None:
    """ "Total visits: 12  Visits per week: 2" also reads as "12 Visits per week"."""
    two_cells = ReadDocument(
        source=Source(path="t", sha256=None, media_type=None, pages=1),
        pages=[
            PageText(
                number=1,
                method="text",
                words=[
                    Word(text=t, line=0, bbox=(x, 0.0, x + 60, 15.0))
                    for t, x in [
                        ("Total", 0),
                        ("visits:", 70),
                        ("12", 140),
                        ("Visits", 400),
                        ("per", 470),
                        ("week:", 540),
                        ("2", 610),
                    ]
                ],
            )
        ],
    )
    found = extract(nlp, two_cells)
    assert (found.frequency.count, found.frequency.period_unit) == (2, "wk")
    assert found.visits == 12


def test_visits_stated_not_computed(nlp) -> None:
    assert extract(nlp, _read("Massage 2x/wk x 6 wks, 12 visits total")).visits == 12
    assert extract(nlp, _read("Massage 2x/wk x 6 wks")).visits is None


def test_npi_check_digit() -> None:
    assert npi_is_valid("1234567893")
    assert not npi_is_valid("1234567890")


def test_parties_and_payer(nlp) -> None:
    text = (
        "Cascade Spine Associates  Helen Okafor, MD  James Lee, DO\n"
        "11/20/2026 10:32 FAX page 1/2\n"
        "Date: 11/18/2026\n"
        "Patient name: REYES, TOMAS  DOB: 07/22/1990\n"
        "L&l claim #: BK48213\n"
        "Sincerely,\nJames Lee, DO NPI 1245319599"
    )
    found = extract(nlp, _read(text))
    assert found.patient.name == "Tomas Reyes"
    assert str(found.patient.dob) == "1990-07-22"
    assert (found.prescriber.name, found.prescriber.credentials) == ("James Lee", "DO")
    assert found.prescriber.npi == "1245319599"
    assert (found.payer.name, found.payer.kind, found.payer.claim_number) == (
        "L&I",
        "lni",
        "BK48213",
    )
    assert str(found.rx_date) == "2026-11-18"


@pytest.mark.parametrize(
    ("text", "name", "dob"),
    [  # patients' labels, names and birth dates as OCR leaves them on generated faxes
        ("Pationt name Mateo Lindqvist\nBirth date Jan 31, 1966", "Mateo Lindqvist", "1966-01-31"),
        (
            "Client:  Isaiah Castillo\nDate of birth:  12 Aprit 1949",
            "Isaiah Castillo",
            "1949-04-12",
        ),
        ("Patient  DMITRI. ORTIZ\nBirth. date  4/28/1954", "Dmitri Ortiz", "1954-04-28"),
        (
            "I am referring my patient Mei. Kaur, date of birth 02-11-1965, for",
            "Mei Kaur",
            "1965-02-11",
        ),
        ("Patient; Gustavo Pérez-Soto\nBirth date: 10-09-1946", "Gustavo Pérez-Soto", "1946-10-09"),
        (
            "Patient Name: D'ANGELO, THANH\nDate of birth: 02-20-2007 ©",
            "Thanh D'Angelo",
            "2007-02-20",
        ),
        ("Patient .  Nadia MacLeod\nDate of birth  1979-07-17", "Nadia MacLeod", "1979-07-17"),
        ("Patient name:  Inés Kaur\nDOB:  sf  1951-08-21", "Inés Kaur", "1951-08-21"),
        (
            "Patient:  Gallagher, Ingrid\nBirth date:  _  02 October 1975",
            "Ingrid Gallagher",
            "1975-10-02",
        ),
        # a form's header row, its garbled neighbours, the values in the row below
        (
            "|  PATIENT INFORMATION\nPatient  DOT  Se\nD'Angelo, Elijah  03-Oct-1998",
            "Elijah D'Angelo",
            None,
        ),
        ("Patient: Keisha St. Clair  DOB 1/2/1990", "Keisha St. Clair", "1990-01-02"),
        ("Patient:  SIOBHAN ST- CLAIR\nDOB:  07/26/1951", "Siobhan St. Clair", "1951-07-26"),
        (
            "Please see my patient, St. Clair, Renée (DOB 09/15/1989), for massage",
            "Renée St. Clair",
            "1989-09-15",
        ),
        ("Patientname = Hannah MacLeod\nDOB  Oct 20, 1952", "Hannah MacLeod", "1952-10-20"),
        # a pad's small "DOB" label as OCR reads it: "pop", "D0B"
        ("Name Esperanza Yamamoto  pop 09/06/1957", "Esperanza Yamamoto", "1957-09-06"),
        ("Name ZIELINSKI, LEILANI  D0B 22-May-2001", "Leilani Zielinski", "2001-05-22"),
        # a speck read as letters between the label and the name; a particle is no speck
        ("Patient: ie Lucia Ferreira\nBirth date: 8/23/1978", "Lucia Ferreira", "1978-08-23"),
        ("Patient: de Souza, Maria\nDOB 1/2/1990", "Maria de Souza", "1990-01-02"),
        # an e-mail's body names the patient the attached order is for
        ("Sending over the referral for Lucía Ferreira, see attachment.", "Lucía Ferreira", None),
        (
            "Attached is a massage therapy order for Keisha Iversen. Please call",
            "Keisha Iversen",
            None,
        ),
    ],
)
def test_patient_as_ocr_leaves_it(text, name, dob) -> None:
    found = max(people.patients(text), key=lambda m: m.score)
    assert found.name == name
    births = [str(parse_date(match, birth=True)) for match, _ in people.births(text)]
    assert births == ([dob] if dob else [])


def test_credentials_in_capitals_after_a_signed_name_are_not_part_of_it() -> None:
    text = "Patient: Jane Doe\nSignature:\nYvonne Kaur DPT  NPI 2590318335"
    signed = max(people.prescribers(text, "Jane Doe"), key=lambda m: m.score)
    assert (signed.name, signed.credentials) == ("Yvonne Kaur", "DPT")


@pytest.mark.parametrize(
    ("text", "rx_date"),
    [
        # the birth date's label lost ("DOB:" far above): decades before the order's date
        (
            "June 28, 1975\nPt: Mateo Schultz\nMassage 2x/wk\n09-06-2025\nOmar Bergstrom",
            "2025-09-06",
        ),
        ("D.O.B.  -  06-16-1973\nDate written Mar 24,. 2027", "2027-03-24"),  # a speck
        (  # a form: labels in one row, values in the row below
            "Date of injury  Phone\nMarch 5, 2025\nDx: M54.50\nSignature  Date\n09/11/2025",
            "2025-09-11",
        ),
        (  # a letter's date alone on its line; an injury date after a line that broke off
            "Skagit Valley Medical Group  David Begay, MD\n10894 Bothell Way NE, Vancouver\n"
            "Order for Medical Massage\n07-16-2025\nPt Ava Oyelaran\nClinical notes: RTC 3"
            " weeks. Injured at work on\n2025-04-30 lifting boxes.\nM43.6",
            "2025-07-16",
        ),
        (  # a form's date cell whose box edge OCR read as "|": the label above still counts
            "Date af accident  Phone\n06/21/2026  2065550121\nSignature\nDate\n|  10/9/2026",
            "2026-10-09",
        ),
    ],
)
def test_the_rx_date_is_no_birth_or_injury_date(nlp, text, rx_date) -> None:
    assert str(extract(nlp, _read(text)).rx_date) == rx_date


def test_a_birth_year_before_1900_is_the_century_misread(nlp) -> None:
    found = extract(nlp, _read("Patient: Ana Ruiz\nDOB: 10/09/1488"))
    assert str(found.patient.dob) == "1988-10-09"


@pytest.mark.parametrize(
    "text",
    [
        "Insurance / Claim\nCarrier  L&I / PIP claim #\nSubscriber ID",  # printed choices
        "HPI: Shoulder pain since MVA on 2026-10-28.",  # the injury, not who pays
    ],
)
def test_no_payer_is_named(nlp, text) -> None:
    assert extract(nlp, _read(text)).payer.name is None


def test_a_payers_name_under_the_patients_label_is_not_the_patient(nlp) -> None:
    """Seen: "Pt  Insurance" labels, "Premera Blue Cross" on the line below, then the name."""
    text = (
        "Attached is a massage therapy order for Amara Pérez-Soto. Please call.\n"
        "Therapy Order Form\nPATIENT  P  _  INSURANCE\nPt  Insurance  ;  |\n"
        "Premera Blue Cross\nPérez-Soto, Amara\nSex\nDate of birth  Claim"
    )
    found = extract(nlp, _read(text))
    assert found.patient.name == "Amara Pérez-Soto"
    assert found.payer.name == "Premera"


def test_a_signature_above_its_npi_with_credentials_in_mixed_case() -> None:
    text = (
        "Renata Wojcik, MD\nPatient: Zoe Garcia\nMassage 2x/wk\nNguyen O'Neil, Do\nNPI 1048419448"
    )
    signed = max(people.prescribers(text, "Zoe Garcia"), key=lambda m: m.score)
    assert (signed.name, signed.credentials) == ("Nguyen O'Neil", "DO")


def test_npi_in_the_row_under_its_column_label(nlp) -> None:
    text = "Prescriber  Credentials  NPI\nFatima Whitfield  MD  2348087471\nSignature"
    assert extract(nlp, _read(text)).prescriber.npi == "2348087471"
    phone_under_label = "Phone  NPI\n2065550142\nSignature"  # fails the check digit
    assert extract(nlp, _read(phone_under_label)).prescriber.npi is None


@pytest.mark.parametrize(
    "text",
    [
        "Sarah Achebe RN NPL # 1753555139",  # the label's I read as L
        "Victor Gallagher, DO NPI No.; 1753555139",
        "Best regards, Desmond Patel, N.D. Provider NPI'1753555139",
    ],
)
def test_npi_labels_as_ocr_reads_them(nlp, text) -> None:
    assert extract(nlp, _read(text)).prescriber.npi == "1753555139"


def test_signature_block_name_above_its_npi(nlp) -> None:
    letter = "Questions? Call us.\nBest regards,\nDWONe\nChloe McAllister\nNPI #: 1194172072"
    assert extract(nlp, _read(letter)).prescriber.name == "Chloe McAllister"
    signed = extract(nlp, _read("Provider signature:\nOlivia Yamamoto D.C.\nNPI #: 2330307242"))
    assert (signed.prescriber.name, signed.prescriber.credentials) == ("Olivia Yamamoto", "DC")
    junk = "Best regards,\nSania\nAuthorized signature\nTd TS6# 05°60 SZ02-80-ddS"  # upside down
    assert extract(nlp, _read(junk)).prescriber.name is None
    staff_mail = "Thank you,\nKayla Smith\nPuget Sound Medical Group"  # the sender, no NPI
    assert extract(nlp, _read(staff_mail)).prescriber.name is None
    dashed = extract(nlp, _read("Sincerely,\nLiam-Schultz, M.D.  :\nNPI No. 2300919703"))
    assert (dashed.prescriber.name, dashed.prescriber.credentials) == ("Liam Schultz", "MD")
    hyphenated = extract(nlp, _read("Sincerely,\nJean-Luc Picard, MD\nNPI 2300919703"))
    assert hyphenated.prescriber.name == "Jean-Luc Picard"


def test_low_confidence_code_is_doubted(nlp) -> None:
    found = extract(nlp, _read("Dx: S39.012A", confidence=0.2))
    assert found.codes[0].doubtful and found.doubts
    assert "diagnosis:S39.012A" in found.unsure  # low confidence alone: a re-read may settle it


def test_conflicting_frequencies_are_not_left_to_a_reread(nlp) -> None:
    found = extract(nlp, _read("Massage 2x/week\nMassage 3x/week", confidence=0.2))
    assert "frequency" in found.doubts and "frequency" not in found.unsure


def test_earlier_therapy_wrapped_onto_a_new_line_is_not_the_order(nlp) -> None:
    """Seen on a generated fax: the history sentence breaks before its frequency, and a
    follow-up's "in 4\nwks" shares the line, which is then no line of printed options."""
    text = (
        "Frequency/Duration:  1x/wk for 6 weeks\n"
        "Previous massage 1x/wk for 4 weeks in 2025, helpful. Chiropractic care\n"
        "3x/wk x 2 wks after the injury. CPT: 97530 Return to clinic in 4\n"
        "wks or sooner prn."
    )
    found = extract(nlp, _read(text))
    assert (found.frequency.count, found.frequency.period_unit) == (1, "wk")
    assert (found.duration.value, found.duration.unit) == (6, "wk")
    assert found.doubts == []


@pytest.mark.parametrize(
    ("text", "doubted"),
    [
        ("FREQ once a month\nDUR x to 3 moS", True),  # "2 to 3 mos" lost its first number
        ("Massage once a month for 2 to 3 mos", False),
        ("Frequency of visits: -1x/wk\nFor: x 1 year", False),  # a stray dash is no range
        ("Frequency: -3 times per week\nFor: x 6 weeks", True),  # "2-3", the 2 lost
        ("- Massage 2x/week x 6 weeks", False),  # a bullet
        ("massage 1x/week\nduration _to 3 months", True),
        ("Freq/Dur |-2x/week for 4 Weeks", True),  # "1-2x/week": the 1 read as a bar
        ("FREQ/DUR\n\\ TO 2 TIMES A WEEK FOR 3 MO", True),  # capitals, "1" read as "\\"
        ("Massage up to 2x/week for 6 weeks", False),
        ("MASSAGE UP TO 2 TIMES A WEEK FOR 6 WEEKS", False),
        ("massage two times weekly x 6 8 wks.", True),  # "6-8 wks", the dash lost
        ("Massage 1 2 times per week for 6 weeks", True),
        ("- Referral to massage 1-2 times per week 42 to.3 months.", True),  # "for 2 to 3"
        ("- Referral to massage 1-2 times per week for 2 to.3 months.", True),  # a speck
        ("Ordered 12/01/2026 - 2x/week for 6 weeks", False),  # a date before the dash
    ],
)
def test_a_range_that_lost_its_first_number_is_doubted(nlp, text, doubted) -> None:
    found = extract(nlp, _read(text))
    assert found.duration is not None
    assert bool({"frequency", "duration"} & set(found.doubts)) is doubted
    assert bool(found.cut_ranges) is doubted  # a second reading of the range may settle it


@pytest.mark.parametrize(
    ("text", "doubted"),
    [
        # no tick read: the option after the frequency row must not win on context alone
        ("Frequency: 2x/week\nFOR\n4 weeks 6 weeks 8 weeks 12 weeks other:", "duration"),
        ("FOR 4 weeks [] 8 weeks [] 12 weeks\nMassage 2x/week", "duration"),
        # two boxes that are not empty, or one whose box was lost: nothing decided
        ("Freq: H 1x/week Kl 2x/week [] 3x/week\nDur: 6 weeks", "frequency"),
        ("Freq: 1x/week H 2x/week [] 3x/week\nDur: 6 weeks", "frequency"),
        # an empty box read as "‘D" is no tick; the write-in "6: mos" was the choice
        (
            "Freq: 2x/week\nDuration (1.4 weeks C16 weeks [1'8 weeks ‘D12weeks other: fee 6: mos",
            "duration",
        ),
        # a noisy empty box read as "&", a tick's shape, beside another that is no box
        ("Frequency: CO 1x/week EJ 2x/week & 3x/week CJ 1-2x/week\nDur: 6 weeks", "frequency"),
    ],
)
def test_printed_options_with_no_tick_read_are_doubted(nlp, text, doubted) -> None:
    found = extract(nlp, _read(text))
    assert doubted in found.doubts and doubted not in found.unsure


@pytest.mark.parametrize(
    "text",
    [
        "Dx / ICD-10 codes\nS13.8XXA\nPain, unspecified\nPRESCRIPTION",  # R52's cell was lost
        "Dx: $23.3XXD, $13.6XXKD\nRx: massage",  # a garbled code
        "A:\n1. 423552\n2. S53.419A\nPlan: massage",
        "ICD-10 code\nDescription\nG47.20\nS3.6XXA.\nORDERS",  # a digit lost, the X's kept
        "A:\n2734\n_ $16.1XXD strain of muscle\nPlan: massage",  # Z73.4, its Z and dot lost
        "Dx: S23.429D. SUB.NGA. S16.1XXA\nSignature",  # a hand-written code, every digit lost
        "ICD-10 code Description\n79.673 ee a |\n$33.6XxD SPRAIN",  # M79.673, its M lost
        "Diagnosis codes: S$39.011D, 2564, r26.81.",  # Z56.4 between two codes, its Z a 2
        "Diagnosis codes: 95693, s161xxd.",  # G56.93 opening the list, its G read as 9
        "ASSESSMENT -\n1. S233XXD\n2. M99.01\n3. 153.81\nP:",  # R53.81, its R read as 1
        # S13.9XXD glued to its list number, its S read as a 5 (faint, no description)
        "Diagnosis: 1.513.9XXD\n2. r10.a3: flank pain, bilateral",
        # S13.9 glued to its list number, read as a decimal; its description stands
        "Dx/ICD-10:\n1. M54.50\n4.5139 sprain of joints and ligaments of unspecified parts of neck",
    ],
)
def test_code_that_did_not_read_is_doubted(nlp, text) -> None:
    assert "diagnosis:unread" in extract(nlp, _read(text)).doubts


@pytest.mark.parametrize(
    "line", ["Ibuprofen 2.5 mg, pain 6.5/10", "score 12.345", "onset 08.10.2025", "Temp 101.5 F"]
)
def test_decimals_and_dates_in_a_diagnosis_block_are_no_unread_code(nlp, line) -> None:
    text = f"Diagnosis:\n1. M54.50 Low back pain, unspecified\n{line}"
    assert extract(nlp, _read(text)).doubts == []


@pytest.mark.parametrize(("confidence", "blank"), [(None, True), (0.95, False)])
def test_a_row_left_unticked_where_the_text_layer_writes_ticks_is_blank(
    nlp, confidence, blank
) -> None:
    """A text layer shows every tick made; an OCR'd page may have lost the row's tick."""
    text = (
        "Modalities: X Medical massage Swedish\n"
        "Frequency of treatment: 1x/week X 2x/week 3x/week 1-2x/week Other:\n"
        "For: 4 weeks 6 weeks 8 weeks 12 weeks Other:"
    )
    found = extract(nlp, _read(text, confidence))
    assert found.frequency.count == 2
    assert (found.duration is None and found.doubts == []) is blank
    assert ("duration" in found.doubts) is not blank


def test_a_tick_drawn_over_the_rows_label_is_taken(nlp) -> None:
    text = "FREQUENCYX: 1x/week  2x/week  3x/week\nDUR:  4 weeks X 6 weeks  8 weeks"
    found = extract(nlp, _read(text))
    assert found.frequency.count == 1 and found.doubts == []


def test_frequency_shorthand_in_a_diagnosis_block_is_no_unread_code(nlp) -> None:
    text = "Dx:  S96.011D: Strain of muscle\nTreatment:  Massage\nFrequency/Duration: 2x12"
    assert extract(nlp, _read(text)).doubts == []


def test_a_faint_code_with_its_whole_description_beside_it_is_settled(nlp) -> None:
    described = "1. Z00.01: Encounter for general adult medical examination with abnormal findings"
    assert extract(nlp, _read(described, confidence=0.2)).doubts == []
    before = "DX/ICD-10:\nDual sensory impairment (Z7382)\nOther fatigue (R53.83)"
    assert extract(nlp, _read(before, confidence=0.2)).doubts == []
    labelled = "DIAGNOSIS CODE(S) Other acute postprocedural pain (G8918)"
    assert extract(nlp, _read(labelled, confidence=0.2)).doubts == []
    shortened = "S46.219A: strain of muscle, fascia and tendon of other parts of biceps"
    assert extract(nlp, _read(shortened, confidence=0.2)).doubts == ["diagnosis:S46.219A"]
    wrapped = (  # the description wrapped onto the next line, a scan's "$" for "S"
        "ASSESSMENT\n$46219A: strain of muscle, fascia and tendon of other parts of biceps,"
        " unspecified\narm, initial encounter\nPLAN"
    )
    assert extract(nlp, _read(wrapped, confidence=0.2)).doubts == []
    cut = wrapped.replace("initial encounter", "initial")  # no whole description: no settling
    assert extract(nlp, _read(cut, confidence=0.2)).doubts == ["diagnosis:S46.219A"]


@pytest.mark.parametrize(
    ("text", "doubted"),
    [
        ("Assessment/Plan\nS33 ,OXXD, M54\nPlan:", ["diagnosis:S33"]),  # S33.9XXD split
        ("DX: G56.O% M54.50", ["diagnosis:G56"]),  # G56.01, its end garbled
        ("Dx: R53.82, S16-IXAD", ["diagnosis:S16"]),
        ("Dx: M54, 2x/week", []),  # a header code, then the frequency: nothing lost
        ("Dx: M54.5 - 12 visits", []),
        ("Dx: S39.012A, 9XXD", []),  # a billable code has no end to lose
    ],
)
def test_a_header_code_before_what_looks_like_its_lost_end_is_doubted(nlp, text, doubted):
    assert extract(nlp, _read(text)).doubts == doubted


@pytest.mark.parametrize(("number", "doubted"), [(0.50, True), (0.70, False)])
def test_a_number_read_below_the_number_threshold_doubts_its_value(nlp, number, doubted):
    """Seen: tesseract read a typed "1 time per week" as "3" at 0.50, its words at 0.94."""
    read = [("FREQUENCY", 0.9), ("OF", 0.9), ("VISITS:", 0.89), ("3", number), ("time", 0.94)]
    read += [("per", 0.95), ("week", 0.95)]
    words = [
        Word(text=text, line=0, confidence=sure, bbox=(100.0 * i, 0.0, 100.0 * i + 90, 30.0))
        for i, (text, sure) in enumerate(read)
    ]
    page = PageText(number=1, method="ocr", words=words)
    document = ReadDocument(source=Source(path="t", sha256=None, media_type=None), pages=[page])
    found = extract(nlp, document)
    assert found.frequency.count == 3
    assert ("frequency" in found.doubts) is doubted
    assert ("frequency" in found.unsure) is doubted  # faintness alone: a reread may settle it


def test_a_hyphenated_claim_number_is_not_an_unread_code(nlp) -> None:
    found = extract(nlp, _read("Dx: S83.8X1D\nGEICO PIP, claim # 773-844188."))
    assert [c.code for c in found.codes] == ["S83.8X1D"] and found.doubts == []


def test_the_icd_labels_own_ten_is_not_an_unread_code(nlp) -> None:
    """PP-OCR read a form's column label "ICD-10 code" as "ICD-10.5m"."""
    found = extract(nlp, _read("Dx / ICD-10 codes\nICD-10.5m . Descripton\ns63697a\nS93512A"))
    assert [c.code for c in found.codes] == ["S63.697A", "S93.512A"] and found.doubts == []
    assert "diagnosis:unread" in extract(nlp, _read("Dx / ICD-10 codes\nS93512A\n10.5m")).doubts


def test_descriptions_beside_their_codes_are_not_doubted(nlp) -> None:
    text = "ICD-10: M54.2 Cervicalgia; S39.012A (Strain of muscle, fascia and tendon of lower back)"
    assert extract(nlp, _read(text)).doubts == []


def test_unit_word_repair_keeps_offsets_and_real_words() -> None:
    text = "open mouth 3 times daily; massage 2x/wk x 6 wonths"
    repaired = repair_unit_words(text)
    assert len(repaired) == len(text)
    assert repaired.endswith("6 months") and "open mouth" in repaired


def test_an_rx_date_label_with_a_colon_misplaced_by_ocr(nlp) -> None:
    text = "Massage Therapy Order\n.  DATE: OF ORDER August 9, 2026\nBIRTHDATE  Mar 9, 1962"
    assert str(extract(nlp, _read(text)).rx_date) == "2026-08-09"


def test_a_fax_cover_sheets_date_is_the_day_it_was_sent(nlp) -> None:
    cover = (
        "FAX\nFrom:  Puget Sound Chiropractic\nPhone:  (360) 555-0106\nDate:  21-Nov-2026\n"
        "Pages:  2\nConfidential: intended for the named recipient only.\n"
    )
    order = "Massage 2-3x/wk for 6 weeks\nDate;  2026-11-19\nIngrid Berg, PA-C"
    assert str(extract(nlp, _read(cover + order)).rx_date) == "2026-11-19"
    letterhead = (
        "Puget Sound Chiropractic\nPhone 360-555-0106  Fax:  360-555-0107\nDate:  2026-11-19"
    )
    assert str(extract(nlp, _read(letterhead + "\nMassage 2x/wk")).rx_date) == "2026-11-19"


def test_a_last_name_with_a_particle_written_first(nlp) -> None:
    text = "Rx\nPatient name: St. Clair, Farah\nBirth date:  04/09/1962\nMassage 2x/wk"
    assert extract(nlp, _read(text)).patient.name == "Farah St. Clair"


def test_a_sentence_after_patient_labels_no_one_below_it(nlp) -> None:
    """The prescriber signing under "Patient reports ..." is not the patient, nor is the
    plan ending the line above the birth date."""
    text = (
        "Snoqualmie Urgent Care\nHelen Nakamura, MD, Emma D'Angelo, ND\nPrescription\n"
        "6/21/2026\nName Jalen Lundgren  Insurance carrier Aetna PPO\n"
        "D.O.B. 1/29/1946  Subscriber ID EHA4901157221\nDx code(s)\n1. S83.232D\n"
        "Patient reports neck pain x 6 months. CPT: 98941, 97124\nHelen Nakamura, MD\n"
        "Provider NPI 1323729305"
    )
    found = extract(nlp, _read(text))
    assert found.patient.name == "Jalen Lundgren"
    assert found.prescriber.name == "Helen Nakamura"


def test_a_speck_line_between_a_date_and_its_label_is_passed_over(nlp) -> None:
    text = (
        "MASSAGE THERAPY ORDER\nPayer\n|Group #\n10/13/2026\nDx: S33.6XXA\n"
        "REFERRING PROVIDER\nSignature  Date\ni\n17-May-2027."
    )
    assert str(extract(nlp, _read(text)).rx_date) == "2027-05-17"


def test_a_code_is_marked_described_only_by_its_whole_official_description(nlp) -> None:
    document = _read("ICD-10: 1. M79.18 Myalgia, other site\n2. M54.50 Low back pain")
    found = {m.code: m.described for m in extract(nlp, document).codes}
    assert found == {"M79.18": True, "M54.50": False}  # "Low back pain, unspecified"
    listed = _read("Dx: Low back pain (M54.50), Pain in thoracic spine M54.6")
    found = {m.code: m.described for m in extract(nlp, listed).codes}
    assert found == {"M54.50": False, "M54.6": True}  # another code's words are not it


@pytest.mark.parametrize(
    ("text", "frequency"),
    [
        ("Frequency of treatment: ix/week\nDuration: 1 year", (1, None, 1, "wk")),
        ("Massage lx per wk x 6 weeks", (1, None, 1, "wk")),
        ("Massage Ix a week for 4 weeks", (1, None, 1, "wk")),
    ],
)
def test_a_count_of_one_read_as_a_letter(nlp, text, frequency) -> None:
    """Seen: a typed fax's "1x/week" read "ix/week" at 0.91; the order was lost."""
    found = extract(nlp, _read(text, confidence=0.9))
    got = found.frequency
    assert (got.count, got.count_max, got.period, got.period_unit) == frequency
    assert "frequency" not in found.doubts
    assert found.frequency.text.split()[0][0] in "ilI"  # evidence keeps the page's word


@pytest.mark.parametrize(
    ("text", "unit"), [("Freq:\nA times a month\nx 8 weeks", "mo"), ("Ax/week x 8 weeks", "wk")]
)
def test_a_count_of_four_read_as_a_is_four_doubted(nlp, text, unit) -> None:
    """Seen: a typed "4 times a month" faxed, read "A times a month": no frequency."""
    found = extract(nlp, _read(text, 0.93))
    assert (found.frequency.count, found.frequency.period_unit) == (4, unit)
    assert "frequency" in found.doubts and "frequency" in found.unsure
    assert extract(nlp, _read("4 times A month x 8 weeks", 0.93)).doubts == []


def test_a_count_read_as_a_letter_faintly_is_doubted(nlp) -> None:
    """Its "number" holds no digit, so the number threshold guards the whole word."""
    found = extract(nlp, _read("Frequency of treatment: ix/week", confidence=0.5))
    assert found.frequency.count == 1 and "frequency" in found.doubts


@pytest.mark.parametrize(
    "text", ["I x/week", "Sig: lx daily", "Dx: I10, lx", "|x/week", "Frequency: \\~Lx/week"]
)
def test_a_letter_is_a_count_only_where_a_frequency_needs_one(nlp, text) -> None:
    assert extract(nlp, _read(text, confidence=0.9)).frequency is None


def test_a_faint_word_in_the_code_column_is_an_unread_code(nlp) -> None:
    """Seen: "S\\VE\\KXD" at 0.06 for S16.1XXD; accepted on the other codes before."""
    rows = [
        [("DIAGNOSIS", 0.93), ("(ICD-10)", 0.91)],
        [("S\\VE\\KXD", 0.06), ("|", 0.87), ("STRAIN", 0.87), ("OF", 0.96), ("MUSCLE", 0.5)],
        [("M25.519", 0.9), ("|", 0.74)],
    ]
    found = extract(nlp, _read_with(rows))
    assert [c.code for c in found.codes] == ["M25.519"]
    assert "diagnosis:unread" in found.doubts
    assert [s.text for s in found.unread_spots] == ["S\\VE\\KXD"]


def _placed(rows: list[list[tuple[str, float, float]]]) -> ReadDocument:
    """OCR'd lines of (text, confidence, width in pixels), letters 40 pixels tall."""
    words = []
    for line, row in enumerate(rows):
        left = 100.0
        for text, confidence, width in row:
            box = (left, 60.0 * line, left + width, 60.0 * line + 40)
            words.append(Word(text=text, line=line, confidence=confidence, bbox=box))
            left += width + 15
    page = PageText(number=1, method="ocr", words=words)
    return ReadDocument(
        source=Source(path="t", sha256=None, media_type=None, pages=1), pages=[page]
    )


_TYPED_CODES = [
    [("Assessment/Plan", 0.91, 380)],
    [("S66.113A", 0.65, 260), ("-", 0.93, 20), ("Strain", 0.96, 140), ("of", 0.93, 45)],
    [("S30.0XXA", 0.9, 260), ("-", 0.9, 20), ("Contusion", 0.9, 235), ("of", 0.96, 45)],
]


@pytest.mark.parametrize(
    ("row", "unread"),
    [
        ([("ee", 0.21, 220)], True),  # "m75121" read as "ee": as wide as a code
        ([("ee", 0.21, 60)], False),  # a speck's two letters
        ([("586-9120", 0.31, 190)], True),  # a hand-written S86.912A
        ([("586-9120", 0.55, 190)], False),  # read surely: a number, not a code
        ([("Ibuprofen", 0.30, 230)], False),  # a word read faintly
        ([("10/23/26", 0.31, 190)], False),  # a date
        ([("1\\—~Y/", 0.08, 340)], False),  # marks: a signature's stroke
        ([("FED", 0.09, 108), ("10", 0.09, 40), ("Code", 0.19, 90)], False),  # a header
        ([("Ms5u.3)", 0.41, 115)], True),  # M54.31 in the column under the codes
        ([("Ms5u.3)", 0.75, 115)], False),  # read surely enough: what it says, it is
        ([("See", 0.9, 60), ("Ms5u.3)", 0.41, 115)], False),  # not the code column's cell
    ],
)
def test_a_faint_line_of_a_code_alone_in_a_diagnosis_block_is_unread(nlp, row, unread) -> None:
    """Seen each alone on its line under typed codes, the referral accepted without it."""
    found = extract(nlp, _placed([*_TYPED_CODES, row]))
    assert [c.code for c in found.codes] == ["S66.113A", "S30.0XXA"]
    assert ("diagnosis:unread" in found.doubts) is unread
    assert [s.text for s in found.unread_spots] == ([row[0][0]] if unread else [])


def test_a_codes_own_letters_are_no_duration(nlp) -> None:
    """Seen on a text PDF: "S63.8X9D" read as "x 9 d" against "for 6 wks": review."""
    found = extract(nlp, _read("Rx: massage every 2 weeks\nfor 6 wks\nDx: S63.8X9D, R52"))
    assert [c.code for c in found.codes] == ["S63.8X9D", "R52"]
    assert (found.duration.value, found.duration.unit) == (6, "wk")
    assert found.doubts == []


@pytest.mark.parametrize(
    ("after", "unread"),
    [
        ([("oe", 0.06, 172)], True),  # "S33.8XXA" after M25.519, read as "oe"
        ([("oe", 0.06, 40)], False),  # a speck
        ([("oe", 0.06, 172), ("Strain", 0.9, 140)], False),  # a description's words
        ([("Sprain", 0.2, 172)], False),  # a word, read faintly
    ],
)
def test_a_faint_second_code_after_a_code_read_on_its_line_is_unread(nlp, after, unread) -> None:
    rows = [[("Assessment/Plan", 0.91, 380)], [("M25.519", 0.9, 150), *after]]
    found = extract(nlp, _placed(rows))
    assert [c.code for c in found.codes] == ["M25.519"]
    assert ("diagnosis:unread" in found.doubts) is unread


def test_a_faint_word_beside_a_code_read_or_outside_a_diagnosis_block_is_no_code(nlp) -> None:
    beside = [[("Dx:", 0.9)], [("S16.1XXD", 0.9), ("Sxkeq", 0.1)], [("K4AXZQ", 0.1), ("x", 0.9)]]
    assert "diagnosis:unread" in extract(nlp, _read_with(beside)).doubts  # its own line: unread
    beside[2] = [("M54.50", 0.9)]
    assert extract(nlp, _read_with(beside)).doubts == []
    label = [[("Dx", 0.9), ("/", 0.9), ("ICD-10", 0.9)], [("ICD-10.5m", 0.19), (".", 0.5)]]
    assert extract(nlp, _read_with(label + beside[2:])).doubts == []  # a label read faintly
    wordlike = [[("Dx:", 0.9), ("S39.012A", 0.9)], [("Rafilla:", 0.23), ("0", 0.66)]]
    assert extract(nlp, _read_with(wordlike)).doubts == []  # a garbled word, not a code
    elsewhere = [[("Patient", 0.9), ("Notes", 0.9)], [("K4AXZQ", 0.1), ("seen", 0.9)]]
    assert extract(nlp, _read_with(elsewhere)).doubts == []


@pytest.mark.parametrize(
    ("before", "doubted"),
    [
        (("{wice", 0.41), True),  # "twice", read faintly: the count may be lost
        (("{wice", 0.91), False),  # read surely: what it is, it is no count
        (("therapy", 0.41), False),  # a faint word naming the treatment is no count
    ],
)
def test_a_frequency_without_count_after_a_faint_word_is_doubted(nlp, before, doubted) -> None:
    """Seen: "{wice weekly x 6 wks" (0.41) taken as once a week."""
    rows = [[("Plan:", 0.9), ("massage", 0.9), before, ("weekly", 0.96), ("x", 0.94)]]
    rows[0] += [("6", 0.94), ("wks", 0.9)]
    found = extract(nlp, _read_with(rows))
    assert found.frequency.count == 1
    assert ("frequency" in found.doubts) is doubted
    assert "frequency" not in found.unsure  # reading "weekly" again would settle nothing


@pytest.mark.parametrize(
    ("before", "doubted"),
    [
        (("'SyMproms", 0.25), True),  # "Symptoms", misread: history or an order, unknown
        (("'SyMproms", 0.0), True),  # read at no confidence at all
        (("'SyMproms", 0.91), False),  # read surely: a word that says nothing against it
        (("Symptoms", 0.25), None),  # symptom history even faint: no duration at all
    ],
)
def test_a_lone_duration_after_a_faint_word_is_doubted(nlp, before, doubted) -> None:
    """Seen: "lifting boxes. 'SyMproms for 2 weeks" at 0.25, in a letter ordering
    massage "once a month" with no duration, accepted as "for 2 weeks"."""
    rows = [
        [("Please", 0.95), ("see", 0.96), ("my", 0.96), ("patient", 0.96), ("for", 0.95)],
        [("medical", 0.96), ("massage", 0.9), ("once", 0.96), ("a", 0.94), ("month.", 0.94)],
        [("Injured", 0.96), ("lifting", 0.96), ("boxes.", 0.96), before, ("for", 0.96)],
        [("2", 0.96), ("weeks,", 0.95), ("worse", 0.96), ("with", 0.96), ("sitting.", 0.9)],
    ]
    found = extract(nlp, _read_with(rows))
    assert found.frequency.count == 1
    if doubted is None:
        assert found.duration is None
        return
    assert found.duration.value == 2
    assert ("duration" in found.doubts) is doubted
    assert "duration" not in found.unsure  # reading "2 weeks" again settles nothing


def test_a_duration_its_order_supports_is_not_doubted_for_a_faint_word_before(nlp) -> None:
    """Only a duration nothing but its lead word supports is doubted for its context."""
    rows = [[("Plan:", 0.9), ("Sxmptns", 0.3), ("massage", 0.9), ("2x/week", 0.95)]]
    rows[0] += [("for", 0.96), ("6", 0.94), ("weeks", 0.9)]
    found = extract(nlp, _read_with(rows))
    assert found.duration.value == 6 and "duration" not in found.doubts


@pytest.mark.parametrize(("written", "doubted"), [("xI2wkS", True), ("x12wkS", False)])
def test_a_value_glued_to_a_letter_that_may_be_its_digit_is_doubted(nlp, written, doubted):
    """Seen: PP-OCR read a hand-written "x 12 wks" as "xI2wkS", sure of its "I": "2 wks"."""
    rows = [[("Freq/Dur:", 0.95), ("4", 0.95), ("times", 0.95), ("a", 0.95), ("month", 0.95)]]
    rows[0].append((written, 0.95))
    found = extract(nlp, _read_with(rows))
    assert found.frequency.count == 4 and "frequency" not in found.doubts
    assert ("duration" in found.doubts) is doubted
    assert "duration" not in found.unsure  # the same letters would be read again


def test_a_name_ocr_read_without_accents_takes_them_from_the_e_mail_body(nlp) -> None:
    text = "Sending over the referral for Lucía Ferreira.\nPatient: Lucia Ferreira  DOB 8/23/1978"
    assert extract(nlp, _read(text)).patient.name == "Lucía Ferreira"
    other = "Sending over the referral for Lucía Ferreira.\nPatient: Lucas Ferreira"
    assert extract(nlp, _read(other)).patient.name == "Lucas Ferreira"  # another person


def test_a_signatures_scrawl_after_signed_is_no_prescriber(nlp) -> None:
    """Seen: "Signed: ly Pech VY" above the typed "Maria Ferreira, MD" (a patient's
    label may have a speck before the name; a signature line's letters are the scrawl)."""
    text = "Signed: ly Pech VY 4 . ee\nMaria Ferreira, MD\nProvider NPI: 1041289517"
    assert extract(nlp, _read(text)).prescriber.name == "Maria Ferreira"


@pytest.mark.parametrize(
    ("last", "unread"),
    [
        (("SIbIKXA", 0.42, 186), True),  # a hand-written S16.1XXA
        (("SIbIKXA", 0.90, 186), False),  # read surely: what it says, it is
        (("STRAIN", 0.90, 150), False),  # a description's word
        (("Strain", 0.30, 150), False),  # a word, however faint
    ],
)
def test_a_faint_word_listed_after_a_code_is_an_unread_code(nlp, last, unread) -> None:
    """Seen: "DX: S239XxA, SIbIKXA" (0.42), accepted on S23.9XXA alone."""
    found = extract(nlp, _placed([[("DX:", 0.9, 86), ("S239XxA,", 0.55, 227), last]]))
    assert "S23.9XXA" in [c.code for c in found.codes]
    assert ("diagnosis:unread" in found.doubts) is unread


@pytest.mark.parametrize(("confidence", "unread"), [(0.0, True), (0.9, False)])
def test_a_faint_word_listed_before_a_code_is_an_unread_code(nlp, confidence, unread) -> None:
    """Seen: typed "Diagnosis codes: R1083, R52." read "BIGRS. R52.", the first at 0.00."""
    row = [("Diagnosis", 0.95, 208), ("codes:", 0.96, 138), ("BIGRS.", confidence, 150)]
    found = extract(nlp, _placed([[*row, ("R52.", 0.96, 92)]]))
    assert [c.code for c in found.codes] == ["R52"]
    assert ("diagnosis:unread" in found.doubts) is unread
    # a faint code read is listed, doubted as itself, not as a code left unread
    codes_row = [("Diagnosis", 0.95, 208), ("codes:", 0.96, 138), ("S70.00XA,", 0.35, 183)]
    faint_code = extract(nlp, _placed([[*codes_row, ("$39.013A.", 0.96, 190)]]))
    assert "diagnosis:unread" not in faint_code.doubts


@pytest.mark.parametrize("label", ["Icb-10", "ICK-10"])
def test_the_icd_label_misread_opens_a_diagnosis_block_and_is_no_code_itself(nlp, label) -> None:
    """Seen: "Icb-10" (0.20), "ICK-10" (0.14) over a column of codes: the label, not a
    code left unread."""
    rows = [[(label, 0.20, 114), ("Code", 0.9, 90)], [("M25.59", 0.9, 100)]]
    found = extract(nlp, _placed(rows))
    assert [c.code for c in found.codes] == ["M25.59"] and found.doubts == []


def test_a_member_id_after_specks_is_not_an_unread_code(nlp) -> None:
    """Seen: "member ID D 1)V73428830." in the sentence after the diagnoses: review."""
    text = "Dx: strain (S16.1XXA); S13.4XXA.\nTheir insurance is UHC, member ID D 1)V73428830."
    assert extract(nlp, _read(text)).doubts == []
    garbled = "Dx: strain (S16.1XXA); S13.4XXA.\nand 1)V73428830."
    assert "diagnosis:unread" in extract(nlp, _read(garbled)).doubts  # no id's label


def test_a_chart_notes_title_above_the_patients_label_is_no_prescriber(nlp) -> None:
    """Seen: "Chart Note" over "PT: ST. CLAIR, INES" taken as a prescriber "Chart Note,
    PT", and an unsigned referral accepted instead of MISSING_PRESCRIBER."""
    text = "Juniper Chiropractic\nChart Note\nPT: ST. CLAIR, INES\nDOB: 07-02-1979\nSignature"
    found = extract(nlp, _read(text))
    assert found.prescriber.name is None
    assert found.patient.name == "Ines St. Clair"


def test_a_faint_code_with_its_s_read_twice_is_read_and_doubted(nlp) -> None:
    """ "S$16.1XXD" at 0.28 alone under the codes: S16.1XXD, doubted for its faintness (an
    unread code before the S read twice was read as "$")."""
    found = extract(nlp, _placed([*_TYPED_CODES, [("S$16.1XXD", 0.28, 250)]]))
    assert [c.code for c in found.codes] == ["S66.113A", "S30.0XXA", "S16.1XXD"]
    assert "diagnosis:S16.1XXD" in found.doubts


@pytest.mark.parametrize(
    ("row", "unread"),
    [
        ([("7", 0.38, 16), ("id", 0.23, 12), ("Oia", 0.0, 98)], True),  # Z71.52, hand-written
        ([("7", 0.38, 16), ("id", 0.23, 12), ("Oia", 0.9, 98)], False),  # a piece read surely
        ([("7", 0.38, 16), ("id", 0.23, 12)], False),  # a speck's width, not a code's
        ([("7", 0.38, 16), ("pain", 0.23, 80), ("Oia", 0.0, 98)], False),  # a word in it
        ([("M5", 0.74, 60), ("yuh", 0.34, 80)], True),  # a hand-written M54.41
        ([("M5", 0.74, 60), ("yuh", 0.74, 80)], False),  # read surely: what it says, it is
        ([("M5", 0.74, 60), ("yuh", 0.34, 80), ("Lumbago", 0.9, 200)], False),  # described
        ([("S", 0.01, 30), ("oteeXAD", 0.0, 190)], True),  # S13.8XXD: no letter read
        ([("S", 0.01, 30), ("oteeXAD", 0.2, 190)], False),  # some letters of a word read
    ],
)
def test_a_line_of_faint_pieces_in_the_code_column_is_an_unread_code(nlp, row, unread) -> None:
    """Seen: a hand-written Z71.52 as "7 id Oia" above a code read; accepted without it.
    And M54.41 as "M5 yuh", S13.8XXD as "S oteeXAD", each under or over codes read."""
    found = extract(nlp, _placed([*_TYPED_CODES, row]))
    assert [c.code for c in found.codes] == ["S66.113A", "S30.0XXA"]
    assert ("diagnosis:unread" in found.doubts) is unread


_NUMBERED_CODES = [
    [("Assessment:", 0.96, 220)],
    [("1.", 0.89, 30), ("M25541", 0.89, 200), ("-", 0.91, 20), ("Pain", 0.96, 90)],
    [("2.", 0.9, 30), ("M4142", 0.9, 175), ("-", 0.9, 20), ("Neuromuscular", 0.96, 280)],
]


@pytest.mark.parametrize(
    ("row", "unread"),
    [
        ([("S", 0.01, 30), ("oteeXAD", 0.0, 190)], True),  # "3. S13.8XXD", its number lost
        ([("S", 0.01, 30), ("oteeXAD", 0.0, 190), ("Sprain", 0.9, 150)], False),  # a line
    ],
)
def test_a_faint_line_under_a_numbered_list_of_codes_is_an_unread_code(nlp, row, unread) -> None:
    """Seen: "1. M25541", "2. M4142", then "S oteeXAD" at 0.01 and 0.00 where the list's
    numbers stand, left of the codes; accepted without S13.8XXD."""
    found = extract(nlp, _placed([*_NUMBERED_CODES, row]))
    assert [c.code for c in found.codes] == ["M25.541", "M41.42"]
    assert ("diagnosis:unread" in found.doubts) is unread


def test_a_shorthand_right_after_a_frequency_is_a_conflict(nlp) -> None:
    """Seen: a speck read as "5" in "1x per month x 6 weeks": "5 x 6 weeks" won as 5 a week."""
    found = extract(nlp, _read("- Referral to massage therapy 1x per month 5 x 6 weeks."))
    assert "frequency" in found.doubts
    alone = extract(nlp, _read("- Referral to massage therapy 1x per month x 6 weeks."))
    assert (alone.frequency.count, alone.frequency.period_unit) == (1, "mo")
    assert alone.doubts == []


@pytest.mark.parametrize("signed", ["Keisha Kim RN :", "Keisha Kim, RN :"])
def test_a_speck_after_a_signatures_credentials_keeps_them(nlp, signed) -> None:
    """Seen: a speck read as " :" after the credentials of a signed name."""
    found = extract(nlp, _read(f"Pt: Colm Van Dyke\nSignature\n{signed}"))
    assert (found.prescriber.name, found.prescriber.credentials) == ("Keisha Kim", "RN")


def test_a_speck_read_as_a_letter_before_a_signatures_date_is_passed_over(nlp) -> None:
    """Seen: ": i 1/21/2027" under "Signature  Date": the Rx date lost."""
    text = "Date of birth: February 19, 1977\nSignature  Date\n: i 1/21/2027\nWesley Chen, ARNP"
    assert str(extract(nlp, _read(text)).rx_date) == "2027-01-21"
    worded = "Date of birth: February 19, 1977\nSignature\nso on 1/21/2027"
    assert extract(nlp, _read(worded)).rx_date is None  # words before it: no date line


@pytest.mark.parametrize(
    ("gap", "after", "confidence", "unread"),
    [
        (990.0, "ae", 0.19, True),
        (20.0, "Counseling", 0.9, False),  # a word right after it is its description
        (20.0, "ae", 0.19, True),  # two faint garbles, as wide as a code together
    ],
)
def test_a_garbled_code_cell_with_a_speck_far_along_its_line_is_unread(
    nlp, gap, after, confidence, unread
) -> None:
    """Seen: Z71.85 as "Ziii8o" (0.00) in the code column, a speck "ae" far to its right;
    the referral accepted on the other codes."""
    document = _placed([*_TYPED_CODES, [("Ziii8o", 0.0, 150)]])
    words = document.pages[0].words
    cell = words[-1]
    left = cell.bbox[2] + gap
    speck = Word(
        text=after, line=cell.line, confidence=confidence, bbox=(left, 190.0, left + 100, 215.0)
    )
    document.pages[0].words = [*words, speck]
    found = extract(nlp, document)
    assert [c.code for c in found.codes] == ["S66.113A", "S30.0XXA"]
    assert ("diagnosis:unread" in found.doubts) is unread


def test_a_faint_header_over_the_code_column_is_no_garbled_code(nlp) -> None:
    """Seen (PP-OCR's reading): "ICD-10.code" at 0.5, "Description" far to its right,
    over the codes: the column's label, which had sent a rejection to review."""
    rows = [[("Assessment", 0.9, 200)], [("ICD-10.code", 0.5, 200)], *_TYPED_CODES[1:]]
    document = _placed(rows)
    header = document.pages[0].words[1]
    far = header.bbox[2] + 600
    label = Word(text="Description", line=1, confidence=0.9, bbox=(far, 60.0, far + 200, 100.0))
    document.pages[0].words.insert(2, label)
    found = extract(nlp, document)
    assert [c.code for c in found.codes] == ["S66.113A", "S30.0XXA"]
    assert "diagnosis:unread" not in found.doubts


def test_a_date_of_births_label_under_a_name_is_no_credential(nlp) -> None:
    """Seen: "Ins: Kaiser Permanente" above "D.O.B.: April 19, 1951" taken as a prescriber
    "Kaiser Permanente, DO", and an unsigned referral accepted (a false accept)."""
    text = (
        "Patient name: Okafor, Renee Ins: Kaiser Permanente\n"
        "D.O.B.: April 19, 1951 Member #: XVJ125678992\n"
        "Diagnosis: M75.112\nSignature Date"
    )
    assert extract(nlp, _read(text)).prescriber.name is None
    signed = extract(nlp, _read("Diagnosis: M75.112\nOrdered by: Alan Park, D.O."))
    assert (signed.prescriber.name, signed.prescriber.credentials) == ("Alan Park", "DO")
