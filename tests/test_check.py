"""The contract's reimbursable rule and decision policy, path by path."""

from __future__ import annotations

import pytest

from models.document import PageProblem, PageText, ReadDocument
from models.extraction import CodeMention, Extraction
from models.referral import Duration, Evidence, Frequency, Prescriber, Source
from pipeline import icd10
from pipeline.check import build_referral
from pipeline.second_engine import ENGINE_CONFLICT
from tests.conftest import assert_valid_record


@pytest.mark.parametrize(
    ("code", "category", "reimbursable"),
    [
        ("S39.012A", "strain", True),
        ("S13.4XXA", "sprain", True),
        ("M75.121", "tear", True),
        ("M54.50", "pain", True),
        ("M79.10", "pain", True),
        ("G89.29", "pain", True),
        ("R52", "pain", True),
        ("F41.1", None, False),
        ("Z00.00", None, False),
        ("R53.83", None, False),
        ("M62.830", None, False),
        ("S13.4", "sprain", False),  # a header code is never billable
    ],
)
def test_contract_reimbursable_examples(settings, code, category, reimbursable) -> None:
    facts = icd10.facts(code)
    found = icd10.category(code, facts.description, settings.rules)
    assert found == category
    assert icd10.is_reimbursable(facts.billable, found, settings.rules) is reimbursable


def test_narrower_categories_from_config(settings) -> None:
    rules = settings.rules.model_copy(update={"reimbursable_categories": ["strain"]})
    pain = icd10.facts("M54.50")
    assert not icd10.is_reimbursable(
        pain.billable, icd10.category("M54.50", pain.description, rules), rules
    )


def _document(pages: list[PageText] | None = None, problem=None) -> ReadDocument:
    page = PageText(number=1, method="text")
    return ReadDocument(
        source=Source(path="x.pdf", sha256="0" * 64, media_type="application/pdf", pages=1),
        pages=pages if pages is not None else [page],
        problem=problem,
    )


def _extraction(codes=("S39.012A",), frequency=True, duration=True, prescriber=True, **extra):
    evidence = Evidence(page=1, text="x", bbox=None)
    return Extraction(
        codes=[CodeMention(code=c, evidence=evidence) for c in codes],
        frequency=Frequency(count=2, period=1, period_unit="wk", text="2x/wk")
        if frequency
        else None,
        duration=Duration(value=6, unit="wk", text="6 wks") if duration else None,
        prescriber=Prescriber(name="Alan Park") if prescriber else Prescriber(),
        **extra,
    )


def _decide(settings, document=None, extraction=None):
    referral = build_referral(
        document or _document(), extraction, settings.rules, settings.ocr.low_confidence
    )
    assert_valid_record(referral.to_contract())
    return referral.decision.status, [r.code.value for r in referral.decision.reasons]


def test_accepted(settings) -> None:
    assert _decide(settings, extraction=_extraction()) == ("accepted", [])


def test_unreadable_comes_first(settings) -> None:
    from models.document import DocumentProblem

    document = _document(problem=DocumentProblem.CORRUPT)
    assert _decide(settings, document, None) == ("needs_review", ["UNREADABLE_DOCUMENT"])


def test_no_code(settings) -> None:
    status, reasons = _decide(settings, extraction=_extraction(codes=(), frequency=False))
    assert (status, reasons) == ("needs_review", ["NO_DIAGNOSIS_CODE"])


def test_nothing_reimbursable_is_rejected_even_with_other_gaps(settings) -> None:
    extraction = _extraction(codes=("F41.1", "R53.83"), duration=False, preauth_required=True)
    status, reasons = _decide(settings, extraction=extraction)
    assert (status, reasons) == ("rejected", ["NO_REIMBURSABLE_DIAGNOSIS", "PREAUTH_REQUIRED"])


def test_invalid_code_is_review_not_reject(settings) -> None:
    status, reasons = _decide(settings, extraction=_extraction(codes=("F41.1", "S39.999A")))
    assert (status, reasons) == ("needs_review", ["INVALID_CODE"])


def test_every_review_reason_listed(settings) -> None:
    extraction = _extraction(
        codes=("S13.4", "M54.50"),
        frequency=False,
        duration=False,
        prescriber=False,
        doubts=["frequency"],
    )
    status, reasons = _decide(settings, extraction=extraction)
    assert status == "needs_review"
    assert reasons == [
        "NON_BILLABLE_CODE",
        "MISSING_FREQUENCY",
        "MISSING_DURATION",
        "MISSING_PRESCRIBER",
        "LOW_CONFIDENCE",
    ]


def test_page_that_timed_out_sends_to_review(settings) -> None:
    pages = [
        PageText(number=1, method="ocr", confidence=0.95),
        PageText(number=2, method="ocr", problem=PageProblem.OCR_TIMEOUT),
    ]
    status, reasons = _decide(settings, _document(pages), _extraction())
    assert (status, reasons) == ("needs_review", ["LOW_CONFIDENCE"])


def test_low_confidence_page_sends_to_review(settings) -> None:
    pages = [PageText(number=1, method="ocr", confidence=settings.ocr.low_confidence - 0.01)]
    assert _decide(settings, _document(pages), _extraction())[1] == ["LOW_CONFIDENCE"]


def test_doubtfully_read_code_is_not_rejected(settings) -> None:
    evidence = Evidence(page=1, text="F4l.1", bbox=None)
    extraction = _extraction(codes=())
    extraction.codes = [CodeMention(code="F41.1", evidence=evidence, doubtful=True)]
    extraction.doubts = ["diagnosis:F41.1"]
    assert _decide(settings, extraction=extraction) == ("needs_review", ["LOW_CONFIDENCE"])


def test_two_engines_reading_two_codes_at_one_place_is_not_rejected(settings) -> None:
    """Which of the two was written is unknown: the reimbursable one may be lost."""
    extraction = _extraction(codes=("G56.33",))
    extraction.doubts = [ENGINE_CONFLICT]
    assert _decide(settings, extraction=extraction) == ("needs_review", ["LOW_CONFIDENCE"])


def test_preauth_note_keeps_status(settings) -> None:
    extraction = _extraction(preauth_required=True)
    assert _decide(settings, extraction=extraction) == ("accepted", ["PREAUTH_REQUIRED"])


def test_unreadable_code_beside_non_reimbursable_ones_is_not_rejected(settings) -> None:
    extraction = _extraction(codes=("F41.1",))
    extraction.doubts = ["diagnosis:unread"]
    assert _decide(settings, extraction=extraction) == ("needs_review", ["LOW_CONFIDENCE"])
