"""The database goes away in the middle of flows, and comes back.

A private PostgreSQL cluster (its own data directory and port) under a real broker and data
API: while it is stopped, every endpoint answers 503 with Retry-After in its own format (OAuth
JSON, JSON:API, a readable page), /jwks and discovery are served from memory, the log holds
one line per kind of failure and no traceback; once it is back, the same processes serve
again, without a restart, and nothing was half-written."""

from __future__ import annotations

import logging
import time

import httpx
import psycopg
import pytest
from sqlmodel import select

from broker.core.outages import OUTAGES
from broker.store.data_access_models import AccessJournal
from tests.conftest import make_settings
from tests.databases import migrate_and_seed
from tests.e2e.data_api_support import live_data_api
from tests.helpers import AuthorizationRequest, Browser, query, redeem, register_client
from tests.pg_cluster import needs_postgres_binaries, private_cluster
from tests.servers import start_server

QF = "/v3/dss/quotient_familial/france_connect"
SCOPE = "openid profile cnaf_quotient_familial"

pytestmark = needs_postgres_binaries


@pytest.fixture
def cluster_broker(demo_idp, simulators, tmp_path):
    with private_cluster() as cluster:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE broker")
        url = cluster.url("broker")

        def settings_for(issuer: str):
            settings = make_settings(
                url, tmp_path, issuer, demo_idp.url, flow_state="database", redis_url=""
            )
            demo_idp.register_broker(settings)
            return settings

        migrate_and_seed(url, settings_for("http://127.0.0.1:1"))
        with start_server(settings_for) as broker, live_data_api(broker, simulators) as data_api:
            yield cluster, broker, data_api


def until_back(send, deadline: float = 15.0) -> httpx.Response:
    """``send`` again until it is not a 503: the database was just restarted."""
    stop = time.monotonic() + deadline
    while True:
        response = send()
        if response.status_code != 503 or time.monotonic() > stop:
            return response
        time.sleep(0.2)


def test_a_database_outage_answers_503_and_the_same_processes_recover(
    cluster_broker, caplog, monkeypatch
):
    cluster, broker, data_api = cluster_broker
    client = register_client(broker.state, name="CCAS", scope=SCOPE)
    # A complete flow, and a second one left with an unredeemed code, before the outage.
    request = AuthorizationRequest(client)
    first = Browser(broker.url).sign_in(request, login="nom_composé")
    tokens = redeem(broker.url, client, first["code"], request.verifier).json()
    pending_request = AuthorizationRequest(client)
    pending = Browser(broker.url).sign_in(pending_request, login="nom_composé")
    # A third citizen is on the consent screen when the database stops.
    third = Browser(broker.url)
    third_request = AuthorizationRequest(client)
    login_url = third.authorize(third_request).headers["location"]
    consent_url = third.login(login_url, login="test").headers["location"]
    consent_page = third.get(consent_url)
    assert consent_page.status_code == 200
    jwks_before = httpx.get(f"{broker.url}/jwks").json()
    with data_api.state.db.reader() as s:
        journal_before = len(s.exec(select(AccessJournal)).all())

    cluster.stop()
    monkeypatch.setattr(OUTAGES, "last_logged", {})  # another test's outage, seconds ago
    with caplog.at_level(logging.INFO):
        token = redeem(broker.url, client, pending["code"], pending_request.verifier)
        assert token.status_code == 503
        assert token.json()["error"] == "temporarily_unavailable"
        assert int(token.headers["retry-after"]) >= 1
        assert token.headers["cache-control"] == "no-store"

        info = httpx.get(
            f"{broker.url}/userinfo",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        assert info.status_code == 503 and info.json()["error"] == "temporarily_unavailable"

        authorize = Browser(broker.url).authorize(AuthorizationRequest(client))
        assert authorize.status_code == 503 and "retry-after" in authorize.headers
        assert "momentanément indisponible" in authorize.text

        approve = third.post(
            consent_url,
            data={"csrf_token": third.csrf(consent_page), "decision": "approve", "scope": []},
        )
        assert approve.status_code == 503 and "Référence de la demande" in approve.text

        space = Browser(broker.url).get("/espace/connexion")
        assert space.status_code in (200, 503)  # the choice page needs the provider list

        jwks = httpx.get(f"{broker.url}/jwks")
        assert jwks.status_code == 200 and jwks.json() == jwks_before
        discovery = httpx.get(f"{broker.url}/.well-known/openid-configuration")
        assert discovery.status_code == 200 and discovery.json()["issuer"] == broker.url

        data = httpx.get(
            data_api.url + QF, headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert data.status_code == 503 and int(data.headers["retry-after"]) >= 1
        assert data.json()["errors"][0]["code"] == "00503"

        for _ in range(20):  # a burst during the outage: still one line per kind
            redeem(broker.url, client, pending["code"], pending_request.verifier)
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert not tracebacks, [r.getMessage() for r in tracebacks]
    outage_lines = [r for r in caplog.records if r.name == "broker.outages"]
    assert 1 <= len(outage_lines) <= 2, [r.getMessage() for r in outage_lines]

    cluster.start()
    # The code tried during the outage was not used up: redeemed now, once.
    redeemed = until_back(
        lambda: redeem(broker.url, client, pending["code"], pending_request.verifier)
    )
    assert redeemed.status_code == 200, redeemed.text
    again = redeem(broker.url, client, pending["code"], pending_request.verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"  # and revoked
    # The consent posted during the outage was not recorded: the screen is still there, and
    # approving now completes the flow.
    page = third.get(consent_url)
    assert page.status_code == 200, page.text
    approved = third.post(
        consent_url, data={"csrf_token": third.csrf(page), "decision": "approve", "scope": []}
    )
    assert approved.status_code == 303, approved.text
    code = query(approved.headers["location"])["code"]
    third_tokens = redeem(broker.url, client, code, third_request.verifier)
    assert third_tokens.status_code == 200, third_tokens.text
    # The data API serves again; the call refused during the outage left no journal row.
    data = until_back(
        lambda: httpx.get(
            data_api.url + QF, headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
    )
    assert data.status_code == 200, data.text
    with data_api.state.db.reader() as s:
        rows = s.exec(select(AccessJournal).order_by(AccessJournal.id)).all()
    assert len(rows) == journal_before + 1 and rows[-1].outcome == "ok"
    # A whole new flow, on the same processes.
    request = AuthorizationRequest(client)
    fresh = Browser(broker.url).sign_in(request, login="nom_composé")
    assert redeem(broker.url, client, fresh["code"], request.verifier).status_code == 200
