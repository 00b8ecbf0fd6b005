"""The data API's routes: thin, every call goes to ``access.DataAccess``. Errors, routing ones
included, answer in the JSON:API shape with an ``XXYYY`` code, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.types import ExceptionHandlersMap

from broker.catalogue.products import product
from broker.core.logs import request_id_var
from broker.core.outages import OUTAGES, RETRY_AFTER, outage_kind
from broker.providers import base
from broker.resources import errors
from broker.resources.access import Answer, DataAccess
from broker.resources.introspect import introspect
from broker.resources.resource_metadata import WELL_KNOWN, metadata_path

log = logging.getLogger("broker.resources")
JSON_API = "application/json"
NO_STORE = {"Cache-Control": "no-store"}


def answer_response(answer: Answer) -> Response:
    return Response(
        answer.body,
        status_code=answer.status,
        media_type=JSON_API,
        headers={**NO_STORE, **answer.headers},
    )


def error_response(error: errors.ApiError) -> Response:
    return answer_response(Answer(error.status, error.body(), error.headers))


def query_of(request: Request) -> dict[str, list[str]]:
    return {key: request.query_params.getall(key) for key in request.query_params}


@get("/v3/{provider:str}/{name:str}/{mode:str}")
async def product_call(
    request: Request,
    provider: FromPath[str],
    name: FromPath[str],
    mode: FromPath[str],
    access: NamedDependency[DataAccess],
) -> Response:
    return await call_product(request, f"{provider}/{name}", mode, access)


@get("/v4/{provider:str}/{name:str}/{mode:str}")
async def product_call_v4(
    request: Request,
    provider: FromPath[str],
    name: FromPath[str],
    mode: FromPath[str],
    access: NamedDependency[DataAccess],
) -> Response:
    """The v4 products (their keys start with ``v4/``) where they differ from v3."""
    return await call_product(request, f"v4/{provider}/{name}", mode, access)


async def call_product(request: Request, key: str, mode: str, access: DataAccess) -> Response:
    found = product(key)
    if found is None or mode not in found.modes:
        return error_response(errors.not_found_route(request.url.path))
    answer = await access.call(
        found, mode, request.headers, query_of(request), request_id_var.get() or ""
    )
    return answer_response(answer)


@get("/v3/openapi.json")
async def openapi(openapi_document: NamedDependency[dict[str, Any]]) -> Response:
    """Built once per process from the catalogue: products, parameters, fields, examples.

    The server URL is relative (the document's own origin): never taken from the Host header,
    which a client controls and which would then be cached for everyone."""
    return Response(
        openapi_document,
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=300"},
    )


@get([errors.INTROSPECT_PATH, "/api/introspect"])
async def introspect_rights(request: Request, access: NamedDependency[DataAccess]) -> Response:
    """The caller's rights (API key or access token); ``/api/introspect`` is API
    Particulier's name for it."""
    return answer_response(await introspect(access, request.headers, request.url.path))


def metadata_document(resource_metadata: NamedDependency[dict[str, Any]]) -> Response:
    """RFC 9728: how to get a token for this API."""
    return Response(
        resource_metadata,
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=300"},
    )


def metadata_routes(resource: str) -> list[HTTPRouteHandler]:
    """The metadata at the well-known path, and at the one §3.1 derives from the resource
    identifier when that has a path of its own."""
    paths = sorted({WELL_KNOWN, metadata_path(resource)})
    return [get(paths, sync_to_thread=False)(metadata_document)]


@get("/v3/ping")
async def ping() -> Response:
    return Response({"status": "ok"}, media_type=JSON_API, headers=NO_STORE)


@get("/v3/{provider:str}/ping")
async def provider_ping(
    request: Request, provider: FromPath[str], access: NamedDependency[DataAccess]
) -> Response:
    adapter = access.adapters.get(provider)
    if adapter is None:
        return error_response(errors.not_found_route(request.url.path))
    outcome = await adapter.ping()
    if isinstance(outcome, base.Found):
        return Response(
            {"status": "ok", "provider": provider}, media_type=JSON_API, headers=NO_STORE
        )
    return error_response(errors.from_outcome(provider, outcome))


ROUTES = [
    product_call,
    product_call_v4,
    openapi,
    introspect_rights,
    ping,
    provider_ping,
]


def http_exception(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 404:
        return error_response(errors.not_found_route(request.url.path))
    item = errors.ErrorItem(
        f"00{exc.status_code}",
        "Requête non valable",
        "Cette requête ne peut pas être traitée par l'API.",
    )
    return answer_response(Answer(exc.status_code, {"errors": [item.as_json()]}))


def internal_error(request: Request, exc: Exception) -> Response:
    kind = outage_kind(exc)
    if kind is not None:
        OUTAGES.report(kind, exc, request.url.path)
        return error_response(errors.store_unavailable(RETRY_AFTER))
    log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
    item = errors.ErrorItem("00500", "Erreur interne", "Une erreur inattendue est survenue.")
    return answer_response(Answer(500, {"errors": [item.as_json()]}))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    HTTPException: http_exception,
    Exception: internal_error,
}
