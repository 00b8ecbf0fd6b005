"""Client authentication: secrets with their rotation overlap (RFC 6749 §2.3.1), and
private_key_jwt (RFC 7523 §2.2, OpenID Connect Core §9) on authlib's assertion checker.

Keys come from the client's registered JWKS, inline or from its ``jwks_uri``. The remote JWKS
is fetched asynchronously before authlib runs (see ``JwksCache.prefetch``), so the synchronous
grant code never waits on the network."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from broker.core.security import same_digest
from broker.oidc.models import Client

ASSERTION_ALGS = ("ES256", "RS256", "PS256", "EdDSA")
# FAPI 2.0 Security Profile §5.4.1 allows PS256, ES256 and EdDSA; a fapi2 client of ours
# signs its assertions with the two its registration allows.
FAPI2_ASSERTION_ALGS = ("ES256", "PS256")


def secret_matches(
    secret: str,
    current_digest: str | None,
    previous_digest: str | None,
    previous_expires_at: int | None,
    now: float,
) -> bool:
    """The current secret, or the previous one until the end of its rotation overlap (refused
    from ``previous_expires_at`` on). Both digests are always compared, in constant time: the
    answer's timing says nothing of which secret matched or whether a rotation is under way."""
    current = same_digest(secret, current_digest)
    previous = same_digest(secret, previous_digest)
    in_overlap = previous_expires_at is not None and now < previous_expires_at
    return current or (previous and in_overlap)


@dataclass
class RotatingSecretClient(Client):
    """A registered client whose secret may have just been rotated: the previous secret keeps
    authenticating during the overlap its owner chose, so that the service can deploy the new
    one without an outage."""

    previous_secret_digest: str | None = None
    previous_secret_expires_at: int | None = None

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(
            client_secret,
            self.secret_digest,
            self.previous_secret_digest,
            self.previous_secret_expires_at,
            time.time(),
        )


class JwksCache:
    """Remote client JWKS, kept ``ttl`` seconds. An assertion naming a ``kid`` the cached set
    lacks (the client rotated its keys) triggers a re-fetch, at most once per ``min_refresh``
    seconds per URI so that forged kids cannot make us hammer the client.

    ``transport_factory``: a fresh transport for each fetch (the composition root gives the
    outbound guard's, so that a client's ``jwks_uri`` cannot point the broker at an internal
    address); the fetch also ignores the environment's proxy variables."""

    def __init__(
        self,
        ttl: int = 300,
        timeout: float = 3.0,
        min_refresh: int = 30,
        transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self._ttl = ttl
        self._timeout = timeout
        self.min_refresh = min_refresh
        self.transport_factory = transport_factory
        self._entries: dict[str, tuple[float, dict[str, Any]]] = {}

    def get(self, uri: str) -> dict[str, Any] | None:
        entry = self._entries.get(uri)
        if entry and time.monotonic() - entry[0] < self._ttl:
            return entry[1]
        return None

    def _needs_fetch(
        self, uri: str, kid: str | None, usable: Callable[[dict[str, Any]], bool] | None
    ) -> bool:
        entry = self._entries.get(uri)
        if entry is None:
            return True
        age = time.monotonic() - entry[0]
        if age >= self._ttl:
            return True
        if age < self.min_refresh:
            return False
        known = {k.get("kid") for k in entry[1]["keys"] if isinstance(k, dict)}
        if kid is not None and kid not in known:
            return True
        return usable is not None and not usable(entry[1])

    async def prefetch(
        self,
        uri: str,
        kid: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        usable: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """``kid``: the key an assertion names; ``usable``: whether a cached set serves the
        caller (it holds a key to encrypt to): either missing fetches again, at most once per
        ``min_refresh`` seconds."""
        if not self._needs_fetch(uri, kid, usable):
            return
        if transport is None and self.transport_factory is not None:
            transport = self.transport_factory()
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout, transport=transport, trust_env=False
            ) as http:
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

    def __call__(self, query_client, request):
        client = super().__call__(query_client, request)
        if client is not None and client.fapi2:
            self.check_fapi2_assertion(request.form["client_assertion"])
        return client

    def check_fapi2_assertion(self, assertion: str) -> None:
        """FAPI 2.0 §5.3.2.1 (final): the issuer identifier, as a string, is the only audience
        accepted, so that an assertion made for another endpoint or another server cannot be
        replayed here; and only the profile's algorithms, whatever key would verify. Runs after
        the signature was verified: these are the verified header and claims."""
        headers, claims = self.extract_assertion(assertion)
        if headers.get("alg") not in FAPI2_ASSERTION_ALGS:
            raise InvalidClientError(
                description="A FAPI 2.0 client signs its assertions with ES256 or PS256."
            )
        if claims.get("aud") != self.server.config.issuer:
            raise InvalidClientError(
                description="A FAPI 2.0 client's assertion has the issuer identifier, as a "
                "string, for its only audience."
            )

    def get_audiences(self) -> list[str]:
        """RFC 7523 §3 and RFC 9126 §2: the issuer identifier, the token endpoint and the
        pushed authorization request endpoint each name the broker."""
        config = self.server.config
        return [
            config.issuer,
            config.token_endpoint,
            config.pushed_authorization_request_endpoint,
        ]

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
        claims = None
        # An assertion without "kid" is tried against each registered key in turn.
        keys = [resolve_key]
        if isinstance(resolve_key, KeySet) and "kid" not in self.extract_assertion(assertion)[0]:
            keys = list(resolve_key.keys)
        for key in keys:
            try:
                claims = jwt.decode(assertion, key, algorithms=list(ASSERTION_ALGS)).claims
                break
            except (JoseError, ValueError):
                continue
        if claims is None:
            raise InvalidClientError(description="Invalid client assertion.")
        self.verify_claims(claims)
        return claims

    def validate_jti(self, claims, jti) -> bool:
        return self.server.store.remember_assertion_jti(
            str(claims["sub"]), str(jti), int(claims["exp"]) + 60
        )
