"""The initial tables: documents, arrivals, referrals, pages, audit_log, users.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)  # stored as UTC; SQLite keeps it zone-less


def _fk_document(table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["document_id"],
        ["documents.id"],
        name=op.f(f"fk_{table}_document_id_documents"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=1024), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=128), nullable=True),
        sa.Column("archive_path", sa.String(length=1024), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", UTC_TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'processing', 'decided', 'quarantined')",
            name=op.f("ck_documents_state"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("sha256", name=op.f("uq_documents_sha256")),
    )
    op.create_index("ix_documents_state_received_at", "documents", ["state", "received_at"])

    op.create_table(
        "arrivals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("original_name", sa.String(length=1024), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("arrived_at", UTC_TIME, nullable=False),
        _fk_document("arrivals", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arrivals")),
    )
    op.create_index(op.f("ix_arrivals_document_id"), "arrivals", ["document_id"])

    op.create_table(
        "referrals",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("patient_name", sa.String(length=256), nullable=True),
        sa.Column("patient_dob", sa.Date(), nullable=True),
        sa.Column("payer_name", sa.String(length=256), nullable=True),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("review_state", sa.String(length=16), nullable=False),
        sa.Column("decided_at", UTC_TIME, nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint(
            "status IN ('accepted', 'needs_review', 'rejected')", name=op.f("ck_referrals_status")
        ),
        sa.CheckConstraint(
            "review_state IN ('waiting', 'final')", name=op.f("ck_referrals_review_state")
        ),
        _fk_document("referrals", "CASCADE"),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_referrals")),
    )
    op.create_index(op.f("ix_referrals_patient_name"), "referrals", ["patient_name"])
    op.create_index(op.f("ix_referrals_patient_dob"), "referrals", ["patient_dob"])
    op.create_index(op.f("ix_referrals_payer_name"), "referrals", ["payer_name"])
    op.create_index("ix_referrals_status_review_state", "referrals", ["status", "review_state"])

    op.create_table(
        "pages",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("rotation", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("problem", sa.String(length=32), nullable=True),
        sa.Column("image_path", sa.String(length=1024), nullable=True),
        _fk_document("pages", "CASCADE"),
        sa.PrimaryKeyConstraint("document_id", "number", name=op.f("pk_pages")),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        _fk_document("audit_log", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_document_id"), "audit_log", ["document_id"])
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=512), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", UTC_TIME, nullable=True),
        sa.CheckConstraint("role IN ('reviewer', 'admin')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )


def downgrade() -> None:
    for table in ("users", "audit_log", "pages", "referrals", "arrivals", "documents"):
        op.drop_table(table)
