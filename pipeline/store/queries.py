"""Reading the store: counts, the review queue, one referral, export and search."""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import date

from sqlalchemy import Select, String, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from pipeline.store.results import (
    AuditEntry,
    DocumentInfo,
    DocumentState,
    QueueItem,
    ReviewState,
    StoredPage,
    StoredReferral,
    iso,
)
from pipeline.store.schema import AuditRow, DocumentRow, PageRow, ReferralRow

SEARCH_LIMIT = 200
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def counts(session: Session) -> dict[str, int]:
    """Documents by where they stand; the four groups always add up to ``documents``.

    ``pending`` is queued or processing. Quarantined documents (the pipeline gave up
    on them) count under ``needs_review``: like referrals sent to review, they wait
    for staff.
    """
    totals = {"documents": 0, "pending": 0, "accepted": 0, "needs_review": 0, "rejected": 0}
    query = (
        select(DocumentRow.state, ReferralRow.status, func.count())
        .outerjoin(ReferralRow, ReferralRow.document_id == DocumentRow.id)
        .group_by(DocumentRow.state, ReferralRow.status)
    )
    for state, status, count in session.execute(query):
        totals["documents"] += count
        if state in (DocumentState.QUEUED, DocumentState.PROCESSING):
            totals["pending"] += count
        elif state == DocumentState.QUARANTINED:
            totals["needs_review"] += count
        else:  # decided: a referral row was written in the same transaction
            totals[status if status in totals else "needs_review"] += count
    return totals


def by_status(session: Session, status: str, limit: int) -> list[QueueItem]:
    """Decided referrals with one status (the review page's lists), newest change first."""
    query = (
        _listing()
        .where(ReferralRow.status == status)
        .order_by(ReferralRow.updated_at.desc(), DocumentRow.id.desc())
        .limit(limit)
    )
    return [_queue_item(*row) for row in session.execute(query)]


def review_queue(session: Session, reason: str | None, payer: str | None) -> list[QueueItem]:
    """Referrals waiting for staff, oldest first, optionally by reason code or payer."""
    query = _listing().where(
        DocumentRow.state == DocumentState.DECIDED,
        ReferralRow.status == "needs_review",
        ReferralRow.review_state == ReviewState.WAITING,
    )
    if reason:
        listed = _json_list(ReferralRow.reasons)
        query = query.where(listed.contains(f'"{reason}"', autoescape=True))
    if payer:
        query = query.where(func.lower(ReferralRow.payer_name) == payer.lower())
    query = query.order_by(DocumentRow.received_at, DocumentRow.id)
    return [_queue_item(*row) for row in session.execute(query)]


def search(session: Session, text: str) -> list[QueueItem]:
    """Referrals matching every word of ``text`` in patient name, birth date or codes.

    A code matches with or without its dot (``m5450`` finds M54.50); a birth date
    matches when written in full as YYYY-MM-DD. Newest first, at most SEARCH_LIMIT.
    """
    terms = text.split()
    if not terms:
        return []
    query = _listing().where(and_(*(_term(term) for term in terms)))
    query = query.order_by(DocumentRow.received_at.desc(), DocumentRow.id.desc())
    return [_queue_item(*row) for row in session.execute(query.limit(SEARCH_LIMIT))]


def quarantined(session: Session) -> list[DocumentInfo]:
    query = (
        select(DocumentRow)
        .where(DocumentRow.state == DocumentState.QUARANTINED)
        .order_by(DocumentRow.received_at, DocumentRow.id)
    )
    return [document_info(row) for row in session.scalars(query)]


def document(session: Session, document_id: int) -> DocumentInfo | None:
    row = session.get(DocumentRow, document_id)
    return document_info(row) if row else None


def get(session: Session, document_id: int) -> StoredReferral | None:
    found = session.execute(
        select(DocumentRow, ReferralRow)
        .join(ReferralRow, ReferralRow.document_id == DocumentRow.id)
        .where(DocumentRow.id == document_id)
    ).one_or_none()
    if found is None:
        return None
    row, referral = found
    pages = session.scalars(
        select(PageRow).where(PageRow.document_id == document_id).order_by(PageRow.number)
    )
    return StoredReferral(
        id=row.id,
        record=_exported(referral.record, row),
        status=referral.status,
        reasons=list(referral.reasons),
        review_state=ReviewState(referral.review_state),
        decided_at=referral.decided_at,
        decided_by=referral.decided_by,
        updated_at=referral.updated_at,
        document=document_info(row),
        pages=[_stored_page(page) for page in pages],
        history=audit(session, document_id),
    )


def export_batch(session: Session, after_id: int, size: int) -> list[dict]:
    """The next ``size`` records by document id after ``after_id`` (keyset paging)."""
    query = (
        select(ReferralRow.record, DocumentRow)
        .join(DocumentRow, DocumentRow.id == ReferralRow.document_id)
        .where(ReferralRow.document_id > after_id)
        .order_by(ReferralRow.document_id)
        .limit(size)
    )
    return [_exported(record, row) for record, row in session.execute(query)]


def audit(session: Session, document_id: int) -> list[AuditEntry]:
    query = (
        select(AuditRow)
        .where(AuditRow.document_id == document_id)
        .order_by(AuditRow.at, AuditRow.id)
    )
    return [
        AuditEntry(
            id=row.id,
            document_id=row.document_id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            detail=dict(row.detail),
        )
        for row in session.scalars(query)
    ]


def document_info(row: DocumentRow) -> DocumentInfo:
    return DocumentInfo(
        id=row.id,
        sha256=row.sha256,
        original_name=row.original_name,
        source=row.source,
        received_at=row.received_at,
        size_bytes=row.size_bytes,
        media_type=row.media_type,
        archive_path=row.archive_path,
        state=DocumentState(row.state),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
    )


def _listing() -> Select:
    return select(
        DocumentRow.id,
        DocumentRow.received_at,
        ReferralRow.status,
        ReferralRow.review_state,
        ReferralRow.patient_name,
        ReferralRow.patient_dob,
        ReferralRow.payer_name,
        ReferralRow.reasons,
        ReferralRow.codes,
    ).join(ReferralRow, ReferralRow.document_id == DocumentRow.id)


def _queue_item(
    id_, received_at, status, review, name, dob: date | None, payer, reasons, codes
) -> QueueItem:
    return QueueItem(
        id=id_,
        received_at=received_at,
        status=status,
        review_state=ReviewState(review),
        patient_name=name,
        patient_dob=dob.isoformat() if dob else None,
        payer_name=payer,
        reasons=list(reasons),
        codes=list(codes),
    )


def _json_list(column):
    """A JSON list column as its text (``["A", "B"]``), which LIKE can search portably."""
    return cast(column, String)


def _term(term: str):
    undotted = term.replace(".", "")
    matches = [
        ReferralRow.patient_name.icontains(term, autoescape=True),
        func.replace(_json_list(ReferralRow.codes), ".", "").icontains(undotted, autoescape=True),
    ]
    if ISO_DATE.fullmatch(term):
        with suppress(ValueError):  # 2026-02-31 has the shape of a date but is none
            matches.append(ReferralRow.patient_dob == date.fromisoformat(term))
    return or_(*matches)


def _exported(record: dict, row: DocumentRow) -> dict:
    return {**record, "id": row.id, "received_at": iso(row.received_at)}


def _stored_page(row: PageRow) -> StoredPage:
    return StoredPage(
        number=row.number,
        method=row.method,
        width=row.width,
        height=row.height,
        rotation=row.rotation,
        confidence=row.confidence,
        words=row.words,
        problem=row.problem,
        image_path=row.image_path,
    )
