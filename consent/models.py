"""Consent records: a grant per citizen and service, one row per scope, and an append-only
history of events that keeps the exact wording the citizen was shown.

A grant's status moves only as :data:`TRANSITIONS` says, one event per move, in the spirit of
Ory Hydra's flow states: created ``active`` (granted) or ``refused``; an active grant is
narrowed (stays active), revoked or expired; ``refused``, ``revoked`` and ``expired`` are final.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

# How long a consent lasts is a term of the habilitation it is given under (broker side).
from broker.oidc.models import ConsentMode

__all__ = [
    "TRANSITIONS",
    "ConsentEvent",
    "ConsentGrant",
    "ConsentGrantScope",
    "ConsentMode",
    "ConsentNotification",
    "EventKind",
    "GrantStatus",
]


class GrantStatus(StrEnum):
    ACTIVE = "active"
    REFUSED = "refused"
    REVOKED = "revoked"
    EXPIRED = "expired"


class EventKind(StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"
    NARROWED = "narrowed"  # optional items withdrawn
    REVOKED = "revoked"
    EXPIRED = "expired"


# Each event: the status the grant must have (None: the event creates the grant) and the one
# it then has. No other move exists: an ended grant cannot be narrowed, revived or ended twice.
TRANSITIONS: dict[EventKind, tuple[GrantStatus | None, GrantStatus]] = {
    EventKind.GRANTED: (None, GrantStatus.ACTIVE),
    EventKind.REFUSED: (None, GrantStatus.REFUSED),
    EventKind.NARROWED: (GrantStatus.ACTIVE, GrantStatus.ACTIVE),
    EventKind.REVOKED: (GrantStatus.ACTIVE, GrantStatus.REVOKED),
    EventKind.EXPIRED: (GrantStatus.ACTIVE, GrantStatus.EXPIRED),
}


class ConsentGrant(SQLModel, table=True):
    __tablename__ = "consent_grant"
    __table_args__ = (
        Index("ix_consent_grant_citizen_client", "citizen_id", "client_id"),
        Index("ix_consent_grant_citizen_created", "citizen_id", "created_at"),
        Index("ix_consent_grant_status_expires", "status", "expires_at"),
    )

    id: str = Field(primary_key=True, max_length=64)
    citizen_id: str = Field(foreign_key="citizen.id", max_length=64)
    client_id: str = Field(foreign_key="oauth_client.client_id", max_length=64)
    service_id: str = Field(foreign_key="service.id", max_length=64)
    status: str = Field(max_length=20)  # a GrantStatus
    mode: str = Field(default=ConsentMode.RECURRING, max_length=20)  # a ConsentMode
    # The habilitation (purpose, legal basis) the citizen was shown; None: identity only.
    habilitation_id: str | None = Field(default=None, max_length=64)
    created_at: int = Field(sa_type=BigInteger)
    expires_at: int | None = Field(default=None, sa_type=BigInteger)
    revoked_at: int | None = Field(default=None, sa_type=BigInteger)
    # The consent receipt given to the citizen: a JWS signed by the broker.
    receipt: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ConsentGrantScope(SQLModel, table=True):
    __tablename__ = "consent_grant_scope"

    grant_id: str = Field(foreign_key="consent_grant.id", primary_key=True, max_length=64)
    scope: str = Field(primary_key=True, max_length=100)
    optional: bool = False  # the citizen could untick it, and can withdraw it later
    withdrawn_at: int | None = Field(default=None, sa_type=BigInteger)  # "narrowed"


class ConsentEvent(SQLModel, table=True):
    """Never updated nor deleted: what happened to a grant, and what the citizen saw."""

    __tablename__ = "consent_event"

    id: int | None = Field(default=None, primary_key=True)
    grant_id: str = Field(foreign_key="consent_grant.id", index=True, max_length=64)
    kind: str = Field(max_length=20)  # an EventKind
    scopes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    wording: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    interaction_id: str | None = Field(default=None, max_length=64)
    at: int = Field(sa_type=BigInteger)


class ConsentNotification(SQLModel, table=True):
    """Outbox of signed consent events for services' back-channel URLs, retried until
    delivered or given up."""

    __tablename__ = "consent_notification"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64)
    grant_id: str = Field(max_length=64, index=True)
    url: str = Field(max_length=2000)
    event: str = Field(sa_column=Column(Text, nullable=False))  # the signed event (JWT)
    created_at: int = Field(sa_type=BigInteger)
    attempts: int = 0
    next_attempt_at: int | None = Field(default=None, sa_type=BigInteger, index=True)
    delivered_at: int | None = Field(default=None, sa_type=BigInteger)
    failed_at: int | None = Field(default=None, sa_type=BigInteger)  # gave up
    last_error: str | None = Field(default=None, max_length=500)
