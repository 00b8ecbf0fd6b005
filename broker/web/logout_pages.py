"""The end-session endpoint (RP-Initiated Logout 1.0), its confirmation page, the way back
from an identity provider's sign-out, and the "signed out" page. Thin: see
``broker.interaction.logout``."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from broker.interaction.logout import DONE_PATH, UPSTREAM_RETURN_PATH, Logout, LogoutRefused
from broker.web.http import BROWSER_COOKIE, SESSION_COOKIE, page, redirect
from broker.web.i18n import N_
from broker.web.pages import error_page

LOGOUT_REFUSED = (
    N_("Déconnexion impossible"),
    N_(
        "Cette demande de déconnexion ne vient pas d'un service reconnu, ou son adresse de "
        "retour n'est pas déclarée. Vous n'avez pas été déconnecté."
    ),
)
# The parameters of RP-Initiated Logout §2 the broker reads.
PARAMETERS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales")


@dataclass(frozen=True)
class LogoutPages:
    logout: Logout
    secure_cookies: bool


def cleared(secure: bool) -> list[Cookie]:
    return [Cookie(key=SESSION_COOKIE, value="", max_age=0, httponly=True, secure=secure)]


class LogoutController(Controller):
    @get("/logout")
    async def end_session(
        self, request: Request, logout_pages: NamedDependency[LogoutPages]
    ) -> Template | Redirect:
        params = {k: request.query_params[k] for k in PARAMETERS if k in request.query_params}
        return await self.answer(request, logout_pages, params, None)

    @post("/logout", status_code=303)
    async def end_session_posted(
        self, request: Request, logout_pages: NamedDependency[LogoutPages]
    ) -> Template | Redirect:
        form = await request.form()
        params = {k: v for k in PARAMETERS if isinstance(v := form.get(k), str) and v}
        token = form.get("confirm_token")
        return await self.answer(
            request, logout_pages, params, token if isinstance(token, str) else None
        )

    @staticmethod
    async def answer(
        request: Request, pages: LogoutPages, params: dict[str, str], token: str | None
    ) -> Template | Redirect:
        logout = pages.logout
        try:
            wanted = await logout.check(params)
        except LogoutRefused:
            return error_page(*LOGOUT_REFUSED, "invalid_request", 400)
        session_id = request.cookies.get(SESSION_COOKIE)
        browser_id = request.cookies.get(BROWSER_COOKIE)
        confirmed = logout.confirmed(browser_id, token)
        if not confirmed and await logout.needs_confirmation(wanted, session_id, browser_id):
            return page(
                "logout_confirm.html",
                {
                    "params": params,
                    "confirm_token": logout.confirmation_token(browser_id or ""),
                    "stay_url": wanted.target or "/espace",
                },
                ui_locales=wanted.ui_locales,
            )
        location = await logout.end(wanted.target, session_id, browser_id)
        return redirect(location, cleared(pages.secure_cookies))

    @get(UPSTREAM_RETURN_PATH)
    async def back_from_provider(
        self, request: Request, logout_pages: NamedDependency[LogoutPages]
    ) -> Redirect:
        return redirect(logout_pages.logout.follow(request.query_params.get("state")))

    @get(DONE_PATH)
    async def done(self) -> Template:
        return page("logged_out.html", {})
