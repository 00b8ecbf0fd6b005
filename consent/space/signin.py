"""The citizen space's sign-in page, through the same identity provider as the flows."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from broker.core.security import random_token
from broker.core.settings import Settings
from broker.interaction.flow import MAX_BROWSER_ID, StepResult
from broker.web.http import BROWSER_COOKIE, cookies_for, form_text, page, redirect
from broker.web.i18n import N_
from broker.web.login import TestAccounts
from consent.space.service import CitizenSpace

HOME = "/espace"
LOGIN = "/espace/connexion"
LOGIN_ERROR = N_("Identifiant ou mot de passe incorrect.")
FORM_EXPIRED = N_("Ce formulaire a expiré. Réessayez.")


class SignInController(Controller):
    path = LOGIN

    @get()
    async def login_form(
        self,
        request: Request,
        space: NamedDependency[CitizenSpace],
        settings: NamedDependency[Settings],
        test_accounts: NamedDependency[TestAccounts],
    ) -> Template:
        return login_page(request, space, settings, test_accounts)

    @post(status_code=303)
    async def login(
        self,
        request: Request,
        space: NamedDependency[CitizenSpace],
        settings: NamedDependency[Settings],
        test_accounts: NamedDependency[TestAccounts],
    ) -> Template | Redirect:
        form = await request.form()
        browser_id = request.cookies.get(BROWSER_COOKIE)
        if browser_id is None or not space.check_token(
            "login", browser_id, form_text(form.get("csrf_token"))
        ):
            return login_page(
                request, space, settings, test_accounts, error=FORM_EXPIRED, status=403
            )
        login = form_text(form.get("login"))
        result = await space.sign_in(browser_id, login, form_text(form.get("password")))
        if result.error:
            return login_page(
                request,
                space,
                settings,
                test_accounts,
                error=LOGIN_ERROR,
                login_value=login,
                status=401,
            )
        return redirect(
            HOME, cookies_for(StepResult(new_session_id=result.session_id), settings.secure_cookies)
        )


def login_page(
    request: Request,
    space: CitizenSpace,
    settings: Settings,
    test_accounts: TestAccounts,
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
            "csrf_token": space.form_token("login", browser_id),
            "error": error,
            "login_value": login_value,
            "personas_html": test_accounts.html(request),
        },
        status=status,
        cookies=cookies_for(StepResult(new_browser_id=new_browser), settings.secure_cookies),
    )
