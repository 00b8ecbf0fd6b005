"""OpenID Connect Core §10.2: which key of a client's JWKS its responses are encrypted to, and
how a remote JWKS (``jwks_uri``) is fetched and refreshed when the client rotates its key."""

from __future__ import annotations

import asyncio
import socket
import time
import warnings
from functools import cache
from typing import Any

import pytest
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

from broker.oidc.client_auth import JwksCache
from broker.oidc.client_keys import encryption_key, prefetch_encryption_keys
from broker.oidc.encryption import ResponseProtectionError, id_token_encryption
from broker.oidc.models import Client


@cache
def rsa_key(kid: str, bits: int = 2048) -> RSAKey:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # the weak key is the point of a test
        return RSAKey.generate_key(bits, parameters={"kid": kid}, private=True)


def ec_key(kid: str, crv: str = "P-256") -> ECKey:
    return ECKey.generate_key(crv, parameters={"kid": kid}, private=True)


def public(key, **members: Any) -> dict[str, Any]:
    """The JWK a client publishes for ``key``, with ``members`` (``use``, ``alg``...) added."""
    return {**key.as_dict(private=False), **members}


def client(**fields: Any) -> Client:
    fields.setdefault("id_token_encrypted_response_alg", "RSA-OAEP-256")
    fields.setdefault("id_token_encrypted_response_enc", "A256GCM")
    return Client(
        client_id="service-enc",
        name="Service chiffré",
        service_id="service-enc",
        sector_identifier="https://service-enc.example",
        auth_method="client_secret_basic",
        redirect_uris=["https://service-enc.example/callback"],
        scope="openid profile",
        **fields,
    )


def chosen_kid(jwks: dict[str, Any], alg: str) -> str | None:
    key = encryption_key(jwks, alg)
    return None if key is None else key.kid


# --- Key selection ---------------------------------------------------------------------------


def test_a_key_without_use_or_alg_is_used():
    assert chosen_kid({"keys": [public(rsa_key("r1"))]}, "RSA-OAEP-256") == "r1"


def test_a_signing_key_is_never_used_for_encryption():
    jwks = {"keys": [public(rsa_key("sig"), use="sig"), public(rsa_key("enc"), use="enc")]}
    assert chosen_kid(jwks, "RSA-OAEP-256") == "enc"
    assert chosen_kid({"keys": [public(rsa_key("sig"), use="sig")]}, "RSA-OAEP-256") is None


def test_attack_a_signing_key_without_use_next_to_others_is_never_the_encryption_key():
    """Core §10.1.1/§10.2.1: with several keys, or any ``use`` declared, only ``use: enc``
    keys encrypt: a client's signing key published without ``use`` is not sealed to."""
    signing, encrypting = public(rsa_key("sig-no-use")), public(rsa_key("enc"), use="enc")
    assert chosen_kid({"keys": [signing, encrypting]}, "RSA-OAEP-256") == "enc"
    assert chosen_kid({"keys": [signing, public(rsa_key("other"))]}, "RSA-OAEP-256") is None
    assert chosen_kid({"keys": [signing, public(ec_key("ec"), use="sig")]}, "RSA-OAEP-256") is None
    assert chosen_kid({"keys": [signing]}, "RSA-OAEP-256") == "sig-no-use"  # one key: its use


def test_a_key_of_the_wrong_type_for_the_algorithm_is_ignored():
    ec, rsa = ec_key("ec"), rsa_key("rsa")
    jwks = {"keys": [public(rsa, use="enc"), public(ec, use="enc")]}
    assert chosen_kid(jwks, "ECDH-ES") == "ec"
    jwks = {"keys": [public(ec, use="enc"), public(rsa, use="enc")]}
    assert chosen_kid(jwks, "RSA-OAEP-256") == "rsa"


@pytest.mark.parametrize("crv", ["P-256", "P-384", "P-521"])
def test_ecdh_es_takes_the_nist_curves(crv):
    assert chosen_kid({"keys": [public(ec_key("ec", crv))]}, "ECDH-ES") == "ec"


def test_ecdh_es_takes_x25519_not_ed25519():
    signing = OKPKey.generate_key("Ed25519", parameters={"kid": "ed"}, private=True)
    agreement = OKPKey.generate_key("X25519", parameters={"kid": "x"}, private=True)
    assert chosen_kid({"keys": [public(signing)]}, "ECDH-ES") is None
    jwks = {"keys": [public(signing), public(agreement, use="enc")]}
    assert chosen_kid(jwks, "ECDH-ES") == "x"


