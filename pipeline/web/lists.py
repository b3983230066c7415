"""Lists the store has no call for: decided referrals by status, newest first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.store import QueueItem, ReviewState, Store
from pipeline.store.schema import DocumentRow, ReferralRow

LIST_LIMIT = 200


def by_status(store: Store, status: str, limit: int = LIST_LIMIT) -> list[QueueItem]:
    query = (
        select(
            DocumentRow.id,
            DocumentRow.received_at,
            ReferralRow.status,
            ReferralRow.review_state,
            ReferralRow.patient_name,
            ReferralRow.patient_dob,
            ReferralRow.payer_name,
            ReferralRow.reasons,
            ReferralRow.codes,
        )
        .join(ReferralRow, ReferralRow.document_id == DocumentRow.id)
        .where(ReferralRow.status == status)
        .order_by(ReferralRow.updated_at.desc(), DocumentRow.id.desc())
        .limit(limit)
    )
    with Session(store.engine) as session, session.begin():
        rows = session.execute(query).all()
    return [
        QueueItem(
            id=row.id,
            received_at=row.received_at,
            status=row.status,
            review_state=ReviewState(row.review_state),
            patient_name=row.patient_name,
            patient_dob=row.patient_dob.isoformat() if row.patient_dob else None,
            payer_name=row.payer_name,
            reasons=list(row.reasons),
            codes=list(row.codes),
        )
        for row in rows
    ]
