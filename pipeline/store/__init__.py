"""The store stage: documents, decisions, pages and the audit trail in SQLite or PostgreSQL."""

from pipeline.store.results import (
    AuditEntry,
    DocumentInfo,
    DocumentState,
    Job,
    NotFound,
    QueueItem,
    ReviewState,
    StoredPage,
    StoredReferral,
)
from pipeline.store.store import Store

__all__ = [
    "AuditEntry",
    "DocumentInfo",
    "DocumentState",
    "Job",
    "NotFound",
    "QueueItem",
    "ReviewState",
    "Store",
    "StoredPage",
    "StoredReferral",
]
