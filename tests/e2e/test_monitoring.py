"""Health, metrics and tracing of real servers: the broker, the data API and the simulators."""

from __future__ import annotations

import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from broker.core.tracing import TRACING
from tests.e2e.data_api_support import api_key, call, identite_params, route, scopes_of
from tests.helpers import AuthorizationRequest, Browser, register_client

QF = "dss/quotient_familial"


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_the_broker_is_ready_with_its_database_and_keys(broker):
    assert httpx.get(f"{broker.url}/health/live").json() == {"status": "ok"}
    response = httpx.get(f"{broker.url}/health/ready", timeout=10)
    assert response.status_code == 200, response.text
    expected = {"database": "ok", "keys": "ok"}
    if broker.settings.redis_url:
        expected["redis"] = "ok"
    assert response.json() == {"status": "ok", "checks": expected}


def test_the_broker_counts_flows_and_consents(broker):
    before = scrape(broker.url)
    client = register_client(broker.state, name="Metrics service")
    browser = Browser(broker.url)
    assert "code" in browser.sign_in(AuthorizationRequest(client))
    refused = browser.sign_in(
        AuthorizationRequest(client, extra={"prompt": "consent"}), decision="refuse"
    )
    assert refused["error"] == "access_denied"
    browser.close()
    after = scrape(broker.url)

    def delta(name: str, **labels) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("broker_flows_completed_total") == 1
    assert delta("broker_flows_failed_total", reason="access_denied") == 1
    assert delta("broker_consents_total", event="granted") == 1
    assert delta("broker_consents_total", event="refused") == 1
    consent_posts = {
        "app": "broker",
        "route": "/interaction/{interaction_id}/consent",
        "method": "POST",
        "status": "303",
    }
    assert delta("http_requests_total", **consent_posts) == 2
    assert value(after, "broker_consent_events_pending") >= 0


def test_the_data_api_labels_product_calls_and_counts_provider_calls(broker, data_api):
    assert httpx.get(f"{data_api.url}/health/ready").json()["checks"] == {
        "database": "ok",
        "keys": "ok",
    }
    key = api_key(broker, scopes_of(QF))
    before = scrape(data_api.url)
    response = call(
        data_api,
        route(QF, "identite"),
        key.secret,
        params=identite_params("nom_composé"),
    )
    assert response.status_code == 200, response.text
    after = scrape(data_api.url)
    labels = {"app": "data-api", "route": "/v3/dss/quotient_familial/identite", "method": "GET"}
    assert (
        value(after, "http_requests_total", **labels, status="200")
        - value(before, "http_requests_total", **labels, status="200")
        == 1
    )

    def replies(samples) -> float:
        return sum(
            v
            for (name, labels), v in samples.items()
            if name == "broker_provider_calls_total" and ("outcome", "reply") in labels
        )

    assert replies(after) > replies(before)
    family_name = identite_params("nom_composé")["nomNaissance"]
    assert all(family_name not in str(labels) for _, labels in after)


def finished_spans(exporter, last: str) -> list:
    """The spans, once the server has ended ``last``'s: it ends after sending the answer."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        spans = exporter.get_finished_spans()
        if any(s.name == last for s in spans):
            return list(spans)
        time.sleep(0.01)
    raise AssertionError(f"no span {last!r}")


def test_one_trace_spans_the_data_api_its_provider_call_and_the_simulator(broker, data_api):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    key = api_key(broker, scopes_of(QF))
    params = identite_params("nom_composé")
    TRACING.enable(provider)
    try:
        response = call(data_api, route(QF, "identite"), key.secret, params=params)
    finally:
        TRACING.disable()
    assert response.status_code == 200, response.text
    spans = finished_spans(exporter, "GET /v3/dss/quotient_familial/identite")
    [api_span] = [s for s in spans if s.name == "GET /v3/dss/quotient_familial/identite"]
    simulator_spans = [s for s in spans if s.instrumentation_scope.name.endswith("simulators")]
    clients = [s for s in spans if s.kind.name == "CLIENT"]
    # The test's own call (httpx too) passed its traceparent on: the data API continued it.
    [test_call] = [s for s in clients if s.parent is None]
    assert api_span.parent.span_id == test_call.context.span_id
    # The provider calls are children of the data API's request, the simulator's of a call.
    provider_calls = [s for s in clients if s.parent is not None]
    assert provider_calls and simulator_spans
    assert all(s.parent.span_id == api_span.context.span_id for s in provider_calls)
    call_ids = {s.context.span_id for s in provider_calls}
    assert all(s.parent.span_id in call_ids for s in simulator_spans)
    assert {s.context.trace_id for s in spans} == {test_call.context.trace_id}
    # The identity travels in query strings: no span keeps one.
    recorded = " ".join(str(dict(s.attributes)) for s in spans)
    assert params["nomNaissance"] not in recorded and "?" not in recorded


def test_the_data_api_is_not_ready_while_its_redis_does_not_answer(data_api_factory):
    api = data_api_factory(redis_url="redis://127.0.0.1:1/0")
    response = httpx.get(f"{api.url}/health/ready", timeout=10)
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "failed"
