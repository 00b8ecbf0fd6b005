"""Who may reach a portal route.

- :class:`SessionLoader` (a Litestar middleware the app installs) reads the session cookie of
  every page request and leaves the signed-in agent, if any, on the request.
- :func:`signed_in` (a guard): nobody signed in -> a GET is sent to the sign-in page (and back
  afterwards), anything else gets a 403 page; every POST must carry the session's ``csrf``
  form field.
- :func:`requires` (a guard factory): signed in, and holding one of the roles, or a 403 page.
- :func:`provide_agent`: the ``agent: NamedDependency[Agent]`` dependency of the handlers.

Handlers declare them: ``@get(..., guards=[requires(Role.INSTRUCTOR)])``, or a controller for
all its handlers: ``guards = (requires(Role.INSTRUCTOR),)`` (a tuple: no mutable class
attribute)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from broker.admin.principal import Agent, Role
from broker.portal.sessions import COOKIE, PortalSessions, SignedIn
from broker.portal.signin_state import local_path
from broker.web.i18n import N_

SCOPE_KEY = "portal.signed_in"  # where the middleware leaves the SignedIn of the request
SIGN_IN_PATH = "/connexion"
SAFE_METHODS = frozenset({"GET", "HEAD"})
CSRF_FIELD = "csrf"

Guard = Callable[[ASGIConnection, BaseRouteHandler], Awaitable[None]]


class SignInRequired(Exception):
    """Nobody is signed in on a page that needs someone: go and sign in, then come back."""

    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


class PortalRefusal(Exception):
    """A request the portal refuses, shown as a page (status, French title and message)."""

    def __init__(self, status: int, title: str, message: str, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.title = title
        self.message = message
        self.code = code


NOT_SIGNED_IN = (
    403,
    N_("Connexion nécessaire"),
    N_(
        "Votre session a pris fin ou vous n'êtes pas connecté. Rien n'a été enregistré. "
        "Connectez-vous, puis recommencez."
    ),
    "not_signed_in",
)
BAD_CSRF = (
    403,
    N_("Formulaire non valable"),
    N_(
        "Ce formulaire n'a pas été émis pour votre session (il est peut-être trop ancien). "
        "Par sécurité, rien n'a été enregistré. Rechargez la page et recommencez."
    ),
    "bad_csrf",
)
NOT_ALLOWED = (
    403,
    N_("Accès refusé"),
    N_("Votre rôle ne vous permet pas d'accéder à cette page ou de faire cette action."),
    "forbidden",
)


class SessionLoader(ASGIMiddleware):
    """Reads the session cookie (pages only: static files need no database round trip)."""

    scopes = (ScopeType.HTTP,)
    should_bypass_for_scope = staticmethod(lambda scope: scope["path"].startswith("/static/"))

    def __init__(self, sessions: PortalSessions) -> None:
        self.sessions = sessions

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        session_id = cookie_of(scope, COOKIE)
        if session_id:
            scope[SCOPE_KEY] = await self.sessions.read(session_id)  # type: ignore[literal-required]
        await next_app(scope, receive, send)


def cookie_of(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            for pair in value.decode("latin-1").split(";"):
                cookie_name, _, cookie_value = pair.strip().partition("=")
                if cookie_name == name:
                    return cookie_value.strip().strip('"') or None
    return None


def signed_in_of(connection: ASGIConnection) -> SignedIn | None:
    """The session the request came with (None: nobody, or a session that has ended)."""
    value = connection.scope.get(SCOPE_KEY)
    return value if isinstance(value, SignedIn) else None


def refuse(reason: tuple[int, str, str, str]) -> PortalRefusal:
    return PortalRefusal(*reason)


async def signed_in(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    current = signed_in_of(connection)
    method = connection.scope.get("method", "GET")
    if current is None:
        if method in SAFE_METHODS:
            path = connection.url.path
            query = connection.url.query
            raise SignInRequired(f"{path}?{query}" if query else path)
        raise refuse(NOT_SIGNED_IN)
    if method not in SAFE_METHODS:
        await check_csrf(connection, current)


async def check_csrf(connection: ASGIConnection, current: SignedIn) -> None:
    token = ""
    if isinstance(connection, Request):
        # Read once and kept by the request: the handler reads the same form afterwards.
        form = await connection.form()
        value = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else ""
    if not token or not current.csrf or len(token) > 200:
        raise refuse(BAD_CSRF)
    if not hmac.compare_digest(token, current.csrf):
        raise refuse(BAD_CSRF)


def requires(*roles: Role) -> Guard:
    """A guard: signed in (as :func:`signed_in` checks) with at least one of ``roles``."""
    wanted = frozenset(roles)
    if not wanted:
        raise ValueError("requires() needs at least one role")

    async def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
        await signed_in(connection, handler)
        current = signed_in_of(connection)
        if current is None or not (current.agent.roles & wanted):
            raise refuse(NOT_ALLOWED)

    guard.__name__ = "requires_" + "_or_".join(sorted(wanted))
    ROLE_GUARDS.add(guard)
    return guard


# The guards :func:`requires` made: each checks :func:`signed_in` first (a test walks every
# route of the portal and accepts these or ``signed_in`` itself).
ROLE_GUARDS: set[Guard] = set()


def checks_sign_in(guard: Guard) -> bool:
    """True for the guards that let nobody through without a session (and check the CSRF
    token of every POST)."""
    return guard is signed_in or guard in ROLE_GUARDS


def provide_agent(request: Request) -> Agent:
    """The ``agent`` dependency. Only handlers behind a guard should ask for it; one that is
    not still never runs for nobody."""
    current = signed_in_of(request)
    if current is None:
        if request.method in SAFE_METHODS:
            raise SignInRequired(request.url.path)
        raise refuse(NOT_SIGNED_IN)
    return current.agent


def sign_in_location(back_to: str) -> str:
    """The sign-in page, with where to come back to (a local path only: the sign-in's rule)."""
    return f"{SIGN_IN_PATH}?{urlencode({'retour': local_path(back_to)})}"
