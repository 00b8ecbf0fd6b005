"""RFC 7662 (token introspection) for data providers, and RFC 9701 (its signed JWT answer).

A provider learns about a token only what concerns it: its own scopes, while the consent grant
behind the token stands and the habilitation it was given under covers them. Anything else is
``{"active": false}``, exactly like an unknown token, so that a provider cannot probe."""

from __future__ import annotations

import pytest
from joserfc import jwt

from broker.oidc.models import HabilitationGrant
from tests.broker.oidc.kit import CITIZEN, INTROSPECTION_JWT, ISSUER, basic_auth, http_request
from tests.broker.oidc.memory import HABILITATION, now, unverified_claims

INACTIVE = {"active": False}


@pytest.fixture
def dgfip(kit) -> tuple[str, str]:
    return kit.providers.add("dgfip")


@pytest.fixture
def cnaf(kit) -> tuple[str, str]:
    return kit.providers.add("cnaf")


@pytest.fixture
def tokens(kit) -> dict:
    return kit.tokens(kit.basic)


def assert_inactive(response) -> None:
    assert (response.status, response.body) == (200, INACTIVE)


def test_provider_sees_only_its_own_scopes_and_the_identity_pivot(kit, dgfip, cnaf, tokens):
    response = kit.introspect(tokens["access_token"], dgfip)
    assert response.status == 200
    assert ("Cache-Control", "no-store") in response.headers
    body = response.body
    id_token = unverified_claims(tokens["id_token"])
    assert body["active"] is True
    assert body["scope"] == "dgfip_rfr dgfip_nbpart"  # not the CAF's scope, not openid
    assert body["client_id"] == kit.basic.client_id and body["iss"] == ISSUER
    assert body["sub"] == id_token["sub"], "the client's pairwise subject"
    assert body["exp"] == kit.store.access_token(tokens["access_token"]).expires_at
    assert body["token_type"] == "Bearer"
    assert (body["family_name"], body["given_name"], body["birthdate"]) == (
        CITIZEN.family_name,
        CITIZEN.given_name,
        CITIZEN.birthdate,
    )
    assert kit.introspect(tokens["access_token"], cnaf).body["scope"] == "cnaf_quotient_familial"


def test_attack_provider_probes_a_token_with_none_of_its_scopes(kit, tokens):
    cnous = kit.providers.add("cnous")
    assert_inactive(kit.introspect(tokens["access_token"], cnous))


def test_provider_sees_only_the_scopes_the_citizen_granted(kit, dgfip):
    tokens = kit.tokens(kit.basic, granted_scope="openid profile dgfip_nbpart")
    assert kit.introspect(tokens["access_token"], dgfip).body["scope"] == "dgfip_nbpart"


def test_revoked_token_is_inactive(kit, dgfip, tokens):
    kit.store.set_access_token(tokens["access_token"], revoked_at=now())
    assert_inactive(kit.introspect(tokens["access_token"], dgfip))


def test_expired_token_is_inactive(kit, dgfip, tokens):
    """The server-side record says so, even though the JWT's own ``exp`` is still ahead."""
    kit.store.set_access_token(tokens["access_token"], expires_at=now())
    assert unverified_claims(tokens["access_token"])["exp"] > now()
    assert_inactive(kit.introspect(tokens["access_token"], dgfip))


def test_token_revoked_by_a_code_replay_is_inactive(kit, dgfip, tokens):
    issued = tokens["issued"]
    kit.redeem(kit.basic, issued.code, issued.verifier)
    assert_inactive(kit.introspect(tokens["access_token"], dgfip))


@pytest.mark.parametrize("which", ["garbage", "id_token", "refresh_token", "forgotten"])
def test_unknown_tokens_are_inactive(kit, dgfip, tokens, which):
    if which == "forgotten":  # a well-signed access token the broker has no record of
        del kit.store.access_tokens[unverified_claims(tokens["access_token"])["jti"]]
        token = tokens["access_token"]
    else:
        token = tokens.get(which, "not-a-token")
    assert_inactive(kit.introspect(token, dgfip))


@pytest.mark.parametrize(
    "change",
    [
        lambda grants, grant_id: grants.revoke(grant_id, tokens=False),
        lambda grants, grant_id: grants.expire(grant_id),
    ],
    ids=["grant-revoked", "grant-expired"],
)
def test_token_whose_grant_no_longer_stands_is_inactive(kit, dgfip, tokens, change):
    """The token record itself is untouched: introspection asks the consent side each time."""
    change(kit.grants, tokens["consent_id"])
    assert kit.store.access_token(tokens["access_token"]).revoked_at is None
    assert_inactive(kit.introspect(tokens["access_token"], dgfip))


