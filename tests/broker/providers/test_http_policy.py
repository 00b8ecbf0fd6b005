"""The HTTP policy over real sockets: which failures are retried (idempotent, transient ones
only, within the call's budget), how statuses map to outcomes, and the circuit breaker."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import httpx
import pytest

from broker.providers.answers import retry_after_seconds
from broker.providers.base import (
    Maintenance,
    ProviderConfig,
    Timeout,
    Unavailable,
    UnexpectedPayload,
)
from broker.providers.http import HttpPolicy, Reply
from tests.broker.providers.scripted import Answer

ENVELOPE_404 = json.dumps({"erreur": {"code": "NON_TROUVE", "message": "inconnu"}}).encode()


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(url: str, steps, clock=None, **config):
    values = {
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "retries": 2,
        "breaker_failures": 1000,
        "breaker_reset": 30.0,
    }
    values.update(config)

    async def no_sleep(_: float) -> None:
        return None

    async def go():
        async with httpx.AsyncClient() as client:
            kwargs = {"clock": clock} if clock else {}
            policy = HttpPolicy(
                "test", ProviderConfig(base_url=url, **values), client, sleep=no_sleep, **kwargs
            )
            return await steps(policy)

    return asyncio.run(go())


def get_once(policy):
    return policy.get("/thing", operation="thing")


# -- retries -------------------------------------------------------------------------------


def test_get_retries_bad_gateways_then_succeeds(scripted):
    provider, url = scripted
    provider.reset(Answer(502), Answer(502), Answer(200, b'{"ok": true}'))
    assert run(url, get_once, retries=2) == Reply(200, {"ok": True})
    assert provider.count == 3


def test_retries_are_bounded(scripted):
    provider, url = scripted
    provider.reset(default=Answer(504))
    assert run(url, get_once, retries=1) == Timeout("test: gateway timeout")
    assert provider.count == 2


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (Answer(500), Unavailable),
        (Answer(503), Unavailable),
        (Answer(503, headers={"Retry-After": "42"}), Maintenance),
        (Answer(400, b'{"erreur": {"code": "X", "message": "m"}}'), Reply),
        (Answer(404, ENVELOPE_404), Reply),
        (Answer(401), Unavailable),
        (Answer(429, headers={"Retry-After": "5"}), Unavailable),
        (Answer(302, headers={"Location": "/elsewhere"}), UnexpectedPayload),
    ],
)
def test_no_retry_outside_transient_failures(scripted, answer, outcome):
    provider, url = scripted
    provider.reset(default=answer)
    assert isinstance(run(url, get_once, retries=3), outcome)
    assert provider.count == 1


def test_maintenance_reads_retry_after(scripted):
    provider, url = scripted
    provider.reset(Answer(503, headers={"Retry-After": "42"}))
    assert run(url, get_once) == Maintenance(42, "test: maintenance")


def test_post_is_never_retried(scripted):
    provider, url = scripted
    provider.reset(default=Answer(502))

    def steps(policy):
        return policy.post("/search", json_body={"q": 1}, operation="search")

    assert isinstance(run(url, steps, retries=3), Unavailable)
    assert provider.count == 1 and provider.received[0].method == "POST"


def test_read_timeout_is_never_retried(scripted):
    provider, url = scripted
    provider.reset(default=Answer(200, delay=0.5))
    started = time.monotonic()
    assert run(url, get_once, read_timeout=0.15, retries=3) == Timeout("test: no answer in time")
    assert time.monotonic() - started < 0.45
    assert provider.count == 1


def test_retries_stop_when_the_call_budget_is_spent(scripted):
    """Slow bad gateways: without a budget, 6 attempts would take 1.5 s."""
    provider, url = scripted
    provider.reset(default=Answer(502, delay=0.25))

    async def steps(policy):
        policy.sleep = asyncio.sleep  # real back-off: the budget counts it
        started = time.monotonic()
        outcome = await policy.get("/thing")
        return outcome, time.monotonic() - started

    outcome, elapsed = run(url, steps, connect_timeout=0.2, read_timeout=0.4, retries=5)
    assert isinstance(outcome, (Timeout, Unavailable))
    assert elapsed < 0.2 + 0.4 + 0.1, elapsed
    assert provider.count <= 2


def test_connection_refused_is_retried_for_get_only(caplog):
    closed = "http://127.0.0.1:9"  # discard port: nothing listens
    caplog.set_level(logging.INFO, logger="broker.providers")

    def steps(policy):
        async def both():
            return await policy.get("/x", operation="get"), await policy.post(
                "/x", json_body={}, operation="post"
            )

        return both()

    got, posted = run(closed, steps, retries=2)
    assert got == posted == Unavailable("test: connection failed", unreachable=True)
    attempts = [(r.operation, r.attempt) for r in caplog.records if r.name == "broker.providers"]
    assert attempts == [("get", 1), ("get", 2), ("get", 3), ("post", 1)]


# -- circuit breaker -----------------------------------------------------------------------


def test_breaker_opens_after_n_failures_then_costs_no_io(scripted):
    provider, url = scripted
    provider.reset(default=Answer(500))
    clock = Clock()

    async def steps(policy):
        failures = [await policy.get("/thing") for _ in range(3)]
        started = time.perf_counter()
        blocked = await policy.get("/thing")
        return failures, blocked, time.perf_counter() - started, policy.breaker.state

    failures, blocked, elapsed, state = run(url, steps, clock, breaker_failures=3, retries=0)
    assert all(isinstance(f, Unavailable) for f in failures)
    assert provider.count == 3  # the fourth call never reached the provider
    assert blocked == Unavailable("test: circuit open after repeated failures")
    assert state == "open"
    assert elapsed < 0.005, elapsed


def test_breaker_half_opens_after_reset_and_success_closes_it(scripted):
    provider, url = scripted
    provider.reset(default=Answer(500))
    clock = Clock()

    async def steps(policy):
        for _ in range(2):
            await policy.get("/thing")
        clock.now += 29.9
        still_open = await policy.get("/thing")
        provider.default = Answer(200, b"{}")
        clock.now += 0.1
        trial = await policy.get("/thing")
        after = await policy.get("/thing")
        return still_open, trial, after, policy.breaker.state

    still_open, trial, after, state = run(
        url, steps, clock, breaker_failures=2, retries=0, breaker_reset=30.0
    )
    assert isinstance(still_open, Unavailable)
    assert trial == after == Reply(200, {})
    assert state == "closed" and provider.count == 4


def test_breaker_failed_trial_reopens_for_a_full_reset(scripted):
    provider, url = scripted
    provider.reset(default=Answer(502))
    clock = Clock()

    async def steps(policy):
        await policy.get("/thing")  # opens (threshold 1)
        clock.now += 30
        trial = await policy.get("/thing")
        blocked = await policy.get("/thing")
        clock.now += 30
        second_trial = await policy.get("/thing")
        return trial, blocked, second_trial

    trial, blocked, second_trial = run(url, steps, clock, breaker_failures=1, retries=0)
    assert isinstance(trial, Unavailable) and "circuit" not in trial.detail
    assert "circuit open" in blocked.detail
    assert "circuit" not in second_trial.detail
    assert provider.count == 3


def test_half_open_lets_exactly_one_trial_through(scripted):
    provider, url = scripted
    provider.reset(Answer(500), default=Answer(200, b"{}", delay=0.2))
    clock = Clock()

    async def steps(policy):
        await policy.get("/thing")
        clock.now += 30
        return await asyncio.gather(policy.get("/thing"), policy.get("/thing"))

    first, second = run(url, steps, clock, breaker_failures=1, retries=0)
    assert Reply(200, {}) in (first, second)
    assert any(isinstance(o, Unavailable) and "circuit" in o.detail for o in (first, second))
    assert provider.count == 2


def test_answers_that_prove_the_provider_alive_do_not_open_the_breaker(scripted):
    provider, url = scripted
    provider.reset(
        Answer(404, ENVELOPE_404),
        Answer(503, headers={"Retry-After": "60"}),
        Answer(401),
        Answer(200, b"not json"),
        default=Answer(404, ENVELOPE_404),
    )

    async def steps(policy):
        for _ in range(6):
            await policy.get("/thing")
        return policy.breaker.state

    assert run(url, steps, breaker_failures=2, retries=0) == "closed"
    assert provider.count == 6


# -- robustness ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (Answer(200, b"x" * (1024 * 1024 + 1)), "too large"),
        (Answer(200, b"[" * 100_000 + b"]" * 100_000), "not valid JSON"),
        (Answer(200, b'{"valeur": NaN}'), "not valid JSON"),
        (Answer(200, b"\xff\xfe\x00garbage"), "not valid JSON"),
        (Answer(404, b"<html>Not Found</html>", content_type="text/html"), "not valid JSON"),
    ],
)
def test_robustness_hostile_bodies_are_unexpected_payloads(scripted, answer, words):
    provider, url = scripted
    provider.reset(answer)
    outcome = run(url, get_once)
    assert isinstance(outcome, UnexpectedPayload) and words in outcome.detail


def test_request_id_and_credentials_are_forwarded(scripted):
    provider, url = scripted
    provider.reset()
    run(url, lambda p: p.get("/thing", request_id="req-42"), credentials="s3cret")
    headers = provider.received[0].headers
    assert headers["x-request-id"] == "req-42"
    assert headers["authorization"] == "Bearer s3cret"


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120),
        (" 7 ", 7),
        ("0", 1),
        ("99999999", 7 * 24 * 3600),
        ("soon", 60),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 1),
    ],
)
def test_retry_after_parsing(header, seconds):
    assert retry_after_seconds(header, now=time.time()) == seconds


def test_retry_after_http_date_in_the_future():
    now = 1_700_000_000.0
    assert retry_after_seconds("Tue, 14 Nov 2023 22:15:20 GMT", now=now) == 120


def test_a_cancelled_half_open_trial_does_not_wedge_the_breaker(scripted):
    provider, url = scripted
    provider.reset(Answer(500), Answer(200, b"{}", delay=0.5), default=Answer(200, b"{}"))
    clock = Clock()

    async def steps(policy):
        await policy.get("/thing")  # opens (threshold 1)
        clock.now += 30
        trial = asyncio.create_task(policy.get("/thing"))
        await asyncio.sleep(0.1)
        trial.cancel()
        await asyncio.gather(trial, return_exceptions=True)
        return await policy.get("/thing"), policy.breaker.state

    outcome, state = run(url, steps, clock, breaker_failures=1, retries=0)
    assert outcome == Reply(200, {}) and state == "closed"
    assert provider.count == 3


@pytest.mark.parametrize("request_id", ["abc\r\nX-Evil: 1", "x" * 200, "é"])
def test_attack_hostile_request_ids_are_dropped_not_forwarded(scripted, request_id):
    provider, url = scripted
    provider.reset()
    assert run(url, lambda p: p.get("/thing", request_id=request_id)) == Reply(200, {})
    assert "x-request-id" not in provider.received[0].headers
    assert "x-evil" not in provider.received[0].headers


def test_attack_trickling_provider_cannot_outlast_the_call_budget():
    """httpx's read timeout is per chunk: a provider sending one byte every 0.15 s never trips
    it, but the call still ends at connect + read timeout."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve():
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        )
        while not stop.is_set():
            try:
                conn.sendall(b" ")
            except OSError:
                break
            time.sleep(0.15)
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    started = time.perf_counter()
    try:
        result = run(url, get_once, connect_timeout=0.2, read_timeout=0.4, retries=0)
    finally:
        stop.set()
        listener.close()
    assert isinstance(result, Timeout)
    assert time.perf_counter() - started < 1.0
