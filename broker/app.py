"""The broker's composition root: builds every part from settings, plugs the consent side into
the broker's ports, and hands the parts to the controllers by Litestar dependency injection."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import httpx
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from litestar import Litestar
from litestar.di import Provide
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from broker.core.db import Database
from broker.core.health import ReadinessCheck, in_thread, standard_checks
from broker.core.metrics import process_stopped
from broker.core.monitoring import metrics_token_of, monitored
from broker.core.outbound.guard import GuardedTransport, guarded_client
from broker.core.outbound.policy import OutboundPolicy
from broker.core.request_context import RequestContextMiddleware
from broker.core.settings import ConfigurationError, Settings
from broker.core.startup import freeze_startup_objects
from broker.identity.federation.directory import ProviderDirectory
from broker.identity.federation.service import Federation
from broker.interaction.backchannel import BackChannel
from broker.interaction.context import FlowContext
from broker.interaction.flow import AuthorizationFlow
from broker.interaction.handoff import ConsentHandoff
from broker.interaction.logout import Logout
from broker.interaction.logout_notices import LogoutDispatcher
from broker.interaction.sessions import BrowserSessions
from broker.interaction.signin import SignInSteps
from broker.keys.keystore import SUPPORTED_ALGS, KeyStore
from broker.keys.vault import KeyVault, derive_key
from broker.oidc.client_auth import JwksCache
from broker.oidc.config import OidcConfig
from broker.providers.transport import tls_context
from broker.resources.preview import DataPreview
from broker.resources.stores import shared_store
from broker.store.flowstate import FlowState, MemoryFlowState
from broker.store.identity_providers import RegisteredProvider, list_providers, open_secret
from broker.store.key_store import SqlKeyRepository
from broker.store.redis_flowstate import RedisFlowState
from broker.store.sql_flowstate import SqlFlowState
from broker.web import i18n
from broker.web.client_throttle import ClientAuthThrottle
from broker.web.errors import EXCEPTION_HANDLERS
from broker.web.host_cookies import HostPrefixedCookies
from broker.web.http import BROWSER_COOKIE, SESSION_COOKIE
from broker.web.locale import COOKIE as LANGUAGE_COOKIE
from broker.web.locale import LocaleMiddleware
from broker.web.logout_pages import LogoutController, LogoutPages
from broker.web.oidc_controller import Endpoints, OidcController
from broker.web.par_controller import PushedAuthorizationController
from broker.web.signin_pages import (
    LAST_PROVIDER_COOKIE,
    FederationController,
    FederationPages,
    ProviderChoiceController,
)
from broker.web.throttle import SignInThrottle, Throttle, per_address
from consent.background import BackgroundWork
from consent.changes import ConsentChanges
from consent.ledger import ConsentLedger
from consent.notifications import NotificationDispatcher
from consent.screen.controller import ConsentController
from consent.screen.service import ConsentScreen
from consent.space.controller import SpaceController, service_logo
from consent.space.service import CitizenSpace
from consent.space.sign_ins_controller import SignInsController
from consent.space.signin import SignInController, SignInPages

log = logging.getLogger("broker")
WEB_DIR = Path(__file__).resolve().parent / "web"
CONSENT_DIR = Path(__file__).resolve().parent.parent / "consent"
TEMPLATE_DIRS = (WEB_DIR / "templates", CONSENT_DIR / "templates")
STATIC_DIR = WEB_DIR / "static"
CATALOG_DIRS = (WEB_DIR / "locales", CONSENT_DIR / "locales")
# Sent as __Host-<name> on an https issuer (broker.web.host_cookies).
BROKER_COOKIES = (BROWSER_COOKIE, SESSION_COOKIE, LAST_PROVIDER_COOKIE, LANGUAGE_COOKIE)


@dataclass
class BrokerState:
    """The broker's parts, built once per application."""

    settings: Settings
    config: OidcConfig
    db: Database
    keys: KeyStore
    context: FlowContext
    flow: AuthorizationFlow
    backchannel: BackChannel
    screen: ConsentScreen
    space: CitizenSpace
    changes: ConsentChanges
    background: BackgroundWork
    sign_in: SignInSteps
    logout: Logout
    federation_http: httpx.AsyncClient
    preview_http: httpx.AsyncClient
    throttle: Throttle


