"""Signing a citizen in through an upstream provider: the authorization request (PKCE S256,
``state`` bound to the browser, ``nonce``, one redirect URI per provider), then the callback:
``state`` taken once, the provider it was sent to, RFC 9207 ``iss``, the code exchanged
(Authlib's client), the ID token and userinfo checked (joserfc), the identity pivot checked.

Nothing is written here but the pending sign-in: the caller stores the identity in the same
step that opens the session, so a refused answer leaves nothing behind."""

from __future__ import annotations

import hmac
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import httpx

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # authlib nudges towards httpx2; the design card fixes httpx
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import Connection

from broker.core.security import digest, random_token
from broker.identity.base import VerifiedIdentity
from broker.identity.federation.directory import ProviderDirectory, UpstreamUnavailable
from broker.identity.federation.verify import (
    LEEWAY,
    InvalidUpstreamResponse,
    check_id_token,
    decoded,
    unverified_header,
    userinfo_claims,
)
from broker.identity.pivot import PivotRejected, checked_pivot
from broker.store.flowstate import FlowState, UpstreamSignIn
from broker.store.identity_providers import RegisteredProvider, get_provider

SIGN_IN_TTL = 600  # seconds the citizen has at the provider
MAX_STATE = 128
ACR_ORDER = ("eidas1", "eidas2", "eidas3")


class FederationError(Exception):
    """The callback cannot sign anyone in. ``reason`` is stable (it picks the page and goes to
    the logs); ``sign_in`` is the pending sign-in when it was found (to go back to where the
    citizen came from)."""

    def __init__(
        self, reason: str, sign_in: UpstreamSignIn | None = None, detail: str = ""
    ) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.sign_in, self.detail = reason, sign_in, detail


@dataclass(frozen=True)
class FederatedSignIn:
    identity: VerifiedIdentity
    sign_in: UpstreamSignIn
    id_token: str  # the provider's, kept with the session for its end_session_endpoint


def acr_rank(acr: str | None) -> int:
    return ACR_ORDER.index(acr) + 1 if acr in ACR_ORDER else 0


def fresh_auth_time(claims: Mapping[str, Any], fresh_since: int | None) -> int | None:
    """When the provider authenticated the citizen; with ``fresh_since`` (prompt=login or
    max_age was asked), it must say so, and not before then."""
    now = int(time.time())
    auth_time = claims.get("auth_time")
    if not isinstance(auth_time, int) or isinstance(auth_time, bool) or auth_time > now + LEEWAY:
        auth_time = None
    if fresh_since is not None and (auth_time is None or auth_time < fresh_since - LEEWAY):
        raise InvalidUpstreamResponse("the provider did not authenticate the citizen afresh")
    return auth_time


def upstream_parameters(params: Mapping[str, str]) -> dict[str, str]:
    """What of a service's authorization request the provider must see: a fresh
    authentication (``prompt=login``, ``max_age``: otherwise the provider's own session would
    sign the citizen in again silently) and ``login_hint``. ``prompt=select_account`` is a
    fresh authentication too: the choice page offers another provider, and the provider's
    login form another account there (providers need not support select_account)."""
    passed: dict[str, str] = {}
    if {"login", "select_account"} & set((params.get("prompt") or "").split()):
        passed["prompt"] = "login"
    max_age = params.get("max_age") or ""
    if max_age.isascii() and max_age.isdigit() and len(max_age) <= 9:
        passed["max_age"] = max_age
    hint = params.get("login_hint") or ""
    if 0 < len(hint) <= 255:
        passed["login_hint"] = hint
    return passed


def redirect_uri(issuer: str, provider_id: str) -> str:
    return f"{issuer}/federation/{provider_id}/callback"


