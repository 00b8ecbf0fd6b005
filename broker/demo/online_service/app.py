"""The demo service's routes: its pages, the sign-in through the broker, the sign-out, and the
back-channel receivers (``backchannel``).

The service's session lives in ``RelyingParty.sessions`` under a random id, which the
``cantine_session`` cookie carries; every page reads it, so the home page knows a citizen who
went to the broker's citizen space and came back."""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
from joserfc.errors import JoseError
from litestar import Litestar, Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.response import Redirect, Response

from broker.core.monitoring import monitored
from broker.demo.online_service.account import account_page, read_data
from broker.demo.online_service.backchannel import backchannel_logout, consent_events
from broker.demo.online_service.language import language_of
from broker.demo.online_service.pages import STYLESHEET, home_page, problem_page
from broker.demo.online_service.relying_party import CodeExchange, RelyingParty
from broker.demo.online_service.texts import N_
from broker.demo.seed import DEMO_DATA_SCOPES, DEMO_SCOPE

COOKIE = "cantine_session"


def session_cookie(rp: RelyingParty, value: str = "") -> Cookie:
    """The session's cookie; an empty value clears it."""
    return Cookie(
        key=COOKIE,
        value=value,
        path="/",
        max_age=None if value else 0,
        httponly=True,
        secure=rp.base_url.startswith("https://"),
        samesite="lax",
    )


def session_of(request: Request, rp: RelyingParty) -> dict[str, Any] | None:
    return rp.sessions.get(request.cookies.get(COOKIE, ""))


@get("/")
async def home(request: Request, rp: NamedDependency[RelyingParty]) -> Response:
    """The signed-in citizen's page while their session lasts, else the prices and sign-in."""
    language = language_of(request)
    session = session_of(request, rp)
    if session is not None:
        return await account_page(rp, language, session)
    # A cookie whose session ended (signed out elsewhere, the service restarted) is cleared.
    stale = [session_cookie(rp)] if request.cookies.get(COOKIE) else []
    return home_page(language, cookies=stale)


@get("/style.css")
async def style() -> Response:
    return Response(STYLESHEET, media_type="text/css")


@get("/login")
async def login(request: Request, rp: NamedDependency[RelyingParty]) -> Redirect:
    """To the broker, asking its pages to speak the language of this one (``ui_locales``)."""
    language = language_of(request)
    url = await rp.authorization_url(ui_locales=language.code)
    return Redirect(path=url, status_code=302, cookies=language.cookies())


@get("/callback")
async def callback(request: Request, rp: NamedDependency[RelyingParty]) -> Response:
    language = language_of(request)
    params = request.query_params
    pending = rp.pending.pop(params.get("state", ""), None)
    if pending is None:
        return problem_page(
            language,
            400,
            title=N_("Session inconnue"),
            error="invalid_state",
            message=N_("Cette réponse ne correspond à aucune connexion en cours."),
        )
    if params.get("iss") != rp.issuer:
        return problem_page(
            language,
            400,
            title=N_("Émetteur inattendu"),
            error="invalid_issuer",
            message=N_("La réponse ne vient pas du courtier attendu (RFC 9207)."),
        )
    if params.get("error"):
        refused = params["error"] == "access_denied"
        return problem_page(
            language,
            403 if refused else 400,
            title=N_("Connexion refusée") if refused else N_("Connexion impossible"),
            error=params["error"],
            message=N_("Vous n'avez pas donné votre accord : aucune donnée n'a été transmise.")
            if refused
            else N_("Le courtier a signalé une erreur."),
        )
    try:
        exchange = await rp.exchange_code(params.get("code"), pending)
    except (httpx.HTTPError, JoseError, KeyError, ValueError) as exc:
        return problem_page(
            language,
            502,
            title=N_("Connexion impossible"),
            error=type(exc).__name__,
            message=N_("L'échange avec le courtier a échoué."),
        )
    if exchange.userinfo.get("sub") != exchange.id_claims["sub"]:
        return problem_page(
            language,
            502,
            title=N_("Réponse incohérente"),
            error="sub_mismatch",
            message=N_("Les informations reçues ne concernent pas la même personne."),
        )
    session_id = await open_session(rp, exchange)
    # To the home page (Post/Redirect/Get): a reload or the Back button never replays the
    # callback's single-use code, and the page's links (the language switch) work there.
    return Redirect(path="/", status_code=303, cookies=[session_cookie(rp, session_id)])


async def open_session(rp: RelyingParty, exchange: CodeExchange) -> str:
    """The service's session of a sign-in the broker accepted, its CAF data read once."""
    # RFC 6749 §5.1: no scope in the response means the requested one was granted.
    scope = str(exchange.token.get("scope") or DEMO_SCOPE)
    session = {
        "claims": exchange.userinfo,
        "acr": exchange.id_claims.get("acr"),
        "at": int(time.time()),
        "access_token": exchange.token["access_token"],
        "id_token": exchange.token["id_token"],
        "granted": set(scope.split()) & set(DEMO_DATA_SCOPES),
        # The broker's session and the citizen, as a back-channel logout names them.
        "sid": exchange.id_claims.get("sid"),
        "sub": exchange.id_claims["sub"],
    }
    await read_data(rp, session)
    session_id = secrets.token_urlsafe(24)
    rp.sessions[session_id] = session
    return session_id


@get("/refresh")
async def refresh(request: Request, rp: NamedDependency[RelyingParty]) -> Response:
    """The data again, with the access token of the sign-in: refused once consent ends."""
    language = language_of(request)
    session = session_of(request, rp)
    if session is None:
        return problem_page(
            language,
            401,
            title=N_("Session expirée"),
            error="no_session",
            message=N_("Reconnectez-vous pour consulter vos informations."),
        )
    return await account_page(rp, language, session, refresh=True)


@post("/logout", status_code=303)
async def logout(request: Request, rp: NamedDependency[RelyingParty]) -> Redirect:
    """Sign-out: this service's session ends, then the broker's (RP-Initiated Logout 1.0),
    which ends the identity provider's and sends the citizen back to the home page."""
    session = rp.sessions.pop(request.cookies.get(COOKIE, ""), None)
    cleared = [session_cookie(rp)]
    if session is None:
        return Redirect(path="/", status_code=303, cookies=cleared)
    url = await rp.logout_url(session["id_token"], ui_locales=language_of(request).code)
    return Redirect(path=url, status_code=303, cookies=cleared)


def create_service_app(rp: RelyingParty) -> Litestar:
    app = Litestar(
        route_handlers=[
            home,
            style,
            login,
            callback,
            refresh,
            logout,
            consent_events,
            backchannel_logout,
        ],
        dependencies={"rp": Provide(lambda: rp, use_cache=True, sync_to_thread=False)},
        debug=False,
        logging_config=None,
    )
    # Ready as soon as it answers: checking the broker from here would only repeat the
    # broker's own readiness.
    app.asgi_handler = monitored(app.asgi_handler, name="online-service")
    return app
