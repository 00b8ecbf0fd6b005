"""The demo service's side of OpenID Connect: Authlib's client (PKCE S256, private_key_jwt)
and joserfc to verify the ID token, never the broker's own protocol code; and the
verification of the consent events the broker pushes (RFC 8417 SETs, RFC 8935)."""

from __future__ import annotations

import secrets
import time
import warnings
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # authlib nudges towards httpx2; the design card fixes httpx
    from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT

from broker.demo.seed import DEMO_SCOPE, NOTIFICATION_PATH

SET_MEDIA_TYPE = "application/secevent+jwt"
SIGN_IN_MAX_AGE = 600  # seconds a sign-in may take, from the service to its callback
EVENTS_NAMESPACE = "https://consent-broker.example/events/"
EVENT_KINDS = {
    EVENTS_NAMESPACE + "consent-revoked": "revoked",
    EVENTS_NAMESPACE + "consent-narrowed": "narrowed",
    EVENTS_NAMESPACE + "consent-expired": "expired",
}


class EventRejected(Exception):
    """RFC 8935 §2.4: the SET is refused; ``err`` is one of its error codes."""

    def __init__(self, err: str, description: str) -> None:
        super().__init__(description)
        self.err, self.description = err, description


@dataclass(frozen=True)
class CodeExchange:
    """What the broker answers for an authorization code: the token response, the verified
    ID token's claims and the UserInfo claims."""

    token: dict[str, Any]
    id_claims: dict[str, Any]
    userinfo: dict[str, Any]


