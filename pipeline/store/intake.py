"""The document life cycle: arrival, claiming for work, failure, quarantine, retry.

Functions here run inside a transaction the caller opened (``Store`` keeps them short)
and take ``now`` from the caller, so that tests can fix the clock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pipeline.store.results import PIPELINE, Action, DocumentState, Job, NotFound, iso
from pipeline.store.schema import ArrivalRow, AuditRow, DocumentRow

MAX_ERROR_CHARS = 2000


def add_audit(
    session: Session,
    document_id: int | None,
    actor: str,
    action: Action,
    at: datetime,
    detail: dict | None = None,
) -> None:
    session.add(
        AuditRow(document_id=document_id, at=at, actor=actor, action=action, detail=detail or {})
    )


def find_document(session: Session, sha256: str) -> int | None:
    return session.scalar(select(DocumentRow.id).where(DocumentRow.sha256 == sha256))


def add_document(session: Session, now: datetime, **facts) -> int:
    """Insert a new document; raises IntegrityError if another writer added the bytes first."""
    row = DocumentRow(received_at=now, state=DocumentState.QUEUED, attempts=0, **facts)
    session.add(row)
    session.flush()
    detail = {key: facts[key] for key in ("source", "size_bytes", "media_type")}
    add_audit(session, row.id, PIPELINE, Action.RECEIVED, now, detail)
    return row.id


def add_arrival(
    session: Session, document_id: int, original_name: str, source: str, now: datetime
) -> None:
    session.add(
        ArrivalRow(
            document_id=document_id, original_name=original_name, source=source, arrived_at=now
        )
    )


def claim(session: Session, limit: int, now: datetime) -> list[Job]:
    """Up to ``limit`` due queued documents, oldest first, moved to processing.

    On PostgreSQL, ``FOR UPDATE SKIP LOCKED`` lets concurrent claimers pass over rows
    another transaction is taking; on SQLite the caller's ``BEGIN IMMEDIATE`` already
    makes claims one at a time.
    """
    query = (
        select(DocumentRow)
        .where(DocumentRow.state == DocumentState.QUEUED)
        .where(or_(DocumentRow.next_attempt_at.is_(None), DocumentRow.next_attempt_at <= now))
        .order_by(DocumentRow.received_at, DocumentRow.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = session.scalars(query).all()
    for row in rows:
        row.state = DocumentState.PROCESSING
    return [
        Job(
            id=row.id,
            sha256=row.sha256,
            archive_path=row.archive_path,
            original_name=row.original_name,
            attempts=row.attempts,
        )
        for row in rows
    ]


def requeue_interrupted(session: Session, now: datetime) -> int:
    """Documents a stopped service left in processing go back to the queue.

    Each such start counts as an attempt, so a file that crashes the whole service
    every time ends up quarantined instead of crashing it forever.
    """
    rows = session.scalars(
        select(DocumentRow).where(DocumentRow.state == DocumentState.PROCESSING)
    ).all()
    for row in rows:
        row.state = DocumentState.QUEUED
        row.attempts += 1
        row.last_error = "interrupted: the service stopped while processing it"
        add_audit(session, row.id, PIPELINE, Action.REQUEUED, now, {"attempts": row.attempts})
    return len(rows)


def fail(
    session: Session, document_id: int, error: str, retry_at: datetime | None, now: datetime
) -> int:
    """Back to the queue after a passing failure; returns the attempts made so far.

    The error text stays on the document, not in the audit log: messages can name files.
    """
    row = lock_document(session, document_id)
    row.state = DocumentState.QUEUED
    row.attempts += 1
    row.next_attempt_at = retry_at
    row.last_error = error[:MAX_ERROR_CHARS]
    detail = {"attempts": row.attempts, "retry_at": iso(retry_at) if retry_at else None}
    add_audit(session, row.id, PIPELINE, Action.FAILED, now, detail)
    return row.attempts


def quarantine(session: Session, document_id: int, reason: str, now: datetime) -> None:
    row = lock_document(session, document_id)
    row.state = DocumentState.QUARANTINED
    row.next_attempt_at = None
    row.last_error = reason[:MAX_ERROR_CHARS]
    add_audit(session, row.id, PIPELINE, Action.QUARANTINED, now, {"attempts": row.attempts})


def retry_quarantined(session: Session, document_id: int, actor: str, now: datetime) -> bool:
    """Staff send a quarantined file back for a fresh set of attempts; False if not quarantined."""
    row = lock_document(session, document_id)
    if row.state != DocumentState.QUARANTINED:
        return False
    detail = {"attempts": row.attempts}
    row.state = DocumentState.QUEUED
    row.attempts = 0
    row.next_attempt_at = None
    add_audit(session, row.id, actor, Action.RETRIED, now, detail)
    return True


def lock_document(session: Session, document_id: int) -> DocumentRow:
    row = session.get(DocumentRow, document_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no document {document_id}")
    return row
