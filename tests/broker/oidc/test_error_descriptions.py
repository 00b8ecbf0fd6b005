"""Error descriptions that say what to fix (RFC 6749 §5.2 ``error_description``: for the
service's developer, in English): ``invalid_scope`` names the scope and which rule refused it,
``invalid_client`` says "client authentication failed:" and what was wrong, with 401 and a
challenge, never repeating a value the request carried."""

from __future__ import annotations

import pytest

from broker.oidc.models import HabilitationGrant
from tests.broker.oidc.kit import (
    AuthorizationRequest,
    assertion_auth,
    basic_auth,
    citizen_session,
    client_assertion,
    redirect_params,
)
from tests.broker.oidc.memory import HABILITATION, now

FAILED = "client authentication failed: "


def scope_error(kit, client, scope: str) -> str:
    request = AuthorizationRequest(client, scope=scope)
    received = redirect_params(kit.authorize(request.params(), citizen_session()), client)
    assert received["error"] == "invalid_scope", received
    return received["error_description"]


# --- invalid_scope: the three rules --------------------------------------------------------------


def test_unknown_scope_is_named(kit):
    description = scope_error(kit, kit.basic, "openid profile cnaf_quotient_familal")
    assert description == (
        "Unknown scope 'cnaf_quotient_familal': not in this broker's scope registry "
        "(see 'scopes_supported' in the discovery document)."
    )


def test_unknown_scopes_are_all_named(kit):
    description = scope_error(kit, kit.basic, "openid nope1 profile nope2")
    assert description.startswith("Unknown scopes 'nope1' and 'nope2': ")


def test_a_malformed_scope_is_not_repeated_back(kit):
    description = scope_error(kit, kit.basic, "openid " + "x" * 200)
    assert "x" * 65 not in description
    assert "not a valid scope token" in description


MARKUP = "<img/src=x/onerror=alert(origin)>"


def test_attack_markup_sent_as_a_scope_is_not_echoed_to_the_redirect_uri(kit):
    """A well-formed scope token (RFC 6749 §3.3) may still be markup: the description, which
    goes to the client's redirect URI, counts it instead of naming it."""
    description = scope_error(kit, kit.basic, f"openid {MARKUP}")
    assert description.startswith("Unknown scope (not named: only names made of a-z, 0-9")
    for piece in ("<", ">", "img", "onerror", "origin", "="):
        assert piece not in description, description
    description = scope_error(kit, kit.basic, f"openid nope {MARKUP} Nope2 profile")
    assert description.startswith("Unknown scopes 'nope' and 2 not named (only names made of ")
    assert "<" not in description and "Nope2" not in description


def test_attack_markup_asked_for_at_refresh_is_not_echoed(kit):
    tokens = kit.tokens(kit.basic, granted_scope="openid profile")
    refused = kit.refresh(kit.basic, tokens["refresh_token"], scope=f"openid {MARKUP}")
    assert (refused.status, refused.body["error"]) == (400, "invalid_scope")
    description = refused.body["error_description"]
    assert description.startswith("The scope (not named: ") and "<" not in description


def test_scope_not_registered_for_the_client_is_named(kit):
    client = kit.register("service-id", "client_secret_basic", scope="openid profile")
    description = scope_error(kit, client, "openid profile email")
    assert description.startswith("This client is not registered for the scope 'email': ")
    assert "operator" in description


def test_data_scope_without_a_habilitation_is_named(kit):
    client = kit.register("service-nohab", "client_secret_basic", habilitations=())
    description = scope_error(kit, client, "openid dgfip_rfr")
    assert description.startswith(
        "No active habilitation of this service covers the data scope 'dgfip_rfr': "
    )


def test_data_scope_whose_habilitation_expired_is_named(kit):
    expired = HabilitationGrant(**{**HABILITATION.__dict__, "expires_at": now() - 60})
    client = kit.register("service-expired", "client_secret_basic", habilitations=(expired,))
    description = scope_error(kit, client, "openid dgfip_rfr dgfip_nbpart")
    assert description.startswith(
        "The habilitation of this service covering the data scopes 'dgfip_nbpart' and "
        "'dgfip_rfr' has expired: "
    )


def test_data_scopes_of_two_habilitations_in_one_request(kit):
    rfr = HabilitationGrant(
        id="hab-rfr", scopes=frozenset({"dgfip_rfr"}), purpose="Bourse", legal_basis="Loi"
    )
    qf = HabilitationGrant(
        id="hab-qf", scopes=frozenset({"cnaf_quotient_familial"}), purpose="QF", legal_basis="L"
    )
    client = kit.register("service-two", "client_secret_basic", habilitations=(rfr, qf))
    description = scope_error(kit, client, "openid dgfip_rfr cnaf_quotient_familial")
    assert description.startswith(
        "The data scopes 'cnaf_quotient_familial' and 'dgfip_rfr' belong to different "
        "habilitations of this service: "
    )


