"""Tables of the identity federation: the upstream identity providers, the services' allow
and block lists, and the sign-ins waiting for a provider's callback (flow state, database
backend)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary
from sqlmodel import Field, SQLModel


class IdentityProviderRecord(SQLModel, table=True):
    """An upstream OpenID Connect identity provider the broker federates."""

    __tablename__ = "identity_provider"

    id: str = Field(primary_key=True, max_length=64)  # a slug: it is in the redirect URI
    name: str = Field(max_length=120, unique=True)
    kind: str = Field(max_length=32)  # "oidc" or "franceconnect_v2"
    issuer: str = Field(max_length=500)
    client_id: str = Field(max_length=255)
    client_secret_sealed: str | None = Field(default=None, max_length=2000)  # vault-encrypted
    auth_method: str = Field(max_length=32)
    scopes: str = Field(max_length=500)
    acr_values: list[str] = Field(sa_column=Column(JSON, nullable=False))
    id_token_algs: list[str] = Field(sa_column=Column(JSON, nullable=False))
    signed_userinfo: bool = False  # userinfo must come as a signed JWT
    logo: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    logo_type: str | None = Field(default=None, max_length=40)
    enabled: bool = True
    message: str = Field(default="", max_length=500)  # shown while disabled (maintenance)
    demo: bool = False  # one of the demo providers: refused in production unless allowed
    position: int = 0
    created_at: int = Field(sa_type=BigInteger)
    updated_at: int = Field(sa_type=BigInteger)


class ClientIdpRule(SQLModel, table=True):
    """A service's allow or block entry for one provider: with any "allow" entry, only the
    allowed providers are offered; "block" entries are never offered."""

    __tablename__ = "client_idp_rule"

    client_id: str = Field(
        foreign_key="oauth_client.client_id", primary_key=True, max_length=64, ondelete="CASCADE"
    )
    idp_id: str = Field(
        foreign_key="identity_provider.id", primary_key=True, max_length=64, ondelete="CASCADE"
    )
    rule: str = Field(max_length=8)  # "allow" or "block"


class FederationLogin(SQLModel, table=True):
    """A sign-in sent to a provider, waiting for its callback (database flow-state backend)."""

    __tablename__ = "federation_login"

    state_digest: str = Field(primary_key=True, max_length=64)
    record: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    expires_at: int = Field(sa_type=BigInteger, index=True)


class SignInEvent(SQLModel, table=True):
    """One sign-in of a citizen: when, through which provider, for which service (None: the
    citizen space), at which level. Shown to the citizen in their space."""

    __tablename__ = "sign_in_event"
    __table_args__ = (Index("ix_sign_in_event_citizen_at", "citizen_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: str = Field(foreign_key="citizen.id", max_length=64)
    at: int = Field(sa_type=BigInteger)
    idp: str = Field(max_length=64)
    client_id: str | None = Field(default=None, max_length=64)
    acr: str = Field(max_length=10)


class CitizenIdpBlock(SQLModel, table=True):
    """A provider a citizen blocked for their own account: signing in through it is refused."""

    __tablename__ = "citizen_idp_block"

    citizen_id: str = Field(
        foreign_key="citizen.id", primary_key=True, max_length=64, ondelete="CASCADE"
    )
    idp_id: str = Field(primary_key=True, max_length=64)
    blocked_at: int = Field(sa_type=BigInteger)
