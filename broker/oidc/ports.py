"""What the protocol code needs from outside it: storage (``broker.store`` implements it on
SQL) and the consent grants tokens stand on (``consent`` implements it; the composition root
plugs it in)."""

from __future__ import annotations

from typing import Protocol

from broker.oidc.identity_release import IdentityRelease
from broker.oidc.models import (
    AccessTokenRecord,
    AuthorizationCode,
    CitizenIdentity,
    Client,
    GrantTerms,
    RefreshTokenRecord,
)


class OidcStore(Protocol):
    def get_client(self, client_id: str) -> Client | None: ...

    def save_code(self, code: AuthorizationCode, created_at: int) -> None: ...

    def get_code(self, code_digest: str) -> AuthorizationCode | None: ...

    def consume_code(self, code_digest: str, now: int) -> bool:
        """Mark the code used; False if it already was (atomic compare-and-set)."""

    def revoke_tokens_from_code(self, code_digest: str, now: int) -> int: ...

    def save_access_token(
        self,
        record: AccessTokenRecord,
        issued_at: int,
        code_digest: str | None,
        grant_id: str | None,
    ) -> None: ...

    def get_access_token(self, jti: str) -> AccessTokenRecord | None: ...

    def get_citizen(self, citizen_id: str) -> CitizenIdentity | None: ...

    def remember_assertion_jti(self, client_id: str, jti: str, expires_at: int) -> bool:
        """Record a client assertion id; False if it was already seen (replay)."""

    def save_refresh_token(
        self,
        token_digest: str,
        *,
        grant_id: str,
        client_id: str,
        citizen_id: str,
        scope: str,
        auth_time: int,
        acr: str,
        issued_at: int,
        expires_at: int,
        code_digest: str | None = None,
        jkt: str | None = None,
    ) -> None: ...

    def get_refresh_token(self, token_digest: str) -> RefreshTokenRecord | None: ...

    def use_refresh_token(self, token_digest: str, now: int) -> bool:
        """Mark the refresh token rotated; False if it already was (compare-and-set)."""

    def revoke_access_token(self, jti: str, now: int) -> int:
        """Mark one access token revoked (if it is not yet); the number of rows changed."""

    def revoke_refresh_token(self, token_digest: str, now: int) -> int:
        """Mark one refresh token revoked (if it is not yet); the number of rows changed."""

    def add_logout_participant(self, sid: str, client_id: str, sub: str, now: int) -> None:
        """Back-Channel Logout §2.3: ``client_id`` (which registered a back-channel logout URI)
        received a code in broker session ``sid``, for its user ``sub``; it is told when the
        session ends. Recorded once per pair, in the caller's transaction."""

    def remember_dpop_proof(self, proof_digest: str, expires_at: int) -> bool:
        """Record a DPoP proof (RFC 9449 §11.1) until ``expires_at``; False if it was already
        recorded (a replay), whichever process recorded it."""

    def journal_identity_release(self, release: IdentityRelease, at: int) -> None:
        """One access journal row saying that the citizen's identity was sent to a service,
        in the caller's transaction: written before the identity leaves, or it does not."""


class ConsentGrants(Protocol):
    """The consent grants tokens stand on, as the token endpoint sees them within one request
    (one database transaction)."""

    def terms(self, grant_id: str | None, now: int) -> GrantTerms | None:
        """None: no such grant. Read under a lock, so that a revocation cannot commit between
        this read and the tokens' insert."""

    def revoke_for_reuse(self, grant_id: str, now: int) -> None:
        """A refresh token came back after its rotation: end the whole grant (RFC 9700
        §4.14.2) and tell its service."""
