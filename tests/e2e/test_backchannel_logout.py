"""OpenID Connect Back-Channel Logout 1.0 end to end, over real sockets: when a broker session
ends (RP-initiated logout, the citizen space's sign-out, expiry, idle timeout), every service
that received an ID token in it gets a valid logout token at its registered URL, once; the
demo service honours it (its session ends) and refuses forged or replayed tokens."""

from __future__ import annotations

import base64
import contextlib
import json
import time

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from prometheus_client.parser import text_string_to_metric_families

from broker.demo.online_service import RelyingParty, create_service_app
from broker.demo.seed import DEMO_CLIENT_ID, LOGOUT_PATH, demo_service_key, seed_demo_service
from broker.oidc.logout_token import BACKCHANNEL_LOGOUT_EVENT, logout_token
from tests.backchannel_receiver import logout_receiver, verified_logout_claims
from tests.flow_state_edits import flow_state, rewrite_session
from tests.helpers import AuthorizationRequest, Browser, query, redeem, register_client
from tests.redis_support import REDIS_URL, needs_redis
from tests.servers import bound_socket, serve_app, start_server

BACKENDS = ["memory", "database", pytest.param("redis", marks=needs_redis)]


def service(broker, url: str | None, name: str | None = None):
    return register_client(
        broker.state,
        name=name or f"Service {time.monotonic_ns()}",
        backchannel_logout_uri=url,
        post_logout_redirect_uris=("http://127.0.0.1:9/apres",),
    )


def signed_in_to(broker, browser: Browser, client) -> dict:
    """The browser signs in to ``client`` (the session reused when there is one): its token
    response, the ID token's claims unverified."""
    request = AuthorizationRequest(client)
    received = browser.sign_in(request)
    tokens = redeem(broker.url, client, received["code"], request.verifier).json()
    tokens["claims"] = unverified_claims(tokens["id_token"])
    return tokens


def unverified_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def check_token(broker, received, client) -> dict:
    return verified_logout_claims(received.token, broker.state.keys.jwks(), broker.url, client)


def session_alive(browser: Browser, client) -> bool:
    response = browser.authorize(AuthorizationRequest(client, extra={"prompt": "none"}))
    return "code" in query(response.headers["location"])


def test_rp_initiated_logout_tells_every_service_of_the_session(broker):
    with logout_receiver(200) as (url, receiver):
        first, second = service(broker, url), service(broker, url)
        quiet = service(broker, None)  # no back-channel URI: not told
        browser = Browser(broker.url)
        one = signed_in_to(broker, browser, first)
        two = signed_in_to(broker, browser, second)  # single sign-on: the same session
        signed_in_to(broker, browser, quiet)
        # Two sectors: two sids for one session (Core §8, §17.3: nothing to join them by).
        assert one["claims"]["sid"] and two["claims"]["sid"]
        assert one["claims"]["sid"] != two["claims"]["sid"]
        out = browser.get("/logout", params={"id_token_hint": one["id_token"]})
        assert out.status_code == 303
        told = receiver.wait_for(2)
        time.sleep(0.3)  # nothing more arrives
    assert len(receiver.received) == 2
    audiences = [unverified_claims(r.token)["aud"] for r in told]
    claims = {aud: check_token(broker, r, aud) for aud, r in zip(audiences, told, strict=True)}
    assert set(claims) == {first.client_id, second.client_id}
    assert claims[first.client_id]["sub"] == one["claims"]["sub"]
    assert claims[second.client_id]["sub"] == two["claims"]["sub"]
    # Each logout token carries the sid its service's ID token had.
    assert claims[first.client_id]["sid"] == one["claims"]["sid"]
    assert claims[second.client_id]["sid"] == two["claims"]["sid"]
    assert not session_alive(browser, first)


def test_the_citizen_space_sign_out_tells_the_services(broker):
    with logout_receiver(204) as (url, receiver):
        client = service(broker, url)
        browser = Browser(broker.url)
        tokens = signed_in_to(broker, browser, client)
        space = browser.get("/espace")
        assert space.status_code == 200
        browser.post("/espace/deconnexion", data={"csrf_token": browser.csrf(space)})
        [received] = receiver.wait_for(1)
    claims = check_token(broker, received, client.client_id)
    assert (claims["sid"], claims["sub"]) == (tokens["claims"]["sid"], tokens["claims"]["sub"])


def test_an_id_token_of_another_session_does_not_sign_out_unasked(broker):
    client = service(broker, None)
    old_browser, browser = Browser(broker.url), Browser(broker.url)
    old = signed_in_to(broker, old_browser, client)
    signed_in_to(broker, browser, client)  # the same citizen, another session
    page = browser.get("/logout", params={"id_token_hint": old["id_token"]})
    assert page.status_code == 200 and "Se déconnecter ?" in page.text
    assert session_alive(browser, client)


