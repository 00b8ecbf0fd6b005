"""Application factory: builds the broker from settings."""

from __future__ import annotations

import logging
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from litestar import Litestar
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from broker.background import BackgroundWork
from broker.citizen_space import CitizenSpace
from broker.consent_step import ConsentStep
from broker.db import Database
from broker.flow import AuthorizationFlow
from broker.identity.controller import LoginController
from broker.keys.keystore import SUPPORTED_ALGS, KeyStore
from broker.keys.vault import KeyVault, derive_key
from broker.oidc.config import OidcConfig
from broker.settings import Settings
from broker.store.key_store import SqlKeyRepository
from broker.web.errors import EXCEPTION_HANDLERS
from broker.web.middleware import RequestContextMiddleware
from broker.web.oidc_controller import OidcController
from broker.web.state import BrokerState
from consent.controller import ConsentController
from consent.i18n import LocaleMiddleware, install_jinja
from consent.service import ConsentLedger
from consent.space import SpaceController, service_logo

log = logging.getLogger("broker")
CONSENT_DIR = Path(__file__).resolve().parent.parent / "consent"


def build_state(settings: Settings, db: Database | None = None) -> BrokerState:
    db = db or Database(settings.effective_database_url)
    secret = settings.secret
    config = OidcConfig(
        issuer=settings.issuer_url,
        resource_audience=settings.resource_server_audience,
        pairwise_key=derive_key(secret, "pairwise subject v1"),
        code_ttl=settings.code_ttl,
        id_token_ttl=settings.id_token_ttl,
        allow_insecure_transport=settings.allows_insecure_transport,
    )
    keys = KeyStore(SqlKeyRepository(db), KeyVault(secret),
                    max_token_ttl=settings.max_token_ttl)
    ledger = ConsentLedger()
    flow = AuthorizationFlow(
        db, config, keys, ledger, step_key=derive_key(secret, "interaction steps v1"),
        interaction_ttl=settings.interaction_ttl, session_ttl=settings.session_ttl,
    )
    consent = ConsentStep(flow, default_ttl=ledger.grant_ttl)
    space = CitizenSpace(flow, flow.changes, journal_key=derive_key(secret, "journal v1"))
    return BrokerState(settings=settings, config=config, db=db, keys=keys, flow=flow,
                       consent=consent, space=space)


def template_environment(settings: Settings) -> Environment:
    loaders = [FileSystemLoader(str(CONSENT_DIR / "templates"))]
    if settings.theme_dir:
        loaders.insert(0, FileSystemLoader(str(settings.theme_dir)))
    env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(default=True),
                      auto_reload=False, extensions=["jinja2.ext.i18n"])
    install_jinja(env)  # gettext in the request's locale, the date filter, the language switch
    return env


def create_app(settings: Settings, state: BrokerState | None = None) -> Litestar:
    state = state or build_state(settings)
    static_dirs = [CONSENT_DIR / "static"]
    if settings.theme_dir:
        static_dirs.insert(0, settings.theme_dir)

    background = BackgroundWork(state, settings)

    def on_startup() -> None:
        created = state.keys.ensure_keys()
        if created:
            log.info("generated signing keys", extra={"kids": created})
        # Opening the keys now makes a wrong key-encryption secret stop the start-up, instead
        # of failing the first request.
        for alg in SUPPORTED_ALGS:
            state.keys.signing_key(alg)
        log.info("broker ready", extra={"issuer": state.config.issuer,
                                        "mode": settings.describe_mode()})

    app = Litestar(
        route_handlers=[
            OidcController, LoginController, ConsentController, SpaceController, service_logo,
            create_static_files_router(path="/static", directories=static_dirs),
        ],
        template_config=TemplateConfig(
            instance=JinjaTemplateEngine.from_environment(template_environment(settings))),
        exception_handlers=EXCEPTION_HANDLERS,
        on_startup=[on_startup, background.start],
        on_shutdown=[background.stop, state.db.dispose],
        openapi_config=None,
        debug=False,
        logging_config=None,
    )
    # The locale of every request, set around Litestar's router so that routing errors (404,
    # 405) are rendered in the citizen's language too; ?lang= sets the broker_lang cookie.
    app.asgi_handler = LocaleMiddleware(app.asgi_handler, secure=settings.secure_cookies)
    app.state.broker = state
    app.state.consent_handoff = state.consent
    app.state.citizen_space = state.space
    return app


def create_asgi_app(settings: Settings, state: BrokerState | None = None):
    """The application as served: the request-context middleware wraps everything, routing
    errors (404, 405) included, which Litestar's own middleware would not see."""
    return RequestContextMiddleware(create_app(settings, state), https=settings.secure_cookies)
