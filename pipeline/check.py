"""The check stage: the contract's decision policy over what was read and extracted.

Order matters (CONTRACT.md, "The decision"): unreadable, then no code, then
"nothing reimbursable" (only when every code is real and billable), then every
review reason that holds; PREAUTH_REQUIRED is a note that never changes the status.
"""

from __future__ import annotations

from models.config import RuleSettings
from models.document import DOCUMENT_PROBLEM_TEXT, PageProblem, ReadDocument
from models.extraction import CodeMention, Extraction
from models.referral import (
    REASON_TEXT,
    Decision,
    Diagnosis,
    PageReport,
    Reason,
    ReasonCode,
    Referral,
)
from pipeline import icd10

_REVIEW_ORDER = (
    ReasonCode.INVALID_CODE,
    ReasonCode.NON_BILLABLE_CODE,
    ReasonCode.MISSING_FREQUENCY,
    ReasonCode.MISSING_DURATION,
    ReasonCode.MISSING_PRESCRIBER,
    ReasonCode.LOW_CONFIDENCE,
)


def diagnoses(mentions: list[CodeMention], rules: RuleSettings) -> list[Diagnosis]:
    found = []
    for mention in mentions:
        facts = icd10.facts(mention.code)
        category = icd10.category(facts.code, facts.description, rules)
        found.append(
            Diagnosis(
                code=facts.code,
                description=facts.description,
                billable=facts.billable,
                category=category,
                reimbursable=icd10.is_reimbursable(facts.billable, category, rules),
                evidence=mention.evidence,
            )
        )
    return found


def decide(  # noqa: PLR0913 - the policy's inputs, each used once
    document: ReadDocument,
    extraction: Extraction | None,
    rules: RuleSettings,
    low_confidence: float,
    payer_name: str | None = None,
) -> Decision:
    """The decision for one referral, listing every reason that holds."""
    if document.problem is not None or extraction is None:
        detail = DOCUMENT_PROBLEM_TEXT.get(document.problem) if document.problem else None
        return Decision(
            status="needs_review", reasons=[_reason(ReasonCode.UNREADABLE_DOCUMENT, detail)]
        )
    notes = [_preauth(payer_name)] if extraction.preauth_required else []
    found = diagnoses(extraction.codes, rules)
    if not found:
        return Decision(
            status="needs_review", reasons=[_reason(ReasonCode.NO_DIAGNOSIS_CODE), *notes]
        )
    review = _review_reasons(document, extraction, found, low_confidence)
    real_and_billable = all(d.description is not None and d.billable for d in found)
    # a code read doubtfully, or one that could not be read at all, might be the
    # reimbursable one: never reject on an unsure reading, send it to a person
    surely_read = not any(doubt.startswith("diagnosis:") for doubt in extraction.doubts)
    if real_and_billable and surely_read and not any(d.reimbursable for d in found):
        return Decision(
            status="rejected", reasons=[_reason(ReasonCode.NO_REIMBURSABLE_DIAGNOSIS), *notes]
        )
    if review:
        return Decision(status="needs_review", reasons=[_reason(code) for code in review] + notes)
    return Decision(status="accepted", reasons=notes)


def build_referral(
    document: ReadDocument,
    extraction: Extraction | None,
    rules: RuleSettings,
    low_confidence: float,
) -> Referral:
    """The contract record: extracted values, diagnoses with their categories, the decision."""
    extraction = extraction or Extraction()
    readable = document.problem is None
    payer_name = extraction.payer.name
    return Referral(
        source=document.source,
        pages=[
            PageReport(
                number=p.number, method=p.method, ocr_confidence=p.confidence, rotation=p.rotation
            )
            for p in document.pages
        ],
        patient=extraction.patient,
        prescriber=extraction.prescriber,
        rx_date=extraction.rx_date,
        payer=extraction.payer,
        diagnoses=diagnoses(extraction.codes, rules) if readable else [],
        frequency=extraction.frequency,
        duration=extraction.duration,
        visits=extraction.visits,
        decision=decide(
            document, extraction if readable else None, rules, low_confidence, payer_name
        ),
    )


def _review_reasons(
    document: ReadDocument, extraction: Extraction, found: list[Diagnosis], low_confidence: float
) -> list[ReasonCode]:
    holds = {
        ReasonCode.INVALID_CODE: any(d.description is None for d in found),
        ReasonCode.NON_BILLABLE_CODE: any(
            d.description is not None and not d.billable for d in found
        ),
        ReasonCode.MISSING_FREQUENCY: extraction.frequency is None,
        ReasonCode.MISSING_DURATION: extraction.duration is None,
        ReasonCode.MISSING_PRESCRIBER: extraction.prescriber.name is None,
        ReasonCode.LOW_CONFIDENCE: bool(extraction.doubts)
        or _poorly_read(document, low_confidence),
    }
    return [code for code in _REVIEW_ORDER if holds[code]]


def _poorly_read(document: ReadDocument, low_confidence: float) -> bool:
    """A page that timed out or failed, or read with low confidence, is never waved through."""
    for page in document.pages:
        if page.problem in (
            PageProblem.OCR_TIMEOUT,
            PageProblem.OCR_FAILED,
            PageProblem.TOO_LARGE,
            PageProblem.UNDECODABLE,
        ):
            return True
        if (
            page.method == "ocr"
            and page.confidence is not None
            and page.confidence < low_confidence
        ):
            return True
    return False


def _reason(code: ReasonCode, detail: str | None = None) -> Reason:
    message = REASON_TEXT[code] if detail is None else f"{REASON_TEXT[code]}: {detail}"
    return Reason(code=code, message=message)


def _preauth(payer_name: str | None) -> Reason:
    who = payer_name or "The payer"
    return Reason(code=ReasonCode.PREAUTH_REQUIRED, message=f"{who} requires pre-authorization")
