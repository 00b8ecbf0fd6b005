"""Pushed authorization requests (RFC 9126) over real HTTP: a service pushes its request to
/par with its own client authentication, sends the browser to /authorize with only
``client_id`` and ``request_uri``, and the flow goes on as usual; a ``request_uri`` is single
use, short-lived, bound to its client, and what the query adds to it is ignored."""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import func, select, update

from broker.core.security import digest
from broker.store.models import PushedAuthorizationRequest
from broker.web.client_throttle import PER_CLIENT_AND_ADDRESS
from tests.helpers import (
    AuthorizationRequest,
    Browser,
    RegisteredClient,
    query,
    redeem,
    register_client,
)
from tests.servers import start_server

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
URN = "urn:ietf:params:oauth:request_uri:"


# --- What a service does ------------------------------------------------------------------------


def assertion(client_id: str, key: ECKey, audience: Any, alg: str = "ES256", **claims) -> str:
    now = int(time.time())
    payload = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": secrets.token_urlsafe(12),
        "iat": now,
        "exp": now + 60,
        **claims,
    }
    return jwt.encode({"alg": alg, "kid": key.kid}, payload, key, algorithms=[alg])


def assertion_form(client_id: str, key, audience: Any, alg: str = "ES256") -> dict[str, str]:
    return {
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion(client_id, key, audience, alg),
    }


