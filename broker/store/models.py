"""Table models of the broker. Times are integer epoch seconds (UTC) on every database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    LargeBinary,
    Text,
    UniqueConstraint,
    false,
)
from sqlmodel import Field, SQLModel

# Split out for size; re-exported so that importing this module registers every table.
from broker.store.protocol_models import (
    DpopProof,
    LogoutNotice,
    LogoutParticipant,
    PushedAuthorizationRequest,
)

__all__ = [
    "AccessToken",
    "AuthorizationCode",
    "BrowserSession",
    "Citizen",
    "ClientAssertionJti",
    "DpopProof",
    "Interaction",
    "LogoutNotice",
    "LogoutParticipant",
    "OAuthClient",
    "PushedAuthorizationRequest",
    "RefreshToken",
    "Service",
    "SigningKey",
]


class Service(SQLModel, table=True):
    """An administration's registered entity; owns OIDC clients. Its sector keys pairwise subs."""

    __tablename__ = "service"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200, unique=True)
    sector_identifier: str = Field(max_length=128)
    created_at: int = Field(sa_type=BigInteger)
    # Shown on the consent screen; served by the broker itself (no third-party request).
    logo: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    logo_type: str | None = Field(default=None, max_length=40)
    # The organisation it belongs to (SIRET): its agents manage its clients on the portal.
    organisation_siret: str | None = Field(default=None, max_length=14, index=True)


class OAuthClient(SQLModel, table=True):
    __tablename__ = "oauth_client"

    client_id: str = Field(primary_key=True, max_length=64)
    service_id: str = Field(foreign_key="service.id", index=True, max_length=64)
    name: str = Field(max_length=200)
    secret_digest: str | None = Field(default=None, max_length=128)
    # After a rotation, the previous secret still authenticates until this time (the overlap
    # that lets the service deploy its new secret).
    previous_secret_digest: str | None = Field(default=None, max_length=128)
    previous_secret_expires_at: int | None = Field(default=None, sa_type=BigInteger)
    auth_method: str = Field(max_length=40)
    redirect_uris: list[str] = Field(sa_column=Column(JSON, nullable=False))
    scope: str = Field(max_length=4000)
    jwks_uri: str | None = Field(default=None, max_length=2000)
    jwks: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    id_token_signed_response_alg: str = Field(default="ES256", max_length=10)
    access_token_ttl: int = 600
    # Where signed consent events (revocation…) are posted; None: the service is not told.
    notification_uri: str | None = Field(default=None, max_length=2000)
    # Where RP-initiated logout may send the citizen back (matched exactly).
    post_logout_redirect_uris: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    # The protocol profile the client follows ("fapi2": FAPI 2.0 Security Profile; None: ours).
    profile: str | None = Field(default=None, max_length=20)
    # RFC 9126 §6: authorization requests only through the pushed authorization endpoint.
    require_pushed_authorization_requests: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    # RFC 9449 §5.2: every token is bound to a DPoP key; a token request without a proof fails.
    dpop_bound_access_tokens: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    # OpenID Connect Back-Channel Logout 1.0: where logout tokens are posted.
    backchannel_logout_uri: str | None = Field(default=None, max_length=2000)
    # Encrypted ID tokens and userinfo (None: not encrypted), signed userinfo (None: JSON).
    id_token_encrypted_response_alg: str | None = Field(default=None, max_length=20)
    id_token_encrypted_response_enc: str | None = Field(default=None, max_length=20)
    userinfo_encrypted_response_alg: str | None = Field(default=None, max_length=20)
    userinfo_encrypted_response_enc: str | None = Field(default=None, max_length=20)
    userinfo_signed_response_alg: str | None = Field(default=None, max_length=10)
    created_at: int = Field(sa_type=BigInteger)
    disabled_at: int | None = Field(default=None, sa_type=BigInteger)


class SigningKey(SQLModel, table=True):
    """A signing key; the private part is encrypted at rest (AES-256-GCM, see keys.vault)."""

    __tablename__ = "signing_key"

    kid: str = Field(primary_key=True, max_length=64)
    alg: str = Field(max_length=10)
    public_jwk: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    private_jwk_encrypted: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: int = Field(sa_type=BigInteger)
    retired_at: int | None = Field(default=None, sa_type=BigInteger)
    unpublish_at: int | None = Field(default=None, sa_type=BigInteger)


class Citizen(SQLModel, table=True):
    """A citizen as last received from an identity provider. One row per person, whichever
    provider they sign in through: ``pivot_digest`` (a keyed digest of the normalised identity
    pivot) finds them; ``idp`` and ``idp_subject`` say which provider was used last."""

    __tablename__ = "citizen"
    __table_args__ = (UniqueConstraint("pivot_digest", name="uq_citizen_pivot_digest"),)

    id: str = Field(primary_key=True, max_length=64)
    pivot_digest: str | None = Field(default=None, max_length=64)
    idp: str = Field(max_length=64)
    idp_subject: str = Field(max_length=255)
    given_name: str = Field(max_length=255)
    family_name: str = Field(max_length=255)
    preferred_username: str = Field(default="", max_length=255)
    birthdate: str = Field(max_length=10)
    gender: str = Field(max_length=10)
    birthplace: str = Field(default="", max_length=5)
    birthcountry: str = Field(max_length=5)
    email: str = Field(default="", max_length=320)
    created_at: int = Field(sa_type=BigInteger)
    updated_at: int = Field(sa_type=BigInteger)


