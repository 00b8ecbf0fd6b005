"""Client authentication at the token endpoint: RFC 6749 §2.3.1 (client_secret_basic and
client_secret_post, against a SHA-256 digest) and RFC 7523 §2.2/§3 with OpenID Connect Core §9
(private_key_jwt). Each client authenticates with its own registered method only."""

from __future__ import annotations

import base64
import json

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from broker.core.security import digest
from tests.broker.oidc.kit import (
    ISSUER,
    TOKEN_ENDPOINT,
    assertion_auth,
    basic_auth,
    client_assertion,
)
from tests.broker.oidc.memory import client_signing_key, now

CLIENTS = ["basic", "post", "jwt"]


def assert_invalid_client(response, status: int | None = None) -> None:
    assert response.body.get("error") == "invalid_client", response.body
    assert response.status in ((status,) if status else (400, 401)), response.status
    assert "access_token" not in response.body


def redeem_with(kit, client, auth):
    issued = kit.obtain_code(client)
    return kit.redeem(client, issued.code, issued.verifier, auth=auth)


def post_auth(client_id: str, secret: str):
    return {"client_id": client_id, "client_secret": secret}, {}


def unsigned(header: dict, claims: dict) -> str:
    def segment(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{segment(header)}.{segment(claims)}."


@pytest.mark.parametrize("name", CLIENTS)
def test_each_client_authenticates_with_its_registered_method(kit, name):
    client = getattr(kit, name)
    issued = kit.obtain_code(client)
    response = kit.redeem(client, issued.code, issued.verifier)
    assert response.status == 200, response.body


# --- Secrets (RFC 6749 §2.3.1) ----------------------------------------------------------------


def test_attack_wrong_secret_with_basic(kit):
    response = redeem_with(kit, kit.basic, ({}, basic_auth(kit.basic.client_id, "wrong")))
    # RFC 6749 §5.2: 401 and a challenge when the client tried the Authorization header.
    assert_invalid_client(response, 401)
    assert any(k == "WWW-Authenticate" and v.startswith("Basic") for k, v in response.headers)


def test_attack_wrong_secret_with_post(kit):
    assert_invalid_client(redeem_with(kit, kit.post, post_auth(kit.post.client_id, "wrong")))


@pytest.mark.parametrize("name", ["basic", "post"])
def test_attack_stored_digest_presented_as_the_secret(kit, name):
    """What a leaked client table holds is not a credential."""
    client = getattr(kit, name)
    leaked = client.client.secret_digest
    if name == "basic":
        auth = {}, basic_auth(client.client_id, leaked)
    else:
        auth = post_auth(client.client_id, leaked)
    assert_invalid_client(redeem_with(kit, client, auth))


def test_attack_unknown_client(kit):
    response = redeem_with(kit, kit.basic, ({}, basic_auth("no-such-client", kit.basic.secret)))
    assert_invalid_client(response, 401)


def test_attack_no_credentials_at_all(kit):
    response = redeem_with(kit, kit.basic, ({"client_id": kit.basic.client_id}, {}))
    assert_invalid_client(response)


def test_attack_secret_of_another_client(kit):
    response = redeem_with(kit, kit.basic, ({}, basic_auth(kit.basic.client_id, kit.post.secret)))
    assert_invalid_client(response, 401)


def test_failed_authentication_burns_nothing(kit):
    issued = kit.obtain_code(kit.basic)
    wrong = ({}, basic_auth(kit.basic.client_id, "wrong"))
    assert_invalid_client(kit.redeem(kit.basic, issued.code, issued.verifier, auth=wrong), 401)
    assert kit.redeem(kit.basic, issued.code, issued.verifier).status == 200


# --- Only the registered method ---------------------------------------------------------------


def test_attack_basic_client_switching_to_post(kit):
    response = redeem_with(kit, kit.basic, post_auth(kit.basic.client_id, kit.basic.secret))
    assert_invalid_client(response)


def test_attack_post_client_switching_to_basic(kit):
    response = redeem_with(kit, kit.post, ({}, basic_auth(kit.post.client_id, kit.post.secret)))
    assert_invalid_client(response, 401)


@pytest.mark.parametrize("how", ["basic", "post"])
def test_attack_secret_for_a_private_key_jwt_client(kit, how):
    """Even a right secret (one left over from an earlier registration) is refused."""
    secret = "left-over-secret-0123456789"
    client = kit.register("service-jwt2", "private_key_jwt", secret_digest=digest(secret))
    if how == "basic":
        auth = {}, basic_auth(client.client_id, secret)
    else:
        auth = post_auth(client.client_id, secret)
    assert_invalid_client(redeem_with(kit, client, auth))


def test_attack_assertion_for_a_secret_client(kit):
    """A valid private_key_jwt assertion does not authenticate a client_secret_basic client,
    even one whose registration also carries a key."""
    key = client_signing_key()
    client = kit.register(
        "service-basic2", "client_secret_basic", jwks={"keys": [key.as_dict(private=False)]}
    )
    response = redeem_with(kit, client, assertion_auth(client_assertion(client.client_id, key)))
    assert_invalid_client(response)


# --- private_key_jwt (RFC 7523) ---------------------------------------------------------------


@pytest.mark.parametrize("audience", [TOKEN_ENDPOINT, ISSUER], ids=["token-endpoint", "issuer"])
def test_assertion_audience_names_the_broker(kit, audience):
    assertion = client_assertion(kit.jwt.client_id, kit.jwt.key, audience=audience)
    assert redeem_with(kit, kit.jwt, assertion_auth(assertion)).status == 200


@pytest.mark.parametrize(
    "audience",
    [
        "https://evil.example/token",
        f"{ISSUER}/userinfo",
        f"{ISSUER}/introspect",
        "https://broker.example.evil.example/token",
    ],
)
def test_attack_assertion_with_wrong_audience(kit, audience):
    assertion = client_assertion(kit.jwt.client_id, kit.jwt.key, audience=audience)
    assert_invalid_client(redeem_with(kit, kit.jwt, assertion_auth(assertion)))


def test_attack_expired_assertion(kit):
    # Expired 90 s ago: beyond the 30 s allowed for clock skew.
    assertion = client_assertion(kit.jwt.client_id, kit.jwt.key, issued_at=now() - 150, lifetime=60)
    assert_invalid_client(redeem_with(kit, kit.jwt, assertion_auth(assertion)))


def test_attack_assertion_not_valid_yet(kit):
    assertion = client_assertion(kit.jwt.client_id, kit.jwt.key, nbf=now() + 3600)
    assert_invalid_client(redeem_with(kit, kit.jwt, assertion_auth(assertion)))


def test_attack_replayed_assertion_jti(kit):
    assertion = client_assertion(kit.jwt.client_id, kit.jwt.key, jti="only-once")
    assert redeem_with(kit, kit.jwt, assertion_auth(assertion)).status == 200
    assert_invalid_client(redeem_with(kit, kit.jwt, assertion_auth(assertion)))
    fresh = client_assertion(kit.jwt.client_id, kit.jwt.key, jti="another-one")
    assert redeem_with(kit, kit.jwt, assertion_auth(fresh)).status == 200


def test_attack_assertion_without_jti(kit):
    t = now()
    claims = {"iss": kit.jwt.client_id, "sub": kit.jwt.client_id, "aud": TOKEN_ENDPOINT}
    assertion = jwt.encode(
        {"alg": "ES256", "kid": "rp-key-1"},
        {**claims, "iat": t, "exp": t + 60},
        kit.jwt.key,
        algorithms=["ES256"],
    )
    assert_invalid_client(redeem_with(kit, kit.jwt, assertion_auth(assertion)))


def test_attack_assertion_with_alg_none(kit):
    t = now()
    claims = {
        "iss": kit.jwt.client_id,
        "sub": kit.jwt.client_id,
        "aud": TOKEN_ENDPOINT,
        "jti": "unsigned",
        "iat": t,
        "exp": t + 60,
    }
    for header in ({"alg": "none", "kid": "rp-key-1"}, {"alg": "none"}):
        assert_invalid_client(redeem_with(kit, kit.jwt, assertion_auth(unsigned(header, claims))))


def test_attack_assertion_hs256_keyed_with_the_public_key(kit):
    public = OctKey.import_key(json.dumps(kit.jwt.key.as_dict(private=False)).encode())
    for kid in ("rp-key-1", None):
        assertion = client_assertion(kit.jwt.client_id, public, alg="HS256", kid=kid)
        assert_invalid_client(redeem_with(kit, kit.jwt, assertion_auth(assertion)))


def test_attack_assertion_naming_an_unknown_kid(kit):
    assertion = client_assertion(kit.jwt.client_id, kit.jwt.key, kid="unknown-kid")
    assert_invalid_client(redeem_with(kit, kit.jwt, assertion_auth(assertion)))


@pytest.mark.parametrize("kid", ["rp-key-1", None], ids=["registered-kid", "no-kid"])
def test_attack_assertion_signed_by_a_foreign_key(kit, kid):
    foreign = ECKey.generate_key("P-256", private=True)
    assertion = client_assertion(kit.jwt.client_id, foreign, kid=kid)
    assert_invalid_client(redeem_with(kit, kit.jwt, assertion_auth(assertion)))


def test_assertion_without_kid_is_tried_against_each_registered_key(kit):
    keys = [ECKey.generate_key("P-256", parameters={"kid": f"k{i}"}, private=True) for i in (1, 2)]
    client = kit.register(
        "service-two-keys",
        "private_key_jwt",
        jwks={"keys": [k.as_dict(private=False) for k in keys]},
    )
    assertion = client_assertion(client.client_id, keys[1], kid=None)
    assert redeem_with(kit, client, assertion_auth(assertion)).status == 200


def test_attack_assertion_whose_issuer_is_not_its_subject(kit):
    assertion = client_assertion(kit.jwt.client_id, kit.jwt.key, iss=kit.basic.client_id)
    assert_invalid_client(redeem_with(kit, kit.jwt, assertion_auth(assertion)))


def test_attack_assertion_claiming_another_client(kit):
    """Signed with the jwt client's key, but claiming to be the basic client."""
    assertion = client_assertion(kit.basic.client_id, kit.jwt.key)
    assert_invalid_client(redeem_with(kit, kit.basic, assertion_auth(assertion)))


def test_attack_wrong_assertion_type(kit):
    assertion = client_assertion(kit.jwt.client_id, kit.jwt.key)
    auth = {"client_assertion_type": "urn:example:other", "client_assertion": assertion}, {}
    assert_invalid_client(redeem_with(kit, kit.jwt, auth))