@pytest.fixture(params=BACKENDS)
def backend_broker(request, settings_factory):
    overrides = {"flow_state": request.param}
    if request.param == "redis":
        overrides["redis_url"] = REDIS_URL
    with start_server(lambda issuer: settings_factory(issuer, **overrides)) as server:
        assert flow_state(server.state).kind == request.param
        yield server


def test_an_idle_session_no_longer_signs_in_and_its_services_are_told(backend_broker):
    broker = backend_broker
    idle_ttl = broker.state.settings.session_idle_ttl
    with logout_receiver(200) as (url, receiver):
        client = service(broker, url)
        browser = Browser(broker.url)
        tokens = signed_in_to(broker, browser, client)
        assert session_alive(browser, client)
        rewrite_session(broker.state, browser, last_seen=int(time.time()) - idle_ttl)
        assert not session_alive(browser, client)  # the citizen signs in again
        assert browser.get("/espace").status_code == 303
        assert receiver.received == []  # told by the sweep, which runs every minute
        assert broker.state.flow.sessions.end_expired() == 1
        [received] = receiver.wait_for(1)
    claims = check_token(broker, received, client.client_id)
    assert claims["sid"] == tokens["claims"]["sid"]


def test_an_expired_session_is_ended_and_its_services_told_once(broker):
    with logout_receiver(200) as (url, receiver):
        client = service(broker, url)
        browser = Browser(broker.url)
        tokens = signed_in_to(broker, browser, client)
        rewrite_session(broker.state, browser, expires_at=int(time.time()) - 1)
        assert not session_alive(browser, client)
        sessions = broker.state.flow.sessions
        assert sessions.end_expired() == 1
        assert sessions.end_expired() == 0
        [received] = receiver.wait_for(1)
        time.sleep(0.3)
    assert len(receiver.received) == 1
    claims = check_token(broker, received, client.client_id)
    assert claims["sid"] == tokens["claims"]["sid"]


# --- the demo service --------------------------------------------------------------------


@contextlib.contextmanager
def demo_service(broker):
    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    var_dir = broker.settings.var_dir
    with broker.state.db.transaction() as session:
        registered = seed_demo_service(session, var_dir, url)
    assert registered["backchannel_logout_uri"] == url + LOGOUT_PATH
    rp = RelyingParty(
        issuer=broker.url,
        client_id=DEMO_CLIENT_ID,
        private_key=demo_service_key(var_dir),
        base_url=url,
    )
    with serve_app(create_service_app(rp), sock):
        yield url, rp


def demo_sign_in(service_url: str, browser: Browser) -> httpx.Client:
    # One client from start to end: the service binds its sign-in to this browser's cookie.
    demo = httpx.Client(base_url=service_url, timeout=10, follow_redirects=True)
    start = demo.get("/login", follow_redirects=False)
    response = browser.get(start.headers["location"])
    if response.headers["location"].endswith("/login"):
        response = browser.login(response.headers["location"])
    if response.headers["location"].endswith("/consent"):
        response = browser.consent(response.headers["location"], "approve")
    assert demo.get(response.headers["location"]).status_code == 200
    return demo


def signed_in_at_demo(demo: httpx.Client) -> bool:
    return demo.get("/refresh").status_code == 200


def test_the_demo_service_session_ends_after_the_broker_logout(broker):
    with demo_service(broker) as (url, rp):
        browser = Browser(broker.url)
        demo = demo_sign_in(url, browser)
        assert signed_in_at_demo(demo)
        [session] = rp.sessions.values()
        assert session["sid"] and session["sub"]
        space = browser.get("/espace")  # the citizen signs out of the broker, elsewhere
        browser.post("/espace/deconnexion", data={"csrf_token": browser.csrf(space)})
        deadline = time.monotonic() + 10
        while rp.sessions and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not signed_in_at_demo(demo)
        page = demo.get("/refresh")
    assert page.status_code == 401 and "Reconnectez-vous" in page.text


