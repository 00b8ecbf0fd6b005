"""Consent records: a grant per citizen and service, one row per scope, and an append-only
history of events that keeps the exact wording the citizen was shown."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index
from sqlmodel import Field, SQLModel


class ConsentGrant(SQLModel, table=True):
    __tablename__ = "consent_grant"
    __table_args__ = (Index("ix_consent_grant_citizen_client", "citizen_id", "client_id"),)

    id: str = Field(primary_key=True, max_length=64)
    citizen_id: str = Field(foreign_key="citizen.id", max_length=64)
    client_id: str = Field(foreign_key="oauth_client.client_id", max_length=64)
    service_id: str = Field(foreign_key="service.id", max_length=64)
    status: str = Field(max_length=20)  # active, refused, revoked, expired
    # The habilitation (purpose, legal basis) the citizen was shown; None: identity only.
    habilitation_id: str | None = Field(default=None, max_length=64)
    created_at: int = Field(sa_type=BigInteger)
    expires_at: int | None = Field(default=None, sa_type=BigInteger)
    revoked_at: int | None = Field(default=None, sa_type=BigInteger)


class ConsentGrantScope(SQLModel, table=True):
    __tablename__ = "consent_grant_scope"

    grant_id: str = Field(foreign_key="consent_grant.id", primary_key=True, max_length=64)
    scope: str = Field(primary_key=True, max_length=100)


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
