"""The demo identity providers' web application: each provider under ``/<site key>`` (the two
citizens' ones and the agents' one), with
its discovery, JWKS, login pages (password, then a one-time code on the strengthened one),
token, userinfo and end-session endpoints."""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from litestar import Litestar, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.stores.memory import MemoryStore
from litestar.template.config import TemplateConfig
from markupsafe import Markup

from broker.core.health import ReadinessCheck
from broker.core.monitoring import monitored
from broker.demo.accounts import DEMO_ACCOUNTS
from broker.demo.agents import AGENTS
from broker.demo.idp.accounts import DemoAccounts, HashingBusy
from broker.demo.idp.guard import DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE, LoginGuard
from broker.demo.idp.provider import (
    AuthorizeRejected,
    DemoIdpOptions,
    DemoProvider,
    PendingLogin,
    RedirectError,
    TokenError,
    now,
)
from broker.demo.idp.sites import ALL_SITES
from broker.web import i18n
from broker.web.http import NO_STORE, form_text, page
from broker.web.i18n import N_, lazy_gettext
from broker.web.locale import LocaleMiddleware
from broker.web.pages import error_page
from broker.web.throttle import Throttle, source_address

TEMPLATES = [
    i18n.LOCALES_DIR.parent / "templates",
    i18n.LOCALES_DIR.parent.parent / "demo" / "idp" / "templates",
]
STATIC_DIR = i18n.LOCALES_DIR.parent / "static"
BROWSER_COOKIE = "demo_idp_browser"
MAX_CODE_ATTEMPTS = 3
JWT_MEDIA_TYPE = "application/jwt"
WRONG_PASSWORD = N_("Identifiant ou mot de passe incorrect.")
NOT_STRONG = N_(
    "Ce compte n'a pas d'identité vérifiée de niveau substantiel ou élevé. Utilisez un autre "
    "fournisseur d'identité."
)
TOO_MANY_ATTEMPTS = N_(
    "Trop de tentatives ont échoué. Par sécurité, patientez quelques instants avant de réessayer."
)
BUSY = N_("Trop de connexions sont en cours. Réessayez dans quelques instants.")
WRONG_CODE = N_("Code incorrect. Recopiez le code affiché.")
TAGLINE = N_("Fournisseur d'identité de démonstration : aucune donnée réelle")


@dataclass
class DemoIdp:
    options: DemoIdpOptions
    accounts: DemoAccounts  # the test citizens
    agent_accounts: DemoAccounts  # the test agents (the agents' provider)
    providers: dict[str, DemoProvider]
    guard: LoginGuard

    def provider(self, key: str) -> DemoProvider | None:
        return self.providers.get(key)

    def accounts_of(self, provider: DemoProvider) -> DemoAccounts:
        return self.agent_accounts if provider.site.population == "agents" else self.accounts


def session_cookie(provider: DemoProvider) -> str:
    return f"demo_idp_session_{provider.site.key.replace('-', '_')}"


def cookie(key: str, value: str, max_age: int | None = None) -> Cookie:
    return Cookie(key=key, value=value, httponly=True, samesite="lax", max_age=max_age)


def login_page(
    request: Request,
    idp: DemoIdp,
    provider: DemoProvider,
    pending: PendingLogin,
    error: str | None = None,
    status: int = 200,
    login_value: str = "",
) -> Template:
    personas = [
        {
            "login": a.login,
            "password": a.password,
            "label": f"{a.given_name} {a.family_name}",
            "case": a.case,
            "acr": provider.site.reached_acr(a),
            "organisation": getattr(a, "organisation", ""),
        }
        for a in idp.accounts_of(provider).accounts.values()
        if provider.site.reached_acr(a)
    ]
    engine = request.app.template_engine
    personas_html = Markup("")
    if idp.options.list_accounts and engine is not None:
        template = engine.get_template("login_personas.html")
        personas_html = Markup(
            template.render(personas=personas, agents=provider.site.population == "agents")
        )
    return page(
        "idp_login.html",
        {
            "brand_name": provider.site.label,
            "tagline": lazy_gettext(TAGLINE),
            "provider_label": provider.site.label,
            "action": relative(provider, "login"),
            "cancel_action": relative(provider, "cancel"),
            "csrf_token": pending.ticket,
            "client_name": None,
            "error": error,
            "login_value": login_value or pending.login_hint,
            "personas_html": personas_html,
            "strong": provider.site.second_factor,
        },
        status=status,
    )


