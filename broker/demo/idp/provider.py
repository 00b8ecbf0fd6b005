"""One demo identity provider's protocol side: its signing key, discovery, the code flow with
PKCE S256, client authentication, ID tokens and userinfo. Framework-free; ``app`` serves it.

It is a small provider for the demo and the tests, kept in memory (one process): the broker
talks to it exactly as to FranceConnect or any conformant provider, over HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from litestar.stores.base import Store

from broker.core.security import keyed_digest
from broker.demo.idp.guard import LoginLimits
from broker.demo.idp.sites import DemoAccount, DemoSite

CODE_TTL = 60
TOKEN_TTL = 600
LOGIN_TTL = 900
SESSION_TTL = 3600


@dataclass(frozen=True)
class DemoIdpClient:
    """A relying party registered at the demo providers (the broker, in the demo)."""

    client_id: str
    client_secret: str = ""  # client_secret_basic or client_secret_post
    redirect_uris: frozenset[str] = frozenset()
    post_logout_redirect_uris: frozenset[str] = frozenset()
    jwks: dict[str, Any] | None = None  # private_key_jwt


@dataclass
class DemoIdpOptions:
    base_url: str  # http://127.0.0.1:8004: each provider's issuer is base_url/<site key>
    clients: dict[str, DemoIdpClient] = field(default_factory=dict)
    password_profile: str = "standard"
    list_accounts: bool = True  # the test accounts on the login page
    login_limits: LoginLimits = field(default_factory=LoginLimits)
    # Signs the device cookies (see ``broker.demo.idp.guard``): derived from the broker's
    # secret by ``broker demo idp run``, so that they outlive a restart.
    device_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    # Where failed logins are counted: Redis when configured (``broker demo idp run``), so that
    # several processes share the counts; this process's memory otherwise.
    throttle_store: Store | None = None

    def register(self, client: DemoIdpClient) -> None:
        """Adds a relying party; the same client id again adds its redirect URIs (the tests
        register each broker they start, each at its own address)."""
        known = self.clients.get(client.client_id)
        if known is not None and known.client_secret == client.client_secret:
            client = DemoIdpClient(
                client_id=client.client_id,
                client_secret=client.client_secret,
                redirect_uris=known.redirect_uris | client.redirect_uris,
                post_logout_redirect_uris=known.post_logout_redirect_uris
                | client.post_logout_redirect_uris,
                jwks=client.jwks or known.jwks,
            )
        self.clients[client.client_id] = client


class AuthorizeRejected(Exception):
    """A request that cannot be answered by a redirect: shown on a page."""


class RedirectError(Exception):
    """A request answered by an error redirect to the client (RFC 6749 §4.1.2.1)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class TokenError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


@dataclass
class PendingLogin:
    ticket: str
    browser: str
    client_id: str
    redirect_uri: str
    state: str
    nonce: str
    challenge: str
    scope: list[str]
    login_hint: str
    expires_at: float
    account: DemoAccount | None = None  # once the password is right
    one_time_code: str = ""
    code_attempts: int = 0


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    scope: list[str]
    account: DemoAccount
    acr: str
    auth_time: int
    expires_at: float


