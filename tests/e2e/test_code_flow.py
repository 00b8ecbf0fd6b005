"""The authorization code flow over real HTTP, with Authlib's client as the relying party."""

from __future__ import annotations

import warnings

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from tests.helpers import (
    DEMO_IDP,
    STRONG_IDP,
    AuthorizationRequest,
    Browser,
    query,
    redeem,
    register_client,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT


def discover(base_url: str) -> dict:
    return httpx.get(f"{base_url}/.well-known/openid-configuration").json()


def verify_id_token(base_url: str, id_token: str, client_id: str, nonce: str) -> dict:
    jwks = KeySet.import_key_set(httpx.get(f"{base_url}/jwks").json())
    token = jwt.decode(id_token, jwks, algorithms=["ES256", "RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": base_url},
        aud={"essential": True, "value": client_id},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
        auth_time={"essential": True},
        acr={"essential": True},
    ).validate(token.claims)
    return {"header": token.header, **token.claims}


def front_channel(base_url: str, authorization_url: str, login="test") -> dict[str, str]:
    browser = Browser(base_url)
    response = browser.get(authorization_url)
    assert response.status_code == 303
    response = browser.login(response.headers["location"], login, "123")
    response = browser.consent(response.headers["location"])
    assert response.status_code == 303
    return query(response.headers["location"])


def test_full_flow_with_authlib_client(broker):
    client = register_client(broker.state)
    meta = discover(broker.url)
    with OAuth2Client(
        client.client_id,
        client.client_secret,
        scope=client.scope,
        redirect_uri=client.redirect_uri,
        code_challenge_method="S256",
    ) as rp:
        verifier = "v" * 20 + "erifier-for-authlib-client-0123456789"
        url, state = rp.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, nonce="n-0S6_WzA2Mj"
        )
        received = front_channel(broker.url, url)
        assert received["state"] == state
        assert received["iss"] == broker.url
        token = rp.fetch_token(
            meta["token_endpoint"], code=received["code"], code_verifier=verifier
        )
        assert token["token_type"] == "Bearer" and token["scope"] == client.scope
        claims = verify_id_token(broker.url, token["id_token"], client.client_id, "n-0S6_WzA2Mj")
        assert claims["header"]["alg"] == "ES256" and claims["acr"] == "eidas1"
        assert claims["idp"] == DEMO_IDP
        assert claims["amr"] == ["pwd"] and "at_hash" in claims
        assert "given_name" not in claims, "identity claims belong to /userinfo"
        userinfo = rp.get(meta["userinfo_endpoint"]).json()
    assert userinfo == {
        "sub": claims["sub"],
        "given_name": "Angela Claire Louise",
        "family_name": "DUBOIS",
        "birthdate": "1962-08-24",
        "gender": "female",
        "birthplace": "75107",
        "birthcountry": "99100",
        "email": userinfo["email"],
    }


def test_userinfo_by_post_and_claims_limited_to_scopes(broker):
    client = register_client(broker.state, scope="openid birthdate")
    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request)
    token = redeem(broker.url, client, received["code"], request.verifier).json()
    response = httpx.post(f"{broker.url}/userinfo", data={"access_token": token["access_token"]})
    assert response.status_code == 200
    assert set(response.json()) == {"sub", "birthdate"}


def test_client_secret_post_and_rs256_id_token(broker):
    client = register_client(broker.state, auth_method="client_secret_post", id_token_alg="RS256")
    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request)
    response = httpx.post(
        f"{broker.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": received["code"],
            "redirect_uri": client.redirect_uri,
            "code_verifier": request.verifier,
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        },
    )
    assert response.status_code == 200, response.text
    claims = verify_id_token(
        broker.url, response.json()["id_token"], client.client_id, request.nonce
    )
    assert claims["header"]["alg"] == "RS256"


def test_private_key_jwt_with_authlib_client(broker, jwks_server):
    key = ECKey.generate_key("P-256", parameters={"kid": "rp-1"}, private=True)
    jwks_url = jwks_server({"keys": [key.as_dict(private=False)]})
    client = register_client(broker.state, auth_method="private_key_jwt", jwks_uri=jwks_url)
    meta = discover(broker.url)
    with OAuth2Client(
        client.client_id,
        key,
        scope=client.scope,
        redirect_uri=client.redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="private_key_jwt",
    ) as rp:
        rp.register_client_auth_method(PrivateKeyJWT(meta["token_endpoint"], alg="ES256"))
        verifier = "k" * 50
        url, _ = rp.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, nonce="nonce-1"
        )
        received = front_channel(broker.url, url)
        token = rp.fetch_token(
            meta["token_endpoint"], code=received["code"], code_verifier=verifier
        )
    assert verify_id_token(broker.url, token["id_token"], client.client_id, "nonce-1")


def test_pairwise_subject_differs_between_services(broker):
    subs = []
    for name in ("Service A", "Service B"):
        client = register_client(broker.state, name=name)
        request = AuthorizationRequest(client)
        received = Browser(broker.url).sign_in(request)
        token = redeem(broker.url, client, received["code"], request.verifier).json()
        subs.append(
            verify_id_token(broker.url, token["id_token"], client.client_id, request.nonce)["sub"]
        )
    assert subs[0] != subs[1]
    # ...and is stable for one service.
    client_again = register_client(broker.state, name="Service A")
    request = AuthorizationRequest(client_again)
    received = Browser(broker.url).sign_in(request)
    token = redeem(broker.url, client_again, received["code"], request.verifier).json()
    assert (
        verify_id_token(broker.url, token["id_token"], client_again.client_id, request.nonce)["sub"]
        == subs[0]
    )


