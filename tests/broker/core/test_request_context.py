"""The request-context middleware: request id, one access line per request, the request's
metrics under its route template."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
from litestar import Litestar, get
from litestar.params import FromPath
from litestar.response import Stream
from prometheus_client import REGISTRY

from broker.core.request_context import RequestContextMiddleware


@get("/things/{thing_id:str}/detail", sync_to_thread=False)
def thing_detail(thing_id: FromPath[str]) -> dict:
    return {"id": thing_id}


def served(name: str) -> RequestContextMiddleware:
    app = Litestar(route_handlers=[thing_detail], logging_config=None, openapi_config=None)
    return RequestContextMiddleware(app, name=name)


def fetch(app, path: str, headers: dict | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path, headers=headers)

    return asyncio.run(go())


def count(app: str, route: str, status: str, method: str = "GET") -> float:
    labels = {"app": app, "route": route, "method": method, "status": status}
    return REGISTRY.get_sample_value("http_requests_total", labels) or 0.0


def access_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "broker.access"]


def test_the_access_line_has_method_path_status_duration_and_the_request_id(caplog):
    from broker.core.logs import JsonFormatter

    caplog.set_level(logging.INFO, logger="broker.access")
    response = fetch(served("ctx-log"), "/things/t-1/detail?nom=Dupont&prenoms=Marie")
    assert response.status_code == 200
    [record] = access_lines(caplog)
    assert record.method == "GET" and record.path == "/things/t-1/detail"
    assert record.status == 200 and record.duration_ms >= 0 and record.app == "ctx-log"
    # The request id is the formatter's, from the context at the time of the call: the line
    # is written before the middleware leaves the request's context.
    assert response.headers["x-request-id"]
    assert "Dupont" not in JsonFormatter().format(record)


def test_an_incoming_request_id_is_kept_and_logged(caplog):
    caplog.set_level(logging.INFO, logger="broker.access")
    seen = []

    class IdSpy(logging.Handler):
        def emit(self, record):
            from broker.core.logs import request_id_var

            seen.append(request_id_var.get())

    spy = IdSpy()
    logging.getLogger("broker.access").addHandler(spy)
    try:
        response = fetch(served("ctx-id"), "/things/x/detail", {"X-Request-ID": "support-12345"})
    finally:
        logging.getLogger("broker.access").removeHandler(spy)
    assert response.headers["x-request-id"] == "support-12345"
    assert seen == ["support-12345"]


def test_requests_are_counted_under_their_route_template_never_their_path():
    app = served("ctx-metrics")
    for thing in ("a", "b", "c"):
        fetch(app, f"/things/{thing}/detail")
    fetch(app, "/no/such/page")
    assert count("ctx-metrics", "/things/{thing_id}/detail", "200") == 3
    assert count("ctx-metrics", "unmatched", "404") == 1
    sampled = [
        s.labels.get("route")
        for metric in REGISTRY.collect()
        for s in metric.samples
        if s.labels.get("app") == "ctx-metrics"
    ]
    assert "/things/a/detail" not in sampled and "/no/such/page" not in sampled


def test_an_unknown_method_is_one_label():
    async def go():
        transport = httpx.ASGITransport(app=served("ctx-method"))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await client.request("BREW", "/things/a/detail")

    asyncio.run(go())
    assert count("ctx-method", "unmatched", "405", method="other") == 1


def test_probes_and_scrapes_are_logged_at_debug_only(caplog):
    from broker.core.monitoring import monitored

    caplog.set_level(logging.INFO, logger="broker.access")
    app = monitored(Litestar(route_handlers=[thing_detail], logging_config=None), name="ctx-quiet")
    assert fetch(app, "/health/live").status_code == 200
    assert access_lines(caplog) == []
    assert count("ctx-quiet", "/health/live", "200") == 1


def test_a_body_cut_after_its_status_is_counted_and_logged_as_a_failure(caplog):
    async def chunks():
        yield b'{"journal": ['
        raise RuntimeError("the database went away mid-stream")

    @get("/stream", sync_to_thread=False)
    def stream() -> Stream:
        return Stream(chunks(), media_type="application/json")

    app = RequestContextMiddleware(
        Litestar(route_handlers=[stream], logging_config=None, openapi_config=None),
        name="ctx-cut",
    )

    async def go() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await client.get("/stream")

    caplog.set_level(logging.INFO, logger="broker.access")
    # How the transport reports the cut (an exception, a short body) is not the point here.
    with contextlib.suppress(Exception):
        asyncio.run(go())
    [record] = access_lines(caplog)
    assert record.status == 500 and record.incomplete is True
    assert record.levelno == logging.ERROR
    assert count("ctx-cut", "/stream", "500") == 1 and count("ctx-cut", "/stream", "200") == 0
