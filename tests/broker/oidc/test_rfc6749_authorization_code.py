"""RFC 6749 §4.1 (authorization code grant), RFC 9207 (``iss``) and OpenID Connect Core §3.1
(authentication with the code flow), on the protocol core with in-memory ports."""

from __future__ import annotations

import base64
import logging
from dataclasses import replace

import pytest
from authlib.oauth2.rfc6749.errors import AccessDeniedError
from joserfc import jwt

from broker.core.security import digest
from broker.oidc.authorize import ErrorPage, NeedsInteraction, ParkedRequestInvalid, deny
from broker.oidc.authorize import issue_code as issue_code_for
from tests.broker.oidc.kit import (
    CITIZEN,
    CONFIG,
    ISSUER,
    AuthorizationRequest,
    OidcKit,
    citizen_session,
    query,
    redirect_params,
    without_query,
)
from tests.broker.oidc.memory import now


def assert_error(response, status: int, error: str) -> None:
    assert (response.status, response.body.get("error")) == (status, error), response.body


def id_token_claims(kit: OidcKit, id_token: str) -> tuple[dict, dict]:
    decoded = jwt.decode(id_token, kit.keys.verification_keys(), algorithms=["ES256", "RS256"])
    return decoded.header, decoded.claims


# --- The code: single use, short-lived, bound to its client and redirect URI -----------------


def test_code_is_redeemed_for_tokens_once(kit):
    issued = kit.obtain_code(kit.basic)
    first = kit.redeem(kit.basic, issued.code, issued.verifier)
    assert first.status == 200, first.body
    assert first.body["token_type"] == "Bearer"
    assert {"access_token", "id_token", "refresh_token"} <= set(first.body)
    assert ("Cache-Control", "no-store") in first.headers
    again = kit.redeem(kit.basic, issued.code, issued.verifier)
    assert_error(again, 400, "invalid_grant")


def test_attack_code_replay_revokes_the_tokens_it_produced(kit, caplog):
    issued = kit.obtain_code(kit.basic)
    tokens = kit.redeem(kit.basic, issued.code, issued.verifier).body
    rotated = kit.refresh(kit.basic, tokens["refresh_token"]).body
    assert "refresh_token" in rotated, rotated

    with caplog.at_level(logging.WARNING, logger="broker.oidc"):
        replay = kit.redeem(kit.basic, issued.code, issued.verifier)

    assert_error(replay, 400, "invalid_grant")
    assert ("Cache-Control", "no-store") in replay.headers
    # RFC 6749 §4.1.2: every token descended from the code goes, rotations included.
    for access_token in (tokens["access_token"], rotated["access_token"]):
        assert kit.store.access_token(access_token).revoked_at is not None
    for refresh_token in (tokens["refresh_token"], rotated["refresh_token"]):
        assert kit.store.refresh_token(refresh_token).revoked_at is not None
    assert_error(kit.refresh(kit.basic, rotated["refresh_token"]), 400, "invalid_grant")
    replays = [r for r in caplog.records if r.getMessage() == "authorization code replayed"]
    assert [(r.client_id, r.tokens_revoked) for r in replays] == [(kit.basic.client_id, 4)]


def test_attack_concurrent_redemption_is_settled_by_compare_and_set(kit, monkeypatch):
    """Two requests read the code before either marks it used: the one that loses the
    compare-and-set gets nothing, and the winner's tokens are revoked as for a replay."""
    issued = kit.obtain_code(kit.basic)
    winner = kit.redeem(kit.basic, issued.code, issued.verifier).body
    stored = kit.store.get_code
    monkeypatch.setattr(kit.store, "get_code", lambda d: replace(stored(d), consumed_at=None))
    tokens_before = len(kit.store.access_tokens)

    loser = kit.redeem(kit.basic, issued.code, issued.verifier)

    assert_error(loser, 400, "invalid_grant")
    assert len(kit.store.access_tokens) == tokens_before
    assert kit.store.access_token(winner["access_token"]).revoked_at is not None


def test_code_lives_sixty_seconds(kit):
    issued = kit.obtain_code(kit.basic)
    key = digest(issued.code)
    assert kit.store.codes[key].expires_at - kit.store.code_created_at[key] == 60


