"""The data API's reading of credentials with DPoP (RFC 9449 §7): schemes, refusals in JSON:API
form with the RFC's challenge. The whole path over HTTP is in tests/e2e/test_dpop.py."""

from __future__ import annotations

import pytest

from broker.oidc.dpop_resource import BEARER, BOUND, DPOP, PresentedToken, ResourceRefusal
from broker.resources import errors
from broker.resources.credentials import authenticate, credential_from, refused
from broker.store.data_access_models import API_KEY_PREFIX
from tests.broker.oidc.kit import CONFIG


def test_credentials_are_read_with_their_scheme():
    assert credential_from({"authorization": "DPoP abc"}) == PresentedToken(DPOP, "abc")
    assert credential_from({"authorization": "bearer abc"}) == PresentedToken(BEARER, "abc")
    assert credential_from({"x-api-key": " k "}) == PresentedToken(BEARER, "k")
    assert credential_from({"authorization": "Basic abc"}) is None
    assert credential_from({}) is None


def test_no_credential_gets_a_challenge_per_scheme():
    with pytest.raises(errors.ApiError) as refusal:
        authenticate(None, None, None, lambda: None, CONFIG, 0)  # type: ignore[arg-type]
    assert refusal.value.status == 401 and refusal.value.code == "00101"
    assert refusal.value.headers["WWW-Authenticate"].startswith("Bearer, DPoP algs=")


def test_attack_api_key_presented_as_dpop():
    key = PresentedToken(DPOP, f"{API_KEY_PREFIX}whatever")
    with pytest.raises(errors.ApiError) as refusal:
        authenticate(key, None, None, lambda: None, CONFIG, 0)  # type: ignore[arg-type]
    assert refusal.value.status == 401
    assert refusal.value.headers["WWW-Authenticate"].startswith('DPoP error="invalid_token"')
    assert "X-Api-Key" in refusal.value.body()["errors"][0]["detail"]


def test_refusals_keep_the_json_api_body_and_carry_the_challenge_and_nonce():
    downgraded = refused(ResourceRefusal("invalid_token", BOUND))
    assert downgraded.status == 401 and downgraded.code == "00101"
    assert "Authorization: DPoP" in downgraded.body()["errors"][0]["detail"]
    nonce = refused(ResourceRefusal("use_dpop_nonce", "Nonce needed.", nonce="7.abc"))
    assert nonce.headers["DPoP-Nonce"] == "7.abc"
    assert nonce.headers["WWW-Authenticate"].startswith('DPoP error="use_dpop_nonce"')
    assert "DPoP-Nonce" in nonce.body()["errors"][0]["detail"]
