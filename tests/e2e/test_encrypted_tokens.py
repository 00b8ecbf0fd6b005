"""Encrypted ID tokens, signed and encrypted userinfo answers, over real HTTP (OpenID Connect
Core §5.3.2 and §10.2, Dynamic Client Registration §2): the relying party decrypts with its
private key and verifies the inner JWT with the broker's published keys; the encryption key
comes from the client's JWKS, inline or at its ``jwks_uri``, and follows its rotation."""

from __future__ import annotations

import secrets
import time
from functools import cache
from typing import Any

import httpx
from joserfc import jwe, jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from broker.oidc.client_auth import JwksCache
from tests.helpers import AuthorizationRequest, Browser, RegisteredClient, redeem, register_client

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@cache
def rsa_encryption_key(kid: str = "rp-rsa-enc") -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "enc"}, private=True)


def ec_key(kid: str, use: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "use": use}, private=True)


def published(*keys) -> dict[str, Any]:
    return {"keys": [k.as_dict(private=False) for k in keys]}


def decrypt(token: str, key, alg: str, enc: str) -> tuple[dict[str, Any], str]:
    """The JWE header and the signed JWT inside."""
    assert token.count(".") == 4, f"not an encrypted JWT: {token[:40]}"
    decrypted = jwe.decrypt_compact(token, key, algorithms=[alg, enc])
    assert decrypted.plaintext is not None
    return dict(decrypted.protected), decrypted.plaintext.decode()


def verify(broker, token: str, client_id: str) -> dict[str, Any]:
    """A JWT the broker signed, checked with its published keys: issuer and audience."""
    keys = KeySet.import_key_set(httpx.get(f"{broker.url}/jwks").json())
    decoded = jwt.decode(token, keys, algorithms=["ES256", "RS256"])
    assert decoded.header["typ"] == "JWT"
    claims = decoded.claims
    assert claims["iss"] == broker.url
    audience = claims["aud"]
    assert audience == client_id or client_id in audience
    return {"header": decoded.header, **claims}


def sign_in(broker, client: RegisteredClient) -> tuple[AuthorizationRequest, str]:
    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request)
    return request, received["code"]


def tokens(broker, client: RegisteredClient) -> tuple[AuthorizationRequest, httpx.Response]:
    request, code = sign_in(broker, client)
    return request, redeem(broker.url, client, code, request.verifier)


def userinfo(broker, access_token: str) -> httpx.Response:
    return httpx.get(
        f"{broker.url}/userinfo", headers={"Authorization": f"Bearer {access_token}"}, timeout=10
    )


def assertion(key: ECKey, client_id: str, audience: str) -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key, algorithms=["ES256"])


def test_id_token_encrypted_with_rsa_oaep_256_to_an_inline_key(broker):
    key = rsa_encryption_key()
    client = register_client(
        broker.state, jwks=published(key), id_token_encryption=("RSA-OAEP-256", "A256GCM")
    )
    request, response = tokens(broker, client)
    assert response.status_code == 200, response.text
    body = response.json()
    header, inner = decrypt(body["id_token"], key, "RSA-OAEP-256", "A256GCM")
    assert header["cty"] == "JWT" and header["kid"] == "rp-rsa-enc"
    claims = verify(broker, inner, client.client_id)
    assert claims["nonce"] == request.nonce
    assert body["access_token"].count(".") == 2  # the access token is for the API: not encrypted


