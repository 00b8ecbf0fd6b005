"""Error messages that say what to do, over real HTTP: a service's developer reading an
``invalid_scope`` learns which scope and which rule, and one reading an ``invalid_client``
learns what was wrong with the client authentication (401, with a challenge, RFC 6749 §5.2)."""

from __future__ import annotations

import httpx

from tests.helpers import AuthorizationRequest, Browser, query, register_client

FAILED = "client authentication failed: "


def refused_scope(broker, client, scope: str) -> str:
    request = AuthorizationRequest(client, extra={"scope": scope})
    response = Browser(broker.url).authorize(request)
    assert response.status_code == 303, response.text
    received = query(response.headers["location"])
    assert received["error"] == "invalid_scope", received
    return received["error_description"]


def test_invalid_scope_names_the_scope_and_the_rule(broker):
    client = register_client(broker.state, scope="openid profile cnaf_quotient_familial")
    assert refused_scope(broker, client, "openid profil").startswith(
        "Unknown scope 'profil': not in this broker's scope registry"
    )
    assert refused_scope(broker, client, "openid email").startswith(
        "This client is not registered for the scope 'email': "
    )
    unhabilitated = register_client(
        broker.state, name="Sans habilitation", scope="openid dgfip_rfr", habilitated=False
    )
    assert refused_scope(broker, unhabilitated, "openid dgfip_rfr").startswith(
        "No active habilitation of this service covers the data scope 'dgfip_rfr': "
    )


def assert_client_authentication_failed(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["error"] == "invalid_client"
    assert body["error_description"].startswith(FAILED + reason), body
    assert response.headers["www-authenticate"].startswith('Basic error="invalid_client"')


def test_client_authentication_failures_say_what_was_wrong(broker):
    client = register_client(broker.state)
    token_endpoint = f"{broker.url}/token"
    form = {"grant_type": "authorization_code", "code": "x", "redirect_uri": client.redirect_uri}

    wrong_secret = httpx.post(token_endpoint, data=form, auth=(client.client_id, "wrong"))
    assert_client_authentication_failed(wrong_secret, "the client secret is wrong")

    unknown = httpx.post(token_endpoint, data=form, auth=("no-such-client", "secret"))
    assert_client_authentication_failed(unknown, "no client is registered under this client_id")

    as_post = {**form, "client_id": client.client_id, "client_secret": client.client_secret}
    wrong_method = httpx.post(token_endpoint, data=as_post)
    assert_client_authentication_failed(
        wrong_method, "this client is registered for client_secret_basic, not client_secret_post"
    )

    nothing = httpx.post(token_endpoint, data={**form, "client_id": client.client_id})
    assert_client_authentication_failed(
        nothing, "the request carries no client credentials: this client uses client_secret_basic"
    )


def test_pushed_requests_and_revocation_explain_alike(broker):
    client = register_client(broker.state)
    for endpoint, form in (
        ("par", AuthorizationRequest(client).params()),
        ("revoke", {"token": "anything"}),
    ):
        response = httpx.post(
            f"{broker.url}/{endpoint}", data=form, auth=(client.client_id, "wrong")
        )
        assert_client_authentication_failed(response, "the client secret is wrong")