def otp_page(provider: DemoProvider, pending: PendingLogin, error: str | None = None) -> Template:
    return page(
        "idp_otp.html",
        {
            "brand_name": provider.site.label,
            "tagline": lazy_gettext(TAGLINE),
            "action": relative(provider, "otp"),
            "cancel_action": relative(provider, "cancel"),
            "csrf_token": pending.ticket,
            "one_time_code": pending.one_time_code,
            "error": error,
        },
        status=401 if error else 200,
    )


def problem(status: int = 400) -> Template:
    return error_page(
        N_("Demande non valable"),
        N_(
            "Cette demande de connexion n'est pas valable ou a expiré. Retournez sur le site "
            "et recommencez."
        ),
        "invalid_request",
        status,
    )


def browser_of(request: Request) -> tuple[str, list[Cookie]]:
    browser = request.cookies.get(BROWSER_COOKIE, "")
    if 16 <= len(browser) <= 64:
        return browser, []
    browser = secrets.token_urlsafe(24)
    return browser, [cookie(BROWSER_COOKIE, browser, 365 * 24 * 3600)]


def go(location: str, cookies: list[Cookie] | None = None) -> Redirect:
    return Redirect(path=location, status_code=303, cookies=cookies or [], headers=NO_STORE)


def relative(provider: DemoProvider, path: str) -> str:
    return f"/{provider.site.key}/{path}"


@get("/")
async def index(idp: NamedDependency[DemoIdp]) -> dict[str, Any]:
    return {
        "identity_providers": [
            {"name": p.site.label, "issuer": p.issuer, "acr_values": list(p.site.acr_values)}
            for p in idp.providers.values()
        ]
    }


@get("/{site:str}/.well-known/openid-configuration")
async def discovery(site: FromPath[str], idp: NamedDependency[DemoIdp]) -> Response[Any]:
    provider = idp.provider(site)
    if provider is None:
        return Response({"error": "not_found"}, status_code=404)
    return Response(provider.metadata())


@get("/{site:str}/jwks")
async def jwks(site: FromPath[str], idp: NamedDependency[DemoIdp]) -> Response[Any]:
    provider = idp.provider(site)
    if provider is None:
        return Response({"error": "not_found"}, status_code=404)
    return Response(provider.jwks(), headers={"Cache-Control": "max-age=60"})


@get("/{site:str}/authorize")
async def authorize(
    request: Request, site: FromPath[str], idp: NamedDependency[DemoIdp]
) -> Template | Redirect:
    provider = idp.provider(site)
    if provider is None:
        return problem(404)
    params = dict(request.query_params)
    browser, cookies = browser_of(request)
    try:
        pending = provider.start(params, browser, now())
    except AuthorizeRejected:
        return problem()
    except RedirectError as exc:
        return go(exc.location)
    prompt = (params.get("prompt") or "").split()
    grant = provider.session_grant(request.cookies.get(session_cookie(provider), ""), now())
    max_age = params.get("max_age", "")
    if grant is not None and max_age.isdigit() and now() - grant.auth_time > int(max_age):
        grant = None  # too old for this request: the citizen authenticates again
    if grant is not None and "login" not in prompt:
        return go(provider.complete(pending, grant.account, grant.acr, now()), cookies)
    if "none" in prompt:
        return go(provider.deny(pending).replace("access_denied", "login_required", 1))
    response = login_page(request, idp, provider, pending)
    response.cookies.extend(cookies)
    return response


