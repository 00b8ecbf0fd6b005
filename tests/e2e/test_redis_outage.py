"""Redis goes away under a broker that keeps its flow state there, and comes back: 503 with
Retry-After in each endpoint's format while it is away, one log line per kind of failure, and
the same processes serve again once it is back. A private redis-server on its own port: the
shared one is never stopped."""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
import redis

from broker.core.outages import OUTAGES
from tests.e2e.data_api_support import live_data_api
from tests.helpers import AuthorizationRequest, Browser, redeem, register_client
from tests.pg_cluster import free_port
from tests.servers import start_server

QF = "/v3/dss/quotient_familial/france_connect"

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed"
)


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def redis_broker(settings_factory, simulators) -> Iterator[tuple[PrivateRedis, object, object]]:
    server = PrivateRedis()
    server.start()
    try:
        with (
            start_server(
                lambda issuer: settings_factory(issuer, flow_state="redis", redis_url=server.url)
            ) as broker,
            live_data_api(broker, simulators, redis_url=server.url) as data_api,
        ):
            yield server, broker, data_api
    finally:
        server.stop()


def test_a_redis_outage_answers_503_and_the_same_processes_recover(
    redis_broker, caplog, monkeypatch
):
    server, broker, data_api = redis_broker
    client = register_client(
        broker.state, name="CCAS", scope="openid profile cnaf_quotient_familial"
    )
    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request, login="nom_composé")
    tokens = redeem(broker.url, client, received["code"], request.verifier).json()
    pending_request = AuthorizationRequest(client)
    pending = Browser(broker.url).sign_in(pending_request, login="nom_composé")

    server.stop()
    monkeypatch.setattr(OUTAGES, "last_logged", {})  # another test's outage, seconds ago
    with caplog.at_level(logging.INFO):
        authorize = Browser(broker.url).authorize(AuthorizationRequest(client))
        assert authorize.status_code == 503 and int(authorize.headers["retry-after"]) >= 1
        assert "momentanément indisponible" in authorize.text
        token = redeem(broker.url, client, pending["code"], pending_request.verifier)
        assert token.status_code == 503, token.text
        assert token.json()["error"] == "temporarily_unavailable" and token.headers["retry-after"]
        data = httpx.get(
            data_api.url + QF, headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert data.status_code == 503 and data.headers["retry-after"]
        assert data.json()["errors"][0]["code"] == "00503"
        assert httpx.get(f"{broker.url}/jwks").status_code == 200
        for _ in range(20):
            redeem(broker.url, client, pending["code"], pending_request.verifier)
    assert not [r for r in caplog.records if r.exc_info]
    assert 1 <= len([r for r in caplog.records if r.name == "broker.outages"]) <= 2

    server.start()  # an empty Redis: the flow state is short-lived and may be lost
    fresh_request = AuthorizationRequest(client)
    fresh = Browser(broker.url).sign_in(fresh_request, login="nom_composé")
    redeemed = redeem(broker.url, client, fresh["code"], fresh_request.verifier)
    assert redeemed.status_code == 200, redeemed.text
    data = httpx.get(
        data_api.url + QF,
        headers={"Authorization": f"Bearer {redeemed.json()['access_token']}"},
    )
    assert data.status_code == 200, data.text
