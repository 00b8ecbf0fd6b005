"""RFC 9449 (DPoP) over real HTTP: a client registered with ``--dpop`` through the code flow,
token, userinfo, the data API, refresh and introspection; proofs replayed across two broker
processes and two data API processes sharing the database; server nonces at both."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Iterator

import httpx
import pytest
from joserfc import jws
from joserfc.jwk import ECKey
from sqlalchemy import func, select

from broker.admin.introspection import add_introspection_client
from broker.app import build_state, create_asgi_app
from broker.oidc.dpop import MAX_AGE, MAX_SKEW, token_hash
from broker.oidc.dpop_resource import DPOP, PresentedToken, ResourceRefusal, resource_proof
from broker.oidc.request import HttpRequestData
from broker.store.dpop_proofs import PROOF, purge_expired
from tests.helpers import AuthorizationRequest, Browser, RegisteredClient, register_client
from tests.servers import LiveServer, bound_socket, serve_app, start_server

QF_PATH = "/dss/quotient_familial/france_connect"
QF_SCOPE = "openid profile cnaf_quotient_familial cnaf_enfants"


class DpopClient:
    """What a client library does: one key pair, a fresh proof per request."""

    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256", private=True)

    @property
    def jkt(self) -> str:
        return self.key.thumbprint()

    def proof(
        self, method: str, url: str, access_token: str | None = None, nonce: str | None = None
    ) -> str:
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.key.as_dict(private=False)}
        claims = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": url,
            "iat": int(time.time()),
        }
        if access_token is not None:
            claims["ath"] = token_hash(access_token)
        if nonce is not None:
            claims["nonce"] = nonce
        return jws.serialize_compact(header, json.dumps(claims).encode(), self.key)


def token_request(
    base_url: str, client: RegisteredClient, data: dict[str, str], proof: str | None
) -> httpx.Response:
    return httpx.post(
        f"{base_url}/token",
        data=data,
        auth=(client.client_id, client.client_secret or ""),
        headers={"DPoP": proof} if proof else {},
        timeout=10,
    )


def code_for(broker: LiveServer, client: RegisteredClient) -> tuple[str, str]:
    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request, login="nom_composé")
    return received["code"], request.verifier


def redemption(client: RegisteredClient, code: str, verifier: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": client.redirect_uri,
        "code_verifier": verifier,
    }


def bound_tokens(broker: LiveServer, client: RegisteredClient, dpop: DpopClient) -> dict:
    code, verifier = code_for(broker, client)
    proof = dpop.proof("POST", f"{broker.settings.issuer_url}/token")
    response = token_request(broker.url, client, redemption(client, code, verifier), proof)
    assert response.status_code == 200, response.text
    return response.json()


def userinfo(
    base_url: str, issuer: str, token: str, dpop: DpopClient | None, scheme: str = "DPoP"
) -> httpx.Response:
    headers = {"Authorization": f"{scheme} {token}"}
    if dpop is not None:
        headers["DPoP"] = dpop.proof("GET", f"{issuer}/userinfo", access_token=token)
    return httpx.get(f"{base_url}/userinfo", headers=headers, timeout=10)


def data_call(
    data_api: LiveServer, audience: str, token: str, proof: str | None, scheme: str = "DPoP"
) -> httpx.Response:
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return httpx.get(f"{data_api.url}/v3{QF_PATH}", headers=headers, timeout=10)


@contextlib.contextmanager
def second_instance(broker: LiveServer) -> Iterator[str]:
    """Another broker process's worth of state (its own engine, caches and event loop) on
    another socket, with the same configuration: the same issuer, the same database, the same
    flow state, as two workers behind one load balancer."""
    state = build_state(broker.settings)
    sock = bound_socket()
    with serve_app(create_asgi_app(state.settings, state), sock):
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    state.db.dispose()


def test_code_flow_with_dpop_through_token_userinfo_data_api_refresh_and_introspection(
    broker, data_api
):
    client = register_client(broker.state, name="CCAS", scope=QF_SCOPE, dpop=True)
    issuer = broker.settings.issuer_url
    audience = broker.settings.resource_server_audience
    dpop = DpopClient()

    # A client registered with --dpop cannot go without a proof; that burns its code not.
    code, verifier = code_for(broker, client)
    bare = token_request(broker.url, client, redemption(client, code, verifier), None)
    assert bare.status_code == 400 and bare.json()["error"] == "invalid_dpop_proof"
    proof = dpop.proof("POST", f"{issuer}/token")
    response = token_request(broker.url, client, redemption(client, code, verifier), proof)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "DPoP" and tokens["refresh_token"]
    access_token = tokens["access_token"]

    # Userinfo: DPoP with a proof; the same token as Bearer is refused.
    assert userinfo(broker.url, issuer, access_token, dpop).status_code == 200
    downgraded = userinfo(broker.url, issuer, access_token, None, scheme="Bearer")
    assert downgraded.status_code == 401
    assert downgraded.headers["www-authenticate"].startswith('DPoP error="invalid_token"')
    post = httpx.post(f"{broker.url}/userinfo", data={"access_token": access_token}, timeout=10)
    assert post.status_code == 401 and post.json()["error"] == "invalid_token"

    # The data API: htu is its public address (its audience), not the socket it listens on.
    url = f"{audience}/v3{QF_PATH}"  # the URL called, on the public address
    ok = data_call(data_api, audience, access_token, dpop.proof("GET", url, access_token))
    assert ok.status_code == 200, ok.text
    assert ok.json()["data"]["quotient_familial"]["valeur"] == 635
    as_bearer = data_call(data_api, audience, access_token, None, scheme="Bearer")
    assert as_bearer.status_code == 401 and as_bearer.json()["errors"][0]["code"] == "00101"
    assert as_bearer.headers["www-authenticate"].startswith('DPoP error="invalid_token"')
    by_host = dpop.proof("GET", f"{data_api.url}/v3{QF_PATH}", access_token)
    wrong_htu = data_call(data_api, audience, access_token, by_host)
    assert wrong_htu.status_code == 401
    assert 'error="invalid_dpop_proof"' in wrong_htu.headers["www-authenticate"]

    # Introspection shows the binding.
    with broker.state.db.transaction() as s:
        cnaf = add_introspection_client(s, "cnaf")
    introspected = httpx.post(
        f"{broker.url}/introspect",
        data={"token": access_token},
        auth=(cnaf["client_id"], cnaf["client_secret"]),
        timeout=10,
    ).json()
    assert introspected["active"] and introspected["cnf"] == {"jkt": dpop.jkt}

    # Refresh: with another key refused, with the bound key rotated and still bound.
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    thief = token_request(
        broker.url, client, refresh, DpopClient().proof("POST", f"{issuer}/token")
    )
    assert thief.status_code == 400 and thief.json()["error"] == "invalid_dpop_proof"
    refreshed = token_request(broker.url, client, refresh, dpop.proof("POST", f"{issuer}/token"))
    assert refreshed.status_code == 200, refreshed.text
    new = refreshed.json()
    assert new["token_type"] == "DPoP" and new["refresh_token"] != tokens["refresh_token"]
    assert userinfo(broker.url, issuer, new["access_token"], dpop).status_code == 200
    again = {"grant_type": "refresh_token", "refresh_token": new["refresh_token"]}
    stolen = token_request(broker.url, client, again, None)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_dpop_proof"


def test_bearer_clients_are_unchanged(broker, data_api):
    client = register_client(broker.state, name="Mairie", scope=QF_SCOPE)
    code, verifier = code_for(broker, client)
    tokens = token_request(broker.url, client, redemption(client, code, verifier), None).json()
    assert tokens["token_type"] == "Bearer"
    issuer = broker.settings.issuer_url
    token = tokens["access_token"]
    assert userinfo(broker.url, issuer, token, None, scheme="Bearer").status_code == 200
    audience = broker.settings.resource_server_audience
    assert data_call(data_api, audience, token, None, scheme="Bearer").status_code == 200
    # An unbound token is not made DPoP by presenting it so.
    dpop = DpopClient()
    as_dpop = userinfo(broker.url, issuer, token, dpop)
    assert as_dpop.status_code == 401
    assert as_dpop.headers["www-authenticate"].startswith('DPoP error="invalid_token"')
    bare = httpx.get(f"{broker.url}/userinfo", timeout=10)
    assert bare.headers["www-authenticate"].startswith("Bearer, DPoP algs=")


@pytest.fixture
def shared_broker(settings_factory) -> Iterator[LiveServer]:
    """A broker whose flow state (codes) another process can share: Redis when the tests run
    on it, the database otherwise (the memory store is one process's)."""

    def settings_for(issuer: str):
        settings = settings_factory(issuer)
        if settings.flow_state_backend == "memory":
            settings = settings_factory(issuer, flow_state="database")
        return settings

    with start_server(settings_for) as server:
        yield server


def test_attack_dpop_proof_replayed_at_another_broker_process(shared_broker):
    broker = shared_broker
    client = register_client(broker.state, name="CCAS", scope=QF_SCOPE, dpop=True)
    issuer = broker.settings.issuer_url
    dpop = DpopClient()
    with second_instance(broker) as other:
        first_code, first_verifier = code_for(broker, client)
        second_code, second_verifier = code_for(broker, client)
        proof = dpop.proof("POST", f"{issuer}/token")
        used = token_request(
            broker.url, client, redemption(client, first_code, first_verifier), proof
        )
        assert used.status_code == 200, used.text
        replay = token_request(
            other, client, redemption(client, second_code, second_verifier), proof
        )
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_dpop_proof"
        # The replay burnt nothing: the second code is still redeemable there.
        fresh = dpop.proof("POST", f"{issuer}/token")
        ok = token_request(other, client, redemption(client, second_code, second_verifier), fresh)
        assert ok.status_code == 200, ok.text

        # At userinfo too: a proof spent at one process is refused at the other.
        token = ok.json()["access_token"]
        headers = {
            "Authorization": f"DPoP {token}",
            "DPoP": dpop.proof("GET", f"{issuer}/userinfo", access_token=token),
        }
        assert httpx.get(f"{other}/userinfo", headers=headers, timeout=10).status_code == 200
        replayed = httpx.get(f"{broker.url}/userinfo", headers=headers, timeout=10)
        assert replayed.status_code == 401
        assert 'error="invalid_dpop_proof"' in replayed.headers["www-authenticate"]


def test_attack_dpop_proof_replayed_at_another_data_api_process(broker, data_api_factory):
    first, second = data_api_factory(), data_api_factory()
    client = register_client(broker.state, name="CCAS", scope=QF_SCOPE, dpop=True)
    dpop = DpopClient()
    token = bound_tokens(broker, client, dpop)["access_token"]
    audience = broker.settings.resource_server_audience
    proof = dpop.proof("GET", f"{audience}/v3{QF_PATH}", token)
    assert data_call(first, audience, token, proof).status_code == 200
    replayed = data_call(second, audience, token, proof)
    assert replayed.status_code == 401 and replayed.json()["errors"][0]["code"] == "00101"
    assert 'error="invalid_dpop_proof"' in replayed.headers["www-authenticate"]
    assert replayed.headers["content-type"].startswith("application/json")


@pytest.fixture
def nonce_broker(settings_factory) -> Iterator[LiveServer]:
    with start_server(lambda issuer: settings_factory(issuer, dpop_require_nonce=True)) as server:
        yield server


def test_nonces_at_the_token_endpoint_and_userinfo(nonce_broker):
    broker = nonce_broker
    client = register_client(broker.state, name="CCAS", scope=QF_SCOPE, dpop=True)
    issuer = broker.settings.issuer_url
    dpop = DpopClient()
    code, verifier = code_for(broker, client)
    data = redemption(client, code, verifier)
    first = token_request(broker.url, client, data, dpop.proof("POST", f"{issuer}/token"))
    assert first.status_code == 400 and first.json()["error"] == "use_dpop_nonce"
    nonce = first.headers["dpop-nonce"]
    proof = dpop.proof("POST", f"{issuer}/token", nonce=nonce)
    tokens = token_request(broker.url, client, data, proof)
    assert tokens.status_code == 200, tokens.text
    assert tokens.headers["dpop-nonce"]
    token = tokens.json()["access_token"]

    headers = {"Authorization": f"DPoP {token}"}
    headers["DPoP"] = dpop.proof("GET", f"{issuer}/userinfo", access_token=token)
    asked = httpx.get(f"{broker.url}/userinfo", headers=headers, timeout=10)
    assert asked.status_code == 401
    assert asked.headers["www-authenticate"].startswith('DPoP error="use_dpop_nonce"')
    nonce = asked.headers["dpop-nonce"]
    headers["DPoP"] = dpop.proof("GET", f"{issuer}/userinfo", access_token=token, nonce=nonce)
    answered = httpx.get(f"{broker.url}/userinfo", headers=headers, timeout=10)
    assert answered.status_code == 200, answered.text
    assert answered.headers["dpop-nonce"]


def test_the_data_api_asks_for_its_own_nonces(broker, data_api_factory):
    api = data_api_factory(dpop_require_nonce=True)
    client = register_client(broker.state, name="CCAS", scope=QF_SCOPE, dpop=True)
    dpop = DpopClient()
    token = bound_tokens(broker, client, dpop)["access_token"]
    audience = broker.settings.resource_server_audience
    url = f"{audience}/v3{QF_PATH}"  # the URL called, on the public address
    asked = data_call(api, audience, token, dpop.proof("GET", url, token))
    assert asked.status_code == 401 and asked.json()["errors"][0]["code"] == "00101"
    assert asked.headers["www-authenticate"].startswith('DPoP error="use_dpop_nonce"')
    nonce = asked.headers["dpop-nonce"]
    answered = data_call(api, audience, token, dpop.proof("GET", url, token, nonce=nonce))
    assert answered.status_code == 200, answered.text
    assert answered.headers["dpop-nonce"]


def test_spent_proofs_are_kept_until_their_window_closes_then_purged(broker):
    client = register_client(broker.state, name="CCAS", scope=QF_SCOPE, dpop=True)
    bound_tokens(broker, client, DpopClient())
    with broker.state.db.begin() as conn:
        [expires_at] = conn.execute(select(PROOF.c.expires_at)).scalars().all()
        assert abs(expires_at - (int(time.time()) + MAX_AGE)) <= 5
        # Still acceptable until then, and kept MAX_SKEW longer for hosts whose clock is behind.
        assert purge_expired(conn, expires_at + MAX_SKEW) == 0
        assert purge_expired(conn, expires_at + MAX_SKEW + 1) == 1
        assert conn.execute(select(func.count()).select_from(PROOF)).scalar() == 0


# --- Spending a proof vs Database.run's retry; the client lookup before /token -------------------


def test_a_retried_userinfo_read_step_does_not_find_its_own_proof_spent(broker):
    """``Database.run`` retries a step that lost its connection, assuming nothing in it was
    committed. The proof is spent in a transaction of its own before the read step: the read
    step run twice (as a retry runs it) answers twice, and the proof stays spent."""
    client = register_client(broker.state, name="CCAS", scope=QF_SCOPE, dpop=True)
    dpop = DpopClient()
    token = bound_tokens(broker, client, dpop)["access_token"]
    url = f"{broker.settings.issuer_url}/userinfo"
    presented = PresentedToken(DPOP, token)
    headers = {"dpop": dpop.proof("GET", url, token)}
    proof = resource_proof(presented, headers, "GET", url, None, int(time.time()))
    assert proof is not None
    backchannel = broker.state.backchannel
    admitted = backchannel.admit_dpop(presented, proof)
    first = backchannel.read_userinfo(presented, admitted)
    assert backchannel.read_userinfo(presented, admitted) == first
    with pytest.raises(ResourceRefusal, match="already used"):
        backchannel.admit_dpop(presented, proof)


def test_attack_dpop_proof_of_a_revoked_token_stays_refused(broker):
    """A proof refused before it is spent (here: its token was revoked) is refused again
    whenever it comes back: it never gets a second chance."""
    client = register_client(broker.state, name="CCAS", scope=QF_SCOPE, dpop=True)
    dpop = DpopClient()
    token = bound_tokens(broker, client, dpop)["access_token"]
    proof = dpop.proof("GET", f"{broker.settings.issuer_url}/userinfo", token)
    revoked = httpx.post(
        f"{broker.url}/revoke",
        data={"token": token},
        auth=(client.client_id, client.client_secret or ""),
        timeout=10,
    )
    assert revoked.status_code == 200, revoked.text
    for _ in range(2):
        response = httpx.get(
            f"{broker.url}/userinfo",
            headers={"Authorization": f"DPoP {token}", "DPoP": proof},
            timeout=10,
        )
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith('DPoP error="invalid_token"')


def test_an_unknown_client_id_is_looked_up_once_before_token_requests(broker):
    """The keys prefetched before /token: an unknown client_id is remembered (for the client
    cache's lifetime), so repeating it costs no thread and no connection."""
    backchannel = broker.state.backchannel
    client_id = f"nobody-{secrets.token_hex(4)}"
    http = HttpRequestData(
        method="POST",
        uri=f"{broker.url}/token",
        headers={},
        params={"grant_type": ["authorization_code"], "client_id": [client_id]},
    )
    assert not backchannel.unknown_clients.known(client_id)
    asyncio.run(backchannel.prefetch_client_keys(http))
    assert backchannel.unknown_clients.known(client_id)


def test_every_data_api_401_carries_a_challenge(broker, data_api):
    """RFC 6750 §3: a refused credential gets a WWW-Authenticate challenge, whichever check
    refused it (here an unknown API key, as Bearer and as X-Api-Key)."""
    url = f"{data_api.url}/v3/dss/quotient_familial/france_connect"
    for headers in (
        {"Authorization": "Bearer bpk_unknown-key"},
        {"X-Api-Key": "bpk_unknown-key"},
    ):
        response = httpx.get(url, headers=headers, timeout=10)
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
