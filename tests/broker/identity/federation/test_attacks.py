"""Attacks on, and failures of, the federation with an upstream provider (over sockets): each
one is refused with a readable page, and leaves nothing written (no citizen, no session, the
interaction still waiting for a sign-in)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

import httpx
import pytest
from joserfc import jwt
from sqlalchemy import func, select

from broker.admin.identity_providers import set_enabled
from broker.store.models import Citizen
from tests.broker.identity.federation.conftest import register
from tests.broker.identity.federation.rogue_idp import RogueIdp, new_key
from tests.helpers import (
    DEMO_IDP,
    AuthorizationRequest,
    Browser,
    RegisteredClient,
    register_client,
)
from tests.servers import bound_socket, serve_app, start_server


@dataclass
class Journey:
    client: RegisteredClient
    request: AuthorizationRequest
    browser: Browser
    login_url: str
    to_provider: str = ""
    callback: str = ""


def leave_for(broker, provider: str = "rogue", browser: Browser | None = None) -> Journey:
    client = register_client(broker.state)
    browser = browser or Browser(broker.url)
    request = AuthorizationRequest(client)
    login_url = browser.authorize(request).headers["location"]
    page = browser.get(login_url)
    leave = browser.post(login_url, data={"csrf_token": browser.csrf(page), "idp": provider})
    assert leave.status_code == 303, leave.text
    return Journey(client, request, browser, login_url, leave.headers["location"])


def through(broker, rogue: RogueIdp) -> tuple[Journey, httpx.Response]:
    """Choose the rogue provider, follow its answer back to the broker's callback."""
    journey = leave_for(broker)
    at_idp = journey.browser.get(journey.to_provider)
    assert at_idp.status_code == 303, at_idp.text
    journey.callback = at_idp.headers["location"]
    return journey, journey.browser.get(journey.callback)


def b64(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def citizens(broker) -> int:
    with broker.state.db.connect() as conn:
        return conn.execute(select(func.count()).select_from(Citizen)).scalar_one()


def assert_refused(broker, response: httpx.Response, reason: str, status: int, before: int):
    assert response.status_code == status, response.text
    assert f'<span class="code">{reason}</span>' in response.text
    assert "location" not in response.headers and "Traceback" not in response.text
    assert "broker_session" not in response.cookies
    assert citizens(broker) == before, "nothing is written for a refused sign-in"


def test_a_correct_provider_signs_the_citizen_in(broker, rogue):
    _, response = through(broker, rogue)
    assert response.status_code == 303 and response.headers["location"].endswith("/consent")
    sent = rogue.requests[-1]
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43
    assert sent["redirect_uri"] == f"{broker.url}/federation/rogue/callback"
    assert len(sent["state"]) >= 43 and len(sent["nonce"]) >= 43
    assert rogue.token_requests[-1]["code_verifier"]  # PKCE: the verifier goes to the token


def test_attack_invalid_signature(broker, rogue):
    before = citizens(broker)
    rogue.behaviour.published = [new_key(rogue.behaviour.key.kid)]  # same kid, another key
    _, response = through(broker, rogue)
    assert_refused(broker, response, "invalid_response", 502, before)


def test_attack_id_token_from_another_provider(broker, rogue):
    """Mix-up: an ID token another issuer made, relayed through this provider."""
    before = citizens(broker)
    rogue.behaviour.claims = {"iss": "https://another-idp.example"}
    _, response = through(broker, rogue)
    assert_refused(broker, response, "invalid_response", 502, before)


def test_attack_callback_at_another_providers_redirect_uri(broker, rogue):
    """Mix-up: the answer to a sign-in sent to one provider comes back at another's address."""
    before = citizens(broker)
    journey = leave_for(broker)
    callback = journey.browser.get(journey.to_provider).headers["location"]
    elsewhere = callback.replace("/federation/rogue/", f"/federation/{DEMO_IDP}/")
    response = journey.browser.get(elsewhere)
    assert_refused(broker, response, "mix_up", 400, before)
    # The sign-in is used up: the genuine callback cannot follow.
    assert_refused(broker, journey.browser.get(callback), "unknown_state", 400, before)


def test_attack_iss_parameter_of_another_provider(broker, rogue):
    before = citizens(broker)
    rogue.behaviour.iss_param = "https://another-idp.example"
    _, response = through(broker, rogue)
    assert_refused(broker, response, "mix_up", 400, before)


def test_attack_iss_parameter_missing_when_the_provider_advertises_it(broker, rogue):
    before = citizens(broker)
    rogue.behaviour.iss_param = None
    _, response = through(broker, rogue)
    assert_refused(broker, response, "mix_up", 400, before)
    rogue.behaviour.advertise_iss = False  # not advertised (RFC 9207 §2.4): not required
    broker.state.sign_in.federation.directory.forget(rogue.issuer)
    _, response = through(broker, rogue)
    assert response.status_code == 303


def test_attack_wrong_audience(broker, rogue):
    before = citizens(broker)
    rogue.behaviour.claims = {"aud": "another-client"}
    _, response = through(broker, rogue)
    assert_refused(broker, response, "invalid_response", 502, before)


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": int(time.time()) - 120},
        {"iat": int(time.time()) - 3600, "exp": int(time.time()) + 60},
        {"iat": int(time.time()) + 600},
    ],
    ids=["expired", "issued_long_ago", "issued_in_the_future"],
)
def test_attack_expired_id_token(broker, rogue, claims):
    before = citizens(broker)
    rogue.behaviour.claims = claims
    _, response = through(broker, rogue)
    assert_refused(broker, response, "invalid_response", 502, before)


