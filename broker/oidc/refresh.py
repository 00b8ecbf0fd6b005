"""Refresh tokens (RFC 6749 §6) for recurring consents only, rotated at every use.

A refresh token that comes back after it was rotated has leaked, or its client is confused:
RFC 9700 §4.14.2 asks to revoke the whole grant, which also stops every token issued on it.

Two exceptions. A refresh token bound to a DPoP key (RFC 9449 §5) is used only with a proof made
with that key, checked before anything else (a wrong key proves no reuse and spends nothing),
and its rotations stay bound to it. A FAPI 2.0 client's refresh token is not rotated (FAPI 2.0
Security Profile §5.3.2.1: "shall not use refresh token rotation except in extraordinary
circumstances"): its DPoP binding protects it, and it stays valid until the grant ends."""

from __future__ import annotations

import logging
import time
from typing import ClassVar

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from authlib.oauth2.rfc6749.util import scope_to_list

from broker.core.security import digest
from broker.oidc.dpop_token import check_refresh_binding
from broker.oidc.models import AUTH_METHODS, RefreshTokenRecord
from broker.oidc.resource_indicators import RESOURCE, check_resources
from broker.oidc.scope_checks import check_refresh_scope
from broker.oidc.tokens import TokenSubject, pairwise_subject

log = logging.getLogger("broker.oidc")


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation, but for FAPI 2.0 clients (``issue_token``)

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshTokenRecord | None:
        if not isinstance(refresh_token, str) or len(refresh_token) > 256:
            return None
        now = int(time.time())
        record = self.server.store.get_refresh_token(digest(refresh_token))
        if record is None or record.revoked_at is not None or record.expires_at <= now:
            return None
        if record.client_id != self.request.client.client_id:
            return None  # RFC 6749 §10.4: bound to its client; another's use proves no leak
        check_refresh_binding(record.jkt, self.server.proof)
        if record.used_at is not None:
            self._reused(record, now)
            return None
        terms = self.server.grants.terms(record.grant_id, now)
        if terms is None or not terms.refreshable:
            return None
        # Items the citizen withdrew since are not in the new tokens.
        narrowed = " ".join(s for s in record.scope.split() if s in terms.scopes)
        return RefreshTokenRecord(
            **{
                **record.__dict__,
                "scope": narrowed,
                "expires_at": min(record.expires_at, terms.expires_at or record.expires_at),
            }
        )

    def validate_token_request(self) -> None:
        """authlib's checks, then the resource asked for (RFC 8707 §2.2: one granted at
        authorization, which is always the data API)."""
        super().validate_token_request()
        resources = self.request.payload.datalist.get(RESOURCE, [])
        check_resources(resources, self.server.config.resource_audience)

    def _validate_token_scope(self, token: RefreshTokenRecord) -> None:
        """authlib's hook for RFC 6749 §6, with the scopes refused named."""
        requested = scope_to_list(self.request.payload.scope) or []
        check_refresh_scope(requested, set(token.scope.split()))

    def authenticate_user(self, record: RefreshTokenRecord) -> TokenSubject:
        client = self.request.client
        # The new tokens descend from the same code: a replay of it revokes them too.
        self.request.code_digest = record.code_digest
        return TokenSubject(
            citizen_id=record.citizen_id,
            sub=pairwise_subject(self.server.config, client.sector_identifier, record.citizen_id),
            auth_time=record.auth_time,
            acr=record.acr,
            grant_id=record.grant_id,
            refresh_until=record.expires_at,
            grant_expires_at=record.expires_at,
        )

    def issue_token(self, user: TokenSubject, refresh_token: RefreshTokenRecord):
        # authlib makes one grant instance per request: the flag is this client's choice.
        self.INCLUDE_NEW_REFRESH_TOKEN = rotates(self.request.client)
        return super().issue_token(user, refresh_token)

    def revoke_old_credential(self, record: RefreshTokenRecord) -> None:
        if not rotates(self.request.client):
            return  # kept valid: the client goes on using it
        if not self.server.store.use_refresh_token(record.digest, int(time.time())):
            # Used concurrently by another request: treated as a reuse.
            self._reused(record, int(time.time()))
            raise InvalidGrantError("The refresh token was already used.")

    def _reused(self, record: RefreshTokenRecord, now: int) -> None:
        self.server.grants.revoke_for_reuse(record.grant_id, now)
        log.warning(
            "refresh token reused: grant revoked",
            extra={"client_id": record.client_id, "grant_id": record.grant_id},
        )


def rotates(client) -> bool:
    """Whether the client's refresh tokens are replaced at every use (not a FAPI 2.0 one's)."""
    return not client.fapi2
