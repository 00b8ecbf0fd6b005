"""The operators' portal's composition root (`broker portal run`): builds its parts from the
settings, serves every page area over the broker's database, and runs the periodic jobs.

Pages are server-rendered like the citizen pages (same templates kit, same catalogs, French
first), under a strict policy: no script, no inline style, forms posted to the portal itself
(and, for the sign-out, on to the agents' identity provider)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from litestar import Litestar
from litestar.di import Provide
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler

from broker.core.db import Database
from broker.core.health import standard_checks
from broker.core.mail import Mailer
from broker.core.metrics import process_stopped
from broker.core.monitoring import metrics_token_of, monitored
from broker.core.settings import Settings
from broker.keys.vault import derive_key
from broker.portal import (
    audit_pages,
    clients_pages,
    habilitations_pages,
    home_pages,
    mail_pages,
    requests_pages,
    roles_pages,
    signin_pages,
    stats_pages,
    status_pages,
)
from broker.portal.context import PortalContext
from broker.portal.errors import EXCEPTION_HANDLERS
from broker.portal.guards import SessionLoader, provide_agent
from broker.portal.jobs import PortalJobs
from broker.portal.sessions import COOKIE as SESSION_COOKIE
from broker.portal.sessions import PortalSessions
from broker.portal.signin import SIGN_IN_COOKIE, AgentSignIn
from broker.portal.templating import STATIC_DIRS, template_environment
from broker.providers.transport import tls_context
from broker.web.host_cookies import HostPrefixedCookies
from broker.web.locale import COOKIE as LANGUAGE_COOKIE
from broker.web.locale import LocaleMiddleware

log = logging.getLogger("broker.portal")

AREAS = (
    home_pages,
    signin_pages,
    requests_pages,
    habilitations_pages,
    clients_pages,
    audit_pages,
    stats_pages,
    status_pages,
    mail_pages,
    roles_pages,
)


@dataclass
class PortalState:
    """The portal's parts, built once per application."""

    context: PortalContext
    sessions: PortalSessions
    sign_in: AgentSignIn
    jobs: PortalJobs


def portal_url_of(settings: Settings) -> str:
    if not settings.portal_url:
        raise ValueError("no portal address: set BROKER_PORTAL_URL or start with --host/--port")
    return settings.portal_url.rstrip("/")


def build_portal_state(
    settings: Settings, *, mailer: Mailer | None = None, db: Database | None = None
) -> PortalState:
    portal_url = portal_url_of(settings)
    db = db or Database(settings.effective_database_url)
    mailer = mailer or Mailer.from_settings(settings)
    context = PortalContext(
        settings=settings,
        db=db,
        mailer=mailer,
        portal_url=portal_url,
        data_api_url=settings.data_api_url.rstrip("/"),
    )
    sessions = PortalSessions(
        db,
        derive_key(settings.secret, "portal csrf v1"),
        ttl=settings.portal_session_ttl,
        idle_ttl=settings.portal_session_idle_ttl,
    )
    sign_in = AgentSignIn(
        issuer=settings.portal_idp_issuer_url,
        client_id=settings.portal_idp_client_id,
        client_secret=settings.portal_client_secret,
        portal_url=portal_url,
        cookie_key=derive_key(settings.secret, "portal sign-in v1"),
        timeout=settings.federation_timeout,
        verify=tls_context(),
    )
    jobs = PortalJobs(settings, db, mailer, portal_url)
    return PortalState(context, sessions, sign_in, jobs)


def content_security_policy(form_targets: tuple[str, ...] = ()) -> str:
    """No script, styles and images from the portal only; forms post to the portal, and to
    ``form_targets`` (origins a form's answer redirects to: the identity provider)."""
    form_action = " ".join(("'self'", *form_targets))
    return (
        "default-src 'none'; style-src 'self'; img-src 'self'; "
        f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


class SecurityHeaders:
    """The portal's own policy on every answer (the request-context middleware outside adds
    the common headers, without replacing these)."""

    def __init__(self, app: Any, csp: str) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
        ]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in self.headers if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def provide(value: Any) -> Provide:
    return Provide(lambda: value, use_cache=True, sync_to_thread=False)


def route_handlers(extra: list[ControllerRouterHandler]) -> list[ControllerRouterHandler]:
    handlers: list[ControllerRouterHandler] = [
        create_static_files_router(path="/static", directories=list(STATIC_DIRS)),
        *extra,
    ]
    for area in AREAS:
        handlers.extend(area.CONTROLLERS)
    return handlers


def create_portal_app(
    settings: Settings,
    *,
    mailer: Mailer | None = None,
    run_jobs: bool = True,
    state: PortalState | None = None,
    extra_handlers: Sequence[ControllerRouterHandler] = (),
) -> Litestar:
    """The portal as served, monitoring endpoints (/health/live…) and security headers
    included. ``run_jobs``: run the periodic jobs while serving (tests turn them off);
    ``extra_handlers``: more routes, under the same guards and pages (tests)."""
    state = state or build_portal_state(settings, mailer=mailer)
    secure = urlsplit(state.context.portal_url).scheme == "https"

    def on_startup() -> None:
        if run_jobs:
            state.jobs.start()
        log.info("portal ready", extra={"url": state.context.portal_url})

    app = Litestar(
        route_handlers=route_handlers(list(extra_handlers)),
        dependencies={
            "portal": provide(state.context),
            "sessions": provide(state.sessions),
            "agent_sign_in": provide(state.sign_in),
            "agent": Provide(provide_agent, sync_to_thread=False),
        },
        middleware=[SessionLoader(state.sessions)],
        template_config=TemplateConfig(
            instance=JinjaTemplateEngine.from_environment(template_environment(settings))
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        on_startup=[on_startup],
        on_shutdown=[
            state.jobs.stop,
            state.context.db.dispose,
            process_stopped,
        ],
        openapi_config=None,
        debug=False,
        logging_config=None,
        request_max_body_size=settings.http_max_body_bytes,
    )
    handler: Any = LocaleMiddleware(app.asgi_handler, secure=secure)
    # Signing out posts to the portal, which sends the browser on to the provider.
    csp = content_security_policy((origin_of(state.sign_in.issuer),))
    handler = SecurityHeaders(handler, csp)
    if secure:
        handler = HostPrefixedCookies(handler, (SESSION_COOKIE, SIGN_IN_COOKIE, LANGUAGE_COOKIE))
    app.asgi_handler = monitored(
        handler,
        name="portal",
        https=secure,
        checks=standard_checks(state.context.db, settings.redis_url),
        check_timeout=settings.health_timeout,
        metrics_token=metrics_token_of(settings),
    )
    return app