class BrowserSession(SQLModel, table=True):
    """A citizen's single sign-on session at the broker, bound to one browser."""

    __tablename__ = "browser_session"
    __table_args__ = (Index("ix_browser_session_sid", "sid", unique=True),)

    id_digest: str = Field(primary_key=True, max_length=64)
    browser_digest: str = Field(max_length=64)
    citizen_id: str = Field(foreign_key="citizen.id", index=True, max_length=64)
    idp: str = Field(max_length=64)
    acr: str = Field(max_length=10)
    amr: list[str] = Field(sa_column=Column(JSON, nullable=False))
    auth_time: int = Field(sa_type=BigInteger)
    expires_at: int = Field(sa_type=BigInteger)
    revoked_at: int | None = Field(default=None, sa_type=BigInteger)
    # The identity provider's ID token, for its end_session_endpoint at sign-out.
    upstream_id_token: str | None = Field(default=None, sa_type=Text)
    # The session's public id (``sid`` of ID and logout tokens): random, never the cookie's.
    sid: str | None = Field(default=None, max_length=64)
    # When the session was last used (written at most once a minute): the idle timeout.
    last_seen: int | None = Field(default=None, sa_type=BigInteger)


class Interaction(SQLModel, table=True):
    """A parked authorization request between /authorize and the code (see
    broker.interaction.states)."""

    __tablename__ = "interaction"

    id: str = Field(primary_key=True, max_length=64)
    state: str = Field(max_length=20)
    browser_digest: str = Field(max_length=64)
    client_id: str = Field(foreign_key="oauth_client.client_id", max_length=64)
    params: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    citizen_id: str | None = Field(default=None, foreign_key="citizen.id", max_length=64)
    idp: str | None = Field(default=None, max_length=64)
    auth_time: int | None = Field(default=None, sa_type=BigInteger)
    acr: str | None = Field(default=None, max_length=10)
    amr: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    sid: str | None = Field(default=None, max_length=64)
    created_at: int = Field(sa_type=BigInteger)
    expires_at: int = Field(sa_type=BigInteger, index=True)


class AuthorizationCode(SQLModel, table=True):
    __tablename__ = "authorization_code"

    idp: str | None = Field(default=None, max_length=64)
    code_digest: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(foreign_key="oauth_client.client_id", max_length=64)
    citizen_id: str = Field(foreign_key="citizen.id", max_length=64)
    redirect_uri: str = Field(max_length=2000)
    scope: str = Field(max_length=4000)
    nonce: str | None = Field(default=None, max_length=512)
    code_challenge: str | None = Field(default=None, max_length=128)
    code_challenge_method: str | None = Field(default=None, max_length=10)
    auth_time: int = Field(sa_type=BigInteger)
    acr: str = Field(max_length=10)
    amr: list[str] = Field(sa_column=Column(JSON, nullable=False))
    grant_id: str | None = Field(default=None, max_length=64)
    created_at: int = Field(sa_type=BigInteger)
    expires_at: int = Field(sa_type=BigInteger, index=True)
    consumed_at: int | None = Field(default=None, sa_type=BigInteger)
    sid: str | None = Field(default=None, max_length=64)  # the session it was issued in
    # RFC 9449 §10: the DPoP key the code is bound to (redeemed only with a proof of it).
    dpop_jkt: str | None = Field(default=None, max_length=64)


class AccessToken(SQLModel, table=True):
    """The server-side record of a JWT access token: revocation and replay clean-up find it here."""

    __tablename__ = "access_token"
    __table_args__ = (Index("ix_access_token_code_digest", "code_digest"),)

    jti: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(foreign_key="oauth_client.client_id", max_length=64)
    citizen_id: str = Field(foreign_key="citizen.id", index=True, max_length=64)
    scope: str = Field(max_length=4000)
    code_digest: str | None = Field(default=None, max_length=64)
    grant_id: str | None = Field(default=None, index=True, max_length=64)
    issued_at: int = Field(sa_type=BigInteger)
    expires_at: int = Field(sa_type=BigInteger, index=True)
    revoked_at: int | None = Field(default=None, sa_type=BigInteger)
    # RFC 9449: the thumbprint of the DPoP key the token is bound to (None: a bearer token).
    jkt: str | None = Field(default=None, max_length=64)


class ClientAssertionJti(SQLModel, table=True):
    """Seen ``jti`` of private_key_jwt assertions, so an assertion cannot be replayed."""

    __tablename__ = "client_assertion_jti"

    client_id: str = Field(primary_key=True, max_length=64)
    jti: str = Field(primary_key=True, max_length=255)
    expires_at: int = Field(sa_type=BigInteger, index=True)


class RefreshToken(SQLModel, table=True):
    """A refresh token of a recurring grant, stored as a digest. Each use rotates it; a token
    used a second time means it leaked, and its whole grant is revoked (RFC 9700 §4.14.2)."""

    __tablename__ = "refresh_token"

    digest: str = Field(primary_key=True, max_length=64)
    # The consent grant (consent.models) the token stands on: the schema links the two
    # tables; the broker reaches the grant only through the consent port.
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
    # RFC 9449 §5: the DPoP key the chain is bound to, kept through every rotation.
    jkt: str | None = Field(default=None, max_length=64)
