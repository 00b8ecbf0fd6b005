"""Resource indicators (RFC 8707) on the protocol core: the data API's URL is the only resource,
accepted at /authorize, at the pushed authorization endpoint and at the token endpoint (both
grants), the audience of every access token whether named or not; anything else is
``invalid_target``, sent back only where an authorization error may go."""

from __future__ import annotations

import pytest

from broker.oidc import par
from broker.oidc.authorize import ErrorPage, NeedsInteraction, authorize
from broker.oidc.discovery import authorization_server_metadata, metadata
from broker.oidc.request import HttpRequestData
from broker.oidc.tokens import verify_access_token
from tests.broker.oidc.kit import (
    AUTHORIZATION_ENDPOINT,
    CONFIG,
    ISSUER,
    RESOURCE_AUDIENCE,
    USERINFO_ENDPOINT,
    AuthorizationRequest,
    Headers,
    citizen_session,
    credentials,
    redirect_params,
)
from tests.broker.oidc.memory import now, unverified_claims
from tests.broker.oidc.test_rfc9126_par import PAR_ENDPOINT, MemoryPushedRequests

FOREIGN = "https://evil.example/api"
MALFORMED = [
    "/v3/dss/quotient_familial",  # relative
    "data.broker.example",  # no scheme
    f"{RESOURCE_AUDIENCE}#fragment",
    "https://[::1",  # not a URI at all
]


def with_resources(params: dict[str, str | None], *resources: str) -> dict[str, list[str]]:
    values = {k: [v] for k, v in params.items() if v is not None}
    return {**values, "resource": list(resources)}


def authorize_with(kit, params: dict[str, list[str]]):
    http = HttpRequestData("GET", AUTHORIZATION_ENDPOINT, Headers(), params)
    return authorize(kit.server(), http, citizen_session(), lambda *_: None, now())


def push_with(kit, client, params: dict[str, list[str]]):
    form, headers = credentials(client)
    merged = {**{k: [v] for k, v in form.items()}, **params}
    http = HttpRequestData("POST", PAR_ENDPOINT, Headers(headers), merged)
    return par.push(kit.server(), http, MemoryPushedRequests(), now())


# --- The authorization request (§2.1) ----------------------------------------------------------


def test_the_data_api_may_be_named_once_or_repeated(kit):
    request = AuthorizationRequest(kit.basic)
    for resources in ([RESOURCE_AUDIENCE], [RESOURCE_AUDIENCE, RESOURCE_AUDIENCE]):
        outcome = authorize_with(kit, with_resources(request.params(), *resources))
        assert isinstance(outcome, NeedsInteraction) and outcome.step == "consent", outcome
        assert outcome.params["resource"] == RESOURCE_AUDIENCE


def test_attack_resource_indicator_foreign_audience(kit):
    """A client asks for a token meant for another resource server (one that would then
    replay it, or one the broker does not serve): refused, back to the client's verified
    redirect URI, before the citizen is asked anything."""
    request = AuthorizationRequest(kit.basic)
    for resources in ([FOREIGN], [RESOURCE_AUDIENCE, FOREIGN], [f"{RESOURCE_AUDIENCE}/v3"]):
        outcome = authorize_with(kit, with_resources(request.params(), *resources))
        received = redirect_params(outcome, kit.basic)
        assert received["error"] == "invalid_target", received
        assert RESOURCE_AUDIENCE in received["error_description"]
        assert FOREIGN not in received["error_description"]
        assert (received["state"], received["iss"]) == (request.state, ISSUER)


@pytest.mark.parametrize("resource", MALFORMED)
def test_a_resource_must_be_an_absolute_uri_without_fragment(kit, resource):
    request = AuthorizationRequest(kit.basic)
    received = redirect_params(
        authorize_with(kit, with_resources(request.params(), resource)), kit.basic
    )
    assert received["error"] == "invalid_target"
    assert received["error_description"] == (
        "The 'resource' parameter must be an absolute URI without a fragment (RFC 8707, section 2)."
    )