def oidc_config(settings: Settings) -> OidcConfig:
    return OidcConfig(
        issuer=settings.issuer_url,
        resource_audience=settings.resource_server_audience,
        pairwise_key=derive_key(settings.secret, "pairwise subject v1"),
        code_ttl=settings.code_ttl,
        id_token_ttl=settings.id_token_ttl,
        allow_insecure_transport=settings.allows_insecure_transport,
        require_pushed_authorization_requests=settings.require_pushed_authorization_requests,
        pushed_request_ttl=settings.pushed_request_ttl,
        dpop_require_nonce=settings.dpop_require_nonce,
        dpop_nonce_key=derive_key(settings.secret, "dpop nonce v1"),
    )


def flow_state_for(settings: Settings) -> FlowState:
    """Where interactions, sessions and codes live (``Settings.flow_state_backend``)."""
    backend = settings.flow_state_backend
    if backend == "redis":
        return RedisFlowState(settings.redis_url)
    if backend == "memory":
        return MemoryFlowState()
    return SqlFlowState()


def build_state(settings: Settings, db: Database | None = None) -> BrokerState:
    flow_state = flow_state_for(settings)
    # Steps that talk to Redis run off the event loop, whatever the database.
    db = db or Database(settings.effective_database_url, offload=flow_state.networked or None)
    secret = settings.secret
    config = oidc_config(settings)
    keys = KeyStore(SqlKeyRepository(db), KeyVault(secret), max_token_ttl=settings.max_token_ttl)
    # Consent events go to URLs services registered: through the outbound guard (no internal
    # address, checked at each connection). Never follows redirects: the registered URL only.
    outbound = OutboundPolicy.from_settings(settings)
    events_client = guarded_client(outbound, verify=tls_context())
    # The consent screen's preview calls the data providers the operator configured.
    preview_http = httpx.AsyncClient(follow_redirects=False, verify=tls_context())
    dispatcher = NotificationDispatcher(db, events_client)
    ledger = ConsentLedger()
    changes = ConsentChanges(config, keys, ledger, on_enqueued=dispatcher.wake)
    step_key = derive_key(secret, "interaction steps v1")
    context = FlowContext(
        db,
        config,
        keys,
        consent=ledger,
        token_grants=changes.token_grants,
        step_key=step_key,
        interaction_ttl=settings.interaction_ttl,
        flow_state=flow_state,
        # Clients' jwks_uri are registered URLs too: through the guard.
        jwks_cache=JwksCache(
            transport_factory=lambda: GuardedTransport(outbound, verify=tls_context())
        ),
    )
    # Logout tokens go to URLs services registered: through the outbound guard too.
    # Encrypted like the service's ID tokens: with the keys the flows fetched, or fetch.
    logout_dispatcher = LogoutDispatcher(db, events_client, keys, config.issuer, context.jwks_cache)
    sessions = BrowserSessions(
        db,
        derive_key(secret, "citizen pivot v1"),
        settings.session_ttl,
        flow_state,
        sid_key=config.pairwise_key,
        idle_ttl=settings.session_idle_ttl,
        on_ended=logout_dispatcher.wake,
    )
    flow = AuthorizationFlow(context, sessions)
    federation_http, federation = build_federation(settings, flow_state, keys, secret)
    sign_in = SignInSteps(context, flow, federation)
    logout = Logout(context, sessions, federation, derive_key(secret, "logout v1"))
    screen = ConsentScreen(
        db,
        ConsentHandoff(context),
        ledger,
        keys,
        config.issuer,
        preview=DataPreview.from_settings(settings, preview_http),
    )
    space = CitizenSpace(
        db,
        sessions,
        changes,
        form_key=step_key,
        journal_key=derive_key(secret, "journal v1"),
        logout=logout,
    )
    return BrokerState(
        settings=settings,
        config=config,
        db=db,
        keys=keys,
        context=context,
        flow=flow,
        backchannel=BackChannel(context),
        screen=screen,
        space=space,
        changes=changes,
        background=BackgroundWork(
            db,
            changes,
            dispatcher,
            events_client,
            sessions=sessions,
            logout_dispatcher=logout_dispatcher,
        ),
        sign_in=sign_in,
        logout=logout,
        federation_http=federation_http,
        preview_http=preview_http,
        throttle=Throttle(shared_store(settings, throttle_namespace(settings))),
    )


