"""Tracing is configured by the standard OTEL_* variables, and is off by default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import httpx
import pytest

from broker.core.tracing import (
    TRACING,
    configure_from_environment,
    hide_query_string,
    wanted_exporters,
)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, []),
        ({"OTEL_TRACES_EXPORTER": "console"}, ["console"]),
        ({"OTEL_TRACES_EXPORTER": "otlp, console"}, ["otlp", "console"]),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, []),
        ({"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"}, []),
    ],
)
def test_the_exporters_the_environment_asks_for(environ, expected):
    assert wanted_exporters(environ) == expected


def test_off_by_default():
    assert configure_from_environment("broker", {}) is False
    assert TRACING.active is False


def test_client_spans_keep_no_query_string():
    recorded = {}

    class Span:
        def __init__(self):
            self.attributes = {"url.full": "http://p/cnaf/qf?nomNaissance=Dupont"}

        def set_attribute(self, key, value):
            recorded[key] = value

    request = SimpleNamespace(url=httpx.URL("http://p/cnaf/qf?nomNaissance=Dupont"))
    hide_query_string(Span(), request)
    assert recorded == {"url.full": "http://p/cnaf/qf"}


SERVE_ONE_REQUEST = """
import asyncio, httpx
from broker.core.monitoring import monitored

async def hello(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hi"})

async def main():
    app = monitored(hello, name="tracing-test")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        await c.get("/hello?nom=Dupont", headers={
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})

asyncio.run(main())
"""


def test_console_exporter_on_a_real_process_continues_the_callers_trace():
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(OTEL_TRACES_EXPORTER="console", OTEL_SERVICE_NAME="broker-under-test")
    done = subprocess.run(
        [sys.executable, "-c", SERVE_ONE_REQUEST], env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()
    span = json.loads(done.stdout)
    assert span["name"] == "GET unmatched" and span["kind"] == "SpanKind.SERVER"
    assert span["context"]["trace_id"] == "0x0af7651916cd43dd8448eb211c80319c"
    assert span["parent_id"] == "0xb7ad6b7169203331"
    assert span["attributes"]["url.path"] == "/hello"
    assert span["resource"]["attributes"]["service.name"] == "broker-under-test"
    assert "Dupont" not in done.stdout.decode()


def test_guarded_calls_get_client_spans_and_pass_traceparent_on():
    """Calls to registered URLs (identity providers, consent events, client JWKS) go through
    the outbound guard's own transport, which httpx's instrumentation does not see: it makes
    their client spans itself."""
    import asyncio

    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from broker.core.outbound.guard import guarded_client
    from broker.core.outbound.policy import DEVELOPMENT
    from broker.providers.transport import tls_context

    received: list[bytes] = []

    async def scenario() -> int:
        async def answer(reader, writer):
            received.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server, guarded_client(DEVELOPMENT, verify=tls_context()) as http:
            response = await http.get(f"http://127.0.0.1:{port}/events?who=Dupont")
        return response.status_code

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    TRACING.enable(provider)
    try:
        assert asyncio.run(scenario()) == 204
    finally:
        TRACING.disable()
    [span] = exporter.get_finished_spans()
    assert span.kind.name == "CLIENT" and span.attributes["url.full"].endswith("/events")
    assert span.attributes["http.response.status_code"] == 204
    trace_id = format(span.context.trace_id, "032x")
    assert f"traceparent: 00-{trace_id}-".encode() in received[0].lower()