def test_expired_code_is_refused(kit):
    issued = kit.obtain_code(kit.basic)
    kit.store.expire_code(issued.code, at=now())  # expires_at <= now: expired
    assert_error(kit.redeem(kit.basic, issued.code, issued.verifier), 400, "invalid_grant")


def test_code_carries_at_least_128_bits_and_is_stored_as_its_digest(kit):
    code = kit.obtain_code(kit.basic).code
    assert len(base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))) * 8 >= 128
    assert code not in kit.store.codes and digest(code) in kit.store.codes


def test_attack_code_redeemed_by_another_client(kit):
    issued = kit.obtain_code(kit.basic)
    stolen = kit.redeem(kit.post, issued.code, issued.verifier, redirect_uri=kit.basic.redirect_uri)
    assert_error(stolen, 400, "invalid_grant")
    # Bound to its client, and burnt by the failed redemption: the code has leaked, the
    # legitimate client starts again.
    assert_error(kit.redeem(kit.basic, issued.code, issued.verifier), 400, "invalid_grant")
    assert kit.store.access_tokens == {}


@pytest.mark.parametrize(
    "redirect_uri",
    [None, "https://service-a.example/other", "https://service-a.example/callback/"],
    ids=["missing", "other", "trailing-slash"],
)
def test_attack_redirect_uri_changed_at_token_endpoint(kit, redirect_uri):
    issued = kit.obtain_code(kit.basic)
    response = kit.redeem(kit.basic, issued.code, issued.verifier, redirect_uri=redirect_uri)
    assert_error(response, 400, "invalid_grant")
    # A failed redemption consumes the code: the redirect URI cannot be guessed by retrying.
    assert_error(kit.redeem(kit.basic, issued.code, issued.verifier), 400, "invalid_grant")


def test_code_on_a_consent_withdrawn_meanwhile_is_refused(kit):
    issued = kit.obtain_code(kit.basic)
    kit.grants.revoke(issued.grant_id)
    response = kit.redeem(kit.basic, issued.code, issued.verifier)
    assert_error(response, 400, "invalid_grant")
    assert kit.store.access_tokens == {}


def test_code_redeemed_after_a_narrowing_loses_the_withdrawn_items(kit):
    issued = kit.obtain_code(kit.basic)
    kit.grants.narrow(issued.grant_id, "dgfip_rfr email")
    body = kit.redeem(kit.basic, issued.code, issued.verifier).body
    assert set(body["scope"].split()) == {
        "openid",
        "profile",
        "birth",
        "dgfip_nbpart",
        "cnaf_quotient_familial",
    }


def test_code_carries_the_granted_scope_not_the_requested_one(kit):
    issued = kit.obtain_code(kit.basic, granted_scope="openid profile dgfip_rfr")
    body = kit.redeem(kit.basic, issued.code, issued.verifier).body
    assert body["scope"] == "openid profile dgfip_rfr"


# --- The authorization endpoint ---------------------------------------------------------------


def test_authorization_response_carries_code_state_and_iss(kit):
    request = AuthorizationRequest(kit.basic)
    issued = kit.obtain_code(kit.basic, request=request)
    assert without_query(issued.location) == kit.basic.redirect_uri
    assert issued.params == {"code": issued.code, "state": request.state, "iss": ISSUER}


def test_a_covering_consent_issues_the_code_without_interaction(kit):
    request = AuthorizationRequest(kit.basic, extra={"prompt": "none"})
    kit.grants.add("remembered", kit.basic.client.scope)
    outcome = kit.authorize(request.params(), citizen_session(), lambda *_: "remembered")
    received = redirect_params(outcome, kit.basic)
    assert received["iss"] == ISSUER and received["state"] == request.state
    assert kit.store.code(received["code"]).grant_id == "remembered"


