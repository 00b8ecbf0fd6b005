"""ASGI middleware: request id, security headers, one access log line, the request's metrics
and, when tracing is on, its server span."""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from broker.core.logs import request_id_var
from broker.core.metrics import UNMATCHED_ROUTE, RequestMetrics
from broker.core.tracing import TRACING, end_server_span, start_server_span

log = logging.getLogger("broker.access")
INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Request ids correlate log lines; they are not secrets. A per-process PRNG seeded from the OS
# avoids a getrandom() system call per request, which profiling showed at ~3% of a flow.
_request_ids = random.Random(os.urandom(32))
# Probes and scrapes every few seconds would drown the access log and the traces: logged at
# DEBUG, not traced, still counted in the metrics.
QUIET_PATHS = frozenset({"/health/live", "/health/ready", "/metrics"})

RouteLabel = Callable[[Mapping[str, Any], str], str]


def new_request_id() -> str:
    return f"{_request_ids.getrandbits(96):024x}"


def route_template(scope: Mapping[str, Any], path: str) -> str:
    """The template of the route that served the request (Litestar records it while
    routing), ``unmatched`` when none did (404, 405)."""
    return scope.get("path_template") or UNMATCHED_ROUTE


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        b"base-uri 'none'; frame-ancestors 'none'",
    ),
]


HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class RequestContextMiddleware:
    """``name`` labels the application in the metrics, the logs and the traces (several run
    in one process under ``broker demo run``); ``route_label`` turns a served request into its
    metrics label (default: the route template)."""

    def __init__(
        self,
        app,
        https: bool = False,
        name: str = "broker",
        route_label: RouteLabel = route_template,
        quiet_paths: Collection[str] = QUIET_PATHS,
    ) -> None:
        self.app = app
        self.security_headers = [*SECURITY_HEADERS, HSTS] if https else SECURITY_HEADERS
        self.name = name
        self.route_label = route_label
        self.quiet_paths = quiet_paths
        self.metrics = RequestMetrics(name)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and INCOMING_ID.match(incoming) else new_request_id()
        token = request_id_var.set(request_id)
        method = scope["method"]
        path = scope["path"]  # read before routing, which rewrites it for mounted apps
        started = time.perf_counter()
        status = 500
        span = None
        if TRACING.active and path not in self.quiet_paths:  # probes would flood the traces
            span, span_token = start_server_span(TRACING.tracer(self.name), scope, method, path)

        async def send_with_headers(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(h for h in self.security_headers if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        cut = False  # the app failed after its answer had started (a streamed body)
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            cut = status < 500
            if cut:
                status = 500  # the client got a broken transfer, not the status it was sent
            raise
        finally:
            seconds = time.perf_counter() - started
            route = self.route_label(scope, path)
            self.metrics.observe(route, method, status, seconds)
            extra = {
                "app": self.name,
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
            }
            if cut:
                extra["incomplete"] = True
            if span is not None:
                extra["trace_id"] = end_server_span(span, span_token, method, route, status)
            level = logging.DEBUG if path in self.quiet_paths else logging.INFO
            level = logging.ERROR if cut else level
            if log.isEnabledFor(level):
                # The line's origin is known: building the record directly skips logging's
                # walk up the stack for it (about 1 µs of the middleware's 20).
                log.handle(
                    log.makeRecord(log.name, level, __file__, 0, "request", (), None, None, extra)
                )
            request_id_var.reset(token)


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None
