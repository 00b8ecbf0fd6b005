"""The data API's metrics labels: a product and mode from the catalogue, never a free path."""

from __future__ import annotations

from broker.resources.monitoring import PRODUCT_ROUTE, data_api_route


def test_a_catalogue_product_is_labelled_with_its_product_and_mode():
    scope = {"path_template": PRODUCT_ROUTE}
    path = "/v3/dss/quotient_familial/identite"
    assert data_api_route(scope, path) == path


def test_anything_else_keeps_the_generic_template():
    scope = {"path_template": PRODUCT_ROUTE}
    assert data_api_route(scope, "/v3/dss/quotient_familial/DUPONT") == PRODUCT_ROUTE
    assert data_api_route({"path_template": "/v3/ping"}, "/v3/ping") == "/v3/ping"
    assert data_api_route({}, "/v3/a/b/c/d") == "unmatched"
