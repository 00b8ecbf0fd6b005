"""The demo service's routes: its pages, the sign-in through the broker and the sign-out
(``signin``), and the back-channel receivers (``backchannel``).

Every page reads the service's session from the ``cantine_session`` cookie (``sessions``), so
the home page knows a citizen who went to the broker's citizen space and came back."""

from __future__ import annotations

import time
from typing import Any

from litestar import Litestar, Request, get
from litestar.di import NamedDependency, Provide
from litestar.response import Response

from broker.core.monitoring import monitored
from broker.demo.online_service.account import account_page
from broker.demo.online_service.backchannel import backchannel_logout, consent_events
from broker.demo.online_service.catalog import load_catalogs
from broker.demo.online_service.language import language_of
from broker.demo.online_service.pages import STYLESHEET, home_page, problem_page
from broker.demo.online_service.relying_party import RelyingParty
from broker.demo.online_service.sessions import COOKIE, live_session, session_cookie
from broker.demo.online_service.signin import callback, login, logout
from broker.web.i18n import N_


def session_of(request: Request, rp: RelyingParty) -> dict[str, Any] | None:
    return live_session(rp.sessions, request.cookies.get(COOKIE, ""), time.time())


@get("/")
async def home(request: Request, rp: NamedDependency[RelyingParty]) -> Response:
    """The signed-in citizen's page while their session lasts, else the prices and sign-in."""
    language = language_of(request)
    session = session_of(request, rp)
    if session is not None:
        return await account_page(rp, language, session)
    # A cookie whose session ended (expired, signed out elsewhere, the service restarted) is
    # cleared.
    stale = [session_cookie(rp.secure_cookies)] if request.cookies.get(COOKIE) else []
    return home_page(language, cookies=stale)


@get("/style.css")
async def style() -> Response:
    return Response(STYLESHEET, media_type="text/css")


@get("/refresh")
async def refresh(request: Request, rp: NamedDependency[RelyingParty]) -> Response:
    """The data again, with the access token of the sign-in: refused once consent ends."""
    language = language_of(request)
    session = session_of(request, rp)
    if session is None:
        stale = [session_cookie(rp.secure_cookies)] if request.cookies.get(COOKIE) else []
        return problem_page(
            language,
            401,
            title=N_("Session expirée"),
            error="no_session",
            message=N_("Reconnectez-vous pour consulter vos informations."),
            cookies=stale,
        )
    return await account_page(rp, language, session, refresh=True)


def create_service_app(rp: RelyingParty) -> Litestar:
    load_catalogs()  # a broken catalog stops the start-up, not a citizen's page
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
