"""Registration rules that follow from a client's profile and the encrypted responses it asks
for: each one refused when broken, and a registration that follows them accepted."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc.jwk import ECKey, RSAKey

from broker.admin.client_profile import AdminError, check_encryption
from broker.admin.clients import ClientRegistration, validate

JWKS_URI = "https://service.example/jwks"


def registration(**overrides: Any) -> ClientRegistration:
    values: dict[str, Any] = {
        "name": "Service FAPI",
        "redirect_uris": ["https://service.example/callback"],
        "scope": "openid profile",
        "auth_method": "private_key_jwt",
        "jwks_uri": JWKS_URI,
        "profile": "fapi2",
    }
    values.update(overrides)
    return ClientRegistration(**values).with_profile()


def test_a_fapi2_registration_pushes_its_requests_and_binds_its_tokens():
    reg = registration()
    validate(reg)
    assert reg.require_par and reg.dpop


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"auth_method": "client_secret_basic", "jwks_uri": None}, "private_key_jwt only"),
        ({"id_token_alg": "RS256"}, "ID tokens are signed with ES256"),
        ({"userinfo_signed_response_alg": "RS256"}, "userinfo is signed with ES256"),
        ({"profile": "fapi1"}, "--profile must be one of"),
    ],
    ids=["secret", "rs256-id-token", "rs256-userinfo", "unknown-profile"],
)
def test_attack_fapi2_registration_breaking_the_profile(overrides, message):
    with pytest.raises(AdminError, match=message):
        validate(registration(**overrides))


def public(key) -> dict[str, Any]:
    return key.as_dict(private=False)


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (("RSA1_5", "A256GCM"), "encryption algorithm must be one of"),
        (("dir", "A256GCM"), "encryption algorithm must be one of"),
        (("RSA-OAEP-256", "A128CBC-HS256"), "content encryption must be one of"),
    ],
)
def test_attack_weak_or_symmetric_encryption_refused_at_registration(choice, message):
    reg = registration(profile=None, id_token_encryption=choice)
    with pytest.raises(AdminError, match=message):
        check_encryption("ID token", choice, reg)


def test_encryption_needs_the_clients_keys():
    choice = ("ECDH-ES", "A256GCM")
    reg = registration(profile=None, auth_method="client_secret_basic", jwks_uri=None)
    with pytest.raises(AdminError, match="needs the client's keys"):
        check_encryption("ID token", choice, reg)


def test_attack_inline_jwks_whose_only_encryption_candidate_is_a_signing_key():
    """Several keys and none marked ``use: enc``: the signing key is never taken for
    encryption, so the registration is refused rather than failing at the first token."""
    signing = public(ECKey.generate_key("P-256", {"kid": "sig"}))
    other = public(RSAKey.generate_key(2048, {"kid": "other"}))
    choice = ("ECDH-ES", "A256GCM")
    reg = registration(profile=None, jwks_uri=None, jwks={"keys": [signing, other]})
    with pytest.raises(AdminError, match="needs a key for it"):
        check_encryption("ID token", choice, reg)
    encrypting = public(ECKey.generate_key("P-256", {"kid": "enc", "use": "enc"}))
    accepted = registration(
        profile=None, jwks_uri=None, jwks={"keys": [signing, other, encrypting]}
    )
    check_encryption("ID token", choice, accepted)
