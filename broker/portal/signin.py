"""Agents sign in through the agents' identity provider (ProConnect in France; the demo agents'
provider in development), over OpenID Connect's code flow:

1. :meth:`AgentSignIn.start`: discovery of the issuer, a fresh ``state``, ``nonce`` and PKCE
   S256 verifier kept in a short-lived cookie signed (HMAC) by the portal, bound to this
   browser (broker.portal.signin_state);
2. :meth:`AgentSignIn.finish`: the callback's ``state`` must be the cookie's (and not already
   answered in this process; the code itself is single-use at the provider), its ``iss`` the
   provider's (RFC 9207, against mix-up); the code is exchanged with the client secret
   (client_secret_basic); the ID token is verified (signature with the provider's JWKS,
   issuer, audience, nonce, lifetime); userinfo gives the agent's email, names, SIRET and
   organisation (ProConnect's claims, broker.portal.signin_claims).

No password ever reaches the portal. Every failure is a :class:`SignInFailed` naming its
reason, which the pages turn into a readable page."""

from __future__ import annotations

import hmac
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

from broker.admin.agents import Identity
from broker.core.security import random_token
from broker.identity.federation.directory import (
    Cached,
    ProviderDirectory,
    UpstreamUnavailable,
)
from broker.identity.federation.verify import (
    InvalidUpstreamResponse,
    check_id_token,
    decoded,
    unverified_header,
    userinfo_claims,
)
from broker.portal.signin_claims import identity_of
from broker.portal.signin_state import (
    MAX_STATE,
    SIGN_IN_COOKIE,
    SIGN_IN_TTL,
    PendingSignIn,
    SignedCookie,
    SignInFailed,
    UsedStates,
    local_path,
)

CALLBACK_PATH = "/connexion/retour"
SIGNED_OUT_PATH = "/deconnexion/terminee"
SCOPES = "openid email given_name usual_name siret organizational_unit"
ID_TOKEN_ALGS = ["ES256", "RS256", "PS256"]


@dataclass(frozen=True)
class Connections:
    """One sign-in step's connections to the provider."""

    http: httpx.AsyncClient
    oauth: AsyncOAuth2Client
    directory: ProviderDirectory


@dataclass(frozen=True)
class SignedInAgent:
    identity: Identity
    id_token: str  # kept with the session: the hint of the provider's end-session request


