"""Gathering one day's report from the store: the rejected referrals and the day's figures.

Which day a referral belongs to: the day, in the clinic's time zone, of the audit entry
that made it rejected, whether the pipeline's decision (``decided``) or a staff
correction (``corrected``). Later edits that keep it rejected do not move it to another
day. The figures are the store's state at the end of that day, replayed from the audit
log, so a report written late (after downtime) shows the same numbers as one written on
time. Patient details come from the stored record as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.referral import REASON_TEXT, ReasonCode
from pipeline.report.contacts import prescriber_contacts
from pipeline.store import Store
from pipeline.store.results import PIPELINE, Action, StoredReferral
from pipeline.store.schema import AuditRow, DocumentRow, ReferralRow

# What each audit action makes of a document's status; decided/corrected carry their own.
_STATUS_OF_ACTION = {
    Action.RECEIVED: "pending",
    Action.FAILED: "pending",
    Action.REQUEUED: "pending",
    Action.RETRIED: "pending",
    Action.QUARANTINED: "quarantined",
}
_DECISIONS = {Action.DECIDED.value, Action.CORRECTED.value}
_CATEGORY_ORDER = ("pain", "strain", "sprain", "tear")


@dataclass(frozen=True)
class Code:
    code: str
    description: str | None


@dataclass(frozen=True)
class RejectedRow:
    """One rejected referral as the report shows it."""

    id: int
    received_at: datetime
    rejected_at: datetime
    rejected_by: str
    patient_name: str | None
    patient_dob: str | None
    prescriber: str | None
    prescriber_npi: str | None
    prescriber_phone: str | None
    prescriber_fax: str | None
    payer: str | None
    claim_number: str | None
    codes: list[Code]
    why: list[str]
    reasons: list[str]
    note: str | None
    status_now: str

    def csv_row(self) -> dict[str, str]:
        return {
            "referral_id": str(self.id),
            "received_at": self.received_at.isoformat(timespec="minutes"),
            "rejected_at": self.rejected_at.isoformat(timespec="minutes"),
            "rejected_by": self.rejected_by,
            "patient_name": self.patient_name or "",
            "patient_dob": self.patient_dob or "",
            "prescriber": self.prescriber or "",
            "prescriber_npi": self.prescriber_npi or "",
            "prescriber_phone": self.prescriber_phone or "",
            "prescriber_fax": self.prescriber_fax or "",
            "payer": self.payer or "",
            "claim_number": self.claim_number or "",
            "codes": "; ".join(
                f"{c.code} {c.description}" if c.description else c.code for c in self.codes
            ),
            "why": " ".join(self.why),
            "reason_codes": " ".join(self.reasons),
            "staff_note": self.note or "",
            "status_now": self.status_now,
        }


CSV_FIELDS = list(
    RejectedRow(0, datetime.min, datetime.min, "", *([None] * 8), [], [], [], None, "").csv_row()
)


@dataclass(frozen=True)
class Waiting:
    id: int
    received_at: datetime
    patient_name: str | None
    age: timedelta


@dataclass
class DailyReport:
    day: date
    timezone: str
    start: datetime
    end: datetime
    generated_at: datetime
    arrived: int = 0
    accepted: int = 0
    rejected: int = 0
    waiting: int = 0
    processing: int = 0
    oldest_waiting: Waiting | None = None
    rows: list[RejectedRow] = field(default_factory=list)

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(ZoneInfo(self.timezone))

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(ZoneInfo(self.timezone))

    @property
    def reason_counts(self) -> list[tuple[str, int]]:
        """(reason in words, referrals) for the day's rejections, most frequent first."""
        counts: dict[str, int] = {}
        for row in self.rows:
            for code in row.reasons or ["REJECTED_BY_STAFF"]:
                label = _reason_label(code)
                counts[label] = counts.get(label, 0) + 1
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    @property
    def code_counts(self) -> list[tuple[str, int]]:
        """(code and description, referrals) for codes on the day's rejected referrals."""
        counts: dict[str, int] = {}
        for row in self.rows:
            for code in row.codes:
                label = f"{code.code} {code.description}" if code.description else code.code
                counts[label] = counts.get(label, 0) + 1
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The day's first moment and the next day's, in UTC (23 or 25 hours apart at DST).

    In UTC because Python subtracts two times of the same zone by their wall clocks.
    """
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def yesterday(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date() - timedelta(days=1)


@dataclass
class _DocState:
    status: str = "pending"
    changed_at: datetime | None = None
    actor: str = PIPELINE
    note: str | None = None
    received_at: datetime | None = None


def build_report(
    store: Store,
    day: date,
    zone: ZoneInfo,
    categories: list[str] | None = None,
    now: datetime | None = None,
) -> DailyReport:
    """The report for ``day`` (clinic time in ``zone``), from the store's audit log."""
    start, end = day_bounds(day, zone)
    report = DailyReport(
        day=day,
        timezone=zone.key,
        start=start,
        end=end,
        generated_at=(now or store.clock()).astimezone(zone),
    )
    states = _replay(store, end)
    for state in states.values():
        if state.received_at is not None and start <= state.received_at < end:
            report.arrived += 1
    changed_today = {
        doc: s for doc, s in states.items() if s.changed_at is not None and s.changed_at >= start
    }
    report.accepted = sum(1 for s in changed_today.values() if s.status == "accepted")
    waiting = [(doc, s) for doc, s in states.items() if s.status in ("needs_review", "quarantined")]
    report.waiting = len(waiting)
    report.processing = sum(1 for s in states.values() if s.status == "pending")
    if waiting:
        doc, oldest = min(waiting, key=lambda item: (item[1].received_at, item[0]))
        report.oldest_waiting = Waiting(
            id=doc,
            received_at=oldest.received_at.astimezone(zone),
            patient_name=_patient_name(store, doc),
            age=end - oldest.received_at,
        )
    wording = categories_in_words(categories)
    for doc, state in sorted(changed_today.items(), key=lambda item: (item[1].changed_at, item[0])):
        if state.status != "rejected":
            continue
        stored = store.get(doc)
        if stored is not None:
            report.rows.append(_row(stored, state, zone, wording))
    report.rejected = len(report.rows)
    return report


