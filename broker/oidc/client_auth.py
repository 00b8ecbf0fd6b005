"""private_key_jwt (RFC 7523 §2.2, OpenID Connect Core §9) on authlib's assertion checker.

Keys come from the client's registered JWKS, inline or from its ``jwks_uri``. The remote JWKS
is fetched asynchronously before authlib runs (see ``JwksCache.prefetch``), so the synchronous
grant code never waits on the network."""

from __future__ import annotations

import time
from typing import Any

import httpx
from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

ASSERTION_ALGS = ("ES256", "RS256", "PS256", "EdDSA")


class JwksCache:
    def __init__(self, ttl: int = 300, timeout: float = 3.0) -> None:
        self._ttl = ttl
        self._timeout = timeout
        self._entries: dict[str, tuple[float, dict[str, Any]]] = {}

    def get(self, uri: str) -> dict[str, Any] | None:
        entry = self._entries.get(uri)
        if entry and time.monotonic() - entry[0] < self._ttl:
            return entry[1]
        return None

    async def prefetch(self, uri: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        if self.get(uri) is not None:
            return
        try:
            async with httpx.AsyncClient(timeout=self._timeout, transport=transport) as http:
                response = await http.get(uri, headers={"Accept": "application/json"})
                response.raise_for_status()
                jwks = response.json()
        except (httpx.HTTPError, ValueError):
            return  # authentication then fails with invalid_client, which is the right answer
        if isinstance(jwks, dict) and isinstance(jwks.get("keys"), list):
            self._entries[uri] = (time.monotonic(), jwks)


class PrivateKeyJwtAuthentication(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, server, jwks_cache: JwksCache) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self.server = server
        self.jwks_cache = jwks_cache

    def get_audiences(self) -> list[str]:
        config = self.server.config
        return [config.issuer, config.token_endpoint]

    def resolve_client_public_key(self, client) -> KeySet:
        jwks = client.jwks
        if jwks is None and client.jwks_uri:
            jwks = self.jwks_cache.get(client.jwks_uri)
        if not jwks:
            raise InvalidClientError(description="No usable key is registered for this client.")
        try:
            return KeySet.import_key_set(jwks)
        except Exception as exc:  # a malformed registered JWKS is the client's fault
            raise InvalidClientError(description="The client's JWKS cannot be read.") from exc

    def process_assertion_claims(self, assertion, resolve_key):
        try:
            claims = jwt.decode(assertion, resolve_key, algorithms=list(ASSERTION_ALGS)).claims
        except (JoseError, ValueError) as exc:
            raise InvalidClientError(description="Invalid client assertion.") from exc
        self.verify_claims(claims)
        return claims

    def validate_jti(self, claims, jti) -> bool:
        return self.server.store.remember_assertion_jti(
            str(claims["sub"]), str(jti), int(claims["exp"]) + 60
        )
