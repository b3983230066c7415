"""The referral record of the contract (shared/spec/CONTRACT.md), as pydantic models.

These are the records that leave the pipeline: the CLI prints them, the store keeps
them, the review queue and the daily report read them. Field names and vocabularies
are fixed by the contract; unknown values are ``None`` (never empty strings).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_ID = "referral/1"

PeriodUnit = Literal["d", "wk", "mo"]
DurationUnit = Literal["d", "wk", "mo", "a"]
PayerKind = Literal["lni", "pip", "commercial"]
Category = Literal["pain", "strain", "sprain", "tear"]
PageMethod = Literal["text", "ocr"]
Rotation = Literal[0, 90, 180, 270]


class Record(BaseModel):
    """Base for contract records: strict about unknown fields so typos fail loudly."""

    model_config = ConfigDict(extra="forbid")


class Source(Record):
    path: str
    sha256: str | None
    media_type: str | None
    pages: int = 0


class PageReport(Record):
    """How one page was read; ``rotation`` is the clockwise correction applied."""

    number: int
    method: PageMethod
    ocr_confidence: float | None
    rotation: Rotation = 0


class Patient(Record):
    name: str | None = None
    dob: date | None = None


class Prescriber(Record):
    name: str | None = None
    credentials: str | None = None
    npi: str | None = None


class Payer(Record):
    name: str | None = None
    kind: PayerKind | None = None
    claim_number: str | None = None


class Evidence(Record):
    """Where a value stood: page number, the text as written, and its box in page pixels."""

    page: int
    text: str
    bbox: tuple[float, float, float, float] | None = None


class Diagnosis(Record):
    code: str
    description: str | None
    billable: bool
    category: Category | None
    reimbursable: bool
    evidence: Evidence | None = None


class Frequency(Record):
    """FHIR Timing.repeat: ``count`` (up to ``count_max``) sessions every ``period`` units."""

    count: int = Field(ge=1)
    count_max: int | None = Field(default=None, ge=1)
    period: float = Field(gt=0)
    period_unit: PeriodUnit
    text: str


class Duration(Record):
    value: float = Field(gt=0)
    value_max: float | None = Field(default=None, gt=0)
    unit: DurationUnit
    text: str


class ReasonCode(StrEnum):
    """Why a referral got its decision. Wording for people lives in ``REASON_TEXT``."""

    UNREADABLE_DOCUMENT = "UNREADABLE_DOCUMENT"
    NO_DIAGNOSIS_CODE = "NO_DIAGNOSIS_CODE"
    NO_REIMBURSABLE_DIAGNOSIS = "NO_REIMBURSABLE_DIAGNOSIS"
    INVALID_CODE = "INVALID_CODE"
    NON_BILLABLE_CODE = "NON_BILLABLE_CODE"
    MISSING_FREQUENCY = "MISSING_FREQUENCY"
    MISSING_DURATION = "MISSING_DURATION"
    MISSING_PRESCRIBER = "MISSING_PRESCRIBER"
    LOW_CONFIDENCE = "LOW_CONFIDENCE"
    PREAUTH_REQUIRED = "PREAUTH_REQUIRED"


REASON_TEXT: dict[ReasonCode, str] = {
    ReasonCode.UNREADABLE_DOCUMENT: "The document could not be read",
    ReasonCode.NO_DIAGNOSIS_CODE: "No ICD-10-CM diagnosis code was found",
    ReasonCode.NO_REIMBURSABLE_DIAGNOSIS: (
        "No diagnosis code is a pain, strain, sprain or tear code"
    ),
    ReasonCode.INVALID_CODE: "A diagnosis code is not in ICD-10-CM",
    ReasonCode.NON_BILLABLE_CODE: (
        "A diagnosis code is not billable (a header code, or characters are missing)"
    ),
    ReasonCode.MISSING_FREQUENCY: "No treatment frequency (sessions per week or month)",
    ReasonCode.MISSING_DURATION: "No treatment duration (how many weeks or months)",
    ReasonCode.MISSING_PRESCRIBER: "No prescriber name",
    ReasonCode.LOW_CONFIDENCE: "Part of the document was hard to read; please check it",
    ReasonCode.PREAUTH_REQUIRED: "The payer requires pre-authorization",
}


class Reason(Record):
    code: ReasonCode
    message: str


DecisionStatus = Literal["accepted", "needs_review", "rejected"]


class Decision(Record):
    status: DecisionStatus
    reasons: list[Reason] = Field(default_factory=list)

    @property
    def codes(self) -> list[ReasonCode]:
        return [reason.code for reason in self.reasons]


class Referral(Record):
    """One referral record: everything the pipeline read from one input file."""

    schema_: Literal["referral/1"] = Field(default=SCHEMA_ID, alias="schema")
    source: Source
    pages: list[PageReport] = Field(default_factory=list)
    patient: Patient = Field(default_factory=Patient)
    prescriber: Prescriber = Field(default_factory=Prescriber)
    rx_date: date | None = None
    payer: Payer = Field(default_factory=Payer)
    diagnoses: list[Diagnosis] = Field(default_factory=list)
    frequency: Frequency | None = None
    duration: Duration | None = None
    visits: int | None = Field(default=None, ge=1)
    decision: Decision

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_contract(self) -> dict:
        """The record exactly as the contract prints it (``schema`` key, ISO dates)."""
        return self.model_dump(mode="json", by_alias=True)
