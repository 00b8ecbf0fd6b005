"""What every server application answers besides its own routes, and how it is served:

- ``GET /health/live``: the process answers (no I/O);
- ``GET /health/ready``: its dependencies answer (``broker.core.health``): 200
  ``{"status": "ok", "checks": {...}}``, or 503 ``{"status": "unavailable", ...}`` naming
  the failing check;
- ``GET /metrics``: the Prometheus metrics (``broker.core.metrics``), behind a bearer token
  when one is given.

They are answered in front of the application (its routing, locale and error pages are not
needed) and behind the request-context middleware, so they carry a request id and are
counted like any other route. ``monitored`` builds the whole stack for one application.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping
from typing import Any

from broker.core import metrics
from broker.core.health import Readiness, ReadinessCheck
from broker.core.request_context import RequestContextMiddleware, RouteLabel, route_template
from broker.core.settings import Settings
from broker.core.tracing import configure_from_environment

log = logging.getLogger("broker.monitoring")

LIVE, READY, METRICS = "/health/live", "/health/ready", "/metrics"
MONITORING_PATHS = frozenset({LIVE, READY, METRICS})
JSON_HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]


class MonitoringEndpoints:
    """``metrics_token``: None serves /metrics to anyone; "" does not serve it (404); any
    other value wants ``Authorization: Bearer <metrics_token>``."""

    def __init__(
        self, app, readiness: Readiness | None = None, metrics_token: str | None = None
    ) -> None:
        self.app = app
        self.readiness = readiness or Readiness({})
        self.metrics_token = metrics_token
        self.expected_authorization = f"Bearer {metrics_token}".encode() if metrics_token else b""

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path")
        if scope["type"] != "http" or path not in MONITORING_PATHS:
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await respond(send, 405, {"status": "method not allowed"}, [(b"allow", b"GET")])
            return
        scope["path_template"] = path  # the route label in the metrics
        if path == LIVE:
            await respond(send, 200, {"status": "ok"})
        elif path == READY:
            ready, checks = await self.readiness.report()
            body = {"status": "ok" if ready else "unavailable", "checks": checks}
            await respond(send, 200 if ready else 503, body)
        else:
            await self.serve_metrics(scope, send)

    async def serve_metrics(self, scope, send) -> None:
        if self.metrics_token == "":
            await respond(send, 404, {"status": "not found"})
            return
        if self.metrics_token is not None and not hmac.compare_digest(
            header(scope, b"authorization"), self.expected_authorization
        ):
            challenge = (b"www-authenticate", b'Bearer realm="metrics"')
            await respond(send, 401, {"status": "unauthorized"}, [challenge])
            return
        body, content_type = metrics.exposition(header(scope, b"accept").decode("latin-1"))
        headers = [(b"content-type", content_type.encode()), (b"cache-control", b"no-store")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def respond(
    send, status: int, body: Mapping[str, Any], extra_headers: list | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*JSON_HEADERS, *(extra_headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


def header(scope, name: bytes) -> bytes:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value)
    return b""


def monitored(
    app,
    *,
    name: str,
    https: bool = False,
    checks: Mapping[str, ReadinessCheck] | None = None,
    check_timeout: float = 2.0,
    metrics_token: str | None = None,
    route_label: RouteLabel = route_template,
) -> RequestContextMiddleware:
    """``app`` as served: request context (id, headers, access log, metrics, trace span)
    around the monitoring endpoints around the application. Turns tracing on for the process
    if the ``OTEL_*`` variables ask for it (``broker.core.tracing``)."""
    configure_from_environment(name)
    endpoints = MonitoringEndpoints(app, Readiness(checks or {}, check_timeout), metrics_token)
    return RequestContextMiddleware(endpoints, https=https, name=name, route_label=route_label)


def metrics_token_of(settings: Settings) -> str | None:
    """``BROKER_METRICS_TOKEN`` as ``MonitoringEndpoints`` takes it: without one, production
    keeps /metrics closed (they show traffic, not to be published by mistake)."""
    if settings.metrics_token is not None:
        return settings.metrics_token.get_secret_value()
    if settings.is_development:
        return None
    log.warning("GET /metrics is not served: set BROKER_METRICS_TOKEN to serve it")
    return ""