def test_attack_replayed_nonce(broker, rogue):
    """An ID token captured from an earlier sign-in (its nonce) is not accepted for a new one."""
    before = citizens(broker)
    captured = {}

    def replay(request):
        captured.setdefault("nonce", request["nonce"])
        return rogue.standard_id_token({**request, "nonce": captured["nonce"]}, rogue.client_id)

    rogue.behaviour.id_token = replay
    _, first = through(broker, rogue)
    assert first.status_code == 303
    before = citizens(broker)
    _, again = through(broker, rogue)
    assert_refused(broker, again, "invalid_response", 502, before)


def test_attack_replayed_callback(broker, rogue):
    journey, first = through(broker, rogue)
    assert first.status_code == 303
    before = citizens(broker)
    again = journey.browser.get(journey.callback)
    assert_refused(broker, again, "unknown_state", 400, before)


def test_attack_state_from_another_browser(broker, rogue):
    before = citizens(broker)
    journey = leave_for(broker)
    callback = journey.browser.get(journey.to_provider).headers["location"]
    victim = Browser(broker.url)  # the attacker sends their callback to another browser
    response = victim.get(callback)
    assert_refused(broker, response, "wrong_browser", 403, before)


def valid_claims(rogue: RogueIdp, request: dict[str, str]) -> dict:
    """Claims that would pass every check: only the signature is at fault."""
    now = int(time.time())
    return {
        "iss": rogue.issuer,
        "sub": "x",
        "aud": rogue.client_id,
        "iat": now,
        "exp": now + 60,
        "nonce": request["nonce"],
    }


def test_attack_alg_none(broker, rogue):
    before = citizens(broker)

    def unsigned(request):
        claims = valid_claims(rogue, request)
        return jwt.encode({"alg": "none"}, claims, None, algorithms=["none"])

    rogue.behaviour.id_token = unsigned
    _, response = through(broker, rogue)
    assert_refused(broker, response, "invalid_response", 502, before)


def test_attack_hmac_keyed_with_the_public_key(broker, rogue):
    before = citizens(broker)
    public_pem = rogue.behaviour.key.as_pem(private=False)

    def confused(request):
        claims = valid_claims(rogue, request)
        header = {"alg": "HS256", "kid": rogue.behaviour.key.kid}
        signing_input = f"{b64(header)}.{b64(claims)}".encode()
        signature = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
        encoded = base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
        return f"{signing_input.decode()}.{encoded}"

    rogue.behaviour.id_token = confused
    _, response = through(broker, rogue)
    assert_refused(broker, response, "invalid_response", 502, before)


