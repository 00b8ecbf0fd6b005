"""The authorization flow across requests: /authorize, login, consent, token, userinfo.

Each step is one database transaction: a step either happens entirely or not at all. Web
controllers call these methods and only translate their results into HTTP."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

from authlib.oauth2.rfc6749.errors import OAuth2Error
from joserfc import jws
from sqlalchemy import Connection

from broker.consent_events import ConsentChanges
from broker.db import Database
from broker.handoff import FlowError
from broker.identity.demo import DemoIdentityProvider
from broker.interactions import InteractionError, Interactions, InteractionView, State
from broker.keys.keystore import KeyStore
from broker.oidc import authorize as az
from broker.oidc.client_auth import JwksCache
from broker.oidc.config import OidcConfig
from broker.oidc.introspection import IntrospectionServer
from broker.oidc.models import Authentication
from broker.oidc.request import HttpRequestData
from broker.oidc.server import BrokerServer, ProtocolResponse, split_scope
from broker.oidc.tokens import InvalidAccessToken, verify_access_token
from broker.oidc.userinfo import userinfo_claims
from broker.scopes import REGISTRY
from broker.security import random_token
from broker.store.citizens import upsert_citizen
from broker.store.data_access_store import SqlDataAccessStore
from broker.store.interaction_store import SqlInteractionRepository, SqlSessionRepository
from broker.store.oidc_store import ClientCache, SqlOidcStore


class UnmetAuthenticationRequirements(OAuth2Error):
    """OpenID Connect "Unmet Authentication Requirements 1.0": acr_values could not be met."""

    error = "unmet_authentication_requirements"


class InsufficientScope(Exception):
    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class Ledger(Protocol):
    def covering_grant(self, session: Connection, citizen_id: str, client_id: str,
                       scopes: list[str], now: int,
                       habilitation_id: str | None = None) -> str | None: ...
    def record_approval(self, session: Connection, decision: Any) -> str: ...
    def standing(self, session: Connection, grant_id: str | None, now: int) -> Any: ...
    def record_refusal(self, session: Connection, decision: Any) -> str: ...
    def decision(self, **fields: Any) -> Any: ...
    def terms(self, session: Connection, grant_id: str | None, now: int) -> Any: ...
    def attach_receipt(self, session: Connection, grant_id: str, receipt: str) -> None: ...


@dataclass
class StepResult:
    """Where the browser goes next, and the cookies to (re)set on the way."""

    location: str | None = None
    error_page: az.ErrorPage | None = None
    new_browser_id: str | None = None
    new_session_id: str | None = None
    login_error: str | None = None


class AuthorizationFlow:
    def __init__(self, db: Database, config: OidcConfig, keys: KeyStore, ledger: Ledger,
                 step_key: bytes, interaction_ttl: int, session_ttl: int) -> None:
        self.db = db
        self.config = config
        self.keys = keys
        self.ledger = ledger
        self.jwks_cache = JwksCache()
        self.clients = ClientCache()
        self.idp = DemoIdentityProvider()
        self.step_key = step_key
        self.interaction_ttl = interaction_ttl
        self.session_ttl = session_ttl
        self.scopes_supported = REGISTRY.names()
        self.changes = ConsentChanges(config, keys, ledger)

    def server(self, session: Connection) -> BrokerServer:
        return BrokerServer(self.config, self.store(session), self.keys, self.jwks_cache,
                            self.scopes_supported, self.changes.grants(session))

    def store(self, session: Connection) -> SqlOidcStore:
        return SqlOidcStore(session, self.clients)

    def _interactions(self, session: Connection) -> Interactions:
        return Interactions(SqlInteractionRepository(session), self.step_key, self.interaction_ttl)

    def interaction_url(self, interaction_id: str, step: str) -> str:
        return f"{self.config.issuer}/interaction/{interaction_id}/{step}"

    # -- /authorize ------------------------------------------------------------------------
    def authorize(self, http: HttpRequestData, browser_id: str | None,
                  session_id: str | None) -> StepResult:
        now = int(time.time())
        result = StepResult()
        if not browser_id or len(browser_id) > 128:
            browser_id = result.new_browser_id = random_token(32)
        with self.db.begin() as s:
            auth = SqlSessionRepository(s).find(session_id, browser_id, now) if session_id else None
            server = self.server(s)

            def covering(citizen_id, client, scopes):
                return self.ledger.covering_grant(s, citizen_id, client.client_id, scopes, now,
                                                  self._habilitation_id(client, scopes))

            outcome = az.authorize(server, http, auth, covering, now)
            if isinstance(outcome, az.ErrorPage):
                result.error_page = outcome
            elif isinstance(outcome, az.RedirectToClient):
                result.location = outcome.location
            else:
                start = State.LOGIN if outcome.step == "login" else State.CONSENT
                interaction_id = self._interactions(s).start(
                    outcome.client.client_id, outcome.params, browser_id, start,
                    outcome.authentication, now)
                result.location = self.interaction_url(interaction_id, outcome.step)
        return result

    # -- login (demo identity provider) -----------------------------------------------------
    def login_form(self, interaction_id: str,
                   browser_id: str | None) -> tuple[str, str, str | None]:
        """The step token for the login form, the name of the service asking and the
        ``ui_locales`` of its request."""
        with self.db.connect() as s:
            view = self._open(s, interaction_id, browser_id, State.LOGIN)
            client = self.store(s).get_client(view.client_id)
            return (self._interactions(s).step_token(view, browser_id),
                    client.name if client else "", view.params.get("ui_locales"))

    async def login(self, interaction_id: str, browser_id: str | None, step_token: str | None,
                    login: str, password: str) -> StepResult:
        with self.db.connect() as s:
            view = self._open(s, interaction_id, browser_id, State.LOGIN)
            self._check_token(self._interactions(s), view, browser_id, step_token)
            account = self.idp.find(s, login)
        identity = await self.idp.verify(account, password)
        if identity is None:
            return StepResult(login_error="Identifiant ou mot de passe incorrect.")
        now = int(time.time())
        with self.db.begin() as s:
            # Not read again: the state machine's compare-and-set below makes this step happen
            # once, even if the same form was posted twice while the password was checked.
            interactions = self._interactions(s)
            server = self.server(s)
            auth = Authentication(citizen_id=upsert_citizen(s, identity, now), acr=identity.acr,
                                  amr=list(identity.amr), auth_time=now, idp=identity.idp)
            if not az.meets_acr(view.params, auth.acr):
                self._move(interactions, view, State.FAILED)
                return StepResult(location=az.deny(server, view.params, UnmetAuthenticationRequirements(
                    "The account does not reach the requested acr level.")))
            session_id = random_token(32)
            SqlSessionRepository(s).create(session_id, browser_id, auth, now + self.session_ttl)
            result = StepResult(new_session_id=session_id)
            scopes = split_scope(view.params.get("scope"))
            wants_consent = "consent" in (view.params.get("prompt") or "").split()
            client = server.store.get_client(view.client_id)
            grant_id = None if wants_consent or client is None else self.ledger.covering_grant(
                s, auth.citizen_id, view.client_id, scopes, now,
                self._habilitation_id(client, scopes))
            if grant_id:
                self._move(interactions, view, State.DONE, auth)
                result.location = self._issue_code(server, view.params, auth, " ".join(scopes), grant_id)
            else:
                self._move(interactions, view, State.CONSENT, auth)
                result.location = self.interaction_url(view.id, "consent")
            return result

    # -- token and userinfo ----------------------------------------------------------------
    async def prefetch_client_keys(self, http: HttpRequestData) -> None:
        """Fetch a private_key_jwt client's remote JWKS off the synchronous path."""
        assertion = http.first("client_assertion")
        if not assertion:
            return
        client_id = http.first("client_id") or _unverified_subject(assertion)
        if not client_id:
            return
        with self.db.connect() as s:
            client = self.store(s).get_client(client_id)
        if client and client.jwks is None and client.jwks_uri:
            await self.jwks_cache.prefetch(client.jwks_uri, kid=_unverified_kid(assertion))

    def token(self, http: HttpRequestData) -> ProtocolResponse:
        with self.db.begin() as s:
            server = self.server(s)
            response = server.create_token_response(http)
        if server.grants.changed:  # a reused refresh token revoked its grant: tell the service
            self.changes.on_enqueued()
        return response

    def introspect(self, http: HttpRequestData) -> ProtocolResponse:
        """RFC 7662 for data providers; tokens are read from the database on every call."""
        with self.db.connect() as s:
            def grant_standing(grant_id, now):
                standing = self.ledger.standing(s, grant_id, now)
                return standing.active, standing.habilitation_id

            server = IntrospectionServer(
                self.config, SqlOidcStore(s), SqlDataAccessStore(s),  # no client cache
                self.keys.verification_keys(), self.keys.signing_key(), grant_standing)
            return server.introspect(http)

    def userinfo(self, token: str) -> dict[str, Any]:
        """Raises InvalidAccessToken (401) or InsufficientScope (403)."""
        with self.db.connect() as s:
            store = self.store(s)
            record = verify_access_token(token, self.keys.verification_keys(), self.config, store,
                                         audience=self.config.userinfo_endpoint)
            if "openid" not in record.scope.split():
                raise InsufficientScope("The access token was not issued with the openid scope.")
            client = store.get_client(record.client_id)
            citizen = store.get_citizen(record.citizen_id)
            if client is None or citizen is None:
                raise InvalidAccessToken("The access token's client or subject no longer exists.")
            return userinfo_claims(self.config, record, client, citizen, REGISTRY.claims_for)

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _habilitation(client, scopes: list[str]):
        """The habilitation the data scopes are requested under (None: identity only)."""
        data_scopes = az.requested_data_scopes(scopes)
        return client.habilitation_for(data_scopes, int(time.time())) if data_scopes else None

    @classmethod
    def _habilitation_id(cls, client, scopes: list[str]) -> str | None:
        habilitation = cls._habilitation(client, scopes)
        return habilitation.id if habilitation else None

    def _open(self, s: Connection, interaction_id: str, browser_id: str | None,
              expected: State) -> InteractionView:
        try:
            return self._interactions(s).open(interaction_id, browser_id, expected,
                                              int(time.time()))
        except InteractionError as exc:
            raise FlowError(exc.reason) from exc

    @staticmethod
    def _issue_code(*args) -> str:
        try:
            return az.issue_code(*args)
        except az.ParkedRequestInvalid as exc:
            raise FlowError("unknown") from exc

    @staticmethod
    def _move(interactions: Interactions, view: InteractionView, to: State,
              authentication: Authentication | None = None) -> None:
        try:
            interactions.move(view, to, authentication)
        except InteractionError as exc:
            raise FlowError(exc.reason) from exc

    @staticmethod
    def _check_token(interactions: Interactions, view: InteractionView, browser_id: str | None,
                     step_token: str | None) -> None:
        try:
            interactions.check_step_token(view, browser_id or "", step_token)
        except InteractionError as exc:
            raise FlowError(exc.reason) from exc


def _unverified_kid(assertion: str) -> str | None:
    try:
        kid = jws.extract_compact(assertion.encode()).headers().get("kid")
    except Exception:
        return None
    return kid if isinstance(kid, str) else None


def _unverified_subject(assertion: str) -> str | None:
    try:
        claims = json.loads(jws.extract_compact(assertion.encode()).payload)
    except Exception:
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return sub if isinstance(sub, str) else None