def test_a_key_naming_another_algorithm_is_ignored():
    jwks = {
        "keys": [
            public(rsa_key("oaep-sha1"), alg="RSA-OAEP", use="enc"),
            public(rsa_key("oaep-256"), alg="RSA-OAEP-256", use="enc"),
        ]
    }
    assert chosen_kid(jwks, "RSA-OAEP-256") == "oaep-256"


def test_key_ops_that_do_not_allow_encryption_are_respected():
    jwks = {"keys": [public(rsa_key("verify"), key_ops=["verify"])]}
    assert chosen_kid(jwks, "RSA-OAEP-256") is None
    jwks = {"keys": [public(rsa_key("wrap"), key_ops=["wrapKey"])]}
    assert chosen_kid(jwks, "RSA-OAEP-256") == "wrap"


def test_a_malformed_key_is_skipped_not_fatal():
    broken = {"kty": "EC", "crv": "P-256", "x": "not-a-point", "y": "!", "kid": "broken"}
    jwks = {"keys": [broken, "not a key", public(ec_key("good"), use="enc")]}
    assert chosen_kid(jwks, "ECDH-ES") == "good"
    assert encryption_key({"keys": "nope"}, "ECDH-ES") is None
    assert encryption_key(None, "ECDH-ES") is None


def test_a_private_key_registered_by_mistake_is_used_as_a_public_key():
    key = encryption_key({"keys": [rsa_key("oops").as_dict(private=True)]}, "RSA-OAEP-256")
    assert key is not None and not key.is_private


def test_no_usable_key_is_an_invalid_client_error_with_a_description():
    registered = client(jwks={"keys": [public(ec_key("sig"), use="sig")]})
    with pytest.raises(ResponseProtectionError) as raised:
        id_token_encryption(registered, JwksCache())
    assert raised.value.error == "invalid_client"
    assert "RSA-OAEP-256" in raised.value.description
    assert "no key" in raised.value.description


# --- Attacks ---------------------------------------------------------------------------------


def test_attack_symmetric_key_in_the_registered_jwks_is_never_used():
    """A JWKS is public: a shared key in it (``dir``, ``A256KW``) would encrypt to anyone."""
    secret = OctKey.generate_key(256, parameters={"kid": "shared"})
    for alg in ("dir", "A256KW", "RSA-OAEP-256", "ECDH-ES"):
        jwks = {"keys": [secret.as_dict(private=True) | {"use": "enc", "alg": alg}]}
        assert encryption_key(jwks, alg) is None
    jwks = {
        "keys": [secret.as_dict(private=True) | {"use": "enc"}, public(rsa_key("rsa"), use="enc")]
    }
    assert chosen_kid(jwks, "RSA-OAEP-256") == "rsa"


@pytest.mark.parametrize("alg", ["dir", "RSA1_5", "RSA-OAEP", "A256KW", "ECDH-ES+A256KW", "none"])
def test_attack_key_management_algorithms_we_do_not_use_find_no_key(alg):
    jwks = {"keys": [public(rsa_key("rsa")), public(ec_key("ec"))]}
    assert encryption_key(jwks, alg) is None


def test_attack_an_rsa_key_under_2048_bits_is_never_used():
    """RFC 7518 §4.3: RSA-OAEP keys of 2048 bits or more."""
    assert chosen_kid({"keys": [public(rsa_key("weak", 1024))]}, "RSA-OAEP-256") is None


def test_attack_a_key_with_an_unknown_use_is_never_used():
    jwks = {"keys": [public(rsa_key("r"), use="enc-and-sig"), public(rsa_key("r"), use=None)]}
    assert chosen_kid(jwks, "RSA-OAEP-256") is None


def test_attack_hostile_jwks_members_are_skipped_never_a_crash():
    """A client's jwks_uri answers whatever it likes: odd member types are not keys."""
    good = public(ec_key("good"), use="enc")
    hostile = [
        {**good, "kid": "a", "key_ops": [{"op": "encrypt"}]},
        {**good, "kid": "b", "key_ops": "deriveKey"},
        {**good, "kid": "c", "crv": ["P-256"]},
        {**good, "kid": "d", "kty": {"EC": 1}},
        {**good, "kid": "e", "use": ["enc"]},
        {**good, "kid": "f", "alg": ["ECDH-ES"]},
        {**good, "kid": "g", "x": 12},
        {"kty": "RSA", "kid": "h", "n": ["AQAB"], "e": "AQAB"},
        {"kty": "RSA", "kid": "i"},
    ]
    assert chosen_kid({"keys": hostile}, "ECDH-ES") is None
    assert chosen_kid({"keys": hostile}, "RSA-OAEP-256") is None
    assert chosen_kid({"keys": [*hostile, good]}, "ECDH-ES") == "good"


