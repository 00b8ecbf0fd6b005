"""Signing in through an upstream identity provider, for an authorization request (the
interaction's login step) or for the citizen space: the providers offered on the choice page,
the way out to the chosen one, and its callback.

The callback finishes in one database step: the identity reconciled into one citizen, the
session opened and the interaction moved happen together or not at all."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749.errors import OAuth2Error
from sqlalchemy import Connection

from broker.identity.federation.directory import UpstreamUnavailable
from broker.identity.federation.service import (
    FederatedSignIn,
    Federation,
    FederationError,
    acr_rank,
    upstream_parameters,
)
from broker.identity.sign_ins import ProviderBlocked
from broker.interaction.context import FlowContext
from broker.interaction.flow import AuthorizationFlow, StepResult
from broker.interaction.states import FlowError, InteractionView, State
from broker.oidc import authorize
from broker.store.flowstate import UpstreamSignIn
from broker.store.identity_providers import (
    RegisteredProvider,
    allowed_for,
    get_provider,
    provider_logo,
)

SPACE_HOME = "/espace"
SPACE_SIGN_IN = "/espace/connexion"


@dataclass(frozen=True)
class OfferedProvider:
    id: str
    name: str
    available: bool  # False: in maintenance, shown with its message, cannot be chosen
    message: str
    has_logo: bool
    acr_values: tuple[str, ...]


@dataclass(frozen=True)
class ProviderChoice:
    providers: list[OfferedProvider]
    step_token: str = ""
    client_name: str = ""
    ui_locales: str | None = None
    hinted: str | None = None  # idp_hint naming an offered, available provider


def offered(
    providers: list[RegisteredProvider], rules: dict[str, str], min_acr: int
) -> list[OfferedProvider]:
    """The providers a service may use at the requested level (the others are not shown)."""
    return [
        OfferedProvider(p.id, p.name, p.enabled, p.message, p.has_logo, p.acr_values)
        for p in providers
        if allowed_for(p.id, rules) and max(acr_rank(acr) for acr in p.acr_values) >= min_acr
    ]


def min_acr_of(params: dict[str, str]) -> int:
    """The level the parked request asks for (checked at /authorize already)."""
    try:
        return authorize.parse_requested_authentication(params).min_acr
    except OAuth2Error:
        return 1


class SignInSteps:
    def __init__(
        self, context: FlowContext, flow: AuthorizationFlow, federation: Federation
    ) -> None:
        self.context = context
        self.flow = flow
        self.sessions = flow.sessions
        self.federation = federation
        self.registry = context.registry

    def run(self, step: Callable[[], Any]) -> Any:
        return self.context.db.run(step)

    async def save(self, write: Callable[[Connection], None]) -> None:
        def step() -> None:
            with self.context.db.begin() as conn:
                write(conn)

        await self.run(step)

    # -- an authorization request's login step -----------------------------------------------
    async def interaction_choice(
        self, interaction_id: str, browser_id: str | None
    ) -> ProviderChoice:
        return await self.run(lambda: self.read_interaction_choice(interaction_id, browser_id))

    def read_interaction_choice(
        self, interaction_id: str, browser_id: str | None
    ) -> ProviderChoice:
        context = self.context
        with context.db.connect() as conn:
            view = context.open(conn, interaction_id, browser_id, State.LOGIN)
            client = context.store(conn).get_client(view.client_id)
            providers = offered(
                self.registry.providers(conn),
                self.registry.client_rules(conn, view.client_id),
                min_acr_of(view.params),
            )
            hint = view.params.get("idp_hint")
            hinted = next((p.id for p in providers if p.id == hint and p.available), None)
            return ProviderChoice(
                providers=providers,
                step_token=context.interactions(conn).step_token(view, browser_id or ""),
                client_name=client.name if client else "",
                ui_locales=view.params.get("ui_locales"),
                hinted=hinted,
            )

    async def leave_for_provider(
        self,
        interaction_id: str,
        browser_id: str | None,
        step_token: str | None,
        provider_id: str,
        checked: bool = True,
    ) -> StepResult:
        """Where to send the citizen who chose ``provider_id`` (FlowError on a form that is not
        this browser's, UpstreamUnavailable when the provider cannot be reached)."""
        view, provider = await self.run(
            lambda: self.chosen(interaction_id, browser_id, step_token, provider_id, checked)
        )
        location = await self.federation.authorization_url(
            provider,
            browser_id or "",
            view.id,
            min_acr_of(view.params),
            upstream_parameters(view.params),
            self.save,
        )
        return StepResult(location=location)

    def chosen(
        self,
        interaction_id: str,
        browser_id: str | None,
        step_token: str | None,
        provider_id: str,
        checked: bool,
    ) -> tuple[InteractionView, RegisteredProvider]:
        context = self.context
        with context.db.connect() as conn:
            view = context.open(conn, interaction_id, browser_id, State.LOGIN)
            if checked:
                context.interactions(conn).check_step_token(view, browser_id or "", step_token)
            choice = offered(
                self.registry.providers(conn),
                self.registry.client_rules(conn, view.client_id),
                min_acr_of(view.params),
            )
            provider = get_provider(conn, provider_id)
            if provider is None or not any(p.id == provider_id and p.available for p in choice):
                raise FlowError("provider_not_offered")
            return view, provider

    # -- the citizen space -------------------------------------------------------------------
    async def space_choice(self) -> ProviderChoice:
        return await self.run(self.read_space_choice)

    def read_space_choice(self) -> ProviderChoice:
        with self.context.db.connect() as conn:
            return ProviderChoice(providers=offered(self.registry.providers(conn), {}, 1))

    async def leave_for_provider_from_space(self, browser_id: str, provider_id: str) -> str:
        provider = await self.run(lambda: self.space_provider(provider_id))
        return await self.federation.authorization_url(provider, browser_id, None, 1, {}, self.save)

    def space_provider(self, provider_id: str) -> RegisteredProvider:
        with self.context.db.connect() as conn:
            provider = get_provider(conn, provider_id)
        if provider is None or not provider.enabled:
            raise FlowError("provider_not_offered")
        return provider

    async def logo(self, provider_id: str) -> tuple[bytes, str] | None:
        def read() -> tuple[bytes, str] | None:
            with self.context.db.connect() as conn:
                return provider_logo(conn, provider_id)

        return await self.run(read)

    # -- the callback ------------------------------------------------------------------------
    async def callback(
        self,
        provider_id: str,
        params: dict[str, str],
        browser_id: str | None,
        session_id: str | None = None,
    ) -> StepResult:
        """The step after the provider's answer; FederationError when it signs no one in.
        ``session_id``: the browser's session cookie, if any: the new session replaces it."""
        sign_in, provider = await self.run(lambda: self.taken(provider_id, params, browser_id))
        signed = await self.federation.finish(provider, sign_in, params)
        try:
            return await self.run(lambda: self.signed_in(signed, browser_id or "", session_id))
        except ProviderBlocked as exc:
            raise FederationError("blocked_by_citizen", sign_in) from exc

    def taken(
        self, provider_id: str, params: dict[str, str], browser_id: str | None
    ) -> tuple[UpstreamSignIn, RegisteredProvider]:
        with self.context.db.begin() as conn:
            sign_in = self.federation.take(conn, params)
        # Taken in its own transaction: whatever follows, this state cannot be used again.
        with self.context.db.connect() as conn:
            provider = self.federation.check_callback(
                conn, provider_id, sign_in, browser_id, int(time.time())
            )
        assert sign_in is not None  # check_callback refuses a missing one
        return sign_in, provider

    def signed_in(
        self, signed: FederatedSignIn, browser_id: str, presented_session_id: str | None = None
    ) -> StepResult:
        interaction_id = signed.sign_in.interaction_id
        if interaction_id is None:
            return self.space_signed_in(signed, browser_id, presented_session_id)
        context = self.context
        with context.db.connect() as conn:
            view = context.open(conn, interaction_id, browser_id, State.LOGIN)
        return self.flow.signed_in(
            view, browser_id, signed.identity, signed.id_token, presented_session_id
        )

    def space_signed_in(
        self, signed: FederatedSignIn, browser_id: str, presented_session_id: str | None = None
    ) -> StepResult:
        now = int(time.time())
        with self.context.db.begin() as conn:
            auth = self.sessions.authentication(conn, signed.identity, now)
            session_id = self.sessions.open(
                conn, browser_id, auth, now, signed.id_token, replacing=presented_session_id
            )
        if presented_session_id:
            self.sessions.on_ended()  # committed: its services, if any, are told now
        return StepResult(location=SPACE_HOME, new_session_id=session_id)


def back_to_choice(error: FederationError, issuer: str) -> str | None:
    """Where a cancelled sign-in, or one through a provider the citizen blocked, goes back
    to: the choice page it came from, which says why."""
    sign_in = error.sign_in
    why = {"access_denied": "annule", "blocked_by_citizen": "bloque"}.get(error.reason)
    if why is None or sign_in is None:
        return None
    if sign_in.interaction_id is None:
        return f"{SPACE_SIGN_IN}?{why}={sign_in.idp_id}"
    return f"{issuer}/interaction/{sign_in.interaction_id}/login?{why}={sign_in.idp_id}"


__all__ = ["FederationError", "ProviderChoice", "SignInSteps", "UpstreamUnavailable"]
