"""Our authlib AuthorizationServer: one instance per request, bound to that request's store."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationServer, InvalidClientError, OAuth2Error
from authlib.oauth2.rfc6749.util import scope_to_list

from broker.core.security import digest, random_token
from broker.keys.keystore import KeyStore
from broker.oidc.client_auth import JwksCache, PrivateKeyJwtAuthentication
from broker.oidc.client_auth_failures import UNREADABLE_CREDENTIALS, explain
from broker.oidc.config import OidcConfig
from broker.oidc.dpop import DpopProof
from broker.oidc.dpop_nonce import DpopNonces
from broker.oidc.dpop_token import (
    NONCE_HEADER,
    admit_client,
    dpop_code_binding,
    issuer_nonces,
    token_request_proof,
)
from broker.oidc.grants import BrokerOpenIDCode, CodeGrant, S256CodeChallenge
from broker.oidc.ports import ConsentGrants, OidcStore
from broker.oidc.refresh import RefreshGrant
from broker.oidc.request import BrokerOAuth2Request, HttpRequestData
from broker.oidc.tokens import IssuedAccessToken, TokenSubject, issue_access_token


@dataclass
class ProtocolResponse:
    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def location(self) -> str | None:
        return next((v for k, v in self.headers if k.lower() == "location"), None)

    @location.setter
    def location(self, value: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != "location"]
        self.headers.append(("Location", value))


class BrokerServer(AuthorizationServer):
    def __init__(
        self,
        config: OidcConfig,
        store: OidcStore,
        keys: KeyStore,
        jwks_cache: JwksCache,
        scopes_supported: list[str],
        grants: ConsentGrants,
        dpop_nonces: DpopNonces | None = None,
    ) -> None:
        """``dpop_nonces``: the nonces the broker requires (RFC 9449 §8), built once at startup
        (``FlowContext``) so that a bad key fails there; derived from ``config`` if not given."""
        super().__init__(scopes_supported=scopes_supported)
        self.config = config
        self.dpop_nonces = dpop_nonces if dpop_nonces is not None else issuer_nonces(config)
        self.store = store
        self.keys = keys
        self.grants = grants
        self.jwks_cache = jwks_cache  # read (never fetched) for encrypted ID tokens
        self.issued: list[IssuedAccessToken] = []
        self.proof: DpopProof | None = None  # the token request's DPoP proof, once checked
        self.register_grant(
            CodeGrant,
            [S256CodeChallenge(required=True), BrokerOpenIDCode(self), dpop_code_binding],
        )
        self.register_grant(RefreshGrant)
        self.register_client_auth_method(
            PrivateKeyJwtAuthentication.CLIENT_AUTH_METHOD,
            PrivateKeyJwtAuthentication(self, jwks_cache),
        )
        self.register_token_generator("default", self._generate_token)

    def query_client(self, client_id: str):
        return self.store.get_client(client_id)

    def authenticate_client(self, request, methods, endpoint="token"):
        """authlib's client authentication, its failures told plainly (``explain``)."""
        try:
            return super().authenticate_client(request, methods, endpoint)
        except (InvalidClientError, *UNREADABLE_CREDENTIALS) as error:
            audiences = [
                self.config.issuer,
                self.config.token_endpoint,
                self.config.pushed_authorization_request_endpoint,
            ]
            raise explain(
                request, error, methods, self.query_client, assertion_audiences=audiences
            ) from error

    def create_oauth2_request(self, request) -> BrokerOAuth2Request:
        if isinstance(request, BrokerOAuth2Request):
            return request
        assert isinstance(request, HttpRequestData)
        return BrokerOAuth2Request(request, self.config.allow_insecure_transport)

    def handle_response(self, status, body, headers) -> ProtocolResponse:
        return ProtocolResponse(status, body, list(headers))

    def create_token_response(self, request=None) -> ProtocolResponse:
        """authlib's token endpoint, with DPoP (RFC 9449 §5): a proof is checked before
        anything else, so that a bad one consumes no code and no refresh token."""
        request = self.create_oauth2_request(request)
        try:
            self.proof = token_request_proof(
                self.config, request, int(time.time()), self.dpop_nonces
            )
        except OAuth2Error as error:
            response = self.handle_error_response(request, error)
        else:
            response = super().create_token_response(request)
        return self.with_dpop_nonce(response)

    def with_dpop_nonce(self, response: ProtocolResponse) -> ProtocolResponse:
        """RFC 9449 §8.2: when nonces are required, every answer carries the one to use next."""
        nonces = self.dpop_nonces
        if nonces is not None and not any(k == NONCE_HEADER for k, _ in response.headers):
            response.headers.append((NONCE_HEADER, nonces.current(int(time.time()))))
        return response

    def send_signal(self, name, *args, **kwargs) -> None:
        """No signal bus: structured logs cover what signals would. One signal is a hook:
        right after a token request's client authentication, before its code or refresh
        token is looked at, the DPoP requirements of the client are enforced."""
        if name == "after_authenticate_client":
            admit_client(self.store, kwargs["client"], self.proof)

    def _generate_token(
        self,
        grant_type,
        client,
        user: TokenSubject,
        scope,
        expires_in=None,
        include_refresh_token=False,
    ) -> dict[str, Any]:
        ttl = expires_in or client.access_token_ttl
        if user.grant_expires_at is not None:
            ttl = max(1, min(ttl, user.grant_expires_at - int(time.time())))
        jkt = self.proof.jkt if self.proof is not None else None
        issued = issue_access_token(
            self.config, self.keys.signing_key(), client, user, scope, ttl=ttl, jkt=jkt
        )
        self.issued.append(issued)
        token = {
            "token_type": "DPoP" if jkt else "Bearer",
            "access_token": issued.token,
            "expires_in": issued.record.expires_at - issued.issued_at,
            "scope": scope,
        }
        if user.grant_id:
            token["consent_id"] = user.grant_id  # names the consent in back-channel events
        if include_refresh_token and refreshable(user, issued.issued_at):
            token["refresh_token"] = random_token(32)
        return token

    def save_token(self, token: dict[str, Any], request: BrokerOAuth2Request) -> None:
        issued = self.issued[-1]
        user: TokenSubject = request.user
        self.store.save_access_token(
            issued.record,
            issued.issued_at,
            code_digest=request.code_digest,
            grant_id=user.grant_id,
        )
        if "refresh_token" in token and user.grant_id and user.refresh_until:
            # RFC 6749 §6: a refresh token asked for a narrower scope keeps its own scope.
            # RFC 9449 §5: a chain keeps the DPoP binding it started with.
            previous = getattr(request, "refresh_token", None)
            if previous is not None:
                jkt = previous.jkt
            else:
                jkt = self.proof.jkt if self.proof is not None else None
            self.store.save_refresh_token(
                digest(token["refresh_token"]),
                grant_id=user.grant_id,
                client_id=issued.record.client_id,
                citizen_id=user.citizen_id,
                scope=previous.scope if previous is not None else issued.record.scope,
                auth_time=user.auth_time,
                acr=user.acr,
                issued_at=issued.issued_at,
                expires_at=user.refresh_until,
                code_digest=request.code_digest,
                jkt=jkt,
            )


def refreshable(user: TokenSubject, now: int) -> bool:
    """Refresh tokens only for a recurring consent, and never beyond its expiry."""
    return bool(user.grant_id and user.refresh_until and user.refresh_until > now)


def split_scope(scope: str | None) -> list[str]:
    return list(dict.fromkeys(scope_to_list(scope) or []))