def _replay(store: Store, end: datetime) -> dict[int, _DocState]:
    """Every document's status at ``end``, and when and by whom it last changed."""
    states: dict[int, _DocState] = {}
    query = (
        select(AuditRow.document_id, AuditRow.at, AuditRow.actor, AuditRow.action, AuditRow.detail)
        .where(AuditRow.at < end, AuditRow.document_id.is_not(None))
        .order_by(AuditRow.at, AuditRow.id)
    )
    with Session(store.engine) as session:
        received = dict(
            session.execute(
                select(DocumentRow.id, DocumentRow.received_at).where(DocumentRow.received_at < end)
            ).all()
        )
        for doc, at, actor, action, detail in session.execute(query):
            state = states.setdefault(doc, _DocState(received_at=received.get(doc)))
            if action in _DECISIONS:
                status = (detail or {}).get("status") or "needs_review"
            elif action in _STATUS_OF_ACTION:
                status = _STATUS_OF_ACTION[Action(action)]
            else:
                continue
            if status != state.status or state.changed_at is None:
                state.status, state.changed_at, state.actor = status, at, actor
                state.note = (detail or {}).get("note") if action in _DECISIONS else None
    for doc, at in received.items():  # documents older than their first audit entry
        states.setdefault(doc, _DocState(received_at=at))
    for state in states.values():
        if state.received_at is None:
            state.received_at = state.changed_at
    return {doc: s for doc, s in states.items() if s.received_at is not None}


def _patient_name(store: Store, doc: int) -> str | None:
    with Session(store.engine) as session:
        query = select(ReferralRow.patient_name).where(ReferralRow.document_id == doc)
        return session.scalar(query)


def categories_in_words(categories: list[str] | None) -> str:
    """``pain, strain, sprain or tear`` for the configured reimbursable categories."""
    chosen = [c for c in _CATEGORY_ORDER if categories is None or c in categories]
    chosen += [c for c in categories or [] if c not in chosen]
    if not chosen:
        return "reimbursable"
    if len(chosen) == 1:
        return chosen[0]
    return ", ".join(chosen[:-1]) + " or " + chosen[-1]


def _reason_label(code: str) -> str:
    if code == "REJECTED_BY_STAFF":
        return "Rejected by staff (no reason code given)"
    try:
        return REASON_TEXT[ReasonCode(code)]
    except ValueError:
        return code


def _article(words: str) -> str:
    return "an" if words[:1] in "aeiou" else "a"


def explain(record: dict, wording: str) -> list[str]:
    """Why the referral was rejected, in sentences a receptionist can read out."""
    sentences: list[str] = []
    reasons = record.get("decision", {}).get("reasons", [])
    for reason in reasons:
        code = reason.get("code")
        if code == ReasonCode.PREAUTH_REQUIRED:
            continue
        if code == ReasonCode.NO_REIMBURSABLE_DIAGNOSIS:
            for diagnosis in record.get("diagnoses", []):
                if diagnosis.get("reimbursable"):
                    continue
                name = _code_words(diagnosis)
                if diagnosis.get("description") is None:
                    sentences.append(f"{name} is not a valid ICD-10-CM code.")
                elif not diagnosis.get("billable"):
                    sentences.append(
                        f"{name} is not billable (a header code, or characters are missing)."
                    )
                else:
                    sentences.append(f"{name} is not {_article(wording)} {wording} code.")
            if not record.get("diagnoses"):
                sentences.append(REASON_TEXT[ReasonCode.NO_DIAGNOSIS_CODE] + ".")
        else:
            message = reason.get("message") or _reason_label(code)
            sentences.append(message.rstrip(".") + ".")
    if not sentences:
        sentences.append("Rejected by staff.")
    return sentences


def _code_words(diagnosis: dict) -> str:
    description = diagnosis.get("description")
    return f"{diagnosis['code']} {description}" if description else diagnosis["code"]


def _row(stored: StoredReferral, state: _DocState, zone: ZoneInfo, wording: str) -> RejectedRow:
    record = stored.record
    prescriber = record.get("prescriber") or {}
    payer = record.get("payer") or {}
    patient = record.get("patient") or {}
    name = prescriber.get("name")
    if name and prescriber.get("credentials"):
        name = f"{name}, {prescriber['credentials']}"
    phone, fax = prescriber_contacts(stored.pages, prescriber.get("name"))
    return RejectedRow(
        id=stored.id,
        received_at=stored.document.received_at.astimezone(zone),
        rejected_at=state.changed_at.astimezone(zone),
        rejected_by="automatic check" if state.actor == PIPELINE else f"staff ({state.actor})",
        patient_name=patient.get("name"),
        patient_dob=patient.get("dob"),
        prescriber=name,
        prescriber_npi=prescriber.get("npi"),
        prescriber_phone=phone,
        prescriber_fax=fax,
        payer=payer.get("name"),
        claim_number=payer.get("claim_number"),
        codes=[Code(d["code"], d.get("description")) for d in record.get("diagnoses", [])],
        why=explain(record, wording),
        reasons=[
            r["code"]
            for r in record.get("decision", {}).get("reasons", [])
            if r["code"] != ReasonCode.PREAUTH_REQUIRED
        ],
        note=state.note,
        status_now=stored.status,
    )
