"""Table models of the broker's newer protocol records: pushed authorization requests
(RFC 9126), DPoP proofs seen (RFC 9449) and back-channel logout (participants and outbox).
Times are integer epoch seconds (UTC) on every database. ``broker.store.models`` re-exports
them: one import registers every table."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, String
from sqlmodel import Field, SQLModel


class PushedAuthorizationRequest(SQLModel, table=True):
    """RFC 9126: an authorization request a client pushed, redeemed once at /authorize through
    its ``request_uri`` (stored as a digest)."""

    __tablename__ = "pushed_authorization_request"

    uri_digest: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(
        sa_column=Column(
            String(64), ForeignKey("oauth_client.client_id", ondelete="CASCADE"), nullable=False
        )
    )
    params: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    created_at: int = Field(sa_type=BigInteger)
    expires_at: int = Field(sa_type=BigInteger, index=True)
    used_at: int | None = Field(default=None, sa_type=BigInteger)


class DpopProof(SQLModel, table=True):
    """RFC 9449 §11.1: proofs already presented (a digest of key and ``jti``), so that a proof
    is accepted once, whichever process receives it."""

    __tablename__ = "dpop_proof"

    proof_digest: str = Field(primary_key=True, max_length=64)
    expires_at: int = Field(sa_type=BigInteger, index=True)


class LogoutParticipant(SQLModel, table=True):
    """OpenID Connect Back-Channel Logout §2.3: a service with a ``backchannel_logout_uri``
    that received a code in broker session ``sid``, told when that session ends. Recorded
    only for such services; removed when the session's end is queued for them."""

    __tablename__ = "logout_participant"

    sid: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(
        sa_column=Column(
            String(64),
            ForeignKey("oauth_client.client_id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    sub: str = Field(max_length=255)  # the pairwise subject this service knows
    created_at: int = Field(sa_type=BigInteger)
    # When the session may have ended (its expiry, or its idle deadline as last seen): the
    # expiry sweep looks at it again then, and not before.
    check_at: int = Field(sa_type=BigInteger, index=True)


class LogoutNotice(SQLModel, table=True):
    """Outbox of back-channel logouts: one row per service to tell that a session ended,
    written in the transaction that ends it; the logout token is signed at each attempt (it
    lives two minutes), posted to the URL the client registered, retried until delivered or
    given up."""

    __tablename__ = "logout_notice"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64)
    sid: str = Field(max_length=64)
    sub: str = Field(max_length=255)
    url: str = Field(max_length=2000)
    created_at: int = Field(sa_type=BigInteger)
    attempts: int = 0
    next_attempt_at: int | None = Field(default=None, sa_type=BigInteger, index=True)
    delivered_at: int | None = Field(default=None, sa_type=BigInteger)
    failed_at: int | None = Field(default=None, sa_type=BigInteger)  # gave up
    last_error: str | None = Field(default=None, max_length=500)
