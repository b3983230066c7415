"""The store: every document, its arrivals, decisions, pages and audit trail, in one database.

Each method is one short transaction and returns plain values (``results``), so
callers never hold a session or a lock. Writes begin ready to write (see ``engine``),
which on SQLite queues concurrent writers, threads or processes, on the file's lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import URL, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from models.document import PageText
from models.referral import Referral
from pipeline.store import decisions, intake, migrate, queries
from pipeline.store import engine as engines
from pipeline.store.results import (
    PIPELINE,
    Action,
    AuditEntry,
    DocumentInfo,
    Job,
    QueueItem,
    StoredReferral,
)

log = logging.getLogger("referrals.store")

ARRIVAL_TRIES = 3
EXPORT_BATCH = 500


def utcnow() -> datetime:
    return datetime.now(UTC)


class Store:
    """Construct with a SQLAlchemy URL; ``Store.open`` also migrates the schema to head."""

    def __init__(self, url: str | URL, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engines.create(url)
        self.clock = clock
        self._reads = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = sessionmaker(engines.writer(self.engine), expire_on_commit=False)

    @classmethod
    def open(cls, url: str | URL, clock: Callable[[], datetime] = utcnow) -> Store:
        store = cls(url, clock)
        migrate.upgrade(store.engine)
        return store

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- intake and the work queue -------------------------------------------------------

    def record_arrival(
        self,
        sha256: str,
        original_name: str,
        size_bytes: int,
        media_type: str | None,
        archive_path: str,
        source: str = "inbox",
    ) -> tuple[int, bool]:
        """(document id, is_new): known bytes add only an arrival and a "duplicate" entry.

        Two writers adding the same new bytes at once meet at the unique hash: the loser's
        insert fails, its transaction rolls back, and the retry finds the winner's row.
        """
        facts = {
            "sha256": sha256,
            "original_name": original_name,
            "size_bytes": size_bytes,
            "media_type": media_type,
            "archive_path": archive_path,
            "source": source,
        }
        for attempt in range(1, ARRIVAL_TRIES + 1):
            try:
                with self._write() as session:
                    return self._arrive(session, facts)
            except IntegrityError:
                if attempt == ARRIVAL_TRIES:
                    raise
                log.info("arrival raced another writer; retrying", extra={"document": sha256})
        raise AssertionError("unreachable")

    def _arrive(self, session: Session, facts: dict) -> tuple[int, bool]:
        now = self.clock()
        document_id = intake.find_document(session, facts["sha256"])
        is_new = document_id is None
        if document_id is None:
            document_id = intake.add_document(session, now, **facts)
        else:
            detail = {"source": facts["source"]}
            intake.add_audit(session, document_id, PIPELINE, Action.DUPLICATE, now, detail)
        intake.add_arrival(session, document_id, facts["original_name"], facts["source"], now)
        return document_id, is_new

    def claim_next(self, limit: int) -> list[Job]:
        """Up to ``limit`` due queued documents, oldest first, now in state processing."""
        if limit < 1:
            return []
        with self._write() as session:
            return intake.claim(session, limit, self.clock())

    def requeue_interrupted(self) -> int:
        """At start-up: documents left in processing by a stopped service go back to queued."""
        with self._write() as session:
            return intake.requeue_interrupted(session, self.clock())

    def save_result(
        self,
        document_id: int,
        referral: Referral,
        pages: list[PageText],
        image_paths: dict[int, str],
    ) -> None:
        """Referral, pages and state in one transaction; saving again replaces, never adds."""
        with self._write() as session:
            decisions.save_result(session, document_id, referral, pages, image_paths, self.clock())

    def fail(self, document_id: int, error: str, retry_at: datetime | None) -> int:
        """A passing failure: back to queued, due at ``retry_at``; returns attempts so far."""
        with self._write() as session:
            return intake.fail(session, document_id, error, retry_at, self.clock())

    def quarantine(self, document_id: int, reason: str) -> None:
        """Stop trying: the document waits for staff (``reason`` is kept as its last error)."""
        with self._write() as session:
            intake.quarantine(session, document_id, reason, self.clock())

    def retry_quarantined(self, document_id: int, actor: str) -> bool:
        """Back to queued with fresh attempts; False when the document was not quarantined."""
        with self._write() as session:
            return intake.retry_quarantined(session, document_id, actor, self.clock())

    def set_decision(
        self, document_id: int, record: dict, actor: str, note: str | None = None
    ) -> None:
        """Staff's corrected record (contract-validated) replaces the stored one, audited."""
        with self._write() as session:
            decisions.set_decision(session, document_id, record, actor, note, self.clock())

    # -- reading -------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """``referrals status``: documents, pending, accepted, needs_review, rejected.

        Quarantined documents count as needs_review (they wait for staff); see
        ``queries.counts``.
        """
        with self._read() as session:
            return queries.counts(session)

    def review_queue(self, reason: str | None = None, payer: str | None = None) -> list[QueueItem]:
        with self._read() as session:
            return queries.review_queue(session, reason, payer)

    def by_status(self, status: str, limit: int = 200) -> list[QueueItem]:
        with self._read() as session:
            return queries.by_status(session, status, limit)

    def quarantined(self) -> list[DocumentInfo]:
        with self._read() as session:
            return queries.quarantined(session)

    def document(self, document_id: int) -> DocumentInfo | None:
        with self._read() as session:
            return queries.document(session, document_id)

    def get(self, document_id: int) -> StoredReferral | None:
        """A decided referral with its pages and audit history; None if not decided."""
        with self._read() as session:
            return queries.get(session, document_id)

    def export(self) -> Iterator[dict]:
        """Every stored record (contract record plus "id", "received_at"), by id.

        Read in batches, each its own short transaction, so a slow consumer holds no
        transaction open.
        """
        after = 0
        while True:
            with self._read() as session:
                batch = queries.export_batch(session, after, EXPORT_BATCH)
            if not batch:
                return
            yield from batch
            after = batch[-1]["id"]

    def search(self, text: str) -> list[QueueItem]:
        with self._read() as session:
            return queries.search(session, text)

    def audit(self, document_id: int) -> list[AuditEntry]:
        with self._read() as session:
            return queries.audit(session, document_id)

    def health(self) -> bool:
        """Whether the database answers a query right now."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            log.warning("database does not answer", exc_info=True)
            return False
        return True

    # -- transactions --------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with self._writes.begin() as session:
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._reads() as session, session.begin():
            yield session
