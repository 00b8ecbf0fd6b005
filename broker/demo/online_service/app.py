"""The demo service's routes: its pages, the sign-in through the broker, and the back-channel
receivers of the broker's consent events and logout tokens."""

from __future__ import annotations

import json
import secrets
import time

import httpx
from joserfc.errors import JoseError
from litestar import Litestar, Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.response import Redirect, Response

from broker.core.monitoring import monitored
from broker.demo.online_service.logout_receiver import (
    LogoutRejected,
    logout_claims,
    sessions_to_end,
)
from broker.demo.online_service.pages import (
    STYLESHEET,
    html_page,
    problem_page,
    welcome_page,
)
from broker.demo.online_service.relying_party import SET_MEDIA_TYPE, EventRejected, RelyingParty
from broker.demo.seed import DEMO_DATA_SCOPES, DEMO_SCOPE, LOGOUT_PATH, NOTIFICATION_PATH

COOKIE = "cantine_session"


@get("/")
async def home() -> Response:
    return html_page("home.html", title="Tarifs de la cantine")


@get("/style.css")
async def style() -> Response:
    return Response(STYLESHEET, media_type="text/css")


@get("/login")
async def login(rp: NamedDependency[RelyingParty]) -> Redirect:
    return Redirect(path=await rp.authorization_url(), status_code=302)


@get("/callback")
async def callback(request: Request, rp: NamedDependency[RelyingParty]) -> Response:
    params = request.query_params
    pending = rp.pending.pop(params.get("state", ""), None)
    if pending is None:
        return problem_page(
            400,
            title="Session inconnue",
            error="invalid_state",
            message="Cette réponse ne correspond à aucune connexion en cours.",
        )
    if params.get("iss") != rp.issuer:
        return problem_page(
            400,
            title="Émetteur inattendu",
            error="invalid_issuer",
            message="La réponse ne vient pas du courtier attendu (RFC 9207).",
        )
    if params.get("error"):
        refused = params["error"] == "access_denied"
        return problem_page(
            403 if refused else 400,
            title="Connexion refusée" if refused else "Connexion impossible",
            error=params["error"],
            message="Vous n'avez pas donné votre accord : aucune donnée n'a été transmise."
            if refused
            else "Le courtier a signalé une erreur.",
        )
    return await sign_in(rp, params.get("code"), pending)


async def sign_in(rp: RelyingParty, code: str | None, pending: dict[str, str]) -> Response:
    """The end of a sign-in the broker accepted: the tokens, a session, the welcome page."""
    try:
        exchange = await rp.exchange_code(code, pending)
    except (httpx.HTTPError, JoseError, KeyError, ValueError) as exc:
        return problem_page(
            502,
            title="Connexion impossible",
            error=type(exc).__name__,
            message="L'échange avec le courtier a échoué.",
        )
    if exchange.userinfo.get("sub") != exchange.id_claims["sub"]:
        return problem_page(
            502,
            title="Réponse incohérente",
            error="sub_mismatch",
            message="Les informations reçues ne concernent pas la même personne.",
        )
    # RFC 6749 §5.1: no scope in the response means the requested one was granted.
    scope = str(exchange.token.get("scope") or DEMO_SCOPE)
    granted = set(scope.split()) & set(DEMO_DATA_SCOPES)
    session_id = secrets.token_urlsafe(24)
    session = rp.sessions[session_id] = {
        "claims": exchange.userinfo,
        "acr": exchange.id_claims.get("acr"),
        "at": int(time.time()),
        "access_token": exchange.token["access_token"],
        "id_token": exchange.token["id_token"],
        "granted": granted,
        # The broker's session and the citizen, as a back-channel logout names them.
        "sid": exchange.id_claims.get("sid"),
        "sub": exchange.id_claims["sub"],
    }
    response = await welcome_page(rp, session)
    response.cookies.append(Cookie(key=COOKIE, value=session_id, httponly=True, samesite="lax"))
    return response


@get("/refresh")
async def refresh(request: Request, rp: NamedDependency[RelyingParty]) -> Response:
    """The data again, with the access token of the sign-in: refused once consent ends."""
    session = rp.sessions.get(request.cookies.get(COOKIE, ""))
    if session is None:
        return problem_page(
            401,
            title="Session expirée",
            error="no_session",
            message="Reconnectez-vous pour consulter vos informations.",
        )
    return await welcome_page(rp, session, refreshed=True)


@post("/logout", status_code=303)
async def logout(request: Request, rp: NamedDependency[RelyingParty]) -> Redirect:
    """Sign-out: this service's session ends, then the broker's (RP-Initiated Logout 1.0),
    which ends the identity provider's and sends the citizen back to the home page."""
    session = rp.sessions.pop(request.cookies.get(COOKIE, ""), None)
    cleared = [Cookie(key=COOKIE, value="", max_age=0, httponly=True, samesite="lax")]
    if session is None:
        return Redirect(path="/", status_code=303, cookies=cleared)
    return Redirect(path=await rp.logout_url(session["id_token"]), status_code=303, cookies=cleared)


@post(NOTIFICATION_PATH, request_max_body_size=16_384)
async def consent_events(request: Request, rp: NamedDependency[RelyingParty]) -> Response:
    """RFC 8935 push delivery: 202 once verified and recorded, 400 with ``err`` else."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if media_type != SET_MEDIA_TYPE:
            raise EventRejected("invalid_request", f"Content-Type must be {SET_MEDIA_TYPE}")
        await rp.receive_event((await request.body()).decode("ascii", "replace").strip())
    except EventRejected as exc:
        return Response(
            json.dumps({"err": exc.err, "description": exc.description}),
            status_code=400,
            media_type="application/json",
        )
    except httpx.HTTPError:  # the broker's keys are unreachable: the broker retries
        return Response(b"", status_code=503)
    return Response(b"", status_code=202)


@post(LOGOUT_PATH, request_max_body_size=16_384)
async def backchannel_logout(request: Request, rp: NamedDependency[RelyingParty]) -> Response:
    """OpenID Connect Back-Channel Logout 1.0: the broker's session ended, so do this service's
    sessions of it; 200 once done, 400 with an OAuth error for a token it cannot trust."""
    no_store = {"Cache-Control": "no-store"}
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if media_type != "application/x-www-form-urlencoded":
            raise LogoutRejected("the logout token is sent as a form")
        token = (await request.form()).get("logout_token")
        if not isinstance(token, str) or not token:
            raise LogoutRejected("logout_token is missing")
        claims = await logout_claims(rp, token)
    except LogoutRejected as exc:
        return Response(
            json.dumps({"error": exc.error, "error_description": exc.description}),
            status_code=400,
            media_type="application/json",
            headers=no_store,
        )
    except httpx.HTTPError:  # the broker's keys are unreachable: the broker retries
        return Response(b"", status_code=503, headers=no_store)
    for session_id in sessions_to_end(rp.sessions, claims):
        rp.sessions.pop(session_id, None)
    return Response(b"", status_code=200, headers=no_store)


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
