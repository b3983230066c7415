"""The store's tables as SQLAlchemy ORM classes (the migrations create them; see migrations/).

A change here needs a new migration in ``migrations/versions`` (see ``migrate.new_revision``).
Search fields of a referral (patient, payer, codes) are copied out of its record into
columns, so that queue filters and search do not have to parse JSON on every row.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in UTC on every backend: SQLite keeps no time zone, so we store UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


class DocumentRow(Base):
    """One distinct file (by content hash) and where it stands in processing."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(1024))
    source: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str | None] = mapped_column(String(128))
    archive_path: Mapped[str] = mapped_column(String(1024))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        _one_of("state", ("queued", "processing", "decided", "quarantined"), "state"),
        Index("ix_documents_state_received_at", "state", "received_at"),
    )


class ArrivalRow(Base):
    """Every time a file came in, duplicates of known bytes included."""

    __tablename__ = "arrivals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    original_name: Mapped[str] = mapped_column(String(1024))
    source: Mapped[str] = mapped_column(String(32))
    arrived_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReferralRow(Base):
    """The decision on a document: its contract record and the fields lists filter on."""

    __tablename__ = "referrals"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    record: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    patient_name: Mapped[str | None] = mapped_column(String(256), index=True)
    patient_dob: Mapped[date | None] = mapped_column(Date, index=True)
    payer_name: Mapped[str | None] = mapped_column(String(256), index=True)
    codes: Mapped[list[str]] = mapped_column(JSON)
    review_state: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        _one_of("status", ("accepted", "needs_review", "rejected"), "status"),
        _one_of("review_state", ("waiting", "final"), "review_state"),
        Index("ix_referrals_status_review_state", "status", "review_state"),
    )


class PageRow(Base):
    """A page's words with boxes (for the review page's highlights) and its image."""

    __tablename__ = "pages"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    method: Mapped[str] = mapped_column(String(8))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    rotation: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float | None] = mapped_column(Float)
    words: Mapped[list[dict]] = mapped_column(JSON)
    problem: Mapped[str | None] = mapped_column(String(32))
    image_path: Mapped[str | None] = mapped_column(String(1024))


class AuditRow(Base):
    """Who did what to which document; ``detail`` holds codes and statuses, no patient text."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict] = mapped_column(JSON)


class UserRow(Base):
    """Staff accounts for the review page (used from a later issue on)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (_one_of("role", ("reviewer", "admin"), "role"),)