def demo_token(broker, key=None, *, header=None, **claims) -> str:
    now = int(time.time())
    values = {
        "iss": broker.url,
        "aud": DEMO_CLIENT_ID,
        "iat": now,
        "exp": now + 120,
        "jti": f"jti-{time.monotonic_ns()}",
        "sid": "sid-of-the-session",
        "sub": "sub-of-angela",
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    values.update(claims)
    values = {k: v for k, v in values.items() if v is not None}
    key = key or broker.state.keys.signing_key()
    protected = header or {"alg": "ES256", "kid": key.kid, "typ": "logout+jwt"}
    return jwt.encode(protected, values, key, algorithms=[protected["alg"]])


def post_logout(url: str, token: str | None, **kwargs) -> httpx.Response:
    data = {"logout_token": token} if token is not None else {}
    return httpx.post(url + LOGOUT_PATH, data=data, timeout=10, **kwargs)


def planted_session(rp: RelyingParty) -> None:
    rp.sessions["victim"] = {"sid": "sid-of-the-session", "sub": "sub-of-angela"}


@pytest.mark.parametrize(
    "forgery",
    [
        "foreign_key",
        "tampered",
        "other_audience",
        "other_issuer",
        "id_token_typ",
        "typ_not_a_string",
        "typ_null",
        "with_nonce",
        "no_event",
        "expired",
        "issued_long_ago",
        "neither_sid_nor_sub",
        "garbage",
        "missing",
        "json_body",
    ],
)
def test_attack_forged_logout_token(broker, forgery):
    real = broker.state.keys.signing_key()
    now = int(time.time())
    token: str | None
    kwargs = {}
    if forgery == "foreign_key":  # same kid, another key
        impostor = ECKey.generate_key("P-256", parameters={"kid": real.kid, "alg": "ES256"})
        token = demo_token(broker, impostor)
    elif forgery == "tampered":
        header, _, signature = demo_token(broker).split(".")
        token = ".".join([header, demo_token(broker, sid="other").split(".")[1], signature])
    elif forgery == "other_audience":
        token = demo_token(broker, aud="another-service")
    elif forgery == "other_issuer":
        token = demo_token(broker, iss="https://impostor.example")
    elif forgery == "id_token_typ":  # an ID token of the broker's is no logout token
        token = demo_token(broker, header={"alg": "ES256", "kid": real.kid, "typ": "JWT"})
    elif forgery in ("typ_not_a_string", "typ_null"):  # a 400, never a crash (500)
        typ = 1 if forgery == "typ_not_a_string" else None
        odd = json.dumps({"alg": "ES256", "kid": real.kid, "typ": typ}).encode()
        _, payload, signature = demo_token(broker).split(".")  # joserfc would not make it
        token = ".".join([base64.urlsafe_b64encode(odd).rstrip(b"=").decode(), payload, signature])
    elif forgery == "with_nonce":
        token = demo_token(broker, nonce="n")
    elif forgery == "no_event":
        token = demo_token(broker, events={"https://example.com/other": {}})
    elif forgery == "expired":
        token = demo_token(broker, iat=now - 200, exp=now - 80)
    elif forgery == "issued_long_ago":
        token = demo_token(broker, iat=now - 3600, exp=now + 60)
    elif forgery == "neither_sid_nor_sub":
        token = demo_token(broker, sid=None, sub=None)
    elif forgery == "garbage":
        token = "not.a.jwt"
    elif forgery == "missing":
        token = None
    else:
        token, kwargs = None, {"json": {"logout_token": demo_token(broker)}}
    with demo_service(broker) as (url, rp):
        planted_session(rp)
        response = post_logout(url, token, **kwargs)
        assert "victim" in rp.sessions  # nothing ended
    assert response.status_code == 400
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == "invalid_request" and body["error_description"]


def test_attack_replayed_logout_token(broker):
    with demo_service(broker) as (url, rp):
        token = logout_token(
            broker.state.keys.signing_key(),
            issuer=broker.url,
            client_id=DEMO_CLIENT_ID,
            sub="sub-of-angela",
            sid="sid-of-the-session",
            now=int(time.time()),
        )
        planted_session(rp)
        first = post_logout(url, token)
        assert first.status_code == 200 and "victim" not in rp.sessions
        planted_session(rp)  # signed in again
        replayed = post_logout(url, token)
        assert "victim" in rp.sessions
    assert replayed.status_code == 400
    assert "already received" in replayed.json()["error_description"]


def test_the_logout_backlog_is_on_the_metrics(broker):
    """The session sweep measures the notices waiting for delivery (as the consent events')."""
    with logout_receiver(503) as (url, receiver):
        client = service(broker, url)
        browser = Browser(broker.url)
        tokens = signed_in_to(broker, browser, client)
        out = browser.get("/logout", params={"id_token_hint": tokens["id_token"]})
        assert out.status_code == 303
        receiver.wait_for(1)  # refused: the notice waits for its retry
        background = broker.state.background
        background.sweep_sessions(broker.state.flow.sessions)
    text = httpx.get(f"{broker.url}/metrics", timeout=10).text
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples["broker_logout_notices_pending"] >= 1
    assert samples["broker_logout_notices_oldest_pending_age_seconds"] >= 0


def test_a_new_sign_in_in_the_same_browser_ends_the_old_session_and_tells_its_services(broker):
    """prompt=login (or max_age, or another citizen on a shared computer): the browser signs
    in again; the session it had ends with that sign-in, and its services are told, rather
    than the old session living on, unreachable, until its deadline."""
    with logout_receiver(200) as (url, receiver):
        client = service(broker, url)
        browser = Browser(broker.url)
        old = signed_in_to(broker, browser, client)
        request = AuthorizationRequest(client, extra={"prompt": "login"})
        received = browser.sign_in(request)
        new = redeem(broker.url, client, received["code"], request.verifier).json()
        [told] = receiver.wait_for(1)
    claims = check_token(broker, told, client.client_id)
    assert claims["sid"] == old["claims"]["sid"] != unverified_claims(new["id_token"])["sid"]
    assert session_alive(browser, client)  # the new session
