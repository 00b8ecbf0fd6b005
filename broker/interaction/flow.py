"""The front-channel steps of the authorization flow: /authorize, then what follows the
identity provider's answer (``signin`` takes the citizen there and back); the consent step is
handed to the consent screen (``handoff``).

Each step is one database transaction: a step either happens entirely or not at all. Web
controllers call these methods and only translate their results into HTTP."""

from __future__ import annotations

import time
from dataclasses import dataclass

from authlib.oauth2.rfc6749.errors import OAuth2Error
from sqlalchemy import Connection

from broker.core.security import random_token
from broker.identity.base import VerifiedIdentity
from broker.identity.sign_ins import is_blocked
from broker.interaction.context import FlowContext
from broker.interaction.sessions import BrowserSessions
from broker.interaction.states import InteractionView, State
from broker.oidc import authorize, par
from broker.oidc.models import Authentication
from broker.oidc.request import HttpRequestData
from broker.oidc.server import ProtocolResponse, split_scope
from broker.store.identity_providers import allowed_for

MAX_BROWSER_ID = 128


class UnmetAuthenticationRequirements(OAuth2Error):
    """OpenID Connect "Unmet Authentication Requirements 1.0": acr_values could not be met."""

    error = "unmet_authentication_requirements"


@dataclass
class StepResult:
    """Where the browser goes next, and the cookies to (re)set on the way."""

    location: str | None = None
    error_page: authorize.ErrorPage | None = None
    new_browser_id: str | None = None
    new_session_id: str | None = None


class AuthorizationFlow:
    def __init__(self, context: FlowContext, sessions: BrowserSessions) -> None:
        self.context = context
        self.sessions = sessions

    # -- /authorize ------------------------------------------------------------------------
    async def authorize(
        self, http: HttpRequestData, browser_id: str | None, session_id: str | None
    ) -> StepResult:
        return await self.context.db.run(lambda: self._authorize(http, browser_id, session_id))

    def _authorize(
        self, http: HttpRequestData, browser_id: str | None, session_id: str | None
    ) -> StepResult:
        context = self.context
        now = int(time.time())
        result = StepResult()
        if not browser_id or len(browser_id) > MAX_BROWSER_ID:
            browser_id = result.new_browser_id = random_token(32)
        with context.db.begin() as conn:
            server = context.server(conn)
            # A pushed request is used up in this transaction: if the step fails, it is not.
            pushed = par.resolve(server, http, context.pushed_requests(conn), now)
            if isinstance(pushed, authorize.ErrorPage):
                result.error_page = pushed
                return result
            http = pushed or http
            auth = self.sessions.find(conn, session_id, browser_id, now)
            client_ids = http.params.get("client_id") or [""]
            if auth is not None and not self.session_provider_fits(conn, auth, client_ids[0]):
                auth = None  # as if signed out: the citizen chooses a provider again

            def covering(citizen_id, client, scopes):
                return context.covering_grant(conn, citizen_id, client, scopes, now)

            outcome = authorize.authorize(
                server, http, auth, covering, now, pushed=pushed is not None
            )
            if isinstance(outcome, authorize.ErrorPage):
                result.error_page = outcome
            elif isinstance(outcome, authorize.RedirectToClient):
                result.location = outcome.location
            else:
                start = State.LOGIN if outcome.step == "login" else State.CONSENT
                interaction_id = context.interactions(conn).start(
                    outcome.client.client_id,
                    outcome.params,
                    browser_id,
                    start,
                    outcome.authentication,
                    now,
                )
                result.location = context.interaction_url(interaction_id, outcome.step)
        return result

    # -- /par (RFC 9126) ------------------------------------------------------------------
    async def push(self, http: HttpRequestData) -> ProtocolResponse:
        """A pushed authorization request: the client authenticated and the request checked
        and kept in one transaction."""
        return await self.context.db.run(lambda: self._push(http))

    def _push(self, http: HttpRequestData) -> ProtocolResponse:
        context = self.context
        with context.db.begin() as conn:
            return par.push(
                context.server(conn), http, context.pushed_requests(conn), int(time.time())
            )

    def session_provider_fits(self, conn: Connection, auth: Authentication, client_id: str) -> bool:
        """A session is reused for a service only through a provider the service may use,
        that is still enabled, and that the citizen has not blocked since."""
        registry = self.context.registry
        provider = next((p for p in registry.providers(conn) if p.id == auth.idp), None)
        if provider is None or not provider.enabled:
            return False
        if not allowed_for(auth.idp, registry.client_rules(conn, client_id)):
            return False
        return not is_blocked(conn, auth.citizen_id, auth.idp)

    # -- after the identity provider ------------------------------------------------------
    def signed_in(
        self,
        view: InteractionView,
        browser_id: str | None,
        identity: VerifiedIdentity,
        upstream_id_token: str | None = None,
        presented_session_id: str | None = None,
    ) -> StepResult:
        """``presented_session_id``: the session cookie the browser came back with; a live
        session of it ends with this sign-in (``BrowserSessions.open``)."""
        result = self.signed_in_step(
            view, browser_id, identity, upstream_id_token, presented_session_id
        )
        if presented_session_id:
            self.sessions.on_ended()  # committed: its services, if any, are told now
        return result

    def signed_in_step(
        self,
        view: InteractionView,
        browser_id: str | None,
        identity: VerifiedIdentity,
        upstream_id_token: str | None,
        presented_session_id: str | None,
    ) -> StepResult:
        context = self.context
        now = int(time.time())
        with context.db.begin() as conn:
            # Not read again: the state machine's compare-and-set below makes this step happen
            # once, even if the same callback arrived twice while the provider was asked.
            interactions = context.interactions(conn)
            server = context.server(conn)
            if not authorize.meets_acr(view.params, identity.acr):
                # Below the level asked: the service is told, and nobody is stored.
                interactions.move(view, State.FAILED)
                return StepResult(
                    location=authorize.deny(
                        server,
                        view.params,
                        UnmetAuthenticationRequirements(
                            "The account does not reach the requested acr level."
                        ),
                    )
                )
            auth = self.sessions.authentication(conn, identity, now)
            session_id = self.sessions.open(
                conn,
                browser_id or "",
                auth,
                now,
                upstream_id_token,
                view.client_id,
                replacing=presented_session_id,
            )
            result = StepResult(new_session_id=session_id)
            scopes = split_scope(view.params.get("scope"))
            wants_consent = "consent" in (view.params.get("prompt") or "").split()
            client = server.store.get_client(view.client_id)
            grant_id = (
                None
                if wants_consent or client is None
                else context.covering_grant(conn, auth.citizen_id, client, scopes, now)
            )
            if grant_id:
                interactions.move(view, State.DONE, auth)
                result.location = context.issue_code(
                    server, view.params, auth, " ".join(scopes), grant_id
                )
            else:
                interactions.move(view, State.CONSENT, auth)
                result.location = context.interaction_url(view.id, "consent")
            return result