def throttle_namespace(settings: Settings) -> str:
    """Failure counts are shared by the processes that serve one broker: one issuer on one
    database (two brokers on one Redis keep their own)."""
    serves = f"{settings.issuer_url}\n{settings.effective_database_url}".encode()
    return f"broker-throttle-{hashlib.sha256(serves).hexdigest()[:16]}"


def check_identity_providers(settings: Settings, db: Database) -> None:
    """Production signs real citizens in: it refuses to start while a demo identity provider
    is enabled, unless BROKER_ALLOW_DEMO_IDPS says a demonstration platform is meant."""
    with db.connect() as conn:
        providers = [p for p in list_providers(conn) if p.enabled]
    demo = [p.id for p in providers if p.demo]
    if demo and not settings.is_development and not settings.allow_demo_idps:
        raise ConfigurationError(
            "production mode refuses to start with demo identity providers enabled "
            f"({', '.join(demo)}): disable them (`broker idps disable ID`) or, for a "
            "demonstration platform, set BROKER_ALLOW_DEMO_IDPS=true"
        )
    if not providers:
        log.warning("no identity provider is enabled: citizens cannot sign in (`broker idps add`)")


def build_federation(
    settings: Settings, flow_state: FlowState, keys: KeyStore, secret: bytes
) -> tuple[httpx.AsyncClient, Federation]:
    """The broker's client side towards upstream identity providers: one pool of connections
    (no redirects followed, bounded waits), shared by discovery, JWKS, token and userinfo."""
    timeout = httpx.Timeout(
        settings.federation_timeout, connect=min(2.0, settings.federation_timeout)
    )
    # Identity providers are registered URLs, and so are the endpoints their discovery names:
    # every connection goes through the outbound guard (no internal address, no env proxy).
    outbound = OutboundPolicy.from_settings(settings)
    transport = GuardedTransport(outbound, verify=tls_context())
    http = httpx.AsyncClient(
        transport=transport, timeout=timeout, follow_redirects=False, trust_env=False
    )
    vault = KeyVault(secret)

    def client_secret(provider: RegisteredProvider) -> str:
        return open_secret(vault, provider.id, provider.client_secret_sealed or "")

    federation = Federation(
        settings.issuer_url,
        flow_state,
        ProviderDirectory(http, policy=outbound),
        transport,
        timeout,
        client_secret,
        lambda: keys.signing_key("ES256"),
    )
    return http, federation


