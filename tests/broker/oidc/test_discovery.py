from __future__ import annotations

import httpx

from broker.catalogue.scopes import REGISTRY


def test_discovery_is_complete_and_truthful(broker):
    meta = httpx.get(f"{broker.url}/.well-known/openid-configuration").json()
    assert meta["issuer"] == broker.url
    for endpoint in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert meta[endpoint].startswith(broker.url)
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["response_types_supported"] == ["code"]
    assert meta["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert meta["subject_types_supported"] == ["pairwise"]
    assert meta["acr_values_supported"] == ["eidas1", "eidas2", "eidas3"]
    assert set(meta["id_token_signing_alg_values_supported"]) == {"ES256", "RS256"}
    assert set(meta["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    }
    assert meta["scopes_supported"] == [*REGISTRY.names(), "offline_access"]
    assert {
        "openid",
        "profile",
        "birth",
        "identite_pivot",
        "email",
        "cnaf_quotient_familial",
        "cnous_statut_boursier",
        "pole_emploi_inscription",
        "dgfip_rfr",
    } <= set(meta["scopes_supported"])
    assert {
        "sub",
        "given_name",
        "family_name",
        "birthdate",
        "gender",
        "birthplace",
        "birthcountry",
        "acr",
    } <= set(meta["claims_supported"])


def test_jwks_publishes_both_algorithms_without_private_parts(broker):
    keys = httpx.get(f"{broker.url}/jwks").json()["keys"]
    assert {k["alg"] for k in keys} == {"ES256", "RS256"}
    assert all(k["use"] == "sig" and "d" not in k and k["kid"] for k in keys)


def test_introspection_is_described_for_data_providers_only(broker):
    """Services read the OpenID Connect discovery: it does not offer them an introspection
    endpoint that refuses them. Data providers read the RFC 8414 document, which describes
    it; a service's credentials are refused there."""
    from tests.helpers import register_client

    discovery = httpx.get(f"{broker.url}/.well-known/openid-configuration").json()
    assert not [key for key in discovery if key.startswith("introspection")]
    server = httpx.get(f"{broker.url}/.well-known/oauth-authorization-server").json()
    assert server["issuer"] == broker.url
    assert server["introspection_endpoint"] == f"{broker.url}/introspect"
    assert server["introspection_endpoint_auth_methods_supported"] == ["client_secret_basic"]
    client = register_client(broker.state)
    refused = httpx.post(
        server["introspection_endpoint"],
        data={"token": "anything"},
        auth=(client.client_id, client.client_secret),
    )
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
