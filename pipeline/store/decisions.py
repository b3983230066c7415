"""Writing decisions: the pipeline's result for a document, and staff corrections.

Both go through one upsert of the referral row (``INSERT ... ON CONFLICT DO UPDATE`` on
both backends), so a document processed twice, for example again after a crash
between saving and acknowledging, still has exactly one referral row.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.document import PageText
from models.referral import Referral
from pipeline.store.intake import add_audit, lock_document
from pipeline.store.results import PIPELINE, Action, DocumentState, ReviewState
from pipeline.store.schema import PageRow, ReferralRow

EXTRA_KEYS = ("id", "received_at")  # what the store adds to records it hands out


def save_result(
    session: Session,
    document_id: int,
    referral: Referral,
    pages: list[PageText],
    image_paths: dict[int, str],
    now: datetime,
) -> None:
    document = lock_document(session, document_id)  # locks the row: one writer per document
    record = referral.to_contract()
    _upsert(session, document_id, record, decided_by=None, now=now)
    session.execute(delete(PageRow).where(PageRow.document_id == document_id))
    session.add_all(_page_row(document_id, page, image_paths.get(page.number)) for page in pages)
    document.state = DocumentState.DECIDED
    document.next_attempt_at = None
    add_audit(session, document_id, PIPELINE, Action.DECIDED, now, _decision(record))


def set_decision(
    session: Session, document_id: int, record: dict, actor: str, note: str | None, now: datetime
) -> None:
    """Staff's corrected record replaces the stored one (validated against the contract).

    The audit entry names the actor, the old and new status and which top-level fields
    changed, and keeps the staff's note, since that is why the change was made.
    """
    document = lock_document(session, document_id)
    corrected = Referral.model_validate(
        {key: value for key, value in record.items() if key not in EXTRA_KEYS}
    ).to_contract()
    previous = session.get(ReferralRow, document_id)
    before = dict(previous.record) if previous else {}
    _upsert(session, document_id, corrected, decided_by=actor, now=now)
    document.state = DocumentState.DECIDED
    detail = _decision(corrected) | {
        "previous_status": before.get("decision", {}).get("status"),
        "changed": sorted(key for key in corrected if corrected[key] != before.get(key)),
        "note": note,
    }
    add_audit(session, document_id, actor, Action.CORRECTED, now, detail)


def review_state(status: str) -> ReviewState:
    return ReviewState.WAITING if status == "needs_review" else ReviewState.FINAL


def _upsert(
    session: Session, document_id: int, record: dict, decided_by: str | None, now: datetime
) -> None:
    values = _columns(record) | {"decided_at": now, "decided_by": decided_by, "updated_at": now}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(ReferralRow).values(document_id=document_id, **values)
    statement = statement.on_conflict_do_update(
        index_elements=[ReferralRow.document_id],
        set_={key: statement.excluded[key] for key in values},
    )
    session.execute(statement)


def _columns(record: dict) -> dict:
    """The record's fields that lists and search filter on, copied into columns."""
    status = record["decision"]["status"]
    dob = record["patient"]["dob"]
    return {
        "record": record,
        "status": status,
        "reasons": [reason["code"] for reason in record["decision"]["reasons"]],
        "patient_name": record["patient"]["name"],
        "patient_dob": date.fromisoformat(dob) if dob else None,
        "payer_name": record["payer"]["name"],
        "codes": [diagnosis["code"] for diagnosis in record["diagnoses"]],
        "review_state": review_state(status),
    }


def _decision(record: dict) -> dict:
    decision = record["decision"]
    return {"status": decision["status"], "reasons": [r["code"] for r in decision["reasons"]]}


def _page_row(document_id: int, page: PageText, image_path: str | None) -> PageRow:
    return PageRow(
        document_id=document_id,
        number=page.number,
        method=page.method,
        width=page.width,
        height=page.height,
        rotation=page.rotation,
        confidence=page.confidence,
        words=[word.model_dump(mode="json", exclude={"letters"}) for word in page.words],
        problem=page.problem.value if page.problem else None,
        image_path=image_path,
    )