def test_id_token_encrypted_with_ecdh_es_to_a_jwks_uri_key_next_to_the_signing_key(
    broker, jwks_server
):
    """A FranceConnect+-style client: one JWKS at its jwks_uri with its signing key (for its
    private_key_jwt assertions) and its encryption key; only the latter is encrypted to."""
    signing, encryption = ec_key("rp-sig", "sig"), ec_key("rp-enc", "enc")
    client = register_client(
        broker.state,
        auth_method="private_key_jwt",
        jwks_uri=jwks_server(published(signing, encryption)),
        id_token_encryption=("ECDH-ES", "A256GCM"),
    )
    request, code = sign_in(broker, client)
    response = httpx.post(
        f"{broker.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.redirect_uri,
            "code_verifier": request.verifier,
            "client_id": client.client_id,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion(signing, client.client_id, f"{broker.url}/token"),
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    header, inner = decrypt(response.json()["id_token"], encryption, "ECDH-ES", "A256GCM")
    assert header["kid"] == "rp-enc" and header["alg"] == "ECDH-ES"
    assert verify(broker, inner, client.client_id)["nonce"] == request.nonce


def test_userinfo_as_a_signed_jwt(broker):
    client = register_client(broker.state, userinfo_signed_response_alg="ES256")
    _, response = tokens(broker, client)
    answer = userinfo(broker, response.json()["access_token"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/jwt")
    claims = verify(broker, answer.text, client.client_id)
    assert claims["header"]["alg"] == "ES256"
    assert claims["given_name"] and claims["birthdate"]
    id_token = jwt.decode(
        response.json()["id_token"],
        KeySet.import_key_set(httpx.get(f"{broker.url}/jwks").json()),
        algorithms=["ES256"],
    )
    assert claims["sub"] == id_token.claims["sub"]


def test_userinfo_signed_then_encrypted(broker):
    encryption = ec_key("rp-enc", "enc")
    client = register_client(
        broker.state,
        jwks=published(encryption),
        userinfo_signed_response_alg="RS256",
        userinfo_encryption=("ECDH-ES", "A128GCM"),
    )
    _, response = tokens(broker, client)
    assert response.json()["id_token"].count(".") == 2  # only userinfo asked to be encrypted
    answer = userinfo(broker, response.json()["access_token"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/jwt")
    header, inner = decrypt(answer.text, encryption, "ECDH-ES", "A128GCM")
    assert header["cty"] == "JWT" and header["kid"] == "rp-enc"
    claims = verify(broker, inner, client.client_id)
    assert claims["header"]["alg"] == "RS256" and claims["family_name"]


def test_userinfo_encrypted_only_is_signed_with_the_id_token_algorithm(broker):
    key = rsa_encryption_key()
    client = register_client(
        broker.state,
        jwks=published(key),
        id_token_alg="RS256",
        userinfo_encryption=("RSA-OAEP-256", "A256GCM"),
    )
    _, response = tokens(broker, client)
    answer = userinfo(broker, response.json()["access_token"])
    assert answer.status_code == 200, answer.text
    _, inner = decrypt(answer.text, key, "RSA-OAEP-256", "A256GCM")
    assert verify(broker, inner, client.client_id)["header"]["alg"] == "RS256"


def test_userinfo_stays_json_for_a_client_that_asked_nothing(broker):
    client = register_client(broker.state)
    _, response = tokens(broker, client)
    answer = userinfo(broker, response.json()["access_token"])
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["sub"]


def test_a_client_without_a_usable_key_gets_invalid_client_never_a_plain_id_token(
    broker, jwks_server
):
    only_signing = ec_key("rp-sig", "sig")
    client = register_client(
        broker.state,
        jwks_uri=jwks_server(published(only_signing)),
        id_token_encryption=("ECDH-ES", "A256GCM"),
    )
    request, code = sign_in(broker, client)
    response = redeem(broker.url, client, code, request.verifier)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_client"
    assert "ECDH-ES" in body["error_description"]
    assert "id_token" not in body and "access_token" not in body
    again = redeem(broker.url, client, code, request.verifier)
    assert again.json()["error"] == "invalid_grant"  # a failed redemption used the code


def test_userinfo_without_a_usable_key_is_refused_never_plain_json(broker, jwks_server):
    client = register_client(
        broker.state,
        jwks_uri=jwks_server(published(ec_key("rp-sig", "sig"))),
        userinfo_encryption=("ECDH-ES", "A256GCM"),
    )
    _, response = tokens(broker, client)
    assert response.status_code == 200, response.text
    answer = userinfo(broker, response.json()["access_token"])
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_request"  # RFC 6750 §3.1: not invalid_client
    assert "no key" in answer.json()["error_description"]
    assert "given_name" not in answer.text


def test_a_rotated_jwks_uri_key_reaches_the_next_id_token(broker, jwks_server):
    """Core §10.2.1: the client publishes a new key and removes the old one; once the broker's
    cached copy of its JWKS expires, ID tokens are encrypted to the new key."""
    old, new = ec_key("enc-2025", "enc"), ec_key("enc-2026", "enc")
    jwks = published(old)
    client = register_client(
        broker.state, jwks_uri=jwks_server(jwks), id_token_encryption=("ECDH-ES", "A256GCM")
    )
    context = broker.state.context
    context.jwks_cache = JwksCache(ttl=1, transport_factory=context.jwks_cache.transport_factory)
    _, response = tokens(broker, client)
    assert response.status_code == 200, response.text
    assert decrypt(response.json()["id_token"], old, "ECDH-ES", "A256GCM")[0]["kid"] == "enc-2025"
    jwks["keys"] = published(new)["keys"]
    time.sleep(1.1)
    request, response = tokens(broker, client)
    assert response.status_code == 200, response.text
    header, inner = decrypt(response.json()["id_token"], new, "ECDH-ES", "A256GCM")
    assert header["kid"] == "enc-2026"
    assert verify(broker, inner, client.client_id)["nonce"] == request.nonce


def test_an_encryption_key_published_later_is_fetched_without_waiting_for_expiry(
    broker, jwks_server
):
    signing = ec_key("rp-sig", "sig")
    jwks = published(signing)
    client = register_client(
        broker.state, jwks_uri=jwks_server(jwks), id_token_encryption=("RSA-OAEP-256", "A128GCM")
    )
    _, response = tokens(broker, client)
    assert response.json()["error"] == "invalid_client"
    jwks["keys"] = published(signing, rsa_encryption_key())["keys"]
    broker.state.context.jwks_cache.min_refresh = 0  # the anti-hammering pause, for the test
    _, response = tokens(broker, client)
    assert response.status_code == 200, response.text
    header, _ = decrypt(
        response.json()["id_token"], rsa_encryption_key(), "RSA-OAEP-256", "A128GCM"
    )
    assert header["kid"] == "rp-rsa-enc"


def test_discovery_advertises_what_is_encrypted_and_signed(broker):
    meta = httpx.get(f"{broker.url}/.well-known/openid-configuration").json()
    for what in ("id_token", "userinfo"):
        assert meta[f"{what}_encryption_alg_values_supported"] == ["RSA-OAEP-256", "ECDH-ES"]
        assert meta[f"{what}_encryption_enc_values_supported"] == ["A256GCM", "A128GCM"]
    assert meta["userinfo_signing_alg_values_supported"] == ["ES256", "RS256"]