def test_attack_foreign_resource_with_an_unregistered_redirect_uri_gets_no_redirect(kit):
    params = AuthorizationRequest(kit.basic, extra={"redirect_uri": "https://evil.example/cb"})
    outcome = authorize_with(kit, with_resources(params.params(), FOREIGN))
    assert isinstance(outcome, ErrorPage) and outcome.error == "invalid_request", outcome


# --- The pushed authorization request --------------------------------------------------------


def test_push_names_the_data_api(kit):
    params = AuthorizationRequest(kit.basic).params()
    response = push_with(
        kit, kit.basic, with_resources(params, RESOURCE_AUDIENCE, RESOURCE_AUDIENCE)
    )
    assert response.status == 201, response.body


@pytest.mark.parametrize("resource", [FOREIGN, *MALFORMED])
def test_attack_push_for_a_foreign_or_malformed_resource(kit, resource):
    params = AuthorizationRequest(kit.basic).params()
    response = push_with(kit, kit.basic, with_resources(params, resource))
    assert (response.status, response.body["error"]) == (400, "invalid_target"), response.body
    assert response.location is None and "request_uri" not in response.body


# --- The token request (§2.2) ----------------------------------------------------------------


def test_every_access_token_is_for_the_data_api_named_or_not(kit):
    for extra in ({}, {"resource": RESOURCE_AUDIENCE}):
        issued = kit.obtain_code(kit.basic)
        response = kit.redeem(kit.basic, issued.code, issued.verifier, **extra)
        assert response.status == 200, response.body
        token = response.body["access_token"]
        assert unverified_claims(token)["aud"] == [RESOURCE_AUDIENCE, USERINFO_ENDPOINT]
        keys = kit.keys.verification_keys()
        verify_access_token(token, keys, kit.config, kit.store, audience=RESOURCE_AUDIENCE)


def test_attack_resource_upgrade_at_token_endpoint(kit):
    """A code authorized for the data API (named at /authorize) is redeemed for another
    resource: RFC 8707 §2.2, only a resource granted at authorization. The code is spent, as
    by any failed redemption: no second try for another audience."""
    request = AuthorizationRequest(kit.basic, extra={"resource": RESOURCE_AUDIENCE})
    issued = kit.obtain_code(kit.basic, request=request)
    refused = kit.redeem(kit.basic, issued.code, issued.verifier, resource=FOREIGN)
    assert (refused.status, refused.body["error"]) == (400, "invalid_target"), refused.body
    assert "access_token" not in refused.body
    again = kit.redeem(kit.basic, issued.code, issued.verifier)
    assert again.body["error"] == "invalid_grant"


def test_attack_refresh_for_another_resource(kit):
    tokens = kit.tokens(kit.basic)
    refused = kit.refresh(kit.basic, tokens["refresh_token"], resource=FOREIGN)
    assert (refused.status, refused.body["error"]) == (400, "invalid_target"), refused.body
    # Refused before anything was spent: the refresh token still works, for the data API.
    renewed = kit.refresh(kit.basic, tokens["refresh_token"], resource=RESOURCE_AUDIENCE)
    assert renewed.status == 200, renewed.body
    assert RESOURCE_AUDIENCE in unverified_claims(renewed.body["access_token"])["aud"]


# --- Introspection and discovery -------------------------------------------------------------


def test_introspection_reports_the_tokens_audience(kit):
    dgfip = kit.providers.add("dgfip")
    token = kit.tokens(kit.basic)["access_token"]
    answer = kit.introspect(token, dgfip)
    assert answer.body["active"] is True, answer.body
    assert answer.body["aud"] == unverified_claims(token)["aud"]


def test_both_metadata_documents_name_the_data_api():
    """RFC 9728 §4: ``protected_resources``, in the OpenID Connect discovery services read and
    in the RFC 8414 document data providers read."""
    for document in (metadata(CONFIG, ["openid"], ["sub"]), authorization_server_metadata(CONFIG)):
        assert document["protected_resources"] == [RESOURCE_AUDIENCE]
