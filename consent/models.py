"""Consent records: a grant per citizen and service, one row per scope, and an append-only
history of events that keeps the exact wording the citizen was shown."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

ONE_TIME = "one_time"  # nothing remembered: the grant lasts as long as its first tokens
RECURRING = "recurring"  # remembered until its expiry (at most 12 months); refresh tokens


class ConsentGrant(SQLModel, table=True):
    __tablename__ = "consent_grant"
    __table_args__ = (Index("ix_consent_grant_citizen_client", "citizen_id", "client_id"),
                      Index("ix_consent_grant_citizen_created", "citizen_id", "created_at"),
                      Index("ix_consent_grant_status_expires", "status", "expires_at"))

    id: str = Field(primary_key=True, max_length=64)
    citizen_id: str = Field(foreign_key="citizen.id", max_length=64)
    client_id: str = Field(foreign_key="oauth_client.client_id", max_length=64)
    service_id: str = Field(foreign_key="service.id", max_length=64)
    status: str = Field(max_length=20)  # active, refused, revoked, expired
    mode: str = Field(default=RECURRING, max_length=20)  # ONE_TIME or RECURRING
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
    kind: str = Field(max_length=20)  # granted, refused, narrowed, revoked, expired
    scopes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    wording: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    interaction_id: str | None = Field(default=None, max_length=64)
    at: int = Field(sa_type=BigInteger)


class RefreshToken(SQLModel, table=True):
    """A refresh token of a recurring grant, stored as a digest. Each use rotates it; a token
    used a second time means it leaked, and its whole grant is revoked (RFC 9700 §4.14.2)."""

    __tablename__ = "refresh_token"

    digest: str = Field(primary_key=True, max_length=64)
    grant_id: str = Field(foreign_key="consent_grant.id", index=True, max_length=64)
    client_id: str = Field(max_length=64)
    citizen_id: str = Field(max_length=64)
    scope: str = Field(max_length=4000)
    # The authorization code the chain of rotations started from: a replayed code revokes it.
    code_digest: str | None = Field(default=None, max_length=64, index=True)
    auth_time: int = Field(sa_type=BigInteger)
    acr: str = Field(max_length=10)
    issued_at: int = Field(sa_type=BigInteger)
    expires_at: int = Field(sa_type=BigInteger, index=True)
    used_at: int | None = Field(default=None, sa_type=BigInteger)
    revoked_at: int | None = Field(default=None, sa_type=BigInteger)


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
