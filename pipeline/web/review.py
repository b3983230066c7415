"""What the review page computes: staff corrections turned into a record, decided again
by the pipeline's own rules (``pipeline.check``), and where each field stood on the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from models.config import Settings
from models.document import PageText, ReadDocument
from models.extraction import CodeMention, Extraction
from models.referral import (
    REASON_TEXT,
    Decision,
    Duration,
    Frequency,
    Patient,
    Payer,
    Prescriber,
    Reason,
    ReasonCode,
    Referral,
)
from pipeline import icd10
from pipeline.check import decide, diagnoses
from pipeline.extract import timing
from pipeline.store import StoredPage, StoredReferral

EXTRA_KEYS = ("id", "received_at")
PAYER_KINDS = ("lni", "pip", "commercial")
UNIT_WORDS = {"d": "day", "wk": "week", "mo": "month", "a": "year"}


class CorrectionError(ValueError):
    """A corrected value that cannot be taken as typed; the message is for staff."""


# -- codes and timing, as typed ------------------------------------------------------------


def code_facts(typed: str, settings: Settings) -> dict:
    """What the pipeline knows about a code as typed (the JSON the page checks with)."""
    compact = re.sub(r"[\s.]", "", typed).upper()
    if not compact:
        return {"code": "", "exists": False, "description": None, "billable": False,
                "category": None, "reimbursable": False}  # fmt: skip
    found = icd10.facts(compact)
    category = icd10.category(found.code, found.description, settings.rules)
    return {
        "code": found.code,
        "exists": found.exists,
        "description": found.description,
        "billable": found.billable,
        "category": category,
        "reimbursable": icd10.is_reimbursable(found.billable, category, settings.rules),
    }


def parse_frequency(typed: str) -> Frequency | None:
    """``2x/wk``, ``1-2 times per week``, ``BIW``, ``2x6``: read by the pipeline's rules."""
    typed = " ".join(typed.split())
    if not typed:
        return None
    label = "Frequency: "
    mention, _ = timing.best(timing.frequencies(label + typed))
    if mention is None:
        raise CorrectionError(f"cannot read {typed!r} as a frequency (try 2x/wk)")
    count, count_max, period, unit = mention.values
    return Frequency(count=count, count_max=count_max, period=period, period_unit=unit, text=typed)


def parse_duration(typed: str) -> Duration | None:
    """``x 6 wks``, ``6 weeks``, ``4-6 wk``, ``2x6``: read by the pipeline's rules."""
    typed = " ".join(typed.split())
    if not typed:
        return None
    mention, _ = timing.best(timing.durations("Duration: " + typed, []))
    if mention is None:
        raise CorrectionError(f"cannot read {typed!r} as a duration (try x 6 wks)")
    value, value_max, unit = mention.values
    return Duration(value=value, value_max=value_max, unit=unit, text=typed)


def frequency_words(frequency: dict | None) -> str:
    if not frequency:
        return "none"
    count = str(frequency["count"])
    if frequency.get("count_max"):
        count += f"-{frequency['count_max']}"
    period = _number(frequency["period"])
    unit = UNIT_WORDS[frequency["period_unit"]]
    every = unit if period == "1" else f"{period} {unit}s"
    sessions = "session" if count == "1" else "sessions"
    return f"{count} {sessions} every {every}"


def duration_words(duration: dict | None) -> str:
    if not duration:
        return "none"
    value = _number(duration["value"])
    if duration.get("value_max"):
        value += f"-{_number(duration['value_max'])}"
    unit = UNIT_WORDS[duration["unit"]]
    return f"{value} {unit}{'' if value == '1' else 's'}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# -- corrections ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeEntry:
    """One code line of the form: as typed, and which stored diagnosis it corrects."""

    typed: str
    origin: int | None


def corrected_record(
    stored: StoredReferral,
    form: dict[str, str],
    codes: list[CodeEntry],
    settings: Settings,
) -> dict:
    """The stored record with staff's values in place, and the decision recomputed."""
    record = {k: v for k, v in stored.record.items() if k not in EXTRA_KEYS}
    old = Referral.model_validate(record)
    patient = Patient(name=_text(form, "patient_name"), dob=_date(form, "patient_dob", "birth"))
    prescriber = Prescriber(
        name=_text(form, "prescriber_name"),
        credentials=_text(form, "prescriber_credentials"),
        npi=_npi(_text(form, "prescriber_npi")),
    )
    kind = _text(form, "payer_kind")
    if kind is not None and kind not in PAYER_KINDS:
        raise CorrectionError("payer kind must be lni, pip or commercial")
    payer = Payer(name=_text(form, "payer_name"), kind=kind, claim_number=_text(form, "claim"))
    frequency = parse_frequency(form.get("frequency", ""))
    duration = parse_duration(form.get("duration", ""))
    visits = _visits(_text(form, "visits"))
    mentions = _mentions(old, codes)
    preauth = _preauth(old, payer.name, settings)
    extraction = Extraction(
        patient=patient,
        prescriber=prescriber,
        rx_date=_date(form, "rx_date", "prescription"),
        payer=payer,
        preauth_required=preauth,
        codes=mentions,
        frequency=frequency,
        duration=duration,
        visits=visits,
        doubts=[] if form.get("text_checked") else _carried_doubts(old),
    )
    checked = bool(form.get("text_checked"))
    document = _document(old, stored.pages, checked)
    low = 0.0 if checked else settings.ocr.low_confidence
    decision = decide(document, extraction, settings.rules, low, payer.name)
    corrected = old.model_copy(
        update={
            "patient": patient,
            "prescriber": prescriber,
            "rx_date": extraction.rx_date,
            "payer": payer,
            "diagnoses": diagnoses(mentions, settings.rules),
            "frequency": frequency,
            "duration": duration,
            "visits": visits,
            "decision": decision,
        }
    )
    return corrected.to_contract()


