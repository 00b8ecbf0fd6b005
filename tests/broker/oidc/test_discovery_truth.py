"""Discovery tells the truth: every value the broker advertises works, and every member of the
document is covered by a test that exercises it (a member added without one fails here)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey

from broker.catalogue.scopes import REGISTRY
from broker.oidc.discovery import metadata
from tests.broker.oidc.kit import CONFIG, ISSUER, assertion_auth, client_assertion

TESTS = Path(__file__).resolve().parents[2]
ADVERTISED = metadata(CONFIG, REGISTRY.names(), REGISTRY.claims_supported())

# Each member of the discovery document, and a test (file::function) that exercises what it
# says. Plain facts about the issuer's own addresses are checked by the first test listed.
COVERED_BY = {
    "issuer": "broker/oidc/test_discovery.py::test_discovery_is_complete_and_truthful",
    "authorization_endpoint": "e2e/test_code_flow.py::test_full_flow_with_authlib_client",
    "token_endpoint": "e2e/test_code_flow.py::test_full_flow_with_authlib_client",
    "userinfo_endpoint": "e2e/test_code_flow.py::test_full_flow_with_authlib_client",
    "jwks_uri": (
        "broker/oidc/test_discovery.py::test_jwks_publishes_both_algorithms_without_private_parts"
    ),
    "end_session_endpoint": "e2e/test_logout.py",
    "revocation_endpoint": "e2e/test_revocation.py",
    "revocation_endpoint_auth_methods_supported": "broker/oidc/test_rfc7009_revocation.py",
    "revocation_endpoint_auth_signing_alg_values_supported": (
        "broker/oidc/test_discovery_truth.py::test_every_advertised_assertion_alg_authenticates"
    ),
    "pushed_authorization_request_endpoint": "e2e/test_par.py",
    "protected_resources": (
        "e2e/test_resource_indicators.py::test_a_client_finds_the_data_api_in_discovery_and_calls_it"
    ),
    "require_pushed_authorization_requests": (
        "e2e/test_par.py::test_every_client_must_push_when_the_deployment_requires_it"
    ),
    "dpop_signing_alg_values_supported": (
        "broker/oidc/test_rfc9449_dpop.py::test_each_advertised_algorithm_binds"
    ),
    "backchannel_logout_supported": "e2e/test_backchannel_logout.py",
    "backchannel_logout_session_supported": (
        "broker/oidc/test_logout_token.py::test_the_id_token_carries_the_sessions_sid"
    ),
    "scopes_supported": "e2e/test_offline_access.py",
    "claims_supported": "e2e/test_code_flow.py",
    "response_types_supported": "e2e/test_hostile_parameters.py",
    "response_modes_supported": "e2e/test_fapi2_profile.py",
    "grant_types_supported": "broker/oidc/test_rfc6749_refresh.py",
    "subject_types_supported": (
        "e2e/test_code_flow.py::test_pairwise_subject_differs_between_services"
    ),
    "id_token_signing_alg_values_supported": (
        "broker/oidc/test_discovery_truth.py::test_every_advertised_id_token_alg_signs"
    ),
    "id_token_encryption_alg_values_supported": "broker/oidc/test_encrypted_responses.py",
    "id_token_encryption_enc_values_supported": "broker/oidc/test_encrypted_responses.py",
    "userinfo_signing_alg_values_supported": (
        "broker/oidc/test_encrypted_responses.py::test_userinfo_as_a_jwt_signed_by_the_broker"
    ),
    "userinfo_encryption_alg_values_supported": (
        "broker/oidc/test_encrypted_responses.py::test_userinfo_signed_then_encrypted"
    ),
    "userinfo_encryption_enc_values_supported": (
        "broker/oidc/test_encrypted_responses.py::test_userinfo_signed_then_encrypted"
    ),
    "token_endpoint_auth_methods_supported": (
        "broker/oidc/test_client_authentication.py"
        "::test_each_client_authenticates_with_its_registered_method"
    ),
    "token_endpoint_auth_signing_alg_values_supported": (
        "broker/oidc/test_discovery_truth.py::test_every_advertised_assertion_alg_authenticates"
    ),
    "code_challenge_methods_supported": "broker/oidc/test_rfc7636_pkce.py",
    "authorization_response_iss_parameter_supported": "e2e/test_code_flow.py",
    "acr_values_supported": "e2e/test_code_flow.py::test_acr_reported_in_id_token",
    "prompt_values_supported": "e2e/test_prompt.py",
    "claims_parameter_supported": "e2e/test_prompt.py::test_unsupported_request_parameters",
    "request_parameter_supported": (
        "broker/oidc/test_rfc6749_authorization_code.py::test_request_objects_are_not_supported"
    ),
    "request_uri_parameter_supported": (
        "broker/oidc/test_rfc6749_authorization_code.py::test_request_objects_are_not_supported"
    ),
    "require_request_uri_registration": (
        "broker/oidc/test_rfc6749_authorization_code.py::test_request_objects_are_not_supported"
    ),
    "claim_types_supported": "e2e/test_code_flow.py",
    "ui_locales_supported": "broker/web/test_i18n.py",
}


def test_every_advertised_member_is_covered_by_a_test_that_exists():
    assert set(ADVERTISED) == set(COVERED_BY), "name the test that covers each member"
    for member, where in COVERED_BY.items():
        path, _, function = where.partition("::")
        source = TESTS / path
        assert source.is_file(), f"{member}: {path} does not exist"
        if function:
            names = {
                node.name
                for node in ast.walk(ast.parse(source.read_text()))
                if isinstance(node, ast.FunctionDef)
            }
            assert function in names, f"{member}: {where} does not exist"


def key_for(alg: str):
    if alg.startswith("ES"):
        return ECKey.generate_key("P-256", {"kid": "rp-key-1"})
    if alg == "EdDSA":
        return OKPKey.generate_key("Ed25519", {"kid": "rp-key-1"})
    return RSAKey.generate_key(2048, {"kid": "rp-key-1"})


@pytest.mark.parametrize("alg", ADVERTISED["token_endpoint_auth_signing_alg_values_supported"])
def test_every_advertised_assertion_alg_authenticates(kit, alg):
    """private_key_jwt with each advertised algorithm, at the token and revocation endpoints
    (they share the client authentication)."""
    key = key_for(alg)
    client = kit.register(
        f"service-{alg.lower()}", "private_key_jwt", jwks={"keys": [key.as_dict(private=False)]}
    )
    issued = kit.obtain_code(client)
    assertion = client_assertion(client.client_id, key, alg=alg, audience=ISSUER)
    response = kit.redeem(client, issued.code, issued.verifier, auth=assertion_auth(assertion))
    assert response.status == 200, response.body


@pytest.mark.parametrize("alg", ADVERTISED["id_token_signing_alg_values_supported"])
def test_every_advertised_id_token_alg_signs(kit, alg):
    client = kit.register(
        f"service-id-{alg.lower()}", "client_secret_basic", id_token_signed_response_alg=alg
    )
    decoded = jwt.decode(
        kit.tokens(client)["id_token"], kit.keys.verification_keys(), algorithms=[alg]
    )
    assert decoded.header["alg"] == alg
    assert decoded.header["kid"] == kit.keys.signing_key(alg).kid