class AgentSignIn:
    """The portal's client side towards the agents' provider. Each sign-in step opens its own
    connections (a person signs in a few times a day: a new connection costs nothing next to
    their typing), so that nothing ties this object to one event loop; the provider's
    discovery document and keys are cached across steps."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        portal_url: str,
        cookie_key: bytes,
        timeout: float,
        verify: Any = True,
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.client_secret = client_secret
        self.portal_url = portal_url
        self.cookies = SignedCookie(cookie_key)
        self.timeout = httpx.Timeout(timeout, connect=min(2.0, timeout))
        self.verify = verify
        # The provider's documents, fetched again when stale (see ProviderDirectory).
        self.metadata_cache: dict[str, Cached] = {}
        self.jwks_cache: dict[str, Cached] = {}
        self.used_states = UsedStates()

    @asynccontextmanager
    async def connections(self) -> AsyncIterator[Connections]:
        """Bounded waits, no redirect followed, no proxy from the environment."""
        options: dict[str, Any] = {
            "timeout": self.timeout,
            "follow_redirects": False,
            "trust_env": False,
            "verify": self.verify,
        }
        async with (
            httpx.AsyncClient(**options) as http,
            AsyncOAuth2Client(
                client_id=self.client_id,
                client_secret=self.client_secret,
                scope=SCOPES,
                redirect_uri=self.portal_url + CALLBACK_PATH,
                token_endpoint_auth_method="client_secret_basic",
                code_challenge_method="S256",
                **options,
            ) as oauth,
        ):
            directory = ProviderDirectory(http)
            # The documents fetched before, shared by every step.
            directory.metadata_cache = self.metadata_cache
            directory.jwks_cache = self.jwks_cache
            yield Connections(http, oauth, directory)

    async def metadata(self, directory: ProviderDirectory) -> dict[str, Any]:
        try:
            return await directory.metadata(self.issuer)
        except UpstreamUnavailable as exc:
            raise SignInFailed("unreachable", str(exc)) from exc

    # -- the way out ---------------------------------------------------------------------------
    async def start(self, back_to: str | None, now: int | None = None) -> tuple[str, str]:
        """The provider's authorization URL, and the signed cookie to set."""
        async with self.connections() as connections:
            metadata = await self.metadata(connections.directory)
            oauth = connections.oauth
        now = int(time.time()) if now is None else now
        pending = PendingSignIn(
            state=random_token(32),
            nonce=random_token(32),
            verifier=random_token(48),
            back_to=local_path(back_to),
            expires_at=now + SIGN_IN_TTL,
        )
        url, _ = oauth.create_authorization_url(
            metadata["authorization_endpoint"],
            state=pending.state,
            code_verifier=pending.verifier,
            nonce=pending.nonce,
        )
        return str(url), self.cookies.dump(asdict(pending))

    def pending(self, cookie: str | None, now: int) -> PendingSignIn | None:
        value = self.cookies.load(cookie)
        if value is None:
            return None
        try:
            pending = PendingSignIn(**value)
        except TypeError:
            return None
        return pending if pending.expires_at > now else None

    # -- the way back --------------------------------------------------------------------------
    async def finish(
        self, cookie: str | None, params: dict[str, str], now: int | None = None
    ) -> tuple[SignedInAgent, PendingSignIn]:
        now = int(time.time()) if now is None else now
        pending = self.pending(cookie, now)
        if pending is None:
            raise SignInFailed("expired")
        state = params.get("state", "")
        if not 0 < len(state) <= MAX_STATE or not hmac.compare_digest(state, pending.state):
            raise SignInFailed("unknown_state")
        if not self.used_states.use(state, now):
            raise SignInFailed("replayed")
        async with self.connections() as connections:
            return await self.answer(connections, pending, params, now), pending

    async def answer(
        self, connections: Connections, pending: PendingSignIn, params: dict[str, str], now: int
    ) -> SignedInAgent:
        metadata = await self.metadata(connections.directory)
        issuer = params.get("iss")
        if issuer is not None and issuer != self.issuer:
            raise SignInFailed("wrong_issuer", "iss names another provider")
        if issuer is None and metadata.get("authorization_response_iss_parameter_supported"):
            raise SignInFailed("wrong_issuer", "iss missing (RFC 9207)")
        if params.get("error"):
            reason = "denied" if params["error"] == "access_denied" else "provider_error"
            raise SignInFailed(reason, params["error"][:100])
        code = params.get("code", "")
        if not code:
            raise SignInFailed("provider_error", "no code")
        try:
            return await self.exchange(connections, metadata, pending, code, now)
        except (httpx.TimeoutException, httpx.TransportError, UpstreamUnavailable) as exc:
            raise SignInFailed("unreachable", type(exc).__name__) from exc
        except OAuthError as exc:
            raise SignInFailed("provider_error", str(exc.error)[:100]) from exc
        except (InvalidUpstreamResponse, httpx.HTTPError, ValueError, TypeError, KeyError) as exc:
            raise SignInFailed("invalid_response", str(exc)[:300]) from exc

    async def exchange(
        self,
        connections: Connections,
        metadata: dict[str, Any],
        pending: PendingSignIn,
        code: str,
        now: int,
    ) -> SignedInAgent:
        token = await connections.oauth.fetch_token(
            metadata["token_endpoint"], code=code, code_verifier=pending.verifier
        )
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise InvalidUpstreamResponse("no ID token")
        kid = unverified_header(id_token).get("kid")
        keys = await connections.directory.keys(self.issuer, kid)
        claims = check_id_token(
            decoded(id_token, keys, ID_TOKEN_ALGS), self.issuer, self.client_id, pending.nonce, now
        )
        found = dict(claims)
        if metadata.get("userinfo_endpoint"):
            userinfo = await self.userinfo(connections, metadata, token)
            if userinfo.get("sub") != claims["sub"]:
                raise InvalidUpstreamResponse("userinfo sub missing or not the ID token's")
            found.update(userinfo)
        return SignedInAgent(identity_of(self.issuer, found), id_token)

    async def userinfo(
        self, connections: Connections, metadata: dict[str, Any], token: dict[str, Any]
    ) -> dict[str, Any]:
        access_token = token.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise InvalidUpstreamResponse("no access token for userinfo")
        response = await connections.http.get(
            metadata["userinfo_endpoint"],
            headers={
                "Accept": "application/jwt, application/json",
                "Authorization": f"Bearer {access_token}",
            },
        )
        response.raise_for_status()
        content_type = response.headers.get("content-type", "")
        keys = None
        if content_type.lower().startswith("application/jwt"):  # as ProConnect answers
            kid = unverified_header(response.text.strip()).get("kid")
            keys = await connections.directory.keys(self.issuer, kid)
        return userinfo_claims(
            content_type, response.content, keys, ID_TOKEN_ALGS, self.issuer, self.client_id, False
        )

    # -- signing out ---------------------------------------------------------------------------
    async def end_session_url(self, id_token_hint: str | None) -> str:
        """Where the browser goes to end its session at the provider too (RP-initiated
        logout), coming back to the portal's signed-out page; that page directly if the
        provider has no end-session endpoint or cannot be reached."""
        signed_out = self.portal_url + SIGNED_OUT_PATH
        try:
            async with self.connections() as connections:
                metadata = await self.metadata(connections.directory)
        except SignInFailed:
            return signed_out
        endpoint = metadata.get("end_session_endpoint")
        if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
            return signed_out
        query = {"client_id": self.client_id, "post_logout_redirect_uri": signed_out}
        if id_token_hint:
            query["id_token_hint"] = id_token_hint
        separator = "&" if "?" in endpoint else "?"
        return f"{endpoint}{separator}{urlencode(query)}"


__all__ = [
    "SIGN_IN_COOKIE",
    "SIGN_IN_TTL",
    "AgentSignIn",
    "PendingSignIn",
    "SignInFailed",
    "SignedCookie",
    "SignedInAgent",
    "local_path",
]