async def pending_of(
    request: Request, idp: DemoIdp, site: str
) -> tuple[DemoProvider, PendingLogin, dict[str, str]] | None:
    provider = idp.provider(site)
    if provider is None:
        return None
    form = {k: form_text(v) for k, v in (await request.form()).items()}
    pending = provider.pending_login(
        form.get("csrf_token", ""), request.cookies.get(BROWSER_COOKIE, ""), now()
    )
    return (provider, pending, form) if pending else None


def signed_in(provider: DemoProvider, pending: PendingLogin, acr: str) -> Redirect:
    account = pending.account
    if account is None:  # guarded by the callers
        raise RuntimeError("no account to sign in")
    session = provider.open_session(account, acr, now())
    location = provider.complete(pending, account, acr, now())
    return go(location, [cookie(session_cookie(provider), session)])


@post("/{site:str}/login", status_code=303)
async def login(
    request: Request, site: FromPath[str], idp: NamedDependency[DemoIdp]
) -> Template | Redirect:
    found = await pending_of(request, idp, site)
    if found is None:
        return problem()
    provider, pending, form = found
    login_value = form.get("login", "")
    counters = idp.guard.counters(
        login_value, pending.browser, source_address(request), request.cookies.get(DEVICE_COOKIE)
    )
    wait = await idp.guard.retry_after(counters)
    if wait:
        return come_back(
            login_page(request, idp, provider, pending, TOO_MANY_ATTEMPTS, 429, login_value), wait
        )
    try:
        account = await idp.accounts_of(provider).verify(login_value, form.get("password", ""))
    except HashingBusy:
        return come_back(login_page(request, idp, provider, pending, BUSY, 503, login_value), 1)
    if account is None:
        await idp.guard.failed(counters)
        return login_page(request, idp, provider, pending, WRONG_PASSWORD, 401, login_value)
    known_device = await idp.guard.succeeded(login_value, pending.browser)
    device = cookie(DEVICE_COOKIE, known_device, DEVICE_COOKIE_MAX_AGE)
    acr = provider.site.reached_acr(account)
    if acr is None:
        return login_page(request, idp, provider, pending, NOT_STRONG, 403, login_value)
    pending.account = account
    if provider.site.second_factor:
        pending.one_time_code = f"{secrets.randbelow(10**6):06d}"
        response: Template | Redirect = otp_page(provider, pending)
    else:
        response = signed_in(provider, pending, acr)
    response.cookies.append(device)
    return response


def come_back(response: Template, retry_after: int) -> Template:
    response.headers["Retry-After"] = str(retry_after)
    return response


@post("/{site:str}/otp", status_code=303)
async def one_time_code(
    request: Request, site: FromPath[str], idp: NamedDependency[DemoIdp]
) -> Template | Redirect:
    found = await pending_of(request, idp, site)
    if found is None or found[1].account is None or not found[1].one_time_code:
        return problem()
    provider, pending, form = found
    if not secrets.compare_digest(form.get("code", "").strip(), pending.one_time_code):
        pending.code_attempts += 1
        if pending.code_attempts >= MAX_CODE_ATTEMPTS:
            return go(provider.deny(pending))  # the service hears access_denied
        return otp_page(provider, pending, WRONG_CODE)
    acr = provider.site.reached_acr(pending.account) if pending.account else None
    return signed_in(provider, pending, acr or provider.site.acr_values[0])


@post("/{site:str}/cancel", status_code=303)
async def cancel(
    request: Request, site: FromPath[str], idp: NamedDependency[DemoIdp]
) -> Template | Redirect:
    found = await pending_of(request, idp, site)
    if found is None:
        return problem()
    provider, pending, _ = found
    return go(provider.deny(pending))


def basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, secret = decoded.partition(":")
    return unquote(client_id), unquote(secret)  # RFC 6749 §2.3.1: form-encoded


