"""Encrypted ID tokens and userinfo answers, signed userinfo (OpenID Connect Core §5.3.2 and
§10.2, Dynamic Client Registration §2): what the client receives is decrypted here with its
private key, and the inner JWT verified with the broker's public keys."""

from __future__ import annotations

import time
from functools import cache
from typing import Any

import pytest
from joserfc import jwe, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey

from broker.admin import client_profile as admin_clients
from broker.oidc.client_auth import JwksCache
from broker.oidc.encryption import (
    ENCRYPTION_ALGS,
    ENCRYPTION_ENCS,
    ResponseProtectionError,
    id_token_encryption,
    userinfo_encryption,
)
from broker.oidc.models import Client
from broker.oidc.userinfo import JSON, JWT, userinfo_response
from tests.broker.oidc.kit import CONFIG, ISSUER
from tests.broker.oidc.memory import broker_keys

CLAIMS = {"sub": "pairwise-sub", "given_name": "Angela", "family_name": "DUBOIS"}


@cache
def client_private_key(kind: str) -> RSAKey | ECKey | OKPKey:
    """The client's decryption keys, made once per test session."""
    if kind == "RSA":
        return RSAKey.generate_key(2048, parameters={"kid": "rp-rsa-enc"}, private=True)
    if kind == "X25519":
        return OKPKey.generate_key("X25519", parameters={"kid": "rp-x25519"}, private=True)
    return ECKey.generate_key(kind, parameters={"kid": f"rp-{kind.lower()}"}, private=True)


def client_jwks(*kinds: str) -> dict[str, Any]:
    """What the client registers: its signing key (``use: sig``), then its encryption keys."""
    signing = ECKey.generate_key("P-256", parameters={"kid": "rp-sig", "use": "sig"}, private=True)
    keys = [signing.as_dict(private=False)]
    keys += [client_private_key(k).as_dict(private=False) | {"use": "enc"} for k in kinds]
    return {"keys": keys}


def client(*kinds: str, **fields: Any) -> Client:
    return Client(
        client_id="service-enc",
        name="Service chiffré",
        service_id="service-enc",
        sector_identifier="https://service-enc.example",
        auth_method="client_secret_basic",
        redirect_uris=["https://service-enc.example/callback"],
        scope="openid profile",
        jwks=client_jwks(*kinds),
        **fields,
    )


def id_token(alg: str = "ES256") -> str:
    """An ID token as the broker signs it (``BrokerOpenIDCode``'s header and key)."""
    key = broker_keys().signing_key(alg)
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "pairwise-sub", "aud": ["service-enc"], "iat": now}
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": "JWT"}, claims, key, algorithms=[alg])


def decrypt(token: str, kind: str, alg: str, enc: str) -> tuple[dict[str, Any], str]:
    """The JWE header and the signed JWT inside, decrypted with the client's private key."""
    assert token.count(".") == 4, "not a JWE compact serialization"
    decrypted = jwe.decrypt_compact(token, client_private_key(kind), algorithms=[alg, enc])
    assert decrypted.plaintext is not None
    return dict(decrypted.protected), decrypted.plaintext.decode()


def verify_broker_jwt(token: str, alg: str) -> dict[str, Any]:
    """The inner JWS, checked with the broker's published keys."""
    decoded = jwt.decode(token, broker_keys().verification_keys(), algorithms=[alg])
    assert decoded.header["typ"] == "JWT"
    assert decoded.header["kid"] == broker_keys().signing_key(alg).kid
    return decoded.claims


ENCRYPTIONS = [
    ("RSA-OAEP-256", "A256GCM", "RSA"),
    ("RSA-OAEP-256", "A128GCM", "RSA"),
    ("ECDH-ES", "A256GCM", "P-256"),
    ("ECDH-ES", "A128GCM", "P-256"),
    ("ECDH-ES", "A256GCM", "P-384"),
    ("ECDH-ES", "A256GCM", "P-521"),
    ("ECDH-ES", "A256GCM", "X25519"),
]
ENCRYPTION_IDS = [" ".join(case) for case in ENCRYPTIONS]


# --- ID tokens -------------------------------------------------------------------------------


@pytest.mark.parametrize(("alg", "enc", "kind"), ENCRYPTIONS, ids=ENCRYPTION_IDS)
def test_id_token_signed_then_encrypted_to_the_client(alg, enc, kind):
    registered = client(
        kind, id_token_encrypted_response_alg=alg, id_token_encrypted_response_enc=enc
    )
    encryption = id_token_encryption(registered, JwksCache())
    assert encryption is not None
    header, inner = decrypt(encryption.seal(id_token()), kind, alg, enc)
    assert header == {
        "alg": alg,
        "enc": enc,
        "cty": "JWT",
        "kid": client_private_key(kind).kid,
        **({"epk": header["epk"]} if alg == "ECDH-ES" else {}),
    }
    assert verify_broker_jwt(inner, "ES256")["aud"] == ["service-enc"]


def test_an_id_token_encrypted_to_one_client_cannot_be_read_with_another_key():
    registered = client(
        "P-256",
        id_token_encrypted_response_alg="ECDH-ES",
        id_token_encrypted_response_enc="A256GCM",
    )
    encryption = id_token_encryption(registered, JwksCache())
    assert encryption is not None
    sealed = encryption.seal(id_token())
    stranger = ECKey.generate_key("P-256", private=True)
    with pytest.raises(JoseError):
        jwe.decrypt_compact(sealed, stranger, algorithms=["ECDH-ES", "A256GCM"])