@pytest.mark.parametrize(
    ("extra", "signed_in", "error"),
    [
        pytest.param({"response_type": "token"}, True, "unsupported_response_type", id="token"),
        pytest.param({"scope": "profile"}, True, "invalid_scope", id="no-openid"),
        pytest.param(
            {"scope": "openid cnous_statut_boursier"}, True, "invalid_scope", id="not-habilitated"
        ),
        pytest.param({"prompt": "none"}, False, "login_required", id="prompt-none"),
        pytest.param({"prompt": "none"}, True, "consent_required", id="prompt-none-no-consent"),
        pytest.param({"prompt": "bogus"}, True, "invalid_request", id="bad-prompt"),
        pytest.param({"request": "e30.e30."}, True, "request_not_supported", id="request"),
        pytest.param(
            {"request_uri": "https://service-a.example/r/1"},
            True,
            "invalid_request_uri",  # only pushed requests' (broker.oidc.par resolves them)
            id="request_uri",
        ),
        pytest.param({"code_challenge": None}, True, "invalid_request", id="no-pkce"),
        pytest.param({"response_mode": "fragment"}, True, "invalid_request", id="fragment"),
    ],
)
def test_every_error_response_names_the_issuer(kit, extra, signed_in, error):
    """RFC 9207 §2: ``iss`` in error responses too; RFC 6749 §4.1.2.1: with the state."""
    request = AuthorizationRequest(kit.basic, extra=extra)
    outcome = kit.authorize(request.params(), citizen_session() if signed_in else None)
    received = redirect_params(outcome, kit.basic)
    assert received["error"] == error
    assert received["iss"] == ISSUER and received["state"] == request.state
    assert "code" not in received


def test_refusal_names_the_issuer(kit):
    request = AuthorizationRequest(kit.basic)
    location = deny(kit.server(), request.params(), AccessDeniedError("The citizen refused."))
    assert without_query(location) == kit.basic.redirect_uri
    assert query(location) == {
        "error": "access_denied",
        "error_description": "The citizen refused.",
        "state": request.state,
        "iss": ISSUER,
    }


def test_attack_unknown_client_gets_an_error_page_never_a_redirect(kit):
    request = AuthorizationRequest(kit.basic, extra={"client_id": "no-such-client"})
    outcome = kit.authorize(request.params(), citizen_session())
    assert outcome == ErrorPage(
        "invalid_client", "The client does not exist on this server.", status=400
    )


@pytest.mark.parametrize(
    "redirect_uri",
    [
        None,
        "https://evil.example/callback",
        "https://service-a.example/callback/",
        "https://service-a.example/callback?x=1",
        "https://service-a.example/callback#x",
        "https://service-a.example/CALLBACK",
        "http://service-a.example/callback",
        "https://service-a.example.evil.example/callback",
        "https://service-b.example/callback",  # another client's
    ],
)
def test_attack_unregistered_redirect_uri_gets_an_error_page_never_a_redirect(kit, redirect_uri):
    request = AuthorizationRequest(kit.basic, extra={"redirect_uri": redirect_uri})
    outcome = kit.authorize(request.params(), citizen_session())
    assert isinstance(outcome, ErrorPage), outcome
    assert (outcome.error, outcome.status) == ("invalid_request", 400)


@pytest.mark.parametrize(
    "response_type", ["token", "id_token", "code id_token", "code token", "none", None]
)
def test_response_type_other_than_code_is_refused(kit, response_type):
    request = AuthorizationRequest(kit.basic, extra={"response_type": response_type})
    received = redirect_params(kit.authorize(request.params(), citizen_session()), kit.basic)
    assert received["error"] == "unsupported_response_type" and "code" not in received
    assert kit.store.codes == {}


def test_openid_scope_is_required(kit):
    request = AuthorizationRequest(kit.basic, scope="profile dgfip_rfr")
    received = redirect_params(kit.authorize(request.params(), citizen_session()), kit.basic)
    assert received["error"] == "invalid_scope"


def test_prompt_none_without_a_session_is_login_required(kit):
    request = AuthorizationRequest(kit.basic, extra={"prompt": "none"})
    received = redirect_params(kit.authorize(request.params(), None), kit.basic)
    assert received["error"] == "login_required"