def token_error(exc: TokenError) -> Response[Any]:
    headers = dict(NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="demo-idp"'
    return Response(
        {"error": exc.error, "error_description": exc.description},
        status_code=exc.status,
        headers=headers,
    )


@post("/{site:str}/token", status_code=200)
async def token(
    request: Request, site: FromPath[str], idp: NamedDependency[DemoIdp]
) -> Response[Any]:
    provider = idp.provider(site)
    if provider is None:
        return Response({"error": "not_found"}, status_code=404)
    form = {k: form_text(v) for k, v in (await request.form()).items()}
    try:
        client = provider.authenticate_client(form, basic_credentials(request), now())
        return Response(provider.exchange(client, form, now()), headers=NO_STORE)
    except TokenError as exc:
        return token_error(exc)


@get("/{site:str}/userinfo")
async def userinfo(
    request: Request, site: FromPath[str], idp: NamedDependency[DemoIdp]
) -> Response[Any]:
    provider = idp.provider(site)
    if provider is None:
        return Response({"error": "not_found"}, status_code=404)
    header = request.headers.get("authorization", "")
    access_token = header[7:] if header.lower().startswith("bearer ") else ""
    try:
        claims, signed = provider.userinfo(access_token, now())
    except TokenError:
        return Response(
            {"error": "invalid_token"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if signed is not None:
        return Response(signed, media_type=JWT_MEDIA_TYPE, headers=NO_STORE)
    return Response(claims, headers=NO_STORE)


@get("/{site:str}/logout")
async def logout(
    request: Request, site: FromPath[str], idp: NamedDependency[DemoIdp]
) -> Template | Redirect:
    provider = idp.provider(site)
    if provider is None:
        return problem(404)
    key = session_cookie(provider)
    location = provider.end_session(request.cookies.get(key), dict(request.query_params))
    cleared = [cookie(key, "", max_age=0)]
    if location is None:
        response = page(
            "idp_logged_out.html",
            {"brand_name": provider.site.label, "tagline": lazy_gettext(TAGLINE)},
        )
        response.cookies.extend(cleared)
        return response
    return go(location, cleared)


def template_environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(path)) for path in TEMPLATES]),
        autoescape=select_autoescape(default=True),
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    i18n.install_jinja(env)
    return env


def create_demo_idp_app(
    options: DemoIdpOptions,
    accounts: DemoAccounts | None = None,
    agent_accounts: DemoAccounts | None = None,
) -> Litestar:
    """The demo identity providers as one ASGI application."""
    accounts = accounts or DemoAccounts(DEMO_ACCOUNTS, options.password_profile)
    agent_accounts = agent_accounts or DemoAccounts(AGENTS, options.password_profile)
    guard = LoginGuard(
        Throttle(options.throttle_store or MemoryStore()), options.device_key, options.login_limits
    )
    idp = DemoIdp(
        options,
        accounts,
        agent_accounts,
        {key: DemoProvider(site, options) for key, site in ALL_SITES.items()},
        guard,
    )
    app = Litestar(
        route_handlers=[
            index,
            discovery,
            jwks,
            authorize,
            login,
            one_time_code,
            cancel,
            token,
            userinfo,
            logout,
            create_static_files_router(path="/static", directories=[STATIC_DIR]),
        ],
        dependencies={"idp": Provide(lambda: idp, use_cache=True, sync_to_thread=False)},
        template_config=TemplateConfig(
            instance=JinjaTemplateEngine.from_environment(template_environment())
        ),
        on_shutdown=[guard.throttle.close],
        openapi_config=None,
        debug=False,
        logging_config=None,
    )
    app.state.idp = idp
    app.asgi_handler = monitored(
        LocaleMiddleware(app.asgi_handler, secure=False),
        name="demo-idp",
        checks=demo_idp_checks(idp, options),
    )
    return app


def demo_idp_checks(idp: DemoIdp, options: DemoIdpOptions) -> dict[str, ReadinessCheck]:
    """Each provider's signing key, and the shared throttle store (Redis) when there is one."""

    async def keys() -> None:
        if not all(provider.key for provider in idp.providers.values()):
            raise LookupError("a demo identity provider has no signing key")

    checks: dict[str, ReadinessCheck] = {"keys": keys}
    store = options.throttle_store
    if store is not None:

        async def throttle_store() -> None:
            await store.exists("readiness-probe")

        checks["throttle_store"] = throttle_store
    return checks
