"""The demo identity provider's login page, inside an interaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from markupsafe import Markup

from broker.interaction.flow import AuthorizationFlow, LoginForm
from broker.interaction.states import FlowError
from broker.web.http import BROWSER_COOKIE, cookies_for, form_action, form_text, page, redirect
from broker.web.i18n import N_, gettext
from broker.web.locale import apply_ui_locales, current_locale
from broker.web.pages import flow_error_page

# The flow's login error (StepResult.login_error) is French; marked here for the catalog and
# translated when shown.
LOGIN_ERRORS = (N_("Identifiant ou mot de passe incorrect."),)


class TestAccounts:
    """The test accounts listed on the sign-in pages (login, password, label, case, acr):
    the composition root gives them in development mode only. The table never changes, so it
    is rendered once per language."""

    __test__ = False  # not a pytest test class

    def __init__(self, personas: Sequence[Mapping[str, str]] = ()) -> None:
        self.personas = list(personas)
        self._rendered: dict[str, Markup] = {}

    def html(self, request: Request) -> Markup:
        if not self.personas:
            return Markup("")
        locale = current_locale()
        if locale not in self._rendered:
            engine = request.app.template_engine
            if engine is None:  # the broker's application always has one
                raise RuntimeError("no template engine to render the test accounts")
            template = engine.get_template("login_personas.html")
            self._rendered[locale] = Markup(template.render(personas=self.personas))
        return self._rendered[locale]


def login_page(
    request: Request,
    form: LoginForm,
    accounts: TestAccounts,
    error: str | None = None,
    login_value: str = "",
    status: int = 200,
) -> Template:
    apply_ui_locales(form.ui_locales)
    return page(
        "login.html",
        {
            "action": form_action(request),
            "csrf_token": form.step_token,
            "client_name": form.client_name,
            "error": gettext(error) if error else None,
            "login_value": login_value,
            "personas_html": accounts.html(request),
        },
        status=status,
    )


@dataclass(frozen=True)
class LoginPages:
    """What the login pages work with, as one dependency (see ``oidc_controller.Endpoints``)."""

    flow: AuthorizationFlow
    accounts: TestAccounts
    secure_cookies: bool  # an https issuer: cookies are sent with Secure


class LoginController(Controller):
    path = "/interaction/{interaction_id:str}/login"

    @get()
    async def show(
        self, request: Request, interaction_id: FromPath[str], login: NamedDependency[LoginPages]
    ) -> Template:
        try:
            form = await login.flow.login_form(interaction_id, request.cookies.get(BROWSER_COOKIE))
        except FlowError as exc:
            return flow_error_page(exc.reason)
        return login_page(request, form, login.accounts)

    @post(status_code=303)
    async def submit(
        self, request: Request, interaction_id: FromPath[str], login: NamedDependency[LoginPages]
    ) -> Redirect | Template:
        form = await request.form()
        browser_id = request.cookies.get(BROWSER_COOKIE)
        name, password = form_text(form.get("login")), form_text(form.get("password"))
        try:
            result = await login.flow.login(
                interaction_id, browser_id, form_text(form.get("csrf_token")), name, password
            )
        except FlowError as exc:
            return flow_error_page(exc.reason)
        if result.login_error:
            return login_page(
                request,
                await login.flow.login_form(interaction_id, browser_id),
                login.accounts,
                result.login_error,
                login_value=name,
                status=401,
            )
        if result.location is None:  # every successful step says where to go next
            return flow_error_page("unknown")
        return redirect(result.location, cookies_for(result, login.secure_cookies))