def test_attack_unsigned_userinfo_where_a_signed_one_is_expected(broker, rogue):
    with broker.state.db.transaction() as session:
        from broker.store.federation_models import IdentityProviderRecord

        session.get(IdentityProviderRecord, "rogue").signed_userinfo = True
    before = citizens(broker)
    _, response = through(broker, rogue)
    assert_refused(broker, response, "invalid_response", 502, before)
    rogue.behaviour.userinfo_signed = True
    _, response = through(broker, rogue)
    assert response.status_code == 303, response.text


def test_attack_callback_after_the_provider_was_disabled(broker, rogue):
    before = citizens(broker)
    journey = leave_for(broker)
    callback = journey.browser.get(journey.to_provider).headers["location"]
    with broker.state.db.transaction() as session:
        set_enabled(session, "rogue", False, "Incident en cours", broker.url)
    response = journey.browser.get(callback)  # at once: the callback reads the registry
    assert_refused(broker, response, "provider_disabled", 503, before)
    broker.state.sign_in.registry.forget()  # the choice page's copy lives 2 s
    page = journey.browser.get(journey.login_url)  # shown in maintenance, not choosable
    assert "Incident en cours" in page.text and 'value="rogue"' not in page.text
    forced = journey.browser.post(
        journey.login_url, data={"csrf_token": journey.browser.csrf(page), "idp": "rogue"}
    )
    assert forced.status_code == 403 and "provider_not_offered" in forced.text


def test_attack_incomplete_or_malformed_identity(broker, rogue):
    before = citizens(broker)
    rogue.behaviour.userinfo = {"given_name": "Angela", "family_name": "DUBOIS"}
    _, response = through(broker, rogue)
    assert_refused(broker, response, "incomplete_identity", 502, before)
    rogue.behaviour.userinfo = {
        "given_name": "Angela",
        "family_name": "DUBOIS",
        "birthdate": "24/08/1962",
        "gender": "female",
        "birthplace": "Paris",
        "birthcountry": "99100",
    }
    _, response = through(broker, rogue)
    assert_refused(broker, response, "incomplete_identity", 502, before)


def test_attack_userinfo_about_another_subject(broker, rogue):
    before = citizens(broker)
    rogue.behaviour.userinfo = {**rogue.behaviour.userinfo, "sub": "someone-else"}
    _, response = through(broker, rogue)
    assert_refused(broker, response, "invalid_response", 502, before)


def test_attack_acr_the_provider_may_not_reach(broker, rogue):
    before = citizens(broker)
    rogue.behaviour.claims = {"acr": "eidas3"}  # registered for eidas1 and eidas2 only
    _, response = through(broker, rogue)
    assert_refused(broker, response, "invalid_response", 502, before)


def test_cancelled_at_the_provider_goes_back_to_the_choice_page(broker, rogue):
    rogue.behaviour.authorize_error = "access_denied"
    journey, response = through(broker, rogue)
    assert response.status_code == 303
    assert response.headers["location"].endswith(
        f"{journey.login_url[len(broker.url) :]}?annule=rogue"
    )
    page = journey.browser.get(response.headers["location"])
    assert page.status_code == 200 and "Vous avez annulé la connexion" in page.text
    assert journey.browser.login(journey.login_url).status_code == 303  # choose again


def test_another_error_at_the_provider_is_a_readable_page(broker, rogue):
    before = citizens(broker)
    rogue.behaviour.authorize_error = "server_error"
    _, response = through(broker, rogue)
    assert_refused(broker, response, "provider_error", 502, before)


