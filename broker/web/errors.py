"""Exception handlers: protocol endpoints answer in RFC 6749 JSON, pages in French; never a
stack trace."""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.response import Template
from litestar.types import ExceptionHandlersMap

from broker.core.outages import OUTAGES, RETRY_AFTER, outage_kind
from broker.web.http import NO_STORE
from broker.web.pages import not_found_page, server_error_page, unavailable_page

log = logging.getLogger("broker.errors")
JSON_PATHS = (
    "/token",
    "/userinfo",
    "/introspect",
    "/revoke",
    "/jwks",
    "/receipt-keys",
    "/.well-known/",
)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(JSON_PATHS)


def http_exception_handler(request: Request, exc: HTTPException) -> Response | Template:
    status = exc.status_code
    if _wants_json(request):
        error = {
            400: "invalid_request",
            401: "invalid_client",
            404: "not_found",
            405: "invalid_request",
        }.get(status, "invalid_request")
        if status >= 500:
            error = "server_error"
        return Response(
            {"error": error, "error_description": _safe_detail(exc)},
            status_code=status,
            headers=NO_STORE,
        )
    if isinstance(exc, NotFoundException):
        return not_found_page()
    page = server_error_page()
    if status < 500:
        page.context.update(
            title="Demande non valable",
            error_code=str(status),
            message="Cette demande ne peut pas être traitée. Retournez sur le "
            "site du service et recommencez.",
        )
    page.status_code = status
    return page


def internal_error_handler(request: Request, exc: Exception) -> Response | Template:
    kind = outage_kind(exc)
    if kind is not None:
        OUTAGES.report(kind, exc, request.url.path)
        return unavailable_response(request)
    log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
    if _wants_json(request):
        return Response(
            {"error": "server_error", "error_description": "An unexpected error occurred."},
            status_code=500,
            headers=NO_STORE,
        )
    return server_error_page()


def unavailable_response(request: Request) -> Response | Template:
    """A store the request needs is down: 503 and when to come back, in the endpoint's own
    format. ``temporarily_unavailable`` is OAuth's word for it (RFC 6749 §4.1.2.1)."""
    if _wants_json(request):
        return Response(
            {
                "error": "temporarily_unavailable",
                "error_description": "The service is temporarily unavailable; retry later.",
            },
            status_code=503,
            headers={**NO_STORE, "Retry-After": str(RETRY_AFTER)},
        )
    return unavailable_page(RETRY_AFTER)


def _safe_detail(exc: HTTPException) -> str:
    if isinstance(exc, ValidationException):
        return "The request is malformed."
    detail = exc.detail if isinstance(exc.detail, str) else "The request cannot be processed."
    return detail.encode("ascii", "replace").decode()[:200]


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    HTTPException: http_exception_handler,
    Exception: internal_error_handler,
}
