"""What the broker knows of each upstream provider's own publications: its discovery
document (fetched, checked and cached) and its JWKS (cached, fetched again when a token names
a key it does not hold, at most every ``REFRESH_AT_MOST`` seconds)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from broker.core.outbound.policy import OutboundPolicy, OutboundRefused

METADATA_TTL = 3600
JWKS_TTL = 3600
REFRESH_AT_MOST = 5.0  # seconds between two fetches forced by unknown key ids
REQUIRED = ("authorization_endpoint", "token_endpoint", "jwks_uri")
FETCHED = ("token_endpoint", "jwks_uri", "userinfo_endpoint")  # the broker calls these itself
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class UpstreamUnavailable(Exception):
    """The provider did not answer in time, or not as a provider answers."""


@dataclass
class Cached:
    value: Any
    fetched_at: float


def endpoint_ok(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)


class ProviderDirectory:
    """``policy``: the outbound rule the endpoints the broker calls itself must meet, so that
    a discovery document naming an internal address is refused as a whole, with its reason
    (the connection guard under ``http`` would refuse each call anyway)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        refresh_at_most: float = REFRESH_AT_MOST,
        policy: OutboundPolicy | None = None,
    ) -> None:
        self.http = http
        self.policy = policy
        # A token naming a key we do not hold makes us fetch the JWKS again, but not more
        # often than this: random key ids cannot turn the broker against the provider.
        self.refresh_at_most = refresh_at_most
        self.metadata_cache: dict[str, Cached] = {}
        self.jwks_cache: dict[str, Cached] = {}

    async def fetch_json(self, url: str) -> Any:
        try:
            response = await self.http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(f"{url}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise UpstreamUnavailable(f"{url}: HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise UpstreamUnavailable(f"{url}: not JSON") from exc

    async def metadata(self, issuer: str) -> dict[str, Any]:
        cached = self.metadata_cache.get(issuer)
        if cached and time.monotonic() - cached.fetched_at < METADATA_TTL:
            return cached.value
        # OpenID Connect Discovery §4: a terminating "/" of the issuer is removed before the
        # well-known path is appended; the document must name the issuer exactly.
        document = await self.fetch_json(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
        if not isinstance(document, dict) or document.get("issuer") != issuer:
            # OpenID Connect Discovery §4.3: the issuer must be exactly the one configured.
            raise UpstreamUnavailable(f"{issuer}: discovery names another issuer")
        if not all(endpoint_ok(document.get(name)) for name in REQUIRED):
            raise UpstreamUnavailable(f"{issuer}: discovery lacks an endpoint")
        if "userinfo_endpoint" in document and not endpoint_ok(document["userinfo_endpoint"]):
            raise UpstreamUnavailable(f"{issuer}: bad userinfo endpoint")
        self.check_fetched(issuer, document)
        self.metadata_cache[issuer] = Cached(document, time.monotonic())
        return document

    def check_fetched(self, issuer: str, document: dict[str, Any]) -> None:
        if self.policy is None:
            return
        for name in FETCHED:
            if name not in document:
                continue
            try:
                self.policy.check_url(document[name])
            except OutboundRefused as exc:
                raise UpstreamUnavailable(f"{issuer}: {name} refused: {exc}") from exc

    async def keys(self, issuer: str, kid: str | None) -> KeySet:
        """The provider's keys; fetched again if ``kid`` is not among them (a rotation)."""
        cached = self.jwks_cache.get(issuer)
        now = time.monotonic()
        if cached is not None:
            known = kid is None or any(key.kid == kid for key in cached.value.keys)
            fresh = now - cached.fetched_at < JWKS_TTL
            if (known and fresh) or now - cached.fetched_at < self.refresh_at_most:
                return cached.value
        metadata = await self.metadata(issuer)
        document = await self.fetch_json(metadata["jwks_uri"])
        try:
            key_set = KeySet.import_key_set(document)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise UpstreamUnavailable(f"{issuer}: unreadable JWKS") from exc
        self.jwks_cache[issuer] = Cached(key_set, now)
        return key_set

    def forget(self, issuer: str) -> None:
        self.metadata_cache.pop(issuer, None)
        self.jwks_cache.pop(issuer, None)
