"""The citizen space's sign-in page: the same choice of identity providers as the flows, then
the provider's callback (``broker.web.signin_pages``) opens the session."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from broker.core.security import random_token
from broker.interaction.flow import MAX_BROWSER_ID, StepResult
from broker.interaction.signin import SignInSteps, UpstreamUnavailable
from broker.interaction.states import FlowError
from broker.web.http import BROWSER_COOKIE, cookies_for, form_text, redirect
from broker.web.i18n import N_
from broker.web.signin_pages import UNREACHABLE, choice_page, last_provider_cookie
from consent.space.service import CitizenSpace

log = logging.getLogger("consent.space")
HOME = "/espace"
LOGIN = "/espace/connexion"
FORM_EXPIRED = N_("Ce formulaire a expiré. Réessayez.")
NOT_OFFERED = N_("Ce fournisseur d'identité ne peut pas être choisi pour le moment.")


@dataclass(frozen=True)
class SignInPages:
    """What the sign-in page works with, as one dependency (several would be resolved in a
    task group at every request, see ``broker.web.oidc_controller.Endpoints``)."""

    space: CitizenSpace
    steps: SignInSteps
    secure_cookies: bool  # an https issuer: cookies are sent with Secure


class SignInController(Controller):
    path = LOGIN

    @get()
    async def login_form(self, request: Request, sign_in: NamedDependency[SignInPages]) -> Template:
        return await login_page(request, sign_in)

    @post(status_code=303)
    async def login(
        self, request: Request, sign_in: NamedDependency[SignInPages]
    ) -> Template | Redirect:
        form = await request.form()
        browser_id = request.cookies.get(BROWSER_COOKIE)
        if browser_id is None or not sign_in.space.check_token(
            "login", browser_id, form_text(form.get("csrf_token"))
        ):
            return await login_page(request, sign_in, error=FORM_EXPIRED, status=403)
        provider_id = form_text(form.get("idp"))
        try:
            location = await sign_in.steps.leave_for_provider_from_space(browser_id, provider_id)
        except FlowError:
            return await login_page(request, sign_in, error=NOT_OFFERED, status=403)
        except UpstreamUnavailable as exc:
            log.warning(
                "identity provider unreachable", extra={"idp": provider_id, "why": str(exc)}
            )
            return await login_page(request, sign_in, error=UNREACHABLE, status=503)
        return redirect(location, [last_provider_cookie(provider_id, sign_in.secure_cookies)])


async def login_page(
    request: Request, sign_in: SignInPages, error: str | None = None, status: int = 200
) -> Template:
    browser_id = request.cookies.get(BROWSER_COOKIE)
    new_browser = None
    if not browser_id or len(browser_id) > MAX_BROWSER_ID:
        browser_id = new_browser = random_token(32)
    return choice_page(
        request,
        await sign_in.steps.space_choice(),
        LOGIN,
        sign_in.space.form_token("login", browser_id),
        error,
        status,
        cookies_for(StepResult(new_browser_id=new_browser), sign_in.secure_cookies),
    )