def push(
    base_url: str,
    client: RegisteredClient,
    params: dict[str, str],
    *,
    form: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> httpx.Response:
    """POST /par: with HTTP Basic by default, or with ``form`` (an assertion) instead."""
    if form is None and auth is None:
        auth = (client.client_id, client.client_secret or "")
    return httpx.post(f"{base_url}/par", data={**params, **(form or {})}, auth=auth, timeout=10)


def pushed_uri(response: httpx.Response) -> str:
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["request_uri"].startswith(URN) and body["expires_in"] > 0
    return body["request_uri"]


def authorize_pushed(browser: Browser, client_id: str, request_uri: str, **query_params: str):
    return browser.get(
        "/authorize", params={"client_id": client_id, "request_uri": request_uri, **query_params}
    )


def follow(browser: Browser, response: httpx.Response, redirect_uri: str) -> dict[str, str]:
    """From /authorize's answer to the client's redirect URI: login, then consent."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    if location.endswith("/login"):
        response = browser.login(location)
        assert response.status_code == 303, response.text
        location = response.headers["location"]
    if location.endswith("/consent"):
        response = browser.consent(location)
        assert response.status_code == 303, response.text
        location = response.headers["location"]
    assert location.startswith(redirect_uri), location
    return query(location)


def assert_invalid_request_uri(page: httpx.Response) -> None:
    """An error page, no redirect: nothing in such a request says where to send the citizen."""
    assert page.status_code == 400, page.text
    assert "location" not in page.headers
    assert "invalid_request_uri" in page.text


def pushed_rows(broker) -> int:
    with broker.state.db.connect() as conn:
        return conn.execute(select(func.count()).select_from(PushedAuthorizationRequest)).scalar()


# --- The flow ---------------------------------------------------------------------------------


def test_par_flow_with_client_secret_basic(broker):
    client = register_client(broker.state)
    request = AuthorizationRequest(client)
    request_uri = pushed_uri(push(broker.url, client, request.params()))

    browser = Browser(broker.url)
    received = follow(
        browser, authorize_pushed(browser, client.client_id, request_uri), client.redirect_uri
    )
    assert received["state"] == request.state and received["iss"] == broker.url

    tokens = redeem(broker.url, client, received["code"], request.verifier)
    assert tokens.status_code == 200, tokens.text
    assert set(tokens.json()["scope"].split()) == set(client.scope.split())
    # Stored as a digest, bound to the client, used.
    with broker.state.db.connect() as conn:
        row = conn.execute(select(PushedAuthorizationRequest)).one()
    assert row.uri_digest == digest(request_uri) and row.client_id == client.client_id
    assert row.used_at is not None and request_uri not in str(row.params)


def test_par_flow_with_private_key_jwt_and_remote_keys(broker, jwks_server):
    key = ECKey.generate_key("P-256", parameters={"kid": "rp-1"}, private=True)
    jwks_uri = jwks_server({"keys": [key.as_dict(private=False)]})
    client = register_client(broker.state, auth_method="private_key_jwt", jwks_uri=jwks_uri)
    request = AuthorizationRequest(client)
    # RFC 9126 §2: the PAR endpoint's own URL is an accepted audience.
    form = assertion_form(client.client_id, key, f"{broker.url}/par")
    request_uri = pushed_uri(push(broker.url, client, request.params(), form=form))

    browser = Browser(broker.url)
    received = follow(
        browser, authorize_pushed(browser, client.client_id, request_uri), client.redirect_uri
    )
    tokens = httpx.post(
        f"{broker.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": received["code"],
            "redirect_uri": client.redirect_uri,
            "code_verifier": request.verifier,
            **assertion_form(client.client_id, key, broker.url),
        },
        timeout=10,
    )
    assert tokens.status_code == 200, tokens.text


def test_signed_in_citizen_goes_straight_back_with_a_pushed_request(broker):
    client = register_client(broker.state)
    browser = Browser(broker.url)
    browser.sign_in(AuthorizationRequest(client))
    request = AuthorizationRequest(client)
    request_uri = pushed_uri(push(broker.url, client, request.params()))
    response = authorize_pushed(browser, client.client_id, request_uri)
    received = query(response.headers["location"])
    assert received["state"] == request.state and "code" in received
    assert redeem(broker.url, client, received["code"], request.verifier).status_code == 200


# --- Attacks ------------------------------------------------------------------------------------


def test_attack_par_request_uri_replay(broker):
    client = register_client(broker.state)
    request_uri = pushed_uri(push(broker.url, client, AuthorizationRequest(client).params()))
    first = authorize_pushed(Browser(broker.url), client.client_id, request_uri)
    assert first.status_code == 303 and first.headers["location"].endswith("/login")
    assert_invalid_request_uri(authorize_pushed(Browser(broker.url), client.client_id, request_uri))


def test_attack_par_request_uri_of_another_client(broker):
    victim = register_client(broker.state, name="Mairie")
    attacker = register_client(broker.state, name="Intrus")
    request_uri = pushed_uri(push(broker.url, victim, AuthorizationRequest(victim).params()))
    assert_invalid_request_uri(
        authorize_pushed(Browser(broker.url), attacker.client_id, request_uri)
    )
    # The attempt did not use it up.
    browser = Browser(broker.url)
    received = follow(
        browser, authorize_pushed(browser, victim.client_id, request_uri), victim.redirect_uri
    )
    assert "code" in received


def test_attack_par_expired_request_uri(broker):
    client = register_client(broker.state)
    request_uri = pushed_uri(push(broker.url, client, AuthorizationRequest(client).params()))
    # The clock: the request_uri's lifetime has passed.
    with broker.state.db.transaction() as s:
        s.exec(
            update(PushedAuthorizationRequest)
            .where(PushedAuthorizationRequest.uri_digest == digest(request_uri))
            .values(expires_at=int(time.time()))
        )
    assert_invalid_request_uri(authorize_pushed(Browser(broker.url), client.client_id, request_uri))


def test_attack_par_guessed_request_uri(broker):
    client = register_client(broker.state)
    pushed_uri(push(broker.url, client, AuthorizationRequest(client).params()))
    for guess in (URN + secrets.token_urlsafe(32), URN, "https://service.example/request"):
        assert_invalid_request_uri(authorize_pushed(Browser(broker.url), client.client_id, guess))


def test_attack_par_without_client_authentication(broker):
    client = register_client(broker.state)
    params = AuthorizationRequest(client).params()
    anonymous = httpx.post(f"{broker.url}/par", data=params, timeout=10)
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_client"
    wrong = push(broker.url, client, params, auth=(client.client_id, "wrong"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong.headers["cache-control"] == "no-store"
    assert pushed_rows(broker) == 0


def test_attack_par_bypassed_by_client_requiring_par(broker):
    client = register_client(broker.state, require_par=True)
    request = AuthorizationRequest(client)
    response = Browser(broker.url).authorize(request)
    assert response.status_code == 303
    received = query(response.headers["location"])
    assert response.headers["location"].startswith(client.redirect_uri)
    assert received["error"] == "invalid_request" and received["iss"] == broker.url
    assert "code" not in received
    # Pushed, the same request goes through.
    request_uri = pushed_uri(push(broker.url, client, request.params()))
    browser = Browser(broker.url)
    assert "code" in follow(
        browser, authorize_pushed(browser, client.client_id, request_uri), client.redirect_uri
    )


def test_attack_par_bypassed_with_an_unregistered_redirect_uri(broker):
    client = register_client(broker.state, require_par=True)
    request = AuthorizationRequest(client, extra={"redirect_uri": "http://127.0.0.1:9/evil"})
    page = Browser(broker.url).authorize(request)
    assert page.status_code == 400 and "location" not in page.headers


def test_every_client_must_push_when_the_deployment_requires_it(settings_factory):
    with start_server(
        lambda issuer: settings_factory(issuer, require_pushed_authorization_requests=True)
    ) as broker:
        client = register_client(broker.state)
        request = AuthorizationRequest(client)
        direct = query(Browser(broker.url).authorize(request).headers["location"])
        assert direct["error"] == "invalid_request"
        request_uri = pushed_uri(push(broker.url, client, request.params()))
        browser = Browser(broker.url)
        received = follow(
            browser, authorize_pushed(browser, client.client_id, request_uri), client.redirect_uri
        )
        assert redeem(broker.url, client, received["code"], request.verifier).status_code == 200


def test_attack_par_parameters_overridden_in_query(broker):
    """RFC 9126 §4: only the pushed parameters count; what the query adds is ignored."""
    other_uri = "http://127.0.0.1:9/other"
    client = register_client(
        broker.state,
        scope="openid profile birth email",
        redirect_uris=["http://127.0.0.1:9/cb", other_uri],
    )
    request = AuthorizationRequest(client, extra={"scope": "openid profile"})
    request_uri = pushed_uri(push(broker.url, client, request.params()))
    attacker = AuthorizationRequest(
        client, extra={"scope": client.scope, "redirect_uri": other_uri}
    )
    browser = Browser(broker.url)
    response = authorize_pushed(
        browser,
        client.client_id,
        request_uri,
        **{k: v for k, v in attacker.params().items() if k != "client_id"},
    )
    received = follow(browser, response, client.redirect_uri)
    assert received["state"] == request.state
    # The attacker's verifier does not redeem the code; the pushed one does, for the pushed scope.
    code = received["code"]
    tokens = redeem(broker.url, client, code, request.verifier)
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["scope"].split() == ["openid", "profile"]


def test_attack_par_code_challenge_swapped_in_query(broker):
    client = register_client(broker.state)
    request = AuthorizationRequest(client)
    request_uri = pushed_uri(push(broker.url, client, request.params()))
    attacker = AuthorizationRequest(client)
    browser = Browser(broker.url)
    response = authorize_pushed(
        browser,
        client.client_id,
        request_uri,
        code_challenge=attacker.challenge,
        code_challenge_method="S256",
    )
    received = follow(browser, response, client.redirect_uri)
    refused = redeem(broker.url, client, received["code"], attacker.verifier)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_attack_request_uri_pushed_inside_a_pushed_request(broker):
    client = register_client(broker.state)
    first = pushed_uri(push(broker.url, client, AuthorizationRequest(client).params()))
    nested = push(
        broker.url, client, {**AuthorizationRequest(client).params(), "request_uri": first}
    )
    assert nested.status_code == 400 and nested.json()["error"] == "invalid_request"
    jar = push(broker.url, client, {**AuthorizationRequest(client).params(), "request": "e30.e30."})
    assert jar.status_code == 400 and jar.json()["error"] == "request_not_supported"


def test_hostile_characters_refused_at_par(broker):
    client = register_client(broker.state)
    for hostile in (
        {"redirect_uri": 'http://127.0.0.1:9/cb"'},
        {"response_type": "code\n"},
        {"state": "a\x00b"},
        {"nonce": "\u202e"},
    ):
        response = push(broker.url, client, {**AuthorizationRequest(client).params(), **hostile})
        assert response.status_code == 400, response.text
        assert response.json()["error"] in ("invalid_request", "unsupported_response_type")
    assert pushed_rows(broker) == 0


def test_par_request_errors(broker):
    client = register_client(broker.state)
    auth = (client.client_id, client.client_secret or "")
    as_json = httpx.post(f"{broker.url}/par", json=AuthorizationRequest(client).params(), auth=auth)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    assert httpx.get(f"{broker.url}/par").status_code == 405
    # Parameters in the URL are not read: the form carries the request.
    in_url = httpx.post(
        f"{broker.url}/par",
        params=AuthorizationRequest(client).params(),
        data={"x": "y"},
        auth=auth,
    )
    assert in_url.status_code == 400 and in_url.json()["error"] == "invalid_request"
    not_registered = push(
        broker.url,
        client,
        {**AuthorizationRequest(client).params(), "redirect_uri": "https://evil.example/"},
    )
    assert not_registered.status_code == 400 and "location" not in not_registered.headers


def test_failed_par_authentications_are_throttled(broker):
    client = register_client(broker.state)
    params = AuthorizationRequest(client).params()
    for _ in range(PER_CLIENT_AND_ADDRESS.free):
        assert push(broker.url, client, params, auth=(client.client_id, "wrong")).status_code == 401
    slowed = push(broker.url, client, params, auth=(client.client_id, "wrong"))
    assert slowed.status_code == 429 and int(slowed.headers["retry-after"]) > 0