def test_refusal_returns_access_denied_with_state_and_iss(broker):
    client = register_client(broker.state)
    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request, decision="refuse")
    assert received == {
        "error": "access_denied",
        "error_description": "The citizen refused.",
        "state": request.state,
        "iss": broker.url,
    }


@pytest.mark.parametrize(
    "login,expected_acr", [("plusieurs_prénoms_3", "eidas3"), ("test", "eidas2")]
)
def test_acr_reported_in_id_token(broker, login, expected_acr):
    """The level reached upstream, and the provider used, are in the ID token."""
    client = register_client(broker.state)
    request = AuthorizationRequest(client, extra={"acr_values": "eidas2 eidas3"})
    received = Browser(broker.url).sign_in(request, login=login, idp=STRONG_IDP)
    token = redeem(broker.url, client, received["code"], request.verifier).json()
    claims = verify_id_token(broker.url, token["id_token"], client.client_id, request.nonce)
    assert claims["acr"] == expected_acr and claims["idp"] == STRONG_IDP
    assert claims["amr"] == ["pwd", "otp"]


def test_the_choice_page_offers_only_providers_that_reach_the_level(broker):
    client = register_client(broker.state)
    browser = Browser(broker.url)
    low = browser.get(browser.authorize(AuthorizationRequest(client)).headers["location"])
    assert f'value="{DEMO_IDP}"' in low.text and f'value="{STRONG_IDP}"' in low.text
    request = AuthorizationRequest(client, extra={"acr_values": "eidas2"})
    high = browser.get(browser.authorize(request).headers["location"])
    assert f'value="{DEMO_IDP}"' not in high.text and f'value="{STRONG_IDP}"' in high.text
    refused = browser.post(
        browser.authorize(request).headers["location"],
        data={"csrf_token": browser.csrf(high), "idp": DEMO_IDP},
    )
    assert refused.status_code in (403, 409)


def test_acr_values_not_met_is_an_error_for_the_client(broker):
    client = register_client(broker.state)
    request = AuthorizationRequest(client, extra={"acr_values": "eidas3"})
    browser = Browser(broker.url)
    login_url = browser.authorize(request).headers["location"]
    response = browser.login(login_url, "test", "123", STRONG_IDP)  # reaches eidas2 only
    received = query(response.headers["location"])
    assert received["error"] == "unmet_authentication_requirements"
    assert received["state"] == request.state and received["iss"] == broker.url
    # No session either: an account below the level asked for is not signed in.
    assert "broker_session" not in response.cookies
    silent = browser.authorize(AuthorizationRequest(client, extra={"prompt": "none"}))
    assert query(silent.headers["location"])["error"] == "login_required"


def _assertion(key, kid, client_id, audience):
    import secrets
    import time

    header = {"alg": "ES256", **({"kid": kid} if kid else {})}
    now = int(time.time())
    return jwt.encode(
        header,
        {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "jti": secrets.token_urlsafe(12),
            "iat": now,
            "exp": now + 60,
        },
        key,
        algorithms=["ES256"],
    )


def _redeem_with_assertion(broker, client, assertion):
    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request)
    return httpx.post(
        f"{broker.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": received["code"],
            "redirect_uri": client.redirect_uri,
            "code_verifier": request.verifier,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )


def test_private_key_jwt_after_the_client_rotates_its_keys(broker, jwks_server):
    old = ECKey.generate_key("P-256", parameters={"kid": "old"}, private=True)
    new = ECKey.generate_key("P-256", parameters={"kid": "new"}, private=True)
    published = {"keys": [old.as_dict(private=False)]}
    client = register_client(
        broker.state, auth_method="private_key_jwt", jwks_uri=jwks_server(published)
    )
    audience = f"{broker.url}/token"
    first = _redeem_with_assertion(
        broker, client, _assertion(old, "old", client.client_id, audience)
    )
    assert first.status_code == 200, first.text
    published["keys"] = [new.as_dict(private=False)]
    broker.state.context.jwks_cache.min_refresh = 0  # the 30 s anti-hammering pause, for the test
    second = _redeem_with_assertion(
        broker, client, _assertion(new, "new", client.client_id, audience)
    )
    assert second.status_code == 200, second.text


def test_private_key_jwt_without_kid_among_several_keys(broker):
    keys = [
        ECKey.generate_key("P-256", parameters={"kid": f"k{i}"}, private=True) for i in range(2)
    ]
    client = register_client(
        broker.state,
        auth_method="private_key_jwt",
        jwks={"keys": [k.as_dict(private=False) for k in keys]},
    )
    response = _redeem_with_assertion(
        broker, client, _assertion(keys[1], None, client.client_id, f"{broker.url}/token")
    )
    assert response.status_code == 200, response.text
    stranger = ECKey.generate_key("P-256", private=True)
    refused = _redeem_with_assertion(
        broker, client, _assertion(stranger, None, client.client_id, f"{broker.url}/token")
    )
    assert refused.status_code in (400, 401) and refused.json()["error"] == "invalid_client"
