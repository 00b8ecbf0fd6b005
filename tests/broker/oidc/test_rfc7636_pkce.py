"""RFC 7636 (PKCE) as our profile applies it: S256 only, required from every client
(confidential ones included), and RFC 9700 §4.8.2's downgrade rule at the token endpoint."""

from __future__ import annotations

import pytest

from tests.broker.oidc.kit import (
    ISSUER,
    AuthorizationRequest,
    citizen_session,
    pkce_pair,
    redirect_params,
    s256,
)

CLIENTS = ["basic", "post", "jwt"]


def assert_error(response, status: int, error: str) -> None:
    assert (response.status, response.body.get("error")) == (status, error), response.body


def refused_at_authorization(kit, client, **extra) -> dict[str, str]:
    request = AuthorizationRequest(client, extra=extra)
    received = redirect_params(kit.authorize(request.params(), citizen_session()), client)
    assert received["iss"] == ISSUER and received["state"] == request.state
    assert "code" not in received
    return received


def forget_challenge(kit, code: str) -> None:
    """A code as if issued without PKCE (the authorization endpoint never does that)."""
    record = kit.store.code(code)
    record.code_challenge = record.code_challenge_method = None


# --- At the authorization endpoint ------------------------------------------------------------


@pytest.mark.parametrize("name", CLIENTS)
def test_challenge_required_from_every_client_confidential_ones_included(kit, name):
    client = getattr(kit, name)
    received = refused_at_authorization(
        kit, client, code_challenge=None, code_challenge_method=None
    )
    assert received["error"] == "invalid_request" and "PKCE" in received["error_description"]


def test_method_plain_is_refused(kit):
    verifier, _ = pkce_pair()
    received = refused_at_authorization(
        kit, kit.basic, code_challenge=verifier, code_challenge_method="plain"
    )
    assert received["error"] == "invalid_request"


def test_missing_method_is_refused_as_it_means_plain(kit):
    """RFC 7636 §4.3: no method means ``plain``."""
    received = refused_at_authorization(kit, kit.basic, code_challenge_method=None)
    assert received["error"] == "invalid_request"


@pytest.mark.parametrize("method", ["S512", "s256", "none"])
def test_unknown_method_is_refused(kit, method):
    received = refused_at_authorization(kit, kit.basic, code_challenge_method=method)
    assert received["error"] == "invalid_request"


@pytest.mark.parametrize("challenge", ["short", "a" * 129, "has spaces and !" * 4])
def test_malformed_challenge_is_refused(kit, challenge):
    """RFC 7636 §4.2: 43 to 128 unreserved characters."""
    received = refused_at_authorization(kit, kit.basic, code_challenge=challenge)
    assert received["error"] == "invalid_request"


def test_challenge_and_method_are_kept_with_the_code(kit):
    request = AuthorizationRequest(kit.basic)
    record = kit.store.code(kit.obtain_code(kit.basic, request=request).code)
    assert (record.code_challenge, record.code_challenge_method) == (request.challenge, "S256")


# --- At the token endpoint --------------------------------------------------------------------


@pytest.mark.parametrize("name", CLIENTS)
def test_right_verifier_redeems_the_code(kit, name):
    client = getattr(kit, name)
    issued = kit.obtain_code(client)
    assert kit.redeem(client, issued.code, issued.verifier).status == 200


def test_attack_wrong_verifier_is_invalid_grant(kit):
    issued = kit.obtain_code(kit.basic)
    other_verifier, _ = pkce_pair()
    assert_error(kit.redeem(kit.basic, issued.code, other_verifier), 400, "invalid_grant")
    assert kit.store.access_tokens == {}


def test_attack_challenge_sent_as_verifier_is_invalid_grant(kit):
    """The challenge travelled through the browser: knowing it must not be enough."""
    request = AuthorizationRequest(kit.basic)
    issued = kit.obtain_code(kit.basic, request=request)
    assert_error(kit.redeem(kit.basic, issued.code, request.challenge), 400, "invalid_grant")


def test_missing_verifier_is_invalid_request_and_burns_the_code(kit):
    """A failed redemption, PKCE failures included, consumes the code."""
    issued = kit.obtain_code(kit.basic)
    assert_error(kit.redeem(kit.basic, issued.code, None), 400, "invalid_request")
    assert_error(kit.redeem(kit.basic, issued.code, issued.verifier), 400, "invalid_grant")


@pytest.mark.parametrize("verifier", ["x" * 42, "x" * 129, "not allowed: spaces" * 3])
def test_malformed_verifier_is_invalid_request(kit, verifier):
    request = AuthorizationRequest(kit.basic, verifier=verifier, challenge=s256(verifier))
    issued = kit.obtain_code(kit.basic, request=request)
    assert_error(kit.redeem(kit.basic, issued.code, verifier), 400, "invalid_request")


def test_attack_verifier_without_challenge_is_refused(kit):
    """RFC 9700 §4.8.2: a code_verifier for a code issued without a challenge is refused, so
    that an attacker cannot downgrade the flow by injecting a code obtained without PKCE."""
    issued = kit.obtain_code(kit.basic)
    forget_challenge(kit, issued.code)
    assert_error(kit.redeem(kit.basic, issued.code, issued.verifier), 400, "invalid_request")
    assert kit.store.access_tokens == {}


def test_attack_code_without_challenge_is_not_redeemable_without_verifier_either(kit):
    """Defence in depth: every code needs PKCE, even one that somehow lacks a challenge."""
    issued = kit.obtain_code(kit.basic)
    forget_challenge(kit, issued.code)
    assert_error(kit.redeem(kit.basic, issued.code, None), 400, "invalid_grant")
    assert kit.store.access_tokens == {}
