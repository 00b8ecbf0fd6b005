"""RFC 7009 revocation for services over real HTTP: a revoked token stops at userinfo,
introspection and the data API at the very next request; a revoked refresh token ends its
chain and its access tokens, not the citizen's consent."""

from __future__ import annotations

import httpx

from broker.admin.introspection import add_introspection_client
from broker.web.client_throttle import PER_CLIENT_AND_ADDRESS
from tests.helpers import AuthorizationRequest, Browser, RegisteredClient, redeem, register_client

QF = "/v3/dss/quotient_familial/france_connect"
QF_SCOPE = "openid profile cnaf_quotient_familial cnaf_enfants"


def tokens_for(broker, name: str = "CCAS") -> tuple[RegisteredClient, dict]:
    client = register_client(broker.state, name=name, scope=QF_SCOPE)
    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request)
    response = redeem(broker.url, client, received["code"], request.verifier)
    assert response.status_code == 200, response.text
    return client, response.json()


def revoke(broker, client: RegisteredClient, token: str, **params: str) -> httpx.Response:
    return httpx.post(
        f"{broker.url}/revoke",
        data={"token": token, **params},
        auth=(client.client_id, client.client_secret or ""),
        timeout=10,
    )


def refresh(broker, client: RegisteredClient, refresh_token: str) -> httpx.Response:
    return httpx.post(
        f"{broker.url}/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(client.client_id, client.client_secret or ""),
        timeout=10,
    )


def userinfo(broker, token: str) -> httpx.Response:
    return httpx.get(f"{broker.url}/userinfo", headers={"Authorization": f"Bearer {token}"})


def data(data_api, token: str) -> httpx.Response:
    return httpx.get(data_api.url + QF, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def introspection(broker) -> tuple[str, str]:
    with broker.state.db.transaction() as s:
        created = add_introspection_client(s, "cnaf")
    return created["client_id"], created["client_secret"]


def active(broker, provider: tuple[str, str], token: str) -> bool:
    response = httpx.post(f"{broker.url}/introspect", data={"token": token}, auth=provider)
    assert response.status_code == 200, response.text
    return response.json()["active"]


def works(broker, data_api, provider: tuple[str, str], token: str) -> bool:
    """Whether the access token is accepted everywhere (or refused everywhere)."""
    answers = {
        userinfo(broker, token).status_code == 200,
        data(data_api, token).status_code == 200,
        active(broker, provider, token),
    }
    assert len(answers) == 1, "the endpoints disagree"
    return answers.pop()


def assert_ok(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"


def test_revoked_access_token_fails_everywhere_at_the_next_request(broker, data_api):
    cnaf = introspection(broker)
    client, tokens = tokens_for(broker)
    assert works(broker, data_api, cnaf, tokens["access_token"])

    assert_ok(revoke(broker, client, tokens["access_token"], token_type_hint="access_token"))

    after = userinfo(broker, tokens["access_token"])
    assert after.status_code == 401 and after.json()["error"] == "invalid_token"
    assert data(data_api, tokens["access_token"]).status_code == 401
    assert not active(broker, cnaf, tokens["access_token"])
    # The refresh token was not revoked with it.
    assert refresh(broker, client, tokens["refresh_token"]).status_code == 200


def test_revoked_refresh_token_ends_its_access_tokens_not_the_consent(broker, data_api):
    cnaf = introspection(broker)
    client, tokens = tokens_for(broker)
    rotated = refresh(broker, client, tokens["refresh_token"]).json()

    assert_ok(revoke(broker, client, rotated["refresh_token"], token_type_hint="refresh_token"))

    again = refresh(broker, client, rotated["refresh_token"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    for access_token in (tokens["access_token"], rotated["access_token"]):
        assert not works(broker, data_api, cnaf, access_token)
    # The citizen's consent stands: signing in again needs no new consent screen.
    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request)
    new = redeem(broker.url, client, received["code"], request.verifier).json()
    assert new["consent_id"] == tokens["consent_id"]
    assert works(broker, data_api, cnaf, new["access_token"])


def test_unknown_tokens_answer_200(broker):
    client, tokens = tokens_for(broker)
    for token in ("unknown", tokens["id_token"], "x" * 5000):
        assert_ok(revoke(broker, client, token))
    assert_ok(revoke(broker, client, tokens["access_token"]))
    assert_ok(revoke(broker, client, tokens["access_token"]))  # idempotent


def test_attack_revoking_another_clients_token(broker, data_api):
    cnaf = introspection(broker)
    victim, tokens = tokens_for(broker, name="Mairie")
    attacker, _ = tokens_for(broker, name="Intrus")
    unknown = revoke(broker, attacker, "unknown")
    for token in (tokens["access_token"], tokens["refresh_token"]):
        answer = revoke(broker, attacker, token)
        assert (answer.status_code, answer.json()) == (unknown.status_code, unknown.json())
    assert works(broker, data_api, cnaf, tokens["access_token"])
    assert refresh(broker, victim, tokens["refresh_token"]).status_code == 200


def test_wrong_client_secret_is_invalid_client(broker):
    client, tokens = tokens_for(broker)
    wrong = RegisteredClient(client.client_id, "wrong", client.redirect_uri, client.scope)
    response = revoke(broker, wrong, tokens["access_token"])
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert userinfo(broker, tokens["access_token"]).status_code == 200


def test_revocation_request_errors(broker):
    client, tokens = tokens_for(broker)
    auth = (client.client_id, client.client_secret or "")
    as_json = httpx.post(f"{broker.url}/revoke", json={"token": "x"}, auth=auth)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    missing = httpx.post(f"{broker.url}/revoke", data={}, auth=auth)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    hint = revoke(broker, client, tokens["access_token"], token_type_hint="id_token")
    assert hint.status_code == 400 and hint.json()["error"] == "unsupported_token_type"
    # RFC 6749 §2.3.1 as at /token: the token in the query string is not read.
    in_query = httpx.post(
        f"{broker.url}/revoke",
        params={"token": tokens["access_token"]},
        data={"x": "y"},
        auth=auth,
    )
    assert in_query.status_code == 400
    assert userinfo(broker, tokens["access_token"]).status_code == 200
    discovery = httpx.get(f"{broker.url}/.well-known/openid-configuration").json()
    assert discovery["revocation_endpoint"] == f"{broker.url}/revoke"


def test_attack_client_secret_guessing_at_revocation(broker):
    """The token endpoint's throttle: failures at /revoke slow the next calls down."""
    client = register_client(broker.state)
    for n in range(PER_CLIENT_AND_ADDRESS.free):
        wrong = RegisteredClient(client.client_id, f"guess-{n}", client.redirect_uri, "")
        assert revoke(broker, wrong, "x").status_code == 401
    slowed = revoke(broker, client, "x")
    assert slowed.status_code == 429 and int(slowed.headers["retry-after"]) >= 1
