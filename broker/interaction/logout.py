"""Signing out (OpenID Connect RP-Initiated Logout 1.0): the broker's session ends (and the
services that received an ID token in it are queued a logout token, in the same transaction:
Back-Channel Logout 1.0), then the identity provider's (through its ``end_session_endpoint``,
when it has one), then the citizen goes back where the service asked, if that address is
registered for it.

The way back from the provider carries where to go next in its ``state``, signed by the broker
(an HMAC that expires): nothing is kept server-side for it, and nobody can forge a redirect."""

from __future__ import annotations

import base64
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from joserfc import jwt
from joserfc.errors import JoseError

from broker.core.security import keyed_digest
from broker.identity.federation.directory import UpstreamUnavailable, endpoint_ok
from broker.identity.federation.service import Federation
from broker.interaction.context import FlowContext
from broker.interaction.sessions import BrowserSessions
from broker.keys.keystore import SUPPORTED_ALGS
from broker.oidc.logout_token import client_sid
from broker.oidc.tokens import pairwise_subject
from broker.store.identity_providers import get_provider

log = logging.getLogger("broker.logout")
CONTINUATION_TTL = 900  # seconds the citizen may spend at the provider's sign-out
DONE_PATH = "/logout/done"
UPSTREAM_RETURN_PATH = "/federation/logged-out"


class LogoutRefused(Exception):
    """A logout request that names what it may not: shown on a page, never redirected."""


@dataclass(frozen=True)
class LogoutRequest:
    client_id: str | None
    target: str | None  # the registered post-logout URI, with the service's state
    hint_sub: str | None  # the subject of a valid id_token_hint
    ui_locales: str | None
    hint_sid: str | None = None  # the session a valid id_token_hint was issued in


