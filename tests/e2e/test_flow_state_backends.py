"""The whole front channel on each flow-state backend, over real HTTP: this process's memory
(the embedded default), the database (several workers without Redis) and Redis (production)."""

from __future__ import annotations

import time

import pytest

from broker.web.http import SESSION_COOKIE
from tests.flow_state_edits import flow_state, rewrite_interaction
from tests.helpers import AuthorizationRequest, Browser, query, redeem, register_client
from tests.redis_support import REDIS_URL, needs_redis
from tests.servers import start_server

BACKENDS = ["memory", "database", pytest.param("redis", marks=needs_redis)]


@pytest.fixture(params=BACKENDS)
def backend_broker(request, settings_factory):
    overrides = {"flow_state": request.param}
    if request.param == "redis":
        overrides["redis_url"] = REDIS_URL
    with start_server(lambda issuer: settings_factory(issuer, **overrides)) as server:
        assert flow_state(server.state).kind == request.param
        yield server


def test_flow_single_sign_on_and_code_replay(backend_broker):
    broker = backend_broker
    client = register_client(broker.state)
    browser = Browser(broker.url)
    request = AuthorizationRequest(client)
    received = browser.sign_in(request)
    assert redeem(broker.url, client, received["code"], request.verifier).status_code == 200
    replay = redeem(broker.url, client, received["code"], request.verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"

    # The session opened at login signs the next request in without a page.
    silent = AuthorizationRequest(client, extra={"prompt": "none"})
    code = query(browser.authorize(silent).headers["location"])["code"]
    assert redeem(broker.url, client, code, silent.verifier).status_code == 200


def test_an_expired_interaction_is_told_apart(backend_broker):
    broker = backend_broker
    client = register_client(broker.state)
    browser = Browser(broker.url)
    login_url = browser.authorize(AuthorizationRequest(client)).headers["location"]
    rewrite_interaction(broker.state, login_url, expires_at=int(time.time()) - 1)
    assert browser.get(login_url).status_code == 410
    interaction_id = login_url.split("/")[-2]
    assert browser.get(login_url.replace(interaction_id, "x" * 32)).status_code == 404
    # An id far longer than ours is not looked up (a store key is no place for 4 kB of input).
    assert browser.get(login_url.replace(interaction_id, "x" * 4000)).status_code == 404


def test_a_signed_out_session_cookie_no_longer_signs_in(backend_broker):
    broker = backend_broker
    client = register_client(broker.state)
    browser = Browser(broker.url)
    browser.sign_in(AuthorizationRequest(client))
    stolen = browser.http.cookies[SESSION_COOKIE]
    page = browser.get("/espace")
    assert page.status_code == 200
    browser.post("/espace/deconnexion", data={"csrf_token": browser.csrf(page)})
    browser.http.cookies.set(SESSION_COOKIE, stolen)
    silent = AuthorizationRequest(client, extra={"prompt": "none"})
    assert query(browser.authorize(silent).headers["location"])["error"] == "login_required"
