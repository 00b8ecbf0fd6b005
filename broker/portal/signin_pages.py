"""Signing in and out of the portal (see broker.portal.signin for the protocol):

- ``GET /connexion?retour=/path``: off to the agents' identity provider;
- ``GET /connexion/retour``: the provider's answer; a session is opened, the agent sent back
  where they were going;
- ``POST /deconnexion``: the session ends here, then at the provider (RP-initiated logout);
- ``GET /deconnexion/terminee``: where the provider sends the agent back."""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from broker.admin.agents import UnverifiedEmail, upsert_agent
from broker.admin.client_profile import AdminError
from broker.portal.context import PortalContext
from broker.portal.guards import signed_in, signed_in_of
from broker.portal.pages import in_transaction, portal_error, portal_page
from broker.portal.sessions import PortalSessions, expired_session_cookie, session_cookie
from broker.portal.signin import AgentSignIn
from broker.portal.signin_state import SIGN_IN_COOKIE, SIGN_IN_TTL, SignInFailed, local_path
from broker.web.http import redirect
from broker.web.i18n import N_

log = logging.getLogger("broker.portal.signin")

FAILURES = {
    "denied": (
        403,
        N_("Connexion annulée"),
        N_(
            "La connexion a été annulée auprès du fournisseur d'identité. Vous n'êtes pas connecté."
        ),
    ),
    "expired": (
        400,
        N_("Connexion expirée"),
        N_(
            "Cette connexion a expiré, ou elle a été commencée dans un autre navigateur. Par "
            "sécurité, vous n'avez pas été connecté. Recommencez la connexion."
        ),
    ),
    "unknown_state": (
        400,
        N_("Connexion introuvable"),
        N_(
            "Cette réponse du fournisseur d'identité ne correspond pas à la connexion commencée "
            "dans ce navigateur. Par sécurité, vous n'avez pas été connecté. Recommencez."
        ),
    ),
    "replayed": (
        400,
        N_("Connexion déjà utilisée"),
        N_(
            "Cette réponse du fournisseur d'identité a déjà servi. Par sécurité, elle ne peut "
            "pas servir une seconde fois. Recommencez la connexion."
        ),
    ),
    "wrong_issuer": (
        400,
        N_("Réponse non valable"),
        N_(
            "La réponse reçue ne vient pas du fournisseur d'identité des agents. Par sécurité, "
            "vous n'avez pas été connecté. Recommencez la connexion."
        ),
    ),
    "provider_error": (
        502,
        N_("Erreur du fournisseur d'identité"),
        N_(
            "Le fournisseur d'identité n'a pas pu vous identifier. Recommencez dans quelques "
            "instants."
        ),
    ),
    "unreachable": (
        504,
        N_("Fournisseur d'identité injoignable"),
        N_("Le fournisseur d'identité des agents ne répond pas. Réessayez dans quelques instants."),
    ),
    "invalid_response": (
        502,
        N_("Réponse non valable"),
        N_(
            "La réponse du fournisseur d'identité n'a pas passé nos vérifications de sécurité. "
            "Par sécurité, vous n'avez pas été connecté et rien n'a été enregistré."
        ),
    ),
    "unverified_email": (
        403,
        N_("Adresse électronique non vérifiée"),
        N_(
            "Le fournisseur d'identité indique que votre adresse électronique n'a pas été "
            "vérifiée. Des rôles sont accordés à cette adresse : par sécurité, vous n'avez pas "
            "été connecté. Faites vérifier votre adresse auprès du fournisseur d'identité, puis "
            "recommencez."
        ),
    ),
    "incomplete_identity": (
        502,
        N_("Identité incomplète"),
        N_(
            "Le fournisseur d'identité n'a pas transmis votre adresse électronique, ou elle "
            "n'est pas valable. Rien n'a été enregistré."
        ),
    ),
}


def failure_page(reason: str, secure: bool) -> Template:
    status, title, message = FAILURES.get(reason, FAILURES["provider_error"])
    page = portal_error(status, title, message, code=reason)
    page.cookies.append(cleared_sign_in_cookie(secure))
    return page


def sign_in_cookie(value: str, secure: bool) -> Cookie:
    return Cookie(
        key=SIGN_IN_COOKIE,
        value=value,
        httponly=True,
        secure=secure,
        samesite="lax",  # sent on the provider's top-level redirect back
        path="/",
        max_age=SIGN_IN_TTL,
    )


def cleared_sign_in_cookie(secure: bool) -> Cookie:
    return Cookie(
        key=SIGN_IN_COOKIE, value="", httponly=True, secure=secure, samesite="lax", max_age=0
    )


class SignInController(Controller):
    @get("/connexion", name="portal_sign_in")
    async def start(
        self,
        request: Request,
        portal: NamedDependency[PortalContext],
        agent_sign_in: NamedDependency[AgentSignIn],
    ) -> Redirect | Template:
        back_to = local_path(request.query_params.get("retour"))
        if signed_in_of(request) is not None:
            return redirect(back_to)
        try:
            url, cookie = await agent_sign_in.start(back_to)
        except SignInFailed as exc:
            log.warning("agent sign-in could not start", extra={"reason": exc.detail})
            return failure_page(exc.reason, portal.secure_cookies)
        return redirect(url, [sign_in_cookie(cookie, portal.secure_cookies)])

    @get("/connexion/retour", name="portal_sign_in_callback")
    async def callback(
        self,
        request: Request,
        portal: NamedDependency[PortalContext],
        agent_sign_in: NamedDependency[AgentSignIn],
        sessions: NamedDependency[PortalSessions],
    ) -> Redirect | Template:
        params = {key: value for key, value in request.query_params.items() if key != "lang"}
        secure = portal.secure_cookies
        try:
            found, pending = await agent_sign_in.finish(request.cookies.get(SIGN_IN_COOKIE), params)
        except SignInFailed as exc:
            log.warning("agent sign-in refused", extra={"reason": exc.reason, "detail": exc.detail})
            return failure_page(exc.reason, secure)

        def open_session(session: Any) -> str:
            now = int(time.time())
            record = upsert_agent(session, found.identity, now)
            return sessions.open_in(session, record.id, now, found.id_token)

        try:
            session_id = await in_transaction(portal, open_session)
        except UnverifiedEmail:
            return failure_page("unverified_email", secure)
        except AdminError as exc:
            log.warning("agent sign-in refused", extra={"reason": str(exc)})
            return failure_page("incomplete_identity", secure)
        log.info("agent signed in", extra={"issuer": agent_sign_in.issuer})
        return redirect(
            pending.back_to,
            [session_cookie(session_id, secure=secure), cleared_sign_in_cookie(secure)],
        )

    @post("/deconnexion", name="portal_sign_out", guards=[signed_in], status_code=303)
    async def sign_out(
        self,
        request: Request,
        portal: NamedDependency[PortalContext],
        agent_sign_in: NamedDependency[AgentSignIn],
        sessions: NamedDependency[PortalSessions],
    ) -> Redirect:
        current = signed_in_of(request)
        closed = await sessions.close(current.session_id) if current is not None else None
        hint = closed.upstream_id_token if closed is not None else None
        location = await agent_sign_in.end_session_url(hint)
        return redirect(location, [expired_session_cookie(secure=portal.secure_cookies)])

    @get("/deconnexion/terminee", name="portal_signed_out")
    async def signed_out(self, request: Request) -> Template:
        return portal_page("portal_signed_out.html")


CONTROLLERS = [SignInController]