def test_refresh_asking_for_more_names_the_scope(kit):
    tokens = kit.tokens(kit.basic, granted_scope="openid profile")
    refused = kit.refresh(kit.basic, tokens["refresh_token"], scope="openid profile email")
    assert (refused.status, refused.body["error"]) == (400, "invalid_scope")
    assert refused.body["error_description"].startswith(
        "The scope 'email' was not granted with this refresh token, or withdrawn by the "
        "citizen since: "
    )


# --- invalid_client: what was wrong ----------------------------------------------------------


def redeem_with(kit, client, auth):
    issued = kit.obtain_code(client)
    return kit.redeem(client, issued.code, issued.verifier, auth=auth)


def assert_failed(response, reason: str) -> None:
    """``reason``: the start of what follows "client authentication failed: "."""
    assert (response.status, response.body["error"]) == (401, "invalid_client"), response.body
    assert response.body["error_description"].startswith(FAILED + reason), response.body
    challenge = dict(response.headers)["WWW-Authenticate"]
    assert challenge.startswith('Basic error="invalid_client"'), challenge


def test_wrong_secret(kit):
    response = redeem_with(kit, kit.basic, ({}, basic_auth(kit.basic.client_id, "wrong")))
    assert_failed(response, "the client secret is wrong")
    post = {"client_id": kit.post.client_id, "client_secret": "wrong"}, {}
    assert_failed(redeem_with(kit, kit.post, post), "the client secret is wrong")


def test_unknown_client_is_said_so_without_repeating_it(kit):
    response = redeem_with(kit, kit.basic, ({}, basic_auth("no-such-client", "secret")))
    assert_failed(response, "no client is registered under this client_id")
    assert "no-such-client" not in response.body["error_description"]


@pytest.mark.parametrize(
    ("name", "auth", "registered", "used"),
    [
        ("basic", "post", "client_secret_basic", "client_secret_post"),
        ("post", "basic", "client_secret_post", "client_secret_basic"),
        ("jwt", "basic", "private_key_jwt", "client_secret_basic"),
        ("basic", "jwt", "client_secret_basic", "private_key_jwt"),
    ],
)
def test_wrong_method_names_the_registered_one(kit, name, auth, registered, used):
    client = getattr(kit, name)
    if auth == "post":
        presented = {"client_id": client.client_id, "client_secret": "whatever"}, {}
    elif auth == "basic":
        presented = {}, basic_auth(client.client_id, "whatever")
    else:
        presented = assertion_auth(client_assertion(client.client_id, kit.jwt.key))
    response = redeem_with(kit, client, presented)
    assert_failed(response, f"this client is registered for {registered}, not {used}")


def test_no_credentials_at_all(kit):
    response = redeem_with(kit, kit.basic, ({"client_id": kit.basic.client_id}, {}))
    assert_failed(response, "the request carries no client credentials")


def test_two_methods_at_once(kit):
    wrong = {"client_id": kit.basic.client_id, "client_secret": "x"}, basic_auth("a", "b")
    response = redeem_with(kit, kit.basic, wrong)
    assert_failed(response, "the request uses more than one authentication method")
    assert "client_secret_basic and client_secret_post" in response.body["error_description"]


def test_unreadable_basic_header(kit):
    response = redeem_with(kit, kit.basic, ({}, {"Authorization": "Basic !!!"}))
    assert_failed(response, "the Authorization header is not HTTP Basic client credentials")


def test_refused_assertion_says_why(kit):
    assertion = client_assertion(kit.jwt.client_id, kit.jwt.key, audience="https://elsewhere")
    response = redeem_with(kit, kit.jwt, assertion_auth(assertion))
    assert_failed(response, "the client assertion was refused: ")
    assert "aud" in response.body["error_description"]


def test_wrong_assertion_type(kit):
    form = {**assertion_auth(client_assertion(kit.jwt.client_id, kit.jwt.key))[0]}
    form["client_assertion_type"] = "urn:example:other"
    assert_failed(redeem_with(kit, kit.jwt, (form, {})), "private_key_jwt sends")


def test_introspection_tells_a_service_it_is_not_a_data_provider(kit):
    token = kit.tokens(kit.basic)["access_token"]
    response = kit.introspect(token, (kit.basic.client_id, kit.basic.secret))
    assert_failed(response, "no data provider's introspection client is registered")
