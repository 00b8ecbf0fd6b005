"""Reading a request's rows: the request, its versions, its messages."""

from __future__ import annotations

from sqlmodel import Session, col, select

from broker.store.portal_models import (
    HabilitationRequestMessage,
    HabilitationRequestRecord,
    HabilitationRequestVersion,
)


def load_request(
    session: Session, request_id: str, *, for_update: bool = False
) -> HabilitationRequestRecord | None:
    """The request; ``for_update``: locked until the transaction ends (two instructors
    deciding at once: the second one sees the first one's decision)."""
    query = select(HabilitationRequestRecord).where(HabilitationRequestRecord.id == request_id)
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def versions_of(session: Session, request_id: str) -> list[HabilitationRequestVersion]:
    return list(
        session.exec(
            select(HabilitationRequestVersion)
            .where(HabilitationRequestVersion.request_id == request_id)
            .order_by(col(HabilitationRequestVersion.number))
        ).all()
    )


def messages_of(session: Session, request_id: str) -> list[HabilitationRequestMessage]:
    return list(
        session.exec(
            select(HabilitationRequestMessage)
            .where(HabilitationRequestMessage.request_id == request_id)
            .order_by(col(HabilitationRequestMessage.at), col(HabilitationRequestMessage.id))
        ).all()
    )


def frozen(versions: list[HabilitationRequestVersion]) -> list[HabilitationRequestVersion]:
    """The versions no one can change any more: submitted (or, for a reopening, the terms
    in force when it was opened)."""
    return [v for v in versions if v.submitted_at is not None]