@dataclass
class RelyingParty:
    issuer: str
    client_id: str
    private_key: ECKey
    base_url: str
    data_api_url: str = ""
    transport: httpx.AsyncBaseTransport | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)  # sign-ins, by state
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by pairwise sub
    seen_jtis: set[str] = field(default_factory=set)
    logout_jtis: dict[str, int] = field(default_factory=dict)  # jti -> exp, replays refused
    jwks: KeySet | None = None
    jwks_fetched_at: float = 0.0

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/callback"

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS, when the service is served so (not in local development)."""
        return self.base_url.startswith("https://")

    @property
    def space_url(self) -> str:
        """The broker's citizen space, where the citizen sees and withdraws their consents."""
        return f"{self.issuer}/espace"

    @property
    def notification_uri(self) -> str:
        return f"{self.base_url}{NOTIFICATION_PATH}"

    def client(self) -> AsyncOAuth2Client:
        client = AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self.private_key,
            scope=DEMO_SCOPE,
            redirect_uri=self.redirect_uri,
            token_endpoint_auth_method="private_key_jwt",
            code_challenge_method="S256",
            transport=self.transport,
            timeout=10,
        )
        client.register_client_auth_method(
            PrivateKeyJWT(self.metadata["token_endpoint"], alg="ES256")
        )
        return client

    async def discover(self) -> None:
        if self.metadata:
            return
        async with httpx.AsyncClient(transport=self.transport, timeout=10) as http:
            response = await http.get(f"{self.issuer}/.well-known/openid-configuration")
            response.raise_for_status()
            self.metadata = response.json()

    async def authorization_url(self, ui_locales: str) -> tuple[str, str]:
        """Where to send the citizen to sign in, with the language of the service's pages as
        ``ui_locales`` so that the broker's pages follow, and the request's ``state``, under
        which the PKCE verifier and the nonce wait for the callback (sign-ins older than
        :data:`SIGN_IN_MAX_AGE` are forgotten)."""
        await self.discover()
        now = time.time()
        for stale in [s for s, p in self.pending.items() if p["at"] < now - SIGN_IN_MAX_AGE]:
            del self.pending[stale]
        verifier, state, nonce = (
            secrets.token_urlsafe(48),
            secrets.token_urlsafe(16),
            secrets.token_urlsafe(16),
        )
        async with self.client() as client:
            url, _ = client.create_authorization_url(
                self.metadata["authorization_endpoint"],
                state=state,
                code_verifier=verifier,
                nonce=nonce,
                ui_locales=ui_locales,
            )
        self.pending[state] = {"verifier": verifier, "nonce": nonce, "at": now}
        return url, state

    def take_pending(self, state: str) -> dict[str, Any] | None:
        """The sign-in of ``state``, once, unless it is older than :data:`SIGN_IN_MAX_AGE`."""
        pending = self.pending.pop(state, None)
        if pending is None or pending["at"] < time.time() - SIGN_IN_MAX_AGE:
            return None
        return pending

    async def logout_url(self, id_token: str, ui_locales: str) -> str:
        """The broker's end_session_endpoint for this citizen, in the service's language, back
        to the home page after."""
        await self.discover()
        query = {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": f"{self.base_url}/",
            "state": secrets.token_urlsafe(16),
            "ui_locales": ui_locales,
        }
        return f"{self.metadata['end_session_endpoint']}?{urlencode(query)}"

    async def exchange_code(self, code: str | None, pending: dict[str, Any]) -> CodeExchange:
        """The tokens for ``code`` (``pending`` is what :meth:`authorization_url` kept), the ID
        token verified, and the UserInfo claims fetched with the access token."""
        async with self.client() as client:
            token = await client.fetch_token(
                self.metadata["token_endpoint"],
                code=code,
                code_verifier=pending["verifier"],
            )
            id_claims = await self.verify_id_token(token["id_token"], pending["nonce"])
            userinfo = (await client.get(self.metadata["userinfo_endpoint"])).json()
        return CodeExchange(token=token, id_claims=id_claims, userinfo=userinfo)

    async def broker_keys(self, kid: str | None = None) -> KeySet:
        """The broker's JWKS, fetched again when a token names an unknown key (a rotation),
        at most every 5 seconds."""
        known = self.jwks is not None and any(key.kid == kid for key in self.jwks.keys)
        if self.jwks is None or (not known and time.monotonic() - self.jwks_fetched_at > 5):
            await self.discover()
            async with httpx.AsyncClient(transport=self.transport, timeout=10) as http:
                response = await http.get(self.metadata["jwks_uri"])
                response.raise_for_status()
                self.jwks = KeySet.import_key_set(response.json())
            self.jwks_fetched_at = time.monotonic()
        return self.jwks

    async def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        keys = await self.broker_keys(unverified_header(id_token).get("kid"))
        token = jwt.decode(id_token, keys, algorithms=["ES256", "RS256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.client_id},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
        return token.claims

    def first_logout_jti(self, jti: str, exp: int) -> bool:
        """Records a logout token's ``jti`` until its expiry; False if it was already seen."""
        now = int(time.time())
        for known in [j for j, until in self.logout_jtis.items() if until < now]:
            del self.logout_jtis[known]
        if jti in self.logout_jtis:
            return False
        self.logout_jtis[jti] = exp
        return True

    async def receive_event(self, token: str) -> dict[str, Any]:
        """Verifies a consent SET and records it for its ``sub``; a duplicate ``jti`` is
        accepted again but recorded once (RFC 8935 §2)."""
        claims = await self.verified_event_claims(token)
        known = consent_events(claims)
        if (
            not known
            or not all(isinstance(claims.get(c), str) for c in ("jti", "sub"))
            or not isinstance(claims.get("iat"), int)
        ):
            raise EventRejected("invalid_request", "not a consent event (jti, iat, sub, events)")
        if claims["jti"] not in self.seen_jtis:
            self.seen_jtis.add(claims["jti"])
            for kind, payload in known.items():
                self.events.setdefault(claims["sub"], []).append(
                    {
                        "kind": kind,
                        "at": claims["iat"],
                        "consent_id": claims.get("consent_id"),
                        "scopes": list(payload.get("scopes") or []),
                        "reason": payload.get("reason"),
                    }
                )
        return claims

    async def verified_event_claims(self, token: str) -> dict[str, Any]:
        """The claims of a SET signed by this service's broker for this service."""
        header = unverified_header(token)
        if header.get("typ", "").lower().removeprefix("application/") != "secevent+jwt":
            raise EventRejected("invalid_request", "typ must be secevent+jwt")
        try:
            keys = await self.broker_keys(header.get("kid"))
            claims = jwt.decode(token, keys, algorithms=["ES256", "RS256"]).claims
        except httpx.HTTPError:
            raise
        except (JoseError, ValueError) as exc:
            raise EventRejected("invalid_key", f"signature not verified: {exc}") from None
        if claims.get("iss") != self.issuer:
            raise EventRejected("invalid_issuer", "iss is not this service's broker")
        audience = claims.get("aud")
        if self.client_id not in (audience if isinstance(audience, list) else [audience]):
            raise EventRejected("invalid_audience", "aud is not this service")
        return claims


def consent_events(claims: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The consent events a SET carries, by kind (``revoked``…); other events are ignored."""
    events = claims.get("events")
    if not isinstance(events, dict):
        return {}
    return {
        EVENT_KINDS[uri]: payload
        for uri, payload in events.items()
        if uri in EVENT_KINDS and isinstance(payload, dict)
    }


def unverified_header(token: str) -> dict[str, Any]:
    """A JWS's protected header, read before any check (to pick the key): empty if unreadable."""
    try:
        return dict(jws.extract_compact(token.encode()).headers())
    except (JoseError, ValueError, TypeError):
        return {}
