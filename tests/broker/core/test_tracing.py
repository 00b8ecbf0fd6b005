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