# --- Remote keys: fetched, cached, refreshed -------------------------------------------------


def remote_client(jwks_uri: str, **fields: Any) -> Client:
    return client(jwks_uri=jwks_uri, **fields)


def prefetch(cache_: JwksCache, registered: Client) -> None:
    asyncio.run(prefetch_encryption_keys(cache_, registered))


def sealed_kid(registered: Client, cache_: JwksCache) -> str | None:
    encryption = id_token_encryption(registered, cache_)
    assert encryption is not None
    return encryption.key.kid


def test_the_grant_code_never_fetches_the_prefetch_does(jwks_server):
    registered = remote_client(jwks_server({"keys": [public(rsa_key("r1"))]}))
    jwks_cache = JwksCache()
    with pytest.raises(ResponseProtectionError, match="could not be fetched"):
        id_token_encryption(registered, jwks_cache)  # nothing fetched yet: no key, no network
    prefetch(jwks_cache, registered)
    assert sealed_kid(registered, jwks_cache) == "r1"


def test_a_rotated_key_is_used_once_the_cached_set_expires(jwks_server):
    """Core §10.2.1: the client publishes its new key and removes the old one; the broker
    picks the change up when its cached copy expires."""
    published = {"keys": [public(rsa_key("old"), use="enc")]}
    registered = remote_client(jwks_server(published))
    jwks_cache = JwksCache(ttl=2.0)  # type: ignore[arg-type]  # seconds: a loaded CI host stays within it
    prefetch(jwks_cache, registered)
    assert sealed_kid(registered, jwks_cache) == "old"
    published["keys"] = [public(rsa_key("new"), use="enc")]
    prefetch(jwks_cache, registered)
    assert sealed_kid(registered, jwks_cache) == "old"  # still fresh: not fetched again
    time.sleep(2.05)
    prefetch(jwks_cache, registered)
    assert sealed_kid(registered, jwks_cache) == "new"


def test_a_set_without_a_usable_key_is_fetched_again_at_most_once_per_min_refresh(jwks_server):
    """A client that publishes its encryption key after its signing key is served as soon as
    the anti-hammering pause allows, without waiting for the cache to expire."""
    published = {"keys": [public(ec_key("sig"), use="sig")]}
    registered = remote_client(
        jwks_server(published),
        id_token_encrypted_response_alg="ECDH-ES",
        id_token_encrypted_response_enc="A128GCM",
    )
    jwks_cache = JwksCache(min_refresh=3600)
    prefetch(jwks_cache, registered)
    published["keys"] = [*published["keys"], public(ec_key("enc"), use="enc")]
    prefetch(jwks_cache, registered)
    with pytest.raises(ResponseProtectionError):
        id_token_encryption(registered, jwks_cache)  # within min_refresh: not fetched again
    jwks_cache.min_refresh = 0
    prefetch(jwks_cache, registered)
    assert sealed_kid(registered, jwks_cache) == "enc"


def test_an_unreachable_jwks_uri_is_an_error_that_says_so():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    registered = remote_client(f"http://127.0.0.1:{port}/jwks.json")
    jwks_cache = JwksCache(timeout=1)
    prefetch(jwks_cache, registered)  # a failed fetch is not an exception here
    with pytest.raises(ResponseProtectionError, match="could not be fetched"):
        id_token_encryption(registered, jwks_cache)


def test_nothing_is_fetched_for_clients_that_need_no_encryption_key(jwks_server):
    uri = jwks_server({"keys": [public(rsa_key("r1"))]})
    jwks_cache = JwksCache()
    prefetch(jwks_cache, remote_client(uri, id_token_encrypted_response_alg=None))
    inline = client(jwks={"keys": [public(rsa_key("r1"))]}, jwks_uri=uri)
    prefetch(jwks_cache, inline)
    assert jwks_cache.get(uri) is None
    assert sealed_kid(inline, jwks_cache) == "r1"  # the inline JWKS, no fetch
