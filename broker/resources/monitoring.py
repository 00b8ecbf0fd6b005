"""The data API as its operators watch it: its readiness checks and its routes' metrics
labels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from broker.catalogue.products import PRODUCTS
from broker.core.db import Database
from broker.core.health import ReadinessCheck, in_thread, standard_checks
from broker.core.request_context import route_template
from broker.keys.public import PublicKeys

PRODUCT_ROUTE = "/v3/{provider}/{name}/{mode}"
PRODUCT_ROUTE_V4 = "/v4/{provider}/{name}/{mode}"
PRODUCT_ROUTES = frozenset((PRODUCT_ROUTE, PRODUCT_ROUTE_V4))
# One generic route per version serves every product: its label is the product and mode called,
# taken from the catalogue, never from the request (an unknown product keeps the template).
PRODUCT_PATHS = frozenset(p.route(mode) for p in PRODUCTS for mode in p.modes)


def data_api_route(scope: Mapping[str, Any], path: str) -> str:
    template = route_template(scope, path)
    if template in PRODUCT_ROUTES and path in PRODUCT_PATHS:
        return path
    return template


class NoPublishedKey(LookupError):
    """The broker has published no key yet: no access token can be verified."""


def data_api_checks(db: Database, redis_url: str, keys: PublicKeys) -> dict[str, ReadinessCheck]:
    """The database, Redis when configured, and the broker's public keys."""

    def published_keys() -> None:
        if not keys.verification_keys().keys:
            raise NoPublishedKey

    return {**standard_checks(db, redis_url), "keys": in_thread(published_keys)}
