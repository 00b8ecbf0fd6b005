"""Signing in to the demo service through the broker, and out of both.

``/login`` sends the citizen to the broker and ties the sign-in to their browser (the
``cantine_login`` cookie, see ``sessions``); ``/callback`` checks that tie, the issuer
(RFC 9207) and the broker's answer, opens the service's session and goes on to the home page;
``/logout`` (a form carrying the session's own token) ends the service's session, then the
broker's (RP-Initiated Logout 1.0)."""

from __future__ import annotations

import time

import httpx
from joserfc.errors import JoseError
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Response

from broker.demo.online_service.account import read_data
from broker.demo.online_service.language import language_of
from broker.demo.online_service.pages import problem_page
from broker.demo.online_service.relying_party import CodeExchange, RelyingParty
from broker.demo.online_service.sessions import (
    COOKIE,
    LOGIN_COOKIE,
    live_session,
    login_cookie,
    open_session,
    session_cookie,
    sign_out_allowed,
    started_here,
)
from broker.demo.seed import DEMO_DATA_SCOPES, DEMO_SCOPE
from broker.web.i18n import N_


@get("/login")
async def login(request: Request, rp: NamedDependency[RelyingParty]) -> Redirect:
    """To the broker, asking its pages to speak the language of this one (``ui_locales``)."""
    language = language_of(request)
    url, state = await rp.authorization_url(ui_locales=language.code)
    cookies = [*language.cookies(), login_cookie(rp, state)]
    return Redirect(path=url, status_code=302, cookies=cookies)


@get("/callback")
async def callback(request: Request, rp: NamedDependency[RelyingParty]) -> Response:
    language = language_of(request)
    params = request.query_params
    state = params.get("state", "")
    pending = None
    # An answer this browser did not ask for is refused before anything else (login CSRF);
    # it leaves the cookie of a sign-in this browser may have in progress.
    if started_here(request.cookies.get(LOGIN_COOKIE), state):
        pending = rp.take_pending(state)
    if pending is None:
        return problem_page(
            language,
            400,
            title=N_("Session inconnue"),
            error="invalid_state",
            message=N_(
                "Cette réponse ne correspond à aucune connexion en cours dans ce navigateur."
            ),
        )
    done = [login_cookie(rp)]  # this sign-in is over, whatever its outcome
    if params.get("iss") != rp.issuer:
        return problem_page(
            language,
            400,
            title=N_("Émetteur inattendu"),
            error="invalid_issuer",
            message=N_("La réponse ne vient pas du courtier attendu (RFC 9207)."),
            cookies=done,
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
            cookies=done,
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
            cookies=done,
        )
    if exchange.userinfo.get("sub") != exchange.id_claims["sub"]:
        return problem_page(
            language,
            502,
            title=N_("Réponse incohérente"),
            error="sub_mismatch",
            message=N_("Les informations reçues ne concernent pas la même personne."),
            cookies=done,
        )
    session_id = await sign_in(rp, exchange)
    # To the home page (Post/Redirect/Get): a reload or the Back button never replays the
    # callback's single-use code, and the page's links (the language switch) work there.
    return Redirect(
        path="/", status_code=303, cookies=[*done, session_cookie(rp.secure_cookies, session_id)]
    )


async def sign_in(rp: RelyingParty, exchange: CodeExchange) -> str:
    """The service's session of a sign-in the broker accepted, its CAF data read once."""
    # RFC 6749 §5.1: no scope in the response means the requested one was granted.
    scope = str(exchange.token.get("scope") or DEMO_SCOPE)
    session = {
        "claims": exchange.userinfo,
        "acr": exchange.id_claims.get("acr"),
        "access_token": exchange.token["access_token"],
        "id_token": exchange.token["id_token"],
        "granted": set(scope.split()) & set(DEMO_DATA_SCOPES),
        # The broker's session and the citizen, as a back-channel logout names them.
        "sid": exchange.id_claims.get("sid"),
        "sub": exchange.id_claims["sub"],
    }
    await read_data(rp, session)
    return open_session(rp.sessions, session, time.time())


@post("/logout", status_code=303)
async def logout(request: Request, rp: NamedDependency[RelyingParty]) -> Response:
    """Sign-out: this service's session ends, then the broker's (RP-Initiated Logout 1.0),
    which ends the identity provider's and sends the citizen back to the home page. The form
    carries the session's own token: a form on another site cannot sign the citizen out."""
    language = language_of(request)
    session_id = request.cookies.get(COOKIE, "")
    session = live_session(rp.sessions, session_id, time.time())
    cleared = [session_cookie(rp.secure_cookies)]
    if session is None:
        return Redirect(path="/", status_code=303, cookies=cleared)
    form = await request.form()
    if not sign_out_allowed(session, form.get("csrf_token")):
        return problem_page(
            language,
            403,
            title=N_("Formulaire non valable"),
            error="invalid_csrf_token",
            message=N_(
                "Ce formulaire n'a pas été envoyé depuis votre page. Vous êtes toujours "
                "connecté(e). Pour vous déconnecter, utilisez le bouton « Se déconnecter » de "
                "la page d'accueil."
            ),
        )
    rp.sessions.pop(session_id, None)  # unless a back-channel logout ended it meanwhile
    url = await rp.logout_url(session["id_token"], ui_locales=language.code)
    return Redirect(path=url, status_code=303, cookies=cleared)
