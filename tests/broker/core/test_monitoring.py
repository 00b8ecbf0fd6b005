"""The monitoring endpoints every application answers: liveness, readiness, metrics."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from broker.core.db import Database
from broker.core.health import Readiness, database_check, in_thread, redis_check
from broker.core.monitoring import metrics_token_of, monitored
from broker.core.settings import Settings
from tests.redis_support import REDIS_URL, needs_redis


async def not_found(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def get(app, path: str, headers: dict | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path, headers=headers)

    return asyncio.run(go())


async def passing() -> None:
    return None


async def failing() -> None:
    raise ConnectionError("db.internal:5432 refused")


async def hanging() -> None:
    await asyncio.sleep(10)


def test_live_answers_without_any_check():
    app = monitored(not_found, name="mon-live", checks={"database": failing})
    response = get(app, "/health/live")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store" and response.headers["x-request-id"]


def test_ready_names_each_check():
    app = monitored(not_found, name="mon-ready", checks={"database": passing, "keys": passing})
    response = get(app, "/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "keys": "ok"}}


def test_a_failing_or_hanging_check_makes_it_503_without_details():
    checks = {"database": failing, "redis": hanging, "keys": passing}
    app = monitored(not_found, name="mon-503", checks=checks, check_timeout=0.2)
    started = time.monotonic()
    response = get(app, "/health/ready")
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "failed", "redis": "timeout", "keys": "ok"},
    }
    assert "db.internal" not in response.text


def test_probes_arriving_together_share_one_round_of_checks():
    calls = []

    async def counted() -> None:
        calls.append(1)
        await asyncio.sleep(0.05)

    readiness = Readiness({"database": counted})

    async def go():
        return await asyncio.gather(*(readiness.report() for _ in range(20)))

    reports = asyncio.run(go())
    assert len(calls) == 1 and all(ready for ready, _ in reports)


def test_a_hung_blocking_check_does_not_start_more_threads():
    started = []

    def stuck() -> None:
        started.append(1)
        time.sleep(0.5)

    check = in_thread(stuck)

    async def go():
        for _ in range(3):
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.05):
                    await check()

    asyncio.run(go())
    assert started == [1]


def test_the_database_check_runs_select_1(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        asyncio.run(database_check(db)())
    finally:
        db.dispose()


def test_the_database_check_fails_on_an_unreachable_database():
    db = Database("postgresql://nobody@127.0.0.1:1/none")
    try:
        ready, checks = asyncio.run(Readiness({"database": database_check(db)}, 5).report())
    finally:
        db.dispose()
    assert not ready and checks == {"database": "failed"}


@needs_redis
def test_the_redis_check_pings():
    asyncio.run(redis_check(REDIS_URL)())


def test_the_redis_check_fails_on_an_unreachable_redis():
    check = redis_check("redis://127.0.0.1:1/0")
    ready, checks = asyncio.run(Readiness({"redis": check}).report())
    assert not ready and checks == {"redis": "failed"}


def test_metrics_are_served_in_prometheus_text():
    app = monitored(not_found, name="mon-metrics")
    get(app, "/nowhere")
    response = get(app, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'http_requests_total{app="mon-metrics",method="GET",route="unmatched",' in response.text


def test_metrics_behind_a_token():
    app = monitored(not_found, name="mon-token", metrics_token="s3cret-token")
    assert get(app, "/metrics").status_code == 401
    assert get(app, "/metrics", {"Authorization": "Bearer wrong"}).status_code == 401
    ok = get(app, "/metrics", {"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200 and "http_requests_total" in ok.text


def test_production_serves_metrics_only_with_a_token():
    production = {
        "env": "production",
        "database_url": "sqlite://",
        "issuer": "https://broker.example",
        "key_encryption_secret": "x" * 32,
        "data_api_url": "https://api.broker.example",
    }
    assert metrics_token_of(Settings(**production)) == ""
    assert metrics_token_of(Settings(**production, metrics_token="t0ken")) == "t0ken"
    assert metrics_token_of(Settings(env="development")) is None
    closed = monitored(not_found, name="mon-closed", metrics_token="")
    assert get(closed, "/metrics").status_code == 404


def test_other_methods_are_refused():
    async def go():
        transport = httpx.ASGITransport(app=monitored(not_found, name="mon-post"))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/health/ready")

    assert asyncio.run(go()).status_code == 405
