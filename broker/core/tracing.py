"""OpenTelemetry tracing: off unless the standard ``OTEL_*`` variables ask for it.

``OTEL_TRACES_EXPORTER`` (``otlp``, ``console``, or both, comma-separated) or an OTLP endpoint
(``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) turns it on;
``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none`` keeps it off. The SDK reads the
rest itself: ``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``,
``OTEL_PROPAGATORS``, ``OTEL_EXPORTER_OTLP_*``, ``OTEL_BSP_*``.

When on, every request gets a server span (``broker.core.request_context``) continuing the
caller's ``traceparent``, and every httpx call a client span that passes ``traceparent`` on:
the broker, the data API and the providers it calls share one trace. When off, the request
path pays one attribute test.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

log = logging.getLogger("broker.tracing")

URL_ATTRIBUTES = ("url.full", "http.url")  # stable and older HTTP semantic conventions


class Tracing:
    """The process's tracing: its provider once configured, a tracer per application."""

    def __init__(self) -> None:
        self.provider: trace.TracerProvider | None = None
        self.tracers: dict[str, Tracer] = {}
        self.active = False

    def tracer(self, app: str) -> Tracer:
        found = self.tracers.get(app)
        if found is None:
            assert self.provider is not None
            found = self.tracers[app] = self.provider.get_tracer(f"consent-broker.{app}")
        return found

    def enable(self, provider: trace.TracerProvider) -> None:
        """Spans for requests and httpx calls from now on (tests pass an in-memory one)."""
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        self.disable()
        self.provider = provider
        HTTPXClientInstrumentor().instrument(
            tracer_provider=provider,
            request_hook=hide_query_string,
            async_request_hook=hide_query_string_async,
        )
        self.active = True

    def disable(self) -> None:
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        if self.active:
            HTTPXClientInstrumentor().uninstrument()
        self.active = False
        self.tracers = {}


TRACING = Tracing()


def wanted_exporters(environ: Mapping[str, str]) -> list[str]:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    names = [
        name.strip().lower()
        for name in environ.get("OTEL_TRACES_EXPORTER", "").split(",")
        if name.strip()
    ]
    if not names and (
        environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    ):
        names = ["otlp"]
    return [name for name in names if name != "none"]


def configure_from_environment(service_name: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Sets the process's tracer provider up, once, if the environment asks for tracing.
    ``service_name`` applies when neither ``OTEL_SERVICE_NAME`` nor the resource attributes
    name the service (``broker demo run`` serves five applications in one process: the first
    one names it, and each application's spans carry its own instrumentation scope)."""
    if TRACING.provider is not None:
        return TRACING.active
    exporters = wanted_exporters(environ)
    if not exporters:
        return False
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider

    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: service_name}))
    provider = TracerProvider(resource=resource)
    for name in exporters:
        processor = span_processor(name, environ)
        if processor is not None:
            provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    TRACING.enable(provider)
    log.info(
        "tracing on",
        extra={"exporters": exporters, "service_name": resource.attributes.get(SERVICE_NAME)},
    )
    return True


def span_processor(name: str, environ: Mapping[str, str]) -> Any:
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
    )

    if name == "console":  # for a look at a few traces: written as each span ends
        return SimpleSpanProcessor(ConsoleSpanExporter())
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get(
            "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
        )
        if protocol != "http/protobuf":
            log.warning(
                "only the OTLP http/protobuf exporter is installed: using it",
                extra={"protocol": protocol},
            )
        return BatchSpanProcessor(OTLPSpanExporter())
    log.warning("unknown OTEL_TRACES_EXPORTER value ignored", extra={"exporter": name})
    return None


# -- server spans (the request-context middleware) -----------------------------------------


def start_server_span(
    tracer: Tracer, scope: Mapping[str, Any], method: str, path: str
) -> tuple[Span, object]:
    """A server span for this request, child of the caller's ``traceparent`` if any, made
    current (so that httpx calls made while serving it are its children)."""
    carrier = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    parent = propagate.extract(carrier)
    span = tracer.start_span(
        method,
        context=parent,
        kind=SpanKind.SERVER,
        attributes={
            "http.request.method": method,
            "url.path": path,  # never the query string: it can carry personal data
            "url.scheme": scope.get("scheme", "http"),
        },
    )
    token = otel_context.attach(trace.set_span_in_context(span, parent))
    return span, token


def end_server_span(span: Span, token: Any, method: str, route: str, status: int) -> str:
    """Ends the request's span; returns its trace id for the access log line."""
    span.update_name(f"{method} {route}")
    span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))
    otel_context.detach(token)
    span.end()
    return format(span.get_span_context().trace_id, "032x")


# -- client spans (httpx) -----------------------------------------------------------------


@contextmanager
def client_span(tracer: Tracer, method: str, url: str, headers: Any) -> Iterator[Span]:
    """A client span for a call httpx's instrumentation does not see (the outbound guard's
    own transport), ``traceparent`` written into ``headers``; its URL without the query."""
    with tracer.start_as_current_span(
        method,
        kind=SpanKind.CLIENT,
        attributes={"http.request.method": method, "url.full": url.split("?", 1)[0]},
    ) as span:
        propagate.inject(headers)
        yield span


def hide_query_string(span: Span, request: Any) -> None:
    """Client spans keep the URL without its query string: a provider call in ``identite``
    mode carries the citizen's identity there."""
    attributes = getattr(span, "attributes", None) or {}
    for key in URL_ATTRIBUTES:
        if key in attributes:
            span.set_attribute(key, str(request.url).split("?", 1)[0])


async def hide_query_string_async(span: Span, request: Any) -> None:
    hide_query_string(span, request)
