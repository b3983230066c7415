"""What the store hands out: plain dataclasses and pydantic models, never ORM rows.

Callers (workers, the review web page, the CLI) get values that stay valid after the
store's short transaction has ended, so no session or lazy load ever leaks out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from models.document import PageText


class DocumentState(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    DECIDED = "decided"
    QUARANTINED = "quarantined"


class ReviewState(StrEnum):
    """``waiting`` for staff (status needs_review), or ``final``."""

    WAITING = "waiting"
    FINAL = "final"


class Role(StrEnum):
    REVIEWER = "reviewer"
    ADMIN = "admin"


class Action(StrEnum):
    """Audit log actions. Their details hold codes, statuses and counts, never patient text."""

    RECEIVED = "received"
    DUPLICATE = "duplicate"
    FAILED = "failed"
    REQUEUED = "requeued"
    DECIDED = "decided"
    QUARANTINED = "quarantined"
    RETRIED = "retried"
    CORRECTED = "corrected"


PIPELINE = "pipeline"  # the actor name for everything the service does by itself


class NotFound(LookupError):
    """No document with that id."""


@dataclass(frozen=True)
class Job:
    """A document claimed for processing: what a worker needs to read it."""

    id: int
    sha256: str
    archive_path: str
    original_name: str
    attempts: int


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    sha256: str
    original_name: str
    source: str
    received_at: datetime
    size_bytes: int
    media_type: str | None
    archive_path: str
    state: DocumentState
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class QueueItem:
    """One line of a list of referrals (the review queue, search results)."""

    id: int
    received_at: datetime
    status: str
    review_state: ReviewState
    patient_name: str | None
    patient_dob: str | None
    payer_name: str | None
    reasons: list[str]
    codes: list[str]


@dataclass(frozen=True)
class AuditEntry:
    id: int
    document_id: int | None
    at: datetime
    actor: str
    action: str
    detail: dict


class StoredPage(PageText):
    """A page's words and boxes as read, and its image (relative to the data folder)."""

    image_path: str | None = None


@dataclass(frozen=True)
class StoredReferral:
    """A decided referral: ``record`` is the contract record plus ``id`` and ``received_at``."""

    id: int
    record: dict
    status: str
    reasons: list[str]
    review_state: ReviewState
    decided_at: datetime
    decided_by: str | None
    updated_at: datetime
    document: DocumentInfo
    pages: list[StoredPage]
    history: list[AuditEntry]


def iso(moment: datetime) -> str:
    """How times leave the store in records: ISO 8601 in UTC, to the second."""
    return moment.isoformat(timespec="seconds")