def template_environment(settings: Settings) -> Environment:
    loaders = [FileSystemLoader(str(path)) for path in TEMPLATE_DIRS]
    if settings.theme_dir:
        loaders.insert(0, FileSystemLoader(str(settings.theme_dir)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(default=True),
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    i18n.use_catalogs(CATALOG_DIRS)
    i18n.install_jinja(env)  # gettext in the request's locale, the date filter, the switch
    return env


def provide(value: Any) -> Provide:
    """A part built once, handed to every handler that names it."""
    return Provide(lambda: value, use_cache=True, sync_to_thread=False)


def create_app(settings: Settings, state: BrokerState | None = None) -> Litestar:
    state = state or build_state(settings)
    static_dirs: list[Path | PathLike[Any] | str] = [STATIC_DIR]
    if settings.theme_dir:
        static_dirs.insert(0, settings.theme_dir)

    def on_startup() -> None:
        check_identity_providers(settings, state.db)
        created = state.keys.ensure_keys()
        if created:
            log.info("generated signing keys", extra={"kids": created})
        # Opening the keys now makes a wrong key-encryption secret stop the start-up, instead
        # of failing the first request.
        for alg in SUPPORTED_ALGS:
            state.keys.signing_key(alg)
        log.info(
            "broker ready", extra={"issuer": state.config.issuer, "mode": settings.describe_mode()}
        )

    app = Litestar(
        route_handlers=[
            OidcController,
            PushedAuthorizationController,
            ProviderChoiceController,
            FederationController,
            LogoutController,
            ConsentController,
            SignInController,
            SpaceController,
            SignInsController,
            service_logo,
            create_static_files_router(path="/static", directories=static_dirs),
        ],
        # One dependency per handler (see broker.web.oidc_controller.Endpoints).
        dependencies={
            "endpoints": provide(
                Endpoints(
                    state.flow,
                    state.backchannel,
                    state.keys,
                    state.config,
                    settings.secure_cookies,
                    ClientAuthThrottle(
                        state.throttle, per_address(settings.throttle_failures_per_address)
                    ),
                )
            ),
            "logout_pages": provide(LogoutPages(state.logout, settings.secure_cookies)),
            "federation_pages": provide(
                FederationPages(
                    state.sign_in,
                    state.config.issuer,
                    settings.secure_cookies,
                    SignInThrottle(
                        state.throttle, per_address(settings.throttle_failures_per_address)
                    ),
                )
            ),
            "screen": provide(state.screen),
            "space": provide(state.space),
            "sign_in": provide(SignInPages(state.space, state.sign_in, settings.secure_cookies)),
        },
        template_config=TemplateConfig(
            instance=JinjaTemplateEngine.from_environment(template_environment(settings))
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        on_startup=[on_startup, state.background.start, freeze_startup_objects],
        on_shutdown=[
            state.background.stop,
            state.federation_http.aclose,
            state.preview_http.aclose,
            state.throttle.close,
            state.context.flow_state.close,
            state.db.dispose,
            process_stopped,
        ],
        openapi_config=None,
        debug=False,
        logging_config=None,
        request_max_body_size=settings.http_max_body_bytes,
    )
    # The locale of every request, set around Litestar's router so that routing errors (404,
    # 405) are rendered in the citizen's language too; ?lang= sets the broker_lang cookie.
    app.asgi_handler = LocaleMiddleware(app.asgi_handler, secure=settings.secure_cookies)
    return app


def create_asgi_app(
    settings: Settings, state: BrokerState | None = None
) -> RequestContextMiddleware:
    """The application as served: the request-context middleware wraps everything, routing
    errors (404, 405) and the monitoring endpoints included, which Litestar's own middleware
    would not see."""
    state = state or build_state(settings)
    app: Any = create_app(settings, state)
    if settings.secure_cookies:
        app = HostPrefixedCookies(app, BROKER_COOKIES)
    return monitored(
        app,
        name="broker",
        https=settings.secure_cookies,
        checks=readiness_checks(settings, state),
        check_timeout=settings.health_timeout,
        metrics_token=metrics_token_of(settings),
    )


def readiness_checks(settings: Settings, state: BrokerState) -> dict[str, ReadinessCheck]:
    """The database, Redis when configured, and the signing keys opened."""

    def signing_keys() -> None:
        for alg in SUPPORTED_ALGS:
            state.keys.signing_key(alg)

    return {**standard_checks(state.db, settings.redis_url), "keys": in_thread(signing_keys)}