def test_token_whose_habilitation_ended_is_inactive(kit, dgfip, tokens):
    ended = HabilitationGrant(**{**HABILITATION.__dict__, "expires_at": now() - 1})
    kit.basic.client.habilitations = (ended,)
    assert_inactive(kit.introspect(tokens["access_token"], dgfip))


def test_token_type_hint_does_not_stop_the_search(kit, dgfip, tokens):
    """RFC 7662 §2.1: a hint the server cannot use is ignored."""
    http = http_request(
        "POST",
        f"{ISSUER}/introspect",
        {"token": tokens["access_token"], "token_type_hint": "refresh_token"},
        basic_auth(*dgfip),
    )
    response = kit.introspection_server().introspect(http)
    assert response.status == 200 and response.body["active"] is True


def test_missing_token_is_invalid_request(kit, dgfip):
    http = http_request("POST", f"{ISSUER}/introspect", {}, basic_auth(*dgfip))
    response = kit.introspection_server().introspect(http)
    assert (response.status, response.body["error"]) == (400, "invalid_request")


# --- Who may introspect -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    [
        lambda kit, dgfip: None,
        lambda kit, dgfip: (dgfip[0], "wrong-secret"),
        lambda kit, dgfip: ("rs_unknown", dgfip[1]),
        lambda kit, dgfip: (kit.basic.client_id, kit.basic.secret),  # an OIDC client's
        lambda kit, dgfip: (kit.providers.add("cnaf")[0], dgfip[1]),  # another provider's id
    ],
    ids=["none", "wrong-secret", "unknown-provider", "oidc-client", "mixed-up"],
)
def test_attack_wrong_provider_credentials(kit, dgfip, tokens, credentials):
    response = kit.introspect(tokens["access_token"], credentials(kit, dgfip))
    assert (response.status, response.body["error"]) == (401, "invalid_client")
    assert "active" not in response.body


def test_attack_provider_credentials_in_the_form(kit, dgfip, tokens):
    """Providers are registered for client_secret_basic only."""
    client_id, secret = dgfip
    params = {"token": tokens["access_token"], "client_id": client_id, "client_secret": secret}
    http = http_request("POST", f"{ISSUER}/introspect", params)
    response = kit.introspection_server().introspect(http)
    assert (response.status, response.body["error"]) == (401, "invalid_client")


def test_attack_provider_presenting_its_stored_digest(kit, dgfip, tokens):
    client_id, _ = dgfip
    leaked = kit.providers.providers[client_id].secret_digest
    response = kit.introspect(tokens["access_token"], (client_id, leaked))
    assert (response.status, response.body["error"]) == (401, "invalid_client")


# --- RFC 9701: the answer as a signed JWT -----------------------------------------------------


def decode_answer(kit, response) -> tuple[dict, dict]:
    assert response.status == 200
    assert ("Content-Type", INTROSPECTION_JWT) in response.headers
    assert isinstance(response.body, str)
    decoded = jwt.decode(response.body, kit.keys.verification_keys(), algorithms=["ES256"])
    return decoded.header, decoded.claims


def test_signed_answer_when_asked(kit, dgfip, tokens):
    plain = kit.introspect(tokens["access_token"], dgfip).body
    header, claims = decode_answer(
        kit, kit.introspect(tokens["access_token"], dgfip, accept=INTROSPECTION_JWT)
    )
    assert header["typ"] == "token-introspection+jwt"
    assert header["kid"] == kit.keys.signing_key().kid
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": dgfip[0]},
        iat={"essential": True},
    ).validate(claims)
    assert abs(claims["iat"] - now()) <= 5
    assert claims["token_introspection"] == plain


def test_signed_answer_for_an_inactive_token(kit, dgfip):
    _, claims = decode_answer(kit, kit.introspect("not-a-token", dgfip, accept=INTROSPECTION_JWT))
    assert claims["token_introspection"] == INACTIVE and claims["aud"] == dgfip[0]


def test_signed_answer_only_when_asked(kit, dgfip, tokens):
    response = kit.introspect(tokens["access_token"], dgfip, accept="application/json")
    assert isinstance(response.body, dict) and response.body["active"] is True


def test_errors_are_never_signed(kit, dgfip, tokens):
    response = kit.introspect(tokens["access_token"], (dgfip[0], "wrong"), accept=INTROSPECTION_JWT)
    assert (response.status, response.body["error"]) == (401, "invalid_client")
