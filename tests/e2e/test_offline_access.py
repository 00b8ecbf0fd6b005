"""``offline_access`` (OpenID Connect Core §11), as a standard client sends it: accepted and set
aside. Refresh tokens come with recurring consents, whatever the client asked; the scope is
never granted as an item, shown to the citizen, nor written into a token."""

from __future__ import annotations

import httpx

from tests.helpers import AuthorizationRequest, Browser, habilitate, redeem, register_client

QF_SCOPE = "openid profile cnaf_quotient_familial"


def flow(broker, client, scope: str) -> dict:
    request = AuthorizationRequest(client, extra={"scope": scope})
    received = Browser(broker.url).sign_in(request)
    response = redeem(broker.url, client, received["code"], request.verifier)
    assert response.status_code == 200, response.text
    return response.json()


def test_offline_access_is_accepted_and_never_granted_as_an_item(broker):
    client = register_client(broker.state, name="Service hors ligne", scope=QF_SCOPE)
    tokens = flow(broker, client, f"{QF_SCOPE} offline_access")
    assert "offline_access" not in tokens["scope"].split()
    assert set(tokens["scope"].split()) == set(QF_SCOPE.split())
    assert tokens["refresh_token"]  # the habilitation's consent is recurring
    refreshed = httpx.post(
        f"{broker.url}/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(client.client_id, client.client_secret or ""),
    )
    assert refreshed.status_code == 200, refreshed.text
    assert "offline_access" not in refreshed.json()["scope"].split()


def test_offline_access_gives_no_refresh_token_for_a_one_time_consent(broker):
    client = register_client(
        broker.state, name="Service ponctuel", scope=QF_SCOPE, habilitated=False
    )
    habilitate(broker.state, "Service ponctuel", "cnaf_quotient_familial", consent_mode="one_time")
    tokens = flow(broker, client, f"offline_access {QF_SCOPE}")
    assert "refresh_token" not in tokens
    assert "offline_access" not in tokens["scope"].split()


def test_offline_access_alone_still_needs_openid(broker):
    client = register_client(broker.state, name="Service sans openid", scope=QF_SCOPE)
    request = AuthorizationRequest(client, extra={"scope": "offline_access"})
    answer = Browser(broker.url).authorize(request)
    assert answer.status_code in (302, 303)
    assert "error=invalid_scope" in answer.headers["location"]