def test_prompt_none_with_a_session_too_old_for_max_age_is_login_required(kit):
    request = AuthorizationRequest(kit.basic, extra={"prompt": "none", "max_age": "60"})
    session = citizen_session(auth_time=now() - 3600)
    covering = kit.grants.add("remembered", kit.basic.client.scope).id
    received = redirect_params(
        kit.authorize(request.params(), session, lambda *_: covering), kit.basic
    )
    assert received["error"] == "login_required"


def test_without_a_session_the_citizen_is_asked_to_log_in(kit):
    outcome = kit.authorize(AuthorizationRequest(kit.basic).params(), None)
    assert isinstance(outcome, NeedsInteraction) and outcome.step == "login"


@pytest.mark.parametrize("prompt", ["bogus", "none login", "consent unknown"])
def test_unsupported_prompt_is_invalid_request(kit, prompt):
    request = AuthorizationRequest(kit.basic, extra={"prompt": prompt})
    received = redirect_params(kit.authorize(request.params(), citizen_session()), kit.basic)
    assert received["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("parameter", "error"),
    [("request", "request_not_supported"), ("request_uri", "invalid_request_uri")],
)
def test_request_objects_are_not_supported(kit, parameter, error):
    request = AuthorizationRequest(kit.basic, extra={parameter: "eyJhbGciOiJub25lIn0.e30."})
    received = redirect_params(kit.authorize(request.params(), citizen_session()), kit.basic)
    assert received["error"] == error


def test_no_code_for_a_redirect_uri_removed_while_the_citizen_decided(kit):
    outcome = kit.authorize(AuthorizationRequest(kit.basic).params(), citizen_session())
    assert isinstance(outcome, NeedsInteraction)
    kit.basic.client.redirect_uris = ["https://service-a.example/elsewhere"]
    with pytest.raises(ParkedRequestInvalid):
        issue_code_for(
            kit.server(), outcome.params, citizen_session(), outcome.params["scope"], "g"
        )
    assert kit.store.codes == {}


# --- The ID token (OpenID Connect Core §2, §3.1.3.7) --------------------------------------------


def test_id_token_claims(kit):
    session = citizen_session(acr="eidas3", auth_time=now() - 42)
    issued = kit.obtain_code(kit.basic, session=session)
    response = kit.redeem(kit.basic, issued.code, issued.verifier)
    header, claims = id_token_claims(kit, response.body["id_token"])

    assert header["alg"] == "ES256" and header["kid"] == kit.keys.signing_key("ES256").kid
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": kit.basic.client_id},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": issued.nonce},
        auth_time={"essential": True, "value": session.auth_time},
        acr={"essential": True, "value": "eidas3"},
    ).validate(claims)
    assert claims["aud"] == [kit.basic.client_id]
    assert claims["exp"] - claims["iat"] == CONFIG.id_token_ttl
    assert abs(claims["iat"] - now()) <= 5
    assert claims["amr"] == ["pwd"] and "at_hash" in claims
    assert "given_name" not in claims and "family_name" not in claims, "identity: /userinfo"


def test_id_token_has_no_nonce_when_none_was_sent(kit):
    request = AuthorizationRequest(kit.basic, extra={"nonce": None})
    issued = kit.obtain_code(kit.basic, request=request)
    _, claims = id_token_claims(
        kit, kit.redeem(kit.basic, issued.code, issued.verifier).body["id_token"]
    )
    assert "nonce" not in claims


def test_id_token_signed_with_the_clients_registered_algorithm(kit):
    rs256 = kit.register("service-rs", "client_secret_basic", id_token_signed_response_alg="RS256")
    header, _ = id_token_claims(kit, kit.tokens(rs256)["id_token"])
    assert header["alg"] == "RS256" and header["kid"] == kit.keys.signing_key("RS256").kid


def test_pairwise_sub_differs_between_sectors_and_is_stable_within_one(kit):
    def sub(client) -> str:
        return id_token_claims(kit, kit.tokens(client)["id_token"])[1]["sub"]

    same_sector = kit.register(
        "service-a2", "client_secret_post", sector=kit.basic.client.sector_identifier
    )
    first, again, sibling = sub(kit.basic), sub(kit.basic), sub(same_sector)
    other_sector = sub(kit.post)
    assert first == again == sibling
    assert other_sector != first
    assert CITIZEN.id not in (first, other_sector)
