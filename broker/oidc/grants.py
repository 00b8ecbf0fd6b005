"""authlib's authorization code grant, configured for our profile: codes stored as digests,
single use and short-lived, replay revokes what the code produced; PKCE S256 for every client;
ID tokens signed by the broker's current keys."""

from __future__ import annotations

import logging
import time
from typing import ClassVar

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode
from authlib.oidc.core.grants.util import is_openid_scope

from broker.core.security import digest, random_token
from broker.oidc.encryption import id_token_encryption
from broker.oidc.logout_token import client_sid
from broker.oidc.models import AUTH_METHODS, AuthorizationCode
from broker.oidc.resource_indicators import RESOURCE, check_resources
from broker.oidc.scope_checks import check_requested_scopes
from broker.oidc.tokens import TokenSubject, pairwise_subject

log = logging.getLogger("broker.oidc")
FAPI2_CODE_TTL = 60  # FAPI 2.0 Security Profile §5.3.2.1: codes live at most a minute


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)
    # The code record the token request named, once found (one grant object per request).
    _presented: AuthorizationCode | None = None

    def generate_authorization_code(self) -> str:
        # 256 bits from the OS in one call (authlib draws one character at a time).
        return random_token(32)

    def save_authorization_code(self, code: str, request) -> None:
        now = int(time.time())
        auth, client, store = request.user, request.client, self.server.store
        config = self.server.config
        ttl = config.code_ttl
        if client.fapi2:
            ttl = min(ttl, FAPI2_CODE_TTL)
        store.save_code(
            AuthorizationCode(
                code_digest=digest(code),
                client_id=client.client_id,
                citizen_id=auth.citizen_id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.granted_scope or request.scope,
                nonce=request.payload.data.get("nonce"),
                code_challenge=request.payload.data.get("code_challenge"),
                code_challenge_method=request.payload.data.get("code_challenge_method"),
                auth_time=auth.auth_time,
                acr=auth.acr,
                amr=list(auth.amr),
                grant_id=request.grant_id,
                idp=auth.idp,
                expires_at=now + ttl,
                sid=auth.sid,
                dpop_jkt=request.payload.data.get("dpop_jkt"),
            ),
            created_at=now,
        )
        if auth.sid and client.backchannel_logout_uri:
            # Back-Channel Logout §2.3: told when this session ends. Only services with a
            # back-channel URI cost a write here.
            sub = pairwise_subject(config, client.sector_identifier, auth.citizen_id)
            store.add_logout_participant(auth.sid, client.client_id, sub, now)

    def query_authorization_code(self, code: str, client) -> AuthorizationCode | None:
        store = self.server.store
        now = int(time.time())
        record = store.get_code(digest(code))
        if record is None:
            return None
        if record.client_id != client.client_id:
            # Another client holds this code: it leaked. Burnt, the legitimate client restarts.
            if record.consumed_at is None:
                self._burn(record, "code issued to another client", now)
            return None
        if record.consumed_at is not None:
            self._replayed(record, now)
            return None
        if record.expires_at <= now:
            return None
        self._presented = record
        return record

    def validate_requested_scope(self) -> None:
        """In place of authlib's bare ``invalid_scope``: which scope, and why (unknown, or not
        registered for this client). Runs once the client is known."""
        requested = list(dict.fromkeys(scope_to_list(self.request.payload.scope) or []))
        check_requested_scopes(requested, self.server.scopes_supported, self.request.client)

    def validate_token_request(self) -> None:
        """authlib's checks (redirect URI, then PKCE in a hook), then the resource asked for
        (RFC 8707 §2.2). Any failed redemption of a code consumes it (a code is single use,
        and a failure is a use): a verifier or a redirect URI cannot be guessed by retrying,
        and the legitimate client starts again. It revokes nothing: only a replay of a code
        that was redeemed does."""
        try:
            super().validate_token_request()
            resources = self.request.payload.datalist.get(RESOURCE, [])
            check_resources(resources, self.server.config.resource_audience)
        except OAuth2Error as error:
            if self._presented is not None:
                reason = error.description or error.error or "invalid_request"
                self._burn(self._presented, reason, int(time.time()))
            raise

    def authenticate_user(self, authorization_code: AuthorizationCode) -> TokenSubject:
        # Claimed here, after every check, so that concurrent redemptions cannot both succeed.
        now = int(time.time())
        if not self.server.store.consume_code(authorization_code.code_digest, now):
            self._replayed(authorization_code, now)
            raise InvalidGrantError("Invalid 'code' in request.")
        self.request.code_digest = authorization_code.code_digest
        client = self.request.client
        terms = self.server.grants.terms(authorization_code.grant_id, now)
        if authorization_code.grant_id is not None and (terms is None or not terms.active):
            # Revoked (or expired) between the approval and the token request.
            raise InvalidGrantError("The consent behind this code is no longer active.")
        if terms is not None:
            # Items withdrawn since the code was issued are not in its tokens.
            authorization_code.scope = " ".join(
                s for s in authorization_code.scope.split() if s in terms.scopes
            )
        return TokenSubject(
            citizen_id=authorization_code.citizen_id,
            sub=pairwise_subject(
                self.server.config, client.sector_identifier, authorization_code.citizen_id
            ),
            auth_time=authorization_code.auth_time,
            acr=authorization_code.acr,
            idp=authorization_code.idp,
            grant_id=authorization_code.grant_id,
            refresh_until=terms.expires_at if terms is not None and terms.refreshable else None,
            grant_expires_at=terms.expires_at if terms is not None else None,
            # The ID token names the session as this service's sector sees it (client_sid).
            sid=client_sid(
                self.server.config.pairwise_key, client.sector_identifier, authorization_code.sid
            )
            if authorization_code.sid
            else None,
        )

    def _replayed(self, code: AuthorizationCode, now: int) -> None:
        """RFC 6749 §4.1.2: a code used twice revokes the tokens it produced."""
        revoked = self.server.store.revoke_tokens_from_code(code.code_digest, now)
        log.warning(
            "authorization code replayed",
            extra={"client_id": code.client_id, "tokens_revoked": revoked},
        )

    def _burn(self, code: AuthorizationCode, reason: str, now: int) -> None:
        self._presented = None
        if self.server.store.consume_code(code.code_digest, now):
            log.warning(
                "authorization code consumed by a failed redemption",
                extra={"client_id": code.client_id, "reason": reason},
            )

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Kept (consumed) until purged, so that a replay is recognised."""


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only, required from every client, confidential ones included."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE is required.")
        # RFC 7636 §4.3: an absent method means "plain", which we refuse.
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result) -> None:
        request = grant.request
        challenge = self.get_authorization_code_challenge(request.authorization_code)
        verifier = request.form.get("code_verifier")
        if challenge and not verifier:
            raise InvalidRequestError("Missing 'code_verifier'")
        if not challenge and not verifier:
            # authlib would let a code without a challenge through: every code needs PKCE.
            raise InvalidGrantError("The code was not issued with PKCE.")
        super().validate_code_verifier(grant, result)


class BrokerOpenIDCode(OpenIDCode):
    def __init__(self, server) -> None:
        super().__init__(require_nonce=False)
        self.server = server

    def __call__(self, grant) -> None:
        super().__call__(grant)
        grant.register_hook("after_validate_token_request", self.prepare_encryption)

    def prepare_encryption(self, grant, result) -> None:
        """Before the code is redeemed: a client whose ID tokens must be encrypted and that
        publishes no key to encrypt them to gets invalid_client, not tokens it cannot read
        (the code is consumed, as by any failed redemption)."""
        request = grant.request
        request.id_token_encryption = None
        if is_openid_scope(request.authorization_code.get_scope()):
            request.id_token_encryption = id_token_encryption(
                request.client, self.server.jwks_cache
            )

    def process_token(self, grant, response) -> dict:
        """The signed ID token, then encrypted to the client's key when it registered so
        (Core §10.2: a nested JWT)."""
        token = super().process_token(grant, response)
        encryption = getattr(grant.request, "id_token_encryption", None)
        if encryption is not None and "id_token" in token:
            token["id_token"] = encryption.seal(token["id_token"])
        return token

    def exists_nonce(self, nonce: str, request) -> bool:
        return False

    def get_client_algorithm(self, client) -> str:
        return client.id_token_signed_response_alg

    def resolve_client_private_key(self, client):
        return self.server.keys.signing_key(client.id_token_signed_response_alg)

    def get_encode_header(self, client) -> dict:
        key = self.resolve_client_private_key(client)
        return {"alg": key.alg, "kid": key.kid, "typ": "JWT"}

    def get_client_claims(self, client) -> dict:
        now = int(time.time())
        config = self.server.config
        return {
            "iss": config.issuer,
            "aud": [client.client_id],
            "iat": now,
            "exp": now + config.id_token_ttl,
        }

    def generate_user_info(self, user: TokenSubject, scope: str) -> dict:
        # Identity claims go to /userinfo only; the ID token carries the subject, and names the
        # identity provider the citizen signed in through (as FranceConnect's ``idp_id``), and
        # the broker session it was issued in (``sid``, for back-channel logout).
        claims = {"sub": user.sub}
        if user.idp:
            claims["idp"] = user.idp
        if user.sid:
            claims["sid"] = user.sid
        return claims
