"""RFC 7662 introspection for data providers, and its signed form (RFC 9701), over real HTTP."""

from __future__ import annotations

import httpx
from joserfc import jwt

from broker.admin.introspection import add_introspection_client, revoke_introspection_client
from tests.helpers import AuthorizationRequest, Browser, redeem, register_client

SCOPE = "openid profile dgfip_rfr dgfip_nbpart cnaf_quotient_familial"


def provider_credentials(broker, provider: str) -> tuple[str, str]:
    with broker.state.db.transaction() as s:
        created = add_introspection_client(s, provider)
    return created["client_id"], created["client_secret"]


def signed_in(broker):
    client = register_client(broker.state, scope=SCOPE)
    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request)
    tokens = redeem(broker.url, client, received["code"], request.verifier).json()
    return client, request, received, tokens


def introspect(broker, credentials, token: str, **headers) -> httpx.Response:
    return httpx.post(
        f"{broker.url}/introspect", data={"token": token}, auth=credentials, headers=headers
    )


def test_provider_sees_its_own_scopes_and_the_identity_pivot(broker):
    dgfip = provider_credentials(broker, "dgfip")
    client, _, _, tokens = signed_in(broker)
    response = introspect(broker, dgfip, tokens["access_token"])
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    body = response.json()
    id_claims = jwt.decode(tokens["id_token"], broker.state.keys.verification_keys()).claims
    assert body["active"] is True and body["client_id"] == client.client_id
    assert body["scope"] == "dgfip_rfr dgfip_nbpart"  # not the CAF scope, not openid
    assert body["sub"] == id_claims["sub"] and body["exp"] > id_claims["iat"]
    assert (body["family_name"], body["given_name"], body["birthdate"], body["birthplace"]) == (
        "DUBOIS",
        "Angela Claire Louise",
        "1962-08-24",
        "75107",
    )


def test_signed_introspection_response(broker):
    cnaf = provider_credentials(broker, "cnaf")
    _, _, _, tokens = signed_in(broker)
    response = introspect(
        broker, cnaf, tokens["access_token"], Accept="application/token-introspection+jwt"
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/token-introspection+jwt")
    decoded = jwt.decode(response.text, broker.state.keys.verification_keys())
    assert decoded.header["typ"] == "token-introspection+jwt"
    assert decoded.claims["aud"] == cnaf[0] and decoded.claims["iss"] == broker.url
    assert decoded.claims["token_introspection"]["scope"] == "cnaf_quotient_familial"


def test_attack_provider_probes_a_token_not_meant_for_it(broker):
    cnous = provider_credentials(broker, "cnous")
    _, _, _, tokens = signed_in(broker)
    assert introspect(broker, cnous, tokens["access_token"]).json() == {"active": False}


def test_attack_revoked_unknown_or_forged_tokens_are_inactive(broker):
    dgfip = provider_credentials(broker, "dgfip")
    client, request, received, tokens = signed_in(broker)
    redeem(broker.url, client, received["code"], request.verifier)  # replay: revokes
    assert introspect(broker, dgfip, tokens["access_token"]).json() == {"active": False}
    assert introspect(broker, dgfip, "garbage").json() == {"active": False}
    assert introspect(broker, dgfip, tokens["id_token"]).json() == {"active": False}


def test_attack_introspection_without_valid_credentials(broker):
    dgfip = provider_credentials(broker, "dgfip")
    _, _, _, tokens = signed_in(broker)
    for auth in [None, (dgfip[0], "wrong"), ("rs_unknown", dgfip[1])]:
        response = httpx.post(
            f"{broker.url}/introspect", data={"token": tokens["access_token"]}, auth=auth
        )
        assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    # An OIDC client's credentials are not a provider's.
    client = register_client(broker.state)
    response = introspect(broker, (client.client_id, client.client_secret), tokens["access_token"])
    assert response.status_code == 401
    with broker.state.db.transaction() as s:
        revoke_introspection_client(s, dgfip[0])
    assert introspect(broker, dgfip, tokens["access_token"]).status_code == 401


def test_introspection_request_errors(broker):
    dgfip = provider_credentials(broker, "dgfip")
    missing = httpx.post(f"{broker.url}/introspect", data={}, auth=dgfip)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    _, _, _, tokens = signed_in(broker)
    # RFC 7662 §2.1: a wrong hint does not stop the search.
    hint = httpx.post(
        f"{broker.url}/introspect",
        auth=dgfip,
        data={"token": tokens["access_token"], "token_type_hint": "refresh_token"},
    )
    assert hint.status_code == 200 and hint.json()["active"] is True
    json_body = httpx.post(f"{broker.url}/introspect", json={"token": "x"}, auth=dgfip)
    assert json_body.status_code == 400


def test_attack_revoked_habilitation_ends_the_scopes_at_introspection_too(broker):
    from sqlmodel import select

    from broker.admin.habilitations import revoke_habilitation
    from broker.store.data_access_models import Habilitation

    dgfip = provider_credentials(broker, "dgfip")
    _, _, _, tokens = signed_in(broker)
    assert introspect(broker, dgfip, tokens["access_token"]).json()["active"] is True
    with broker.state.db.transaction() as s:
        for habilitation in s.exec(select(Habilitation)).all():
            revoke_habilitation(s, habilitation.id)
    assert introspect(broker, dgfip, tokens["access_token"]).json() == {"active": False}
