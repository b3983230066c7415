"""What the extract stage found, before the rules decide: values with their evidence."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from models.referral import Duration, Evidence, Frequency, Patient, Payer, Prescriber


class CodeMention(BaseModel):
    """An ICD-10-CM code as written on the referral, normalised to the dotted form."""

    code: str
    evidence: Evidence
    repaired: bool = Field(default=False, description="OCR confusions were corrected")
    doubtful: bool = Field(default=False, description="read from low-confidence text")
    described: bool = Field(
        default=False, description="its whole official description stands beside it"
    )


class Extraction(BaseModel):
    patient: Patient = Field(default_factory=Patient)
    prescriber: Prescriber = Field(default_factory=Prescriber)
    rx_date: date | None = None
    payer: Payer = Field(default_factory=Payer)
    preauth_required: bool = False
    codes: list[CodeMention] = Field(default_factory=list)
    frequency: Frequency | None = None
    duration: Duration | None = None
    visits: int | None = None
    doubts: list[str] = Field(
        default_factory=list, description="fields read from text the OCR was unsure of"
    )
    evidence: dict[str, Evidence] = Field(
        default_factory=dict, description="field name to where its value stood"
    )
    unread_spots: list[Evidence] = Field(
        default_factory=list,
        description="every spot behind a 'diagnosis:unread' doubt: a code-shaped word that"
        " reads as no code, or an official description without its code",
    )
    unsure: dict[str, Evidence] = Field(
        default_factory=dict,
        description="doubts that rest only on low OCR confidence, with where the words stood;"
        " a second reading of that spot can settle them",
    )
    confirmed: list[str] = Field(
        default_factory=list, description="doubts a second reading settled"
    )
    cut_ranges: list[str] = Field(
        default_factory=list,
        description="timing fields read after a range word or dash whose first number was"
        " lost; a second reading of the whole range can settle them",
    )
    reread: list[str] = Field(
        default_factory=list,
        description="doubts whose spot tesseract has read again alone, settled or not",
    )
    second_engine_only: list[str] = Field(
        default_factory=list,
        description="values only the second OCR engine read, faintly: tesseract reading"
        " their spot alone and giving the same value settles them",
    )