def test_a_client_without_id_token_encryption_gets_signed_id_tokens():
    assert id_token_encryption(client("RSA"), JwksCache()) is None


# --- Userinfo --------------------------------------------------------------------------------


def respond(registered: Client) -> tuple[Any, str]:
    return userinfo_response(
        dict(CLAIMS), registered, config=CONFIG, keys=broker_keys(), jwks_cache=JwksCache()
    )


def test_userinfo_is_json_when_nothing_is_registered():
    assert respond(client("RSA")) == (CLAIMS, JSON)


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_userinfo_as_a_jwt_signed_by_the_broker(alg):
    body, media_type = respond(client("RSA", userinfo_signed_response_alg=alg))
    assert media_type == JWT == "application/jwt"
    claims = verify_broker_jwt(body, alg)
    assert claims["iss"] == ISSUER
    assert claims["aud"] == "service-enc"
    assert abs(claims["iat"] - time.time()) < 5
    assert {k: claims[k] for k in CLAIMS} == CLAIMS


@pytest.mark.parametrize(("alg", "enc", "kind"), ENCRYPTIONS, ids=ENCRYPTION_IDS)
def test_userinfo_signed_then_encrypted(alg, enc, kind):
    registered = client(
        kind,
        userinfo_signed_response_alg="RS256",
        userinfo_encrypted_response_alg=alg,
        userinfo_encrypted_response_enc=enc,
    )
    body, media_type = respond(registered)
    assert media_type == JWT
    header, inner = decrypt(body, kind, alg, enc)
    assert header["cty"] == "JWT" and header["kid"] == client_private_key(kind).kid
    claims = verify_broker_jwt(inner, "RS256")
    assert claims["aud"] == "service-enc" and claims["given_name"] == "Angela"


def test_userinfo_encrypted_only_is_signed_with_the_id_token_algorithm_first():
    registered = client(
        "P-256",
        id_token_signed_response_alg="RS256",
        userinfo_encrypted_response_alg="ECDH-ES",
        userinfo_encrypted_response_enc="A256GCM",
    )
    body, media_type = respond(registered)
    assert media_type == JWT
    _, inner = decrypt(body, "P-256", "ECDH-ES", "A256GCM")
    assert verify_broker_jwt(inner, "RS256")["iss"] == ISSUER


def test_id_token_and_userinfo_may_use_different_keys_and_algorithms():
    registered = client(
        "RSA",
        "P-256",
        id_token_encrypted_response_alg="RSA-OAEP-256",
        id_token_encrypted_response_enc="A256GCM",
        userinfo_encrypted_response_alg="ECDH-ES",
        userinfo_encrypted_response_enc="A128GCM",
    )
    id_token_key = id_token_encryption(registered, JwksCache())
    userinfo_key = userinfo_encryption(registered, JwksCache())
    assert id_token_key is not None and id_token_key.key.kid == "rp-rsa-enc"
    assert userinfo_key is not None and userinfo_key.key.kid == "rp-p-256"


def test_userinfo_without_a_usable_key_is_an_error_never_plain_json():
    registered = client(
        "RSA", userinfo_encrypted_response_alg="ECDH-ES", userinfo_encrypted_response_enc="A256GCM"
    )
    with pytest.raises(ResponseProtectionError) as raised:
        respond(registered)
    # RFC 6750 §3.1: invalid_client is no error of the userinfo endpoint; the token is good.
    assert raised.value.error == "invalid_request"
    assert "userinfo" in raised.value.description and "no key" in raised.value.description


def test_what_the_registration_accepts_is_what_the_broker_encrypts_with():
    assert admin_clients.ENCRYPTION_ALGS == ENCRYPTION_ALGS
    assert admin_clients.ENCRYPTION_ENCS == ENCRYPTION_ENCS


# --- Attacks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alg", "enc"),
    [
        ("dir", "A256GCM"),
        ("RSA1_5", "A256GCM"),
        ("RSA-OAEP", "A256GCM"),
        ("A256KW", "A256GCM"),
        ("ECDH-ES+A256KW", "A256GCM"),
        ("RSA-OAEP-256", "A128CBC-HS256"),
        ("RSA-OAEP-256", None),
    ],
)
def test_attack_a_tampered_registration_never_downgrades_the_encryption(alg, enc):
    """Whatever a client row says, only RSA-OAEP-256 or ECDH-ES with AES-GCM is used; anything
    else is refused, never sent unencrypted."""
    registered = client(
        "RSA",
        "P-256",
        id_token_encrypted_response_alg=alg,
        id_token_encrypted_response_enc=enc,
        userinfo_encrypted_response_alg=alg,
        userinfo_encrypted_response_enc=enc,
    )
    with pytest.raises(ResponseProtectionError, match="does not use"):
        id_token_encryption(registered, JwksCache())
    with pytest.raises(ResponseProtectionError, match="does not use"):
        respond(registered)


@pytest.mark.parametrize("alg", ["none", "HS256", "PS256", "EdDSA"])
def test_attack_userinfo_never_signed_with_none_or_a_shared_secret(alg):
    with pytest.raises(ResponseProtectionError, match="does not sign with"):
        respond(client("RSA", userinfo_signed_response_alg=alg))