def test_provider_unreachable_is_said_on_the_choice_page(broker):
    sock = bound_socket()  # bound, never listening: connections are refused
    dead = RogueIdp(url=f"http://127.0.0.1:{sock.getsockname()[1]}")
    register(broker, dead, provider_id="dead", name="Dead")
    client = register_client(broker.state)
    browser = Browser(broker.url)
    login_url = browser.authorize(AuthorizationRequest(client)).headers["location"]
    page = browser.get(login_url)
    response = browser.post(login_url, data={"csrf_token": browser.csrf(page), "idp": "dead"})
    sock.close()
    assert response.status_code == 503 and "ne répond pas pour le moment" in response.text
    assert browser.login(login_url).status_code == 303  # another provider still works


def test_provider_too_slow_at_the_token_endpoint(settings_factory):
    timeout = 0.5
    sock = bound_socket()
    slow = RogueIdp(url=f"http://127.0.0.1:{sock.getsockname()[1]}")
    slow.behaviour.token_delay = timeout + 1
    settings_for = lambda issuer: settings_factory(issuer, federation_timeout=timeout)  # noqa: E731
    with serve_app(slow.app(), sock), start_server(settings_for) as broker:
        register(broker, slow)
        before = citizens(broker)
        started = time.monotonic()
        _, response = through(broker, slow)
        elapsed = time.monotonic() - started
        assert_refused(broker, response, "unreachable", 504, before)
    assert elapsed < timeout + 1


def test_a_rotated_provider_key_is_fetched_again(broker, rogue):
    assert through(broker, rogue)[1].status_code == 303 and rogue.jwks_fetches == 1
    rogue.behaviour.key = new_key()  # a new kid: the broker's cached JWKS does not have it
    # Just fetched: an unknown kid does not make the broker fetch again at once.
    assert through(broker, rogue)[1].status_code == 502 and rogue.jwks_fetches == 1
    broker.state.sign_in.federation.directory.refresh_at_most = 0
    assert through(broker, rogue)[1].status_code == 303 and rogue.jwks_fetches == 2


def test_attack_a_cookie_of_one_flow_follows_no_other(broker, rogue):
    """The broker's client for a provider is shared by every flow: it keeps no cookie."""
    through(broker, rogue)
    through(broker, rogue)
    assert [r["cookie"] for r in rogue.token_requests] == ["", ""]


def test_attack_userinfo_without_a_subject(broker, rogue):
    before = citizens(broker)
    rogue.behaviour.userinfo = {**rogue.behaviour.userinfo, "sub": None}
    _, response = through(broker, rogue)
    assert_refused(broker, response, "invalid_response", 502, before)


def test_attack_stale_authentication_when_a_fresh_one_was_asked(broker, rogue):
    """prompt=login reaches the provider; an ID token saying the citizen authenticated earlier
    (or not saying when) is not accepted as a fresh authentication."""
    before = citizens(broker)
    rogue.behaviour.claims = {"auth_time": int(time.time()) - 3600}
    client = register_client(broker.state)
    browser = Browser(broker.url)
    request = AuthorizationRequest(client, extra={"prompt": "login"})
    login_url = browser.authorize(request).headers["location"]
    page = browser.get(login_url)
    leave = browser.post(login_url, data={"csrf_token": browser.csrf(page), "idp": "rogue"})
    assert rogue_request_of(leave)["prompt"] == "login"
    callback = browser.get(leave.headers["location"]).headers["location"]
    assert_refused(broker, browser.get(callback), "invalid_response", 502, before)


def rogue_request_of(leave: httpx.Response) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(leave.headers["location"]).query))


def test_a_level_below_the_one_asked_stores_nothing(broker, rogue):
    before = citizens(broker)
    client = register_client(broker.state)
    browser = Browser(broker.url)
    request = AuthorizationRequest(client, extra={"acr_values": "eidas2"})
    login_url = browser.authorize(request).headers["location"]
    page = browser.get(login_url)
    leave = browser.post(login_url, data={"csrf_token": browser.csrf(page), "idp": "rogue"})
    callback = browser.get(leave.headers["location"]).headers["location"]  # answers eidas1
    answer = browser.get(callback)
    location = answer.headers["location"]
    assert location.startswith(client.redirect_uri)
    assert "error=unmet_authentication_requirements" in location
    assert "broker_session" not in answer.cookies and citizens(broker) == before
