"""The identity-provider choice page of an authorization request, and every provider's
callback. Thin: the steps are in ``broker.interaction.signin``."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from broker.interaction.signin import (
    FederationError,
    ProviderChoice,
    SignInSteps,
    UpstreamUnavailable,
    back_to_choice,
)
from broker.interaction.states import FlowError
from broker.web.http import (
    BROWSER_COOKIE,
    BROWSER_COOKIE_MAX_AGE,
    SESSION_COOKIE,
    cookies_for,
    form_action,
    form_text,
    page,
    redirect,
)
from broker.web.i18n import N_
from broker.web.pages import (
    federation_error_page,
    flow_error_page,
    not_found_page,
    too_many_attempts_page,
)
from broker.web.throttle import SignInThrottle, source_address

log = logging.getLogger("broker.federation")
LAST_PROVIDER_COOKIE = "broker_idp"  # the provider this browser chose last: listed first
UNREACHABLE = N_(
    "Ce fournisseur d'identité ne répond pas pour le moment. Réessayez dans quelques "
    "instants, ou choisissez-en un autre."
)
CANCELLED = N_(
    "Vous avez annulé la connexion. Choisissez un fournisseur d'identité pour continuer."
)
BLOCKED = N_(
    "Vous avez bloqué ce fournisseur d'identité pour votre compte : vous n'avez pas été "
    "connecté. Choisissez-en un autre, ou débloquez-le depuis votre espace."
)


@dataclass(frozen=True)
class FederationPages:
    """What the choice page and the callbacks work with, as one dependency."""

    steps: SignInSteps
    issuer: str
    secure_cookies: bool
    throttle: SignInThrottle


def last_provider_cookie(provider_id: str, secure: bool) -> Cookie:
    return Cookie(
        key=LAST_PROVIDER_COOKIE,
        value=provider_id,
        httponly=True,
        secure=secure,
        samesite="lax",
        max_age=BROWSER_COOKIE_MAX_AGE,
    )


def choice_page(
    request: Request,
    choice: ProviderChoice,
    action: str,
    csrf_token: str,
    error: str | None = None,
    status: int = 200,
    cookies: list[Cookie] | None = None,
) -> Template:
    """The choice page: the last provider used first, those in maintenance not choosable."""
    last = request.cookies.get(LAST_PROVIDER_COOKIE)
    providers = sorted(choice.providers, key=lambda p: p.id != last)
    if request.query_params.get("annule") and error is None:
        error = CANCELLED
    if request.query_params.get("bloque") and error is None:
        error = BLOCKED
    return page(
        "choose_provider.html",
        {
            "action": action,
            "csrf_token": csrf_token,
            "client_name": choice.client_name,
            "providers": providers,
            "last_provider": last if any(p.id == last for p in providers) else None,
            "error": error,
        },
        status=status,
        cookies=cookies,
        ui_locales=choice.ui_locales,
    )


class ProviderChoiceController(Controller):
    path = "/interaction/{interaction_id:str}/login"

    @get()
    async def show(
        self,
        request: Request,
        interaction_id: FromPath[str],
        federation_pages: NamedDependency[FederationPages],
    ) -> Template | Redirect:
        browser_id = request.cookies.get(BROWSER_COOKIE)
        try:
            choice = await federation_pages.steps.interaction_choice(interaction_id, browser_id)
            if choice.hinted and not request.query_params.keys() & {"annule", "bloque"}:
                # idp_hint: straight to that provider, as FranceConnect does.
                return await self.leave(
                    request, federation_pages, interaction_id, None, choice.hinted, checked=False
                )
        except FlowError as exc:
            return flow_error_page(exc.reason)
        return choice_page(request, choice, form_action(request), choice.step_token)

    @post(status_code=303)
    async def choose(
        self,
        request: Request,
        interaction_id: FromPath[str],
        federation_pages: NamedDependency[FederationPages],
    ) -> Template | Redirect:
        form = await request.form()
        try:
            return await self.leave(
                request,
                federation_pages,
                interaction_id,
                form_text(form.get("csrf_token")),
                form_text(form.get("idp")),
            )
        except FlowError as exc:
            return flow_error_page(exc.reason)

    @staticmethod
    async def leave(
        request: Request,
        pages: FederationPages,
        interaction_id: str,
        step_token: str | None,
        provider_id: str,
        checked: bool = True,
    ) -> Template | Redirect:
        browser_id = request.cookies.get(BROWSER_COOKIE)
        try:
            result = await pages.steps.leave_for_provider(
                interaction_id, browser_id, step_token, provider_id, checked
            )
        except UpstreamUnavailable as exc:
            log.warning(
                "identity provider unreachable", extra={"idp": provider_id, "why": str(exc)}
            )
            choice = await pages.steps.interaction_choice(interaction_id, browser_id)
            return choice_page(
                request, choice, form_action(request), choice.step_token, UNREACHABLE, 503
            )
        if result.location is None:  # every way out has a location
            return flow_error_page("unknown")
        return redirect(result.location, [last_provider_cookie(provider_id, pages.secure_cookies)])


class FederationController(Controller):
    path = "/federation/{provider_id:str}"

    @get("/callback")
    async def callback(
        self,
        request: Request,
        provider_id: FromPath[str],
        federation_pages: NamedDependency[FederationPages],
    ) -> Template | Redirect:
        params = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
        browser_id = request.cookies.get(BROWSER_COOKIE)
        address = source_address(request)
        throttle = federation_pages.throttle
        wait = await throttle.retry_after(browser_id, address)
        if wait:
            return too_many_attempts_page(wait)
        try:
            result = await federation_pages.steps.callback(
                provider_id, params, browser_id, request.cookies.get(SESSION_COOKIE)
            )
        except FederationError as exc:
            log.warning(
                "federated sign-in refused",
                extra={"idp": provider_id, "reason": exc.reason, "detail": exc.detail},
            )
            await throttle.failed(browser_id, address)
            back = back_to_choice(exc, federation_pages.issuer)
            return redirect(back) if back else federation_error_page(exc.reason)
        except FlowError as exc:
            await throttle.failed(browser_id, address)
            return flow_error_page(exc.reason)
        if result.location is None:
            return flow_error_page("unknown")
        return redirect(result.location, cookies_for(result, federation_pages.secure_cookies))

    @get("/logo")
    async def logo(
        self, provider_id: FromPath[str], federation_pages: NamedDependency[FederationPages]
    ) -> Response[bytes] | Template:
        found = await federation_pages.steps.logo(provider_id)
        if found is None:
            return not_found_page()
        image, media_type = found
        return Response(
            image,
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )
