"""The resource server (data API) as a Litestar application: ``broker resources run``.

A composition root: it plugs the consent side's grant standing (``consent.ledger``) into the
data API and gives the OpenAPI document the demo citizens' worked examples."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx
from litestar import Litestar
from litestar.di import Provide

from broker.catalogue.products import PRODUCTS
from broker.core.db import Database
from broker.core.metrics import process_stopped
from broker.core.monitoring import metrics_token_of, monitored
from broker.core.request_context import RequestContextMiddleware
from broker.core.settings import Settings
from broker.core.startup import freeze_startup_objects
from broker.demo.openapi_examples import example_for
from broker.keys.public import PublicKeys
from broker.keys.vault import derive_key
from broker.oidc.config import OidcConfig
from broker.providers.registry import build_adapters, provider_configs
from broker.providers.transport import tls_context
from broker.resources.access import DataAccess
from broker.resources.cache import ResponseCache
from broker.resources.monitoring import data_api_checks, data_api_route
from broker.resources.openapi import openapi_document
from broker.resources.ratelimit import RateLimiter
from broker.resources.resource_metadata import protected_resource_metadata
from broker.resources.routes import EXCEPTION_HANDLERS, ROUTES, metadata_routes
from broker.resources.stores import shared_store
from broker.store.key_store import SqlKeyRepository
from consent.ledger import ConsentLedger

log = logging.getLogger("broker.resources")


@dataclass
class ResourceState:
    settings: Settings
    db: Database
    access: DataAccess
    http: httpx.AsyncClient


def build_resource_state(settings: Settings, db: Database | None = None) -> ResourceState:
    db = db or Database(settings.effective_database_url)
    secret = settings.secret
    config = OidcConfig(
        issuer=settings.issuer_url,
        resource_audience=settings.resource_server_audience,
        pairwise_key=derive_key(secret, "pairwise subject v1"),
        # RFC 9449 §9: the data API asks for nonces when the broker does (the same setting).
        dpop_require_nonce=settings.dpop_require_nonce,
        dpop_nonce_key=derive_key(secret, "dpop nonce v1"),
    )
    keys = PublicKeys(SqlKeyRepository(db))  # verification only: never the private keys
    http = httpx.AsyncClient(
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50), verify=tls_context()
    )
    access = DataAccess(
        db,
        keys,
        config,
        build_adapters(provider_configs(settings), http),
        RateLimiter(shared_store(settings, "broker-rate-limits")),
        journal_key=derive_key(secret, "journal v1"),
        ledger=ConsentLedger(),
        cache=ResponseCache(
            shared_store(settings, "broker-response-cache"),
            derive_key(secret, "response cache v1"),
            settings.cache_lifetimes,
        ),
        default_rate_limit=settings.rate_limit,
    )
    return ResourceState(settings=settings, db=db, access=access, http=http)


def create_resource_app(settings: Settings, state: ResourceState | None = None) -> Litestar:
    state = state or build_resource_state(settings)

    async def close() -> None:
        await state.http.aclose()
        stores = [state.access.limiter.store]
        if state.access.cache is not None:
            stores.append(state.access.cache.store)
        for store in stores:
            await store.__aexit__(None, None, None)  # closes a Redis client; no-op in memory
        state.db.dispose()

    app = Litestar(
        on_startup=[freeze_startup_objects],
        route_handlers=[*ROUTES, *metadata_routes(settings.resource_server_audience)],
        dependencies={
            "access": Provide(lambda: state.access, use_cache=True, sync_to_thread=False),
            "resource_metadata": Provide(
                lambda: protected_resource_metadata(
                    settings.resource_server_audience, settings.issuer_url
                ),
                use_cache=True,
                sync_to_thread=False,
            ),
            "openapi_document": Provide(
                lambda: openapi_document("/", examples=example_for),
                use_cache=True,
                sync_to_thread=False,
            ),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        on_shutdown=[close, process_stopped],
        openapi_config=None,
        debug=False,
        logging_config=None,
        request_max_body_size=settings.http_max_body_bytes,
    )
    log.info("data API ready", extra={"products": len(PRODUCTS)})
    return app


def create_resource_asgi_app(
    settings: Settings, state: ResourceState | None = None
) -> RequestContextMiddleware:
    state = state or build_resource_state(settings)
    return monitored(
        create_resource_app(settings, state),
        name="data-api",
        https=settings.secure_cookies,
        checks=data_api_checks(state.db, settings.redis_url, state.access.keys),
        check_timeout=settings.health_timeout,
        metrics_token=metrics_token_of(settings),
        route_label=data_api_route,
    )
