"""The demo identity provider's login page, inside an interaction."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from markupsafe import Markup

from broker.demo.accounts import DEMO_ACCOUNTS
from broker.handoff import FlowError
from broker.web.http import cookies_for, form_action, page, redirect
from broker.web.pages import flow_error_page
from broker.web.state import BROWSER_COOKIE, broker_state
from consent.i18n import N_, apply_ui_locales, current_locale, gettext

PERSONAS = [
    {"login": c.login, "password": c.password, "label": f"{c.given_name} {c.family_name}",
     "case": c.case, "acr": c.acr}
    for c in DEMO_ACCOUNTS
]
# The flow's login error (StepResult.login_error) is French; marked here for the catalog and
# translated when shown.
LOGIN_ERRORS = (N_("Identifiant ou mot de passe incorrect."),)


def _personas_html(request: Request) -> Markup:
    """The test accounts' table never changes: render it once per application and language."""
    cache = getattr(request.app.state, "personas_html", None)
    if cache is None:
        cache = request.app.state.personas_html = {}
    locale = current_locale()
    if locale not in cache:
        engine = request.app.template_engine
        cache[locale] = Markup(engine.get_template("login_personas.html").render(
            personas=PERSONAS))
    return cache[locale]


def _login_page(request: Request, token: str, client_name: str, error: str | None = None,
                login_value: str = "", status: int = 200,
                ui_locales: str | None = None) -> Template:
    apply_ui_locales(ui_locales)
    # The test accounts (and their passwords) are listed only in development mode.
    development = broker_state(request).settings.is_development
    return page("login.html", {
        "action": form_action(request), "csrf_token": token, "client_name": client_name,
        "error": gettext(error) if error else None, "login_value": login_value,
        "personas_html": _personas_html(request) if development else "",
    }, status=status)


class LoginController(Controller):
    path = "/interaction/{interaction_id:str}/login"

    @get()
    async def show(self, request: Request, interaction_id: FromPath[str]) -> Template:
        flow = broker_state(request).flow
        try:
            token, client_name, ui_locales = flow.login_form(
                interaction_id, request.cookies.get(BROWSER_COOKIE))
        except FlowError as exc:
            return flow_error_page(exc.reason)
        return _login_page(request, token, client_name,
                           ui_locales=ui_locales)

    @post(status_code=303)
    async def submit(self, request: Request, interaction_id: FromPath[str]) -> Redirect | Template:
        form = await request.form()
        flow = broker_state(request).flow
        browser_id = request.cookies.get(BROWSER_COOKIE)
        login, password = _text(form.get("login")), _text(form.get("password"))
        try:
            result = await flow.login(interaction_id, browser_id, _text(form.get("csrf_token")),
                                      login, password)
        except FlowError as exc:
            return flow_error_page(exc.reason)
        if result.login_error:
            token, client_name, ui_locales = flow.login_form(interaction_id, browser_id)
            return _login_page(request, token, client_name, result.login_error,
                               login_value=login, status=401,
                               ui_locales=ui_locales)
        return redirect(result.location, cookies_for(request, result))


def _text(value) -> str:
    return value if isinstance(value, str) else ""