def decided_record(stored: StoredReferral, action: str, reason: str | None, text: str) -> dict:
    """The stored record with staff's decision: accept, reject (with a reason) or requeue."""
    record = {k: v for k, v in stored.record.items() if k not in EXTRA_KEYS}
    current = [Reason.model_validate(r) for r in record["decision"]["reasons"]]
    notes = [r for r in current if r.code == ReasonCode.PREAUTH_REQUIRED]
    review = [r for r in current if r.code != ReasonCode.PREAUTH_REQUIRED]
    if action == "accept":
        decision = Decision(status="accepted", reasons=notes)
    elif action == "reject":
        if reason not in ReasonCode.__members__ and not text:
            raise CorrectionError("choose or write a reason for rejecting")
        code = ReasonCode(reason) if reason in ReasonCode.__members__ else _written_code(review)
        message = text or REASON_TEXT[code]
        decision = Decision(status="rejected", reasons=[Reason(code=code, message=message), *notes])
    elif action == "requeue":
        if not review:
            review = [Reason(code=ReasonCode.LOW_CONFIDENCE, message="Sent back for another look")]
        decision = Decision(status="needs_review", reasons=[*review, *notes])
    else:
        raise CorrectionError("unknown action")
    record["decision"] = decision.model_dump(mode="json")
    return record


def _written_code(review: list[Reason]) -> ReasonCode:
    """A reason written in words still needs a contract code: the first open one."""
    return review[0].code if review else ReasonCode.NO_REIMBURSABLE_DIAGNOSIS


def _mentions(old: Referral, codes: list[CodeEntry]) -> list[CodeMention]:
    mentions: list[CodeMention] = []
    seen: set[str] = set()
    for entry in codes:
        compact = re.sub(r"[\s.]", "", entry.typed).upper()
        if not compact:
            continue
        if not re.fullmatch(r"[A-Z0-9]{3,8}", compact):
            raise CorrectionError(f"{entry.typed!r} does not look like an ICD-10-CM code")
        code = icd10.dotted(compact)
        if code in seen:
            continue
        seen.add(code)
        evidence = None
        if entry.origin is not None and 0 <= entry.origin < len(old.diagnoses):
            evidence = old.diagnoses[entry.origin].evidence  # still where it was written
        # A typed code may have no place on the page, which CodeMention does not allow.
        mentions.append(
            CodeMention.model_construct(
                code=code, evidence=evidence, repaired=False, doubtful=False
            )
        )
    return mentions


def _preauth(old: Referral, payer: str | None, settings: Settings) -> bool:
    if payer is None:
        return False
    configured = any(p.preauth and p.name.lower() == payer.lower() for p in settings.payers)
    kept = old.payer.name == payer and ReasonCode.PREAUTH_REQUIRED in old.decision.codes
    return configured or kept


def _carried_doubts(old: Referral) -> list[str]:
    return ["unchecked"] if ReasonCode.LOW_CONFIDENCE in old.decision.codes else []


def _document(old: Referral, pages: list[StoredPage], checked: bool) -> ReadDocument:
    """The pages as read; once staff have checked the text, page problems no longer count."""
    kept = []
    for page in pages:
        values = page.model_dump(exclude={"image_path"})
        if checked:
            values["problem"] = None
        kept.append(PageText.model_validate(values))
    return ReadDocument(source=old.source, pages=kept)


def _text(form: dict[str, str], key: str) -> str | None:
    value = " ".join((form.get(key) or "").split())
    return value or None


def _date(form: dict[str, str], key: str, what: str) -> date | None:
    value = _text(form, key)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CorrectionError(f"the {what} date must be YYYY-MM-DD") from exc


def _npi(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"\d{10}", value):
        raise CorrectionError("an NPI has 10 digits")
    return value


def _visits(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 200:
        raise CorrectionError("visits must be a number from 1 to 200")
    return int(value)