class Federation:
    def __init__(
        self,
        issuer: str,
        flow_state: FlowState,
        directory: ProviderDirectory,
        transport: httpx.AsyncBaseTransport,
        timeout: httpx.Timeout,
        client_secret: Callable[[RegisteredProvider], str],
        client_key: Callable[[], ECKey | RSAKey],
    ) -> None:
        self.issuer = issuer
        self.flow_state = flow_state
        self.directory = directory
        self.transport = transport
        self.timeout = timeout
        self.client_secret = client_secret
        self.client_key = client_key
        self.clients: dict[str, tuple[tuple[Any, ...], AsyncOAuth2Client]] = {}

    def oauth_client(self, provider: RegisteredProvider, metadata: Mapping[str, Any]):
        """Authlib's client for ``provider``, on the shared connections. Kept while the
        provider's registration (and the broker's key, for private_key_jwt) stays the same:
        building one costs more than a request. It holds no per-flow state: every call passes
        its own state, verifier and token."""
        private_key = provider.auth_method == "private_key_jwt"
        key = self.client_key() if private_key else None
        fingerprint = (
            provider.client_id,
            provider.auth_method,
            provider.scopes,
            provider.client_secret_sealed,
            key.kid if key is not None else None,
            metadata["token_endpoint"],
        )
        cached = self.clients.get(provider.id)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        client = AsyncOAuth2Client(
            client_id=provider.client_id,
            client_secret=key if key is not None else self.client_secret(provider),
            scope=provider.scopes,
            redirect_uri=redirect_uri(self.issuer, provider.id),
            token_endpoint_auth_method=provider.auth_method,
            code_challenge_method="S256",
            transport=self.transport,
            timeout=self.timeout,
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment would connect past the guard
        )
        # Shared by every flow through this provider: it must keep nothing of one flow for
        # the next, so it takes no cookies (and its token is never read: each call names its
        # own).
        client.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        if key is not None:
            # The kid lets the provider pick our key among those it read at ISSUER/jwks.
            client.register_client_auth_method(
                PrivateKeyJWT(
                    metadata["token_endpoint"], headers={"kid": key.kid}, alg=key.alg or "ES256"
                )
            )
        self.clients[provider.id] = (fingerprint, client)
        return client

    # -- the way out -------------------------------------------------------------------------
    async def authorization_url(
        self,
        provider: RegisteredProvider,
        browser_id: str,
        interaction_id: str | None,
        min_acr: int,
        passed_on: Mapping[str, str],
        save: Callable[[Callable[[Connection], None]], Any],
    ) -> str:
        """Where to send the citizen; the pending sign-in is saved through ``save`` (the
        caller's database step). ``passed_on``: what the service asked that the provider must
        know (``upstream_parameters``). UpstreamUnavailable if the provider's discovery
        fails."""
        metadata = await self.directory.metadata(provider.issuer)
        state, nonce, verifier = random_token(32), random_token(32), random_token(48)
        now = int(time.time())
        fresh_since = None
        if "max_age" in passed_on:
            fresh_since = now - int(passed_on["max_age"])
        if passed_on.get("prompt") == "login":
            fresh_since = now
        sign_in = UpstreamSignIn(
            idp_id=provider.id,
            browser_digest=digest(browser_id),
            nonce=nonce,
            code_verifier=verifier,
            interaction_id=interaction_id,
            expires_at=now + SIGN_IN_TTL,
            fresh_since=fresh_since,
        )
        await save(lambda conn: self.flow_state.on(conn).save_upstream(digest(state), sign_in))
        extra: dict[str, str] = {**passed_on, "nonce": nonce}
        wanted = [acr for acr in provider.acr_values if acr_rank(acr) >= min_acr]
        extra["acr_values"] = " ".join(wanted or provider.acr_values)
        if provider.kind == "franceconnect_v2":
            extra["prompt"] = "login consent"  # FranceConnect's profile asks for both
        client = self.oauth_client(provider, metadata)
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, code_verifier=verifier, **extra
        )
        return str(url)

    # -- the way back ------------------------------------------------------------------------
    def take(self, conn: Connection, params: Mapping[str, str]) -> UpstreamSignIn | None:
        """The pending sign-in the callback's ``state`` names, used up."""
        state = params.get("state") or ""
        if not 0 < len(state) <= MAX_STATE:
            return None
        return self.flow_state.on(conn).take_upstream(digest(state))

    def check_callback(
        self,
        conn: Connection,
        provider_id: str,
        sign_in: UpstreamSignIn | None,
        browser_id: str | None,
        now: int,
    ) -> RegisteredProvider:
        """The provider the callback may be from, or FederationError."""
        if sign_in is None:
            raise FederationError("unknown_state")
        if sign_in.idp_id != provider_id:
            # The answer came to another provider's redirect URI: a mix-up (RFC 9700 §4.4).
            raise FederationError("mix_up", sign_in, f"sent to {sign_in.idp_id}")
        if not browser_id or not hmac.compare_digest(digest(browser_id), sign_in.browser_digest):
            raise FederationError("wrong_browser", sign_in)
        if sign_in.expires_at <= now:
            raise FederationError("expired", sign_in)
        provider = get_provider(conn, provider_id)
        if provider is None or not provider.enabled:
            raise FederationError("provider_disabled", sign_in)
        return provider

    async def finish(
        self, provider: RegisteredProvider, sign_in: UpstreamSignIn, params: Mapping[str, str]
    ) -> FederatedSignIn:
        """The verified identity from the provider's answer, or FederationError."""
        try:
            metadata = await self.directory.metadata(provider.issuer)
        except UpstreamUnavailable as exc:
            raise FederationError("unreachable", sign_in, str(exc)) from exc
        issuer = params.get("iss")
        if issuer is not None and issuer != provider.issuer:
            raise FederationError("mix_up", sign_in, "iss names another provider")
        if issuer is None and metadata.get("authorization_response_iss_parameter_supported"):
            raise FederationError("mix_up", sign_in, "iss missing (RFC 9207)")
        if params.get("error"):
            reason = "access_denied" if params["error"] == "access_denied" else "provider_error"
            raise FederationError(reason, sign_in, params["error"][:100])
        if not params.get("code"):
            raise FederationError("provider_error", sign_in, "no code")
        try:
            return await self.exchange(provider, metadata, sign_in, params["code"])
        except (httpx.TimeoutException, httpx.TransportError, UpstreamUnavailable) as exc:
            raise FederationError("unreachable", sign_in, type(exc).__name__) from exc
        except httpx.HTTPStatusError as exc:
            raise FederationError("unreachable", sign_in, str(exc.response.status_code)) from exc
        except OAuthError as exc:
            raise FederationError("provider_error", sign_in, str(exc.error)[:100]) from exc
        except (
            InvalidUpstreamResponse,
            httpx.HTTPError,
            ValueError,
            TypeError,
            KeyError,
            RecursionError,
        ) as exc:
            # Anything else the provider's answer makes our parsers trip on: not trusted.
            raise FederationError("invalid_response", sign_in, str(exc)[:300]) from exc
        except PivotRejected as exc:
            raise FederationError("incomplete_identity", sign_in, str(exc)) from exc

    async def exchange(
        self,
        provider: RegisteredProvider,
        metadata: Mapping[str, Any],
        sign_in: UpstreamSignIn,
        code: str,
    ) -> FederatedSignIn:
        client = self.oauth_client(provider, metadata)
        token = await client.fetch_token(
            metadata["token_endpoint"], code=code, code_verifier=sign_in.code_verifier
        )
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise InvalidUpstreamResponse("no ID token")
        algorithms = list(provider.id_token_algs)
        keys = await self.directory.keys(provider.issuer, unverified_header(id_token).get("kid"))
        claims = check_id_token(
            decoded(id_token, keys, algorithms),
            provider.issuer,
            provider.client_id,
            sign_in.nonce,
            int(time.time()),
        )
        acr = claims.get("acr") if isinstance(claims.get("acr"), str) else None
        if acr is None and len(provider.acr_values) == 1:
            acr = provider.acr_values[0]  # unstated, but it can reach one level only
        if acr not in provider.acr_values:
            raise InvalidUpstreamResponse(f"acr {acr!r} is not one this provider may reach")
        auth_time = fresh_auth_time(claims, sign_in.fresh_since)
        identity_claims = dict(claims)
        if metadata.get("userinfo_endpoint"):
            userinfo = await self.userinfo(client, token, provider, metadata, algorithms)
            # OpenID Connect Core §5.3.2: userinfo names its subject, the ID token's.
            if userinfo.get("sub") != claims["sub"]:
                raise InvalidUpstreamResponse("userinfo sub missing or not the ID token's")
            identity_claims.update(userinfo)
        elif provider.signed_userinfo:
            raise InvalidUpstreamResponse("a signed userinfo is required, and there is none")
        amr = claims.get("amr")
        return FederatedSignIn(
            identity=VerifiedIdentity(
                idp=provider.id,
                subject=claims["sub"],
                pivot=checked_pivot(identity_claims),
                acr=acr,
                amr=tuple(a for a in amr if isinstance(a, str))[:5]
                if isinstance(amr, list)
                else ("fed",),
                auth_time=auth_time,
            ),
            sign_in=sign_in,
            id_token=id_token,
        )

    async def userinfo(
        self,
        client: AsyncOAuth2Client,
        token: Mapping[str, Any],
        provider: RegisteredProvider,
        metadata: Mapping[str, Any],
        algorithms: list[str],
    ) -> dict[str, Any]:
        """Fetched with the access token the exchange gave."""
        access_token = token.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise InvalidUpstreamResponse("no access token for userinfo")
        # The token is sent as is: Authlib would refuse one that expires within its leeway,
        # and FranceConnect's live 60 seconds.
        response = await client.request(
            "GET",
            metadata["userinfo_endpoint"],
            headers={
                "Accept": "application/jwt, application/json",
                "Authorization": f"Bearer {access_token}",
            },
            withhold_token=True,
        )
        response.raise_for_status()
        content_type = response.headers.get("content-type", "")
        keys = None
        if content_type.lower().startswith("application/jwt"):
            kid = unverified_header(response.text.strip()).get("kid")
            keys = await self.directory.keys(provider.issuer, kid)
        return userinfo_claims(
            content_type,
            response.content,
            keys,
            algorithms,
            provider.issuer,
            provider.client_id,
            provider.signed_userinfo,
        )
