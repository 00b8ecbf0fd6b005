"""The citizen space's sign-in page, through the same identity provider as the flows."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from broker.core.security import random_token
from broker.interaction.flow import MAX_BROWSER_ID, StepResult
from broker.web.http import BROWSER_COOKIE, cookies_for, form_text, page, redirect
from broker.web.i18n import N_
from broker.web.login import TestAccounts
from consent.space.service import CitizenSpace

HOME = "/espace"
LOGIN = "/espace/connexion"
LOGIN_ERROR = N_("Identifiant ou mot de passe incorrect.")
FORM_EXPIRED = N_("Ce formulaire a expiré. Réessayez.")


@dataclass(frozen=True)
class SignInPages:
    """What the sign-in page works with, as one dependency (several would be resolved in a
    task group at every request, see ``broker.web.oidc_controller.Endpoints``)."""

    space: CitizenSpace
    accounts: TestAccounts
    secure_cookies: bool  # an https issuer: cookies are sent with Secure


class SignInController(Controller):
    path = LOGIN

    @get()
    async def login_form(self, request: Request, sign_in: NamedDependency[SignInPages]) -> Template:
        return login_page(request, sign_in)

    @post(status_code=303)
    async def login(
        self, request: Request, sign_in: NamedDependency[SignInPages]
    ) -> Template | Redirect:
        form = await request.form()
        browser_id = request.cookies.get(BROWSER_COOKIE)
        space = sign_in.space
        if browser_id is None or not space.check_token(
            "login", browser_id, form_text(form.get("csrf_token"))
        ):
            return login_page(request, sign_in, error=FORM_EXPIRED, status=403)
        login = form_text(form.get("login"))
        result = await space.sign_in(browser_id, login, form_text(form.get("password")))
        if result.error:
            return login_page(request, sign_in, error=LOGIN_ERROR, login_value=login, status=401)
        return redirect(
            HOME,
            cookies_for(StepResult(new_session_id=result.session_id), sign_in.secure_cookies),
        )


def login_page(
    request: Request,
    sign_in: SignInPages,
    error: str | None = None,
    login_value: str = "",
    status: int = 200,
) -> Template:
    browser_id = request.cookies.get(BROWSER_COOKIE)
    new_browser = None
    if not browser_id or len(browser_id) > MAX_BROWSER_ID:
        browser_id = new_browser = random_token(32)
    return page(
        "space_login.html",
        {
            "action": LOGIN,
            "csrf_token": sign_in.space.form_token("login", browser_id),
            "error": error,
            "login_value": login_value,
            "personas_html": sign_in.accounts.html(request),
        },
        status=status,
        cookies=cookies_for(StepResult(new_browser_id=new_browser), sign_in.secure_cookies),
    )