def with_query(url: str, params: dict[str, str]) -> str:
    if not params:
        return url
    return f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Logout:
    def __init__(
        self,
        context: FlowContext,
        sessions: BrowserSessions,
        federation: Federation,
        key: bytes,
    ) -> None:
        self.context = context
        self.sessions = sessions
        self.federation = federation
        self.key = key
        self.issuer = context.config.issuer

    # -- the request -------------------------------------------------------------------------
    def hint_claims(self, hint: str) -> dict[str, Any]:
        """The claims of an ID token the broker signed; its expiry does not matter here
        (RP-Initiated Logout §2: an expired ID token is still a fine hint)."""
        try:
            token = jwt.decode(
                hint, self.context.keys.verification_keys(), algorithms=list(SUPPORTED_ALGS)
            )
        except (JoseError, ValueError, TypeError) as exc:
            raise LogoutRefused("id_token_hint is not an ID token of this broker") from exc
        if token.claims.get("iss") != self.issuer:
            raise LogoutRefused("id_token_hint was issued by another provider")
        return dict(token.claims)

    async def check(self, params: dict[str, str]) -> LogoutRequest:
        return await self.context.db.run(lambda: self.checked(params))

    def checked(self, params: dict[str, str]) -> LogoutRequest:
        hint_sub, hint_sid, client_id = None, None, params.get("client_id") or None
        if params.get("id_token_hint"):
            claims = self.hint_claims(params["id_token_hint"])
            audience = claims.get("aud")
            audiences = audience if isinstance(audience, list) else [audience]
            if client_id is not None and client_id not in audiences:
                raise LogoutRefused("client_id is not the id_token_hint's audience")
            client_id = client_id or (audiences[0] if isinstance(audiences[0], str) else None)
            hint_sub = claims.get("sub") if isinstance(claims.get("sub"), str) else None
            hint_sid = claims.get("sid") if isinstance(claims.get("sid"), str) else None
        target = None
        wanted = params.get("post_logout_redirect_uri")
        if wanted:
            if client_id is None:
                raise LogoutRefused("post_logout_redirect_uri needs id_token_hint or client_id")
            with self.context.db.connect() as conn:
                client = self.context.store(conn).get_client(client_id)
            if client is None or wanted not in client.post_logout_redirect_uris:
                raise LogoutRefused("post_logout_redirect_uri is not registered for the client")
            target = with_query(wanted, {"state": params["state"]} if params.get("state") else {})
        return LogoutRequest(client_id, target, hint_sub, params.get("ui_locales"), hint_sid)

    async def needs_confirmation(
        self, request: LogoutRequest, session_id: str | None, browser_id: str | None
    ) -> bool:
        """Ask the citizen unless the hint names the citizen signed in, in this very session
        when it names one (a forged request from another site then cannot sign anyone out
        unawares, nor an old ID token end a newer session)."""
        return await self.context.db.run(
            lambda: self.asks_confirmation(request, session_id, browser_id)
        )

    def asks_confirmation(
        self, request: LogoutRequest, session_id: str | None, browser_id: str | None
    ) -> bool:
        with self.context.db.connect() as conn:
            session = self.sessions.live(conn, session_id, browser_id, int(time.time()))
            if session is None:
                return False  # nobody to sign out
            if request.hint_sub is None or request.client_id is None:
                return True
            client = self.context.store(conn).get_client(request.client_id)
        if client is None:
            return True
        sid = session.authentication.sid
        if request.hint_sid is not None:
            # The hint names the session as its service saw it (``client_sid``).
            seen_sid = (
                client_sid(self.context.config.pairwise_key, client.sector_identifier, sid)
                if sid
                else None
            )
            if not (seen_sid and hmac.compare_digest(request.hint_sid, seen_sid)):
                return True
        signed_in_sub = pairwise_subject(
            self.context.config, client.sector_identifier, session.authentication.citizen_id
        )
        return not hmac.compare_digest(signed_in_sub, request.hint_sub)

    def confirmation_token(self, browser_id: str) -> str:
        return keyed_digest(self.key, f"logout|{browser_id}")

    def confirmed(self, browser_id: str | None, token: str | None) -> bool:
        if not browser_id or not token:
            return False
        return hmac.compare_digest(self.confirmation_token(browser_id), token)

    # -- signing out -------------------------------------------------------------------------
    async def end(self, target: str | None, session_id: str | None, browser_id: str | None) -> str:
        """Ends the broker's session; where the browser goes next (the provider's sign-out,
        or ``target``, or the broker's "signed out" page)."""
        final = target or f"{self.issuer}{DONE_PATH}"
        ended = await self.context.db.run(lambda: self.ended(session_id, browser_id))
        if ended is None:
            return final
        provider_id, upstream_id_token = ended
        return await self.upstream_sign_out(provider_id, upstream_id_token, final) or final

    def ended(self, session_id: str | None, browser_id: str | None) -> tuple[str, str] | None:
        """Ends the session, its services' logout notices queued first (``sign_out``: run
        again after a dropped connection, the step still finds the session, so neither the
        notices nor the provider's sign-out are lost); the provider and the ID token to end
        its session with, if any."""
        now = int(time.time())
        with self.context.db.connect() as conn:
            session = self.sessions.live(conn, session_id, browser_id, now)
        if session is None or session_id is None:
            return None
        self.sessions.sign_out(session_id, session, now)
        if not session.upstream_id_token:
            return None
        return session.authentication.idp, session.upstream_id_token

    async def upstream_sign_out(self, provider_id: str, id_token: str, final: str) -> str | None:
        def provider():
            with self.context.db.connect() as conn:
                return get_provider(conn, provider_id)

        registered = await self.context.db.run(provider)
        if registered is None:
            return None
        try:
            metadata = await self.federation.directory.metadata(registered.issuer)
        except UpstreamUnavailable as exc:
            log.warning("provider's sign-out skipped", extra={"idp": provider_id, "why": str(exc)})
            return None
        endpoint = metadata.get("end_session_endpoint")
        # It receives an ID token: https only (or http on loopback).
        if not isinstance(endpoint, str) or not endpoint_ok(endpoint):
            return None
        return with_query(
            endpoint,
            {
                "id_token_hint": id_token,
                "client_id": registered.client_id,
                "post_logout_redirect_uri": f"{self.issuer}{UPSTREAM_RETURN_PATH}",
                "state": self.continuation(final),
            },
        )

    # -- back from the provider --------------------------------------------------------------
    def continuation(self, target: str) -> str:
        payload = b64(
            json.dumps({"to": target, "exp": int(time.time()) + CONTINUATION_TTL}).encode()
        )
        return f"{payload}.{keyed_digest(self.key, 'logout continuation|' + payload)}"

    def follow(self, state: str | None) -> str:
        """Where the provider's sign-out sends the citizen on: the signed target, or the
        broker's "signed out" page when the state is not one of ours."""
        done = f"{self.issuer}{DONE_PATH}"
        payload, _, mac = (state or "").partition(".")
        if not payload or len(payload) > 4000:
            return done
        if not hmac.compare_digest(mac, keyed_digest(self.key, "logout continuation|" + payload)):
            return done
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (ValueError, TypeError):
            return done
        if not isinstance(data, dict) or not isinstance(data.get("to"), str):
            return done
        return data["to"] if data.get("exp", 0) > time.time() else done