class DemoProvider:
    def __init__(self, site: DemoSite, options: DemoIdpOptions) -> None:
        self.site = site
        self.options = options
        self.issuer = f"{options.base_url.rstrip('/')}/{site.key}"
        # Its own key, made when the process starts: a restart is a key rotation, which the
        # broker follows through the JWKS.
        self.key = ECKey.generate_key(
            "P-256",
            parameters={"kid": secrets.token_urlsafe(8), "alg": "ES256", "use": "sig"},
            private=True,
        )
        self.subject_key = secrets.token_bytes(32)
        self.pending: dict[str, PendingLogin] = {}
        self.codes: dict[str, Grant] = {}
        self.tokens: dict[str, Grant] = {}
        self.sessions: dict[str, Grant] = {}  # by session cookie
        self.used_assertions: dict[str, float] = {}  # jti -> until when it is remembered
        self.started = 0

    # -- discovery ---------------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/logout",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "userinfo_signing_alg_values_supported": ["ES256"] if self.site.signed_userinfo else [],
            "scopes_supported": ["openid", *self.scopes()],
            "claims_supported": ["sub", "acr", "amr", "auth_time", *self.site.claims],
            "acr_values_supported": list(self.site.acr_values),
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
            ],
            "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256", "PS256"],
            "authorization_response_iss_parameter_supported": True,
            "claims_parameter_supported": False,
        }

    def scopes(self) -> list[str]:
        """The scopes that release this provider's claims, in a stable order."""
        return list(dict.fromkeys(s for scopes in self.site.claims.values() for s in scopes))

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    # -- authorization -----------------------------------------------------------------------
    def start(self, params: dict[str, str], browser: str, now: float) -> PendingLogin:
        client = self.options.clients.get(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if client is None:
            raise AuthorizeRejected("unknown client_id")
        if redirect_uri not in client.redirect_uris:
            raise AuthorizeRejected("redirect_uri is not registered for this client")
        state = params.get("state", "")

        def refuse(error: str, description: str) -> RedirectError:
            return RedirectError(self.error_location(redirect_uri, state, error, description))

        scope = params.get("scope", "").split()
        if params.get("response_type") != "code":
            raise refuse("unsupported_response_type", "response_type must be code")
        if "openid" not in scope:
            raise refuse("invalid_scope", "openid is required")
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            raise refuse("invalid_request", "PKCE with S256 is required")
        if not params.get("nonce"):
            raise refuse("invalid_request", "nonce is required")
        if not state:
            raise refuse("invalid_request", "state is required")
        pending = PendingLogin(
            ticket=secrets.token_urlsafe(24),
            browser=browser,
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            state=state,
            nonce=params["nonce"],
            challenge=params["code_challenge"],
            scope=scope,
            login_hint=params.get("login_hint", "")[:100],
            expires_at=now + LOGIN_TTL,
        )
        self.sweep(now)
        self.pending[pending.ticket] = pending
        return pending

    def sweep(self, now: float) -> None:
        """Drops what has expired, now and then: anonymous requests cannot grow memory for
        ever (the demo keeps everything in this process)."""
        self.started += 1
        if self.started % 256:
            return
        for entries in (self.pending, self.codes, self.tokens, self.sessions):
            for key in [k for k, v in entries.items() if v.expires_at <= now]:
                del entries[key]
        for jti in [j for j, until in self.used_assertions.items() if until <= now]:
            del self.used_assertions[jti]

    def pending_login(self, ticket: str, browser: str, now: float) -> PendingLogin | None:
        pending = self.pending.get(ticket)
        if pending is None or pending.expires_at <= now:
            return None
        if not hmac.compare_digest(pending.browser, browser):
            return None
        return pending

    def session_grant(self, session: str, now: float) -> Grant | None:
        grant = self.sessions.get(session)
        return grant if grant and grant.expires_at > now else None

    def complete(self, pending: PendingLogin, account: DemoAccount, acr: str, now: float) -> str:
        """The redirect back to the client with a code; the login is used up."""
        self.pending.pop(pending.ticket, None)
        code = secrets.token_urlsafe(32)
        self.codes[code] = Grant(
            client_id=pending.client_id,
            redirect_uri=pending.redirect_uri,
            challenge=pending.challenge,
            nonce=pending.nonce,
            scope=pending.scope,
            account=account,
            acr=acr,
            auth_time=int(now),
            expires_at=now + CODE_TTL,
        )
        query = {"code": code, "state": pending.state, "iss": self.issuer}
        return f"{pending.redirect_uri}?{urlencode(query)}"

    def open_session(self, account: DemoAccount, acr: str, now: float) -> str:
        session = secrets.token_urlsafe(32)
        self.sessions[session] = Grant(
            "", "", "", "", [], account, acr, int(now), now + SESSION_TTL
        )
        return session

    def deny(self, pending: PendingLogin) -> str:
        self.pending.pop(pending.ticket, None)
        return self.error_location(
            pending.redirect_uri, pending.state, "access_denied", "the user cancelled"
        )

    def error_location(self, redirect_uri: str, state: str, error: str, description: str) -> str:
        query = {"error": error, "error_description": description, "iss": self.issuer}
        if state:
            query["state"] = state
        return f"{redirect_uri}?{urlencode(query)}"

    # -- token -------------------------------------------------------------------------------
    def authenticate_client(
        self, form: dict[str, str], basic: tuple[str, str] | None, now: float
    ) -> DemoIdpClient:
        if (
            form.get("client_assertion_type")
            == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            return self.assertion_client(form.get("client_assertion", ""), now)
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        client = self.options.clients.get(client_id)
        if (
            client is None
            or not client.client_secret
            or not hmac.compare_digest(client.client_secret.encode(), secret.encode())
        ):
            raise TokenError("invalid_client", "client authentication failed", 401)
        return client

    def assertion_client(self, assertion: str, now: float) -> DemoIdpClient:
        client = self.options.clients.get(unverified_issuer(assertion))
        if client is None or not client.jwks:
            raise TokenError("invalid_client", "unknown client or no registered keys", 401)
        try:
            token = jwt.decode(
                assertion,
                KeySet.import_key_set(client.jwks),  # type: ignore[arg-type]
                algorithms=["ES256", "RS256", "PS256"],
            )
            jwt.JWTClaimsRegistry(
                now=int(now),
                iss={"essential": True, "value": client.client_id},
                sub={"essential": True, "value": client.client_id},
                exp={"essential": True},
                jti={"essential": True},
            ).validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise TokenError("invalid_client", f"client assertion refused: {exc}", 401) from None
        audience = token.claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.issuer not in audiences and f"{self.issuer}/token" not in audiences:
            raise TokenError("invalid_client", "client assertion audience", 401)
        if token.claims["jti"] in self.used_assertions:
            raise TokenError("invalid_client", "client assertion replayed", 401)
        self.used_assertions[token.claims["jti"]] = float(token.claims["exp"]) + 60
        return client

    def exchange(self, client: DemoIdpClient, form: dict[str, str], now: float) -> dict[str, Any]:
        if form.get("grant_type") != "authorization_code":
            raise TokenError("unsupported_grant_type", "authorization_code only")
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or grant.expires_at <= now or grant.client_id != client.client_id:
            raise TokenError("invalid_grant", "unknown, used or expired code")
        if form.get("redirect_uri") != grant.redirect_uri:
            raise TokenError("invalid_grant", "redirect_uri differs from the authorization's")
        if not hmac.compare_digest(s256(form.get("code_verifier", "")), grant.challenge):
            raise TokenError("invalid_grant", "code_verifier does not match")
        access_token = secrets.token_urlsafe(32)
        self.tokens[access_token] = Grant(**{**grant.__dict__, "expires_at": now + TOKEN_TTL})
        claims = {
            "iss": self.issuer,
            "sub": self.subject(grant.account, client.client_id),
            "aud": client.client_id,
            "iat": int(now),
            "exp": int(now) + 300,
            "auth_time": grant.auth_time,
            "nonce": grant.nonce,
            "acr": grant.acr,
            "amr": ["pwd", "otp"] if self.site.second_factor else ["pwd"],
            "at_hash": at_hash(access_token),
        }
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_TTL,
            "id_token": self.sign(claims),
            "scope": " ".join(grant.scope),
        }

    # -- userinfo ----------------------------------------------------------------------------
    def userinfo(self, access_token: str, now: float) -> tuple[dict[str, Any], str | None]:
        """The claims the token's scopes allow; the signed form too when this provider signs
        userinfo."""
        grant = self.tokens.get(access_token)
        if grant is None or grant.expires_at <= now:
            raise TokenError("invalid_token", "unknown or expired access token", 401)
        account = grant.account
        claims: dict[str, Any] = {"sub": self.subject(account, grant.client_id)}
        for claim, scopes in self.site.claims.items():
            if any(scope in grant.scope for scope in scopes):
                claims[claim] = getattr(account, claim)
        if not self.site.signed_userinfo:
            return claims, None
        signed = self.sign({**claims, "iss": self.issuer, "aud": grant.client_id, "iat": int(now)})
        return claims, signed

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode({"alg": "ES256", "kid": self.key.kid, "typ": "JWT"}, claims, self.key)

    def subject(self, account: DemoAccount, client_id: str) -> str:
        """A pairwise subject per client, as FranceConnect gives: another provider gives the
        same citizen another one, which is why the broker reconciles on the identity pivot."""
        return keyed_digest(self.subject_key, f"{client_id}|{account.login}")

    # -- logout ------------------------------------------------------------------------------
    def end_session(self, session: str | None, params: dict[str, str]) -> str | None:
        """Ends the session; where to go next if the client's post-logout URI is registered."""
        if session:
            self.sessions.pop(session, None)
        target = params.get("post_logout_redirect_uri", "")
        client = self.options.clients.get(params.get("client_id", ""))
        if client is None:
            client = self.client_of_hint(params.get("id_token_hint", ""))
        if not target or client is None or target not in client.post_logout_redirect_uris:
            return None
        state = params.get("state")
        return f"{target}?{urlencode({'state': state})}" if state else target

    def client_of_hint(self, id_token_hint: str) -> DemoIdpClient | None:
        try:
            claims = jwt.decode(id_token_hint, KeySet([self.key]), algorithms=["ES256"]).claims
        except (JoseError, ValueError):
            return None
        audience = claims.get("aud")
        return self.options.clients.get(audience) if isinstance(audience, str) else None


def unverified_issuer(assertion: str) -> str:
    """The ``iss`` of a JWT before any check, only to find whose keys verify it."""
    try:
        claims = json.loads(jws.extract_compact(assertion.encode()).payload)
    except (JoseError, ValueError, TypeError):
        return ""
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else ""


def s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


def at_hash(access_token: str) -> str:
    half = hashlib.sha256(access_token.encode()).digest()[:16]
    return base64.urlsafe_b64encode(half).rstrip(b"=").decode()


def now() -> float:
    return time.time()
