"""RFC 7009 (token revocation) for services, on the broker's authlib server.

A service revokes its own access and refresh tokens, authenticating with the method it was
registered with. Revoking an access token stops it at the next use; revoking a refresh token
stops its whole rotation chain and the access tokens issued on it, but never the citizen's
consent. The answer is 200 for any token the caller may not or need not revoke (unknown,
expired, already revoked, another client's), so that it tells nothing."""

from __future__ import annotations

from typing import Any

import pytest

from broker.core.security import digest
from broker.oidc.discovery import metadata
from broker.oidc.revocation import revoke
from broker.oidc.server import ProtocolResponse
from broker.oidc.tokens import InvalidAccessToken, verify_access_token
from tests.broker.oidc.kit import (
    ISSUER,
    OidcKit,
    RegisteredClient,
    assertion_auth,
    basic_auth,
    client_assertion,
    credentials,
    http_request,
)
from tests.broker.oidc.memory import now

REVOCATION_ENDPOINT = f"{ISSUER}/revoke"


def revocation(
    kit: OidcKit,
    token: str | None,
    auth: tuple[dict[str, str], dict[str, str]],
    **params: str | None,
) -> ProtocolResponse:
    form, headers = auth
    http = http_request("POST", REVOCATION_ENDPOINT, {**form, "token": token, **params}, headers)
    return revoke(kit.server(), http)


def revoke_as(kit: OidcKit, client: RegisteredClient, token: str, **params: str | None):
    return revocation(kit, token, credentials(client), **params)


def assert_ok(response: ProtocolResponse) -> None:
    assert (response.status, response.body) == (200, {}), response.body
    assert ("Cache-Control", "no-store") in response.headers


def assert_error(response: ProtocolResponse, status: int, error: str) -> None:
    assert (response.status, response.body.get("error")) == (status, error), response.body


def access_usable(kit: OidcKit, token: str) -> bool:
    """Whether userinfo and the data API (both through ``verify_access_token``) accept it."""
    try:
        for audience in (kit.config.userinfo_endpoint, kit.config.resource_audience):
            verify_access_token(
                token, kit.keys.verification_keys(), kit.config, kit.store, audience=audience
            )
    except InvalidAccessToken:
        return False
    return True


def revoked_rows(kit: OidcKit) -> list[Any]:
    rows = [*kit.store.access_tokens.values(), *kit.store.refresh_tokens.values()]
    return [row.record for row in rows if row.record.revoked_at is not None]


# --- §2.1: revoking an access token ---------------------------------------------------------


@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token"])
def test_rfc7009_revoked_access_token_fails_at_its_next_use(kit, hint):
    dgfip = kit.providers.add("dgfip")
    tokens = kit.tokens(kit.basic)
    assert access_usable(kit, tokens["access_token"])
    assert kit.introspect(tokens["access_token"], dgfip).body["active"] is True

    assert_ok(revoke_as(kit, kit.basic, tokens["access_token"], token_type_hint=hint))

    assert kit.store.access_token(tokens["access_token"]).revoked_at is not None
    assert not access_usable(kit, tokens["access_token"])
    assert kit.introspect(tokens["access_token"], dgfip).body == {"active": False}


def test_rfc7009_revoking_an_access_token_leaves_its_refresh_token_and_the_consent(kit):
    """§2.1: the server MAY revoke the refresh token too; it does not."""
    tokens = kit.tokens(kit.basic)
    assert_ok(revoke_as(kit, kit.basic, tokens["access_token"]))
    assert kit.store.refresh_token(tokens["refresh_token"]).revoked_at is None
    assert kit.refresh(kit.basic, tokens["refresh_token"]).status == 200
    assert kit.grants.terms(tokens["consent_id"], now()).active is True


@pytest.mark.parametrize("client", ["basic", "post", "jwt"])
def test_rfc7009_client_authenticates_with_its_registered_method(kit, client):
    registered = getattr(kit, client)
    tokens = kit.tokens(registered)
    assert_ok(revoke_as(kit, registered, tokens["access_token"]))
    assert not access_usable(kit, tokens["access_token"])


def test_rfc7009_client_assertion_for_the_issuer_is_accepted(kit):
    tokens = kit.tokens(kit.jwt)
    assertion = client_assertion(kit.jwt.client_id, kit.jwt.key, audience=ISSUER)
    assert_ok(revocation(kit, tokens["access_token"], assertion_auth(assertion)))
    assert not access_usable(kit, tokens["access_token"])


# --- §2.1: revoking a refresh token -----------------------------------------------------------


def test_rfc7009_revoked_refresh_token_ends_its_chain_and_its_access_tokens(kit):
    tokens = kit.tokens(kit.basic)
    rotated = kit.refresh(kit.basic, tokens["refresh_token"]).body

    assert_ok(revoke_as(kit, kit.basic, rotated["refresh_token"], token_type_hint="refresh_token"))

    assert_error(kit.refresh(kit.basic, rotated["refresh_token"]), 400, "invalid_grant")
    assert not access_usable(kit, tokens["access_token"])
    assert not access_usable(kit, rotated["access_token"])


def test_rfc7009_revoking_a_refresh_token_does_not_end_the_consent(kit):
    """§2.1 asks to end the tokens of the same authorization grant, not the citizen's consent:
    the grant stays active, no reuse is reported, and tokens of another chain on the same
    consent (another sign-in of the citizen at the service) keep working."""
    first = kit.tokens(kit.basic)
    grant_id = first["consent_id"]
    second = kit.tokens(kit.basic, grant_id=grant_id)

    assert_ok(revoke_as(kit, kit.basic, first["refresh_token"]))

    assert kit.grants.terms(grant_id, now()).active is True
    assert kit.grants.reuse_revocations == []
    assert access_usable(kit, second["access_token"])
    assert kit.refresh(kit.basic, second["refresh_token"]).status == 200


def test_rfc7009_revoking_a_rotated_refresh_token_ends_the_live_chain(kit):
    """A used refresh token still names its chain: the service asked to end it. This is not a
    reuse (RFC 9700 §4.14.2): the consent stays."""
    tokens = kit.tokens(kit.basic)
    rotated = kit.refresh(kit.basic, tokens["refresh_token"]).body

    assert_ok(revoke_as(kit, kit.basic, tokens["refresh_token"]))

    assert_error(kit.refresh(kit.basic, rotated["refresh_token"]), 400, "invalid_grant")
    assert not access_usable(kit, rotated["access_token"])
    assert kit.grants.reuse_revocations == []
    assert kit.grants.terms(tokens["consent_id"], now()).active is True


def test_rfc7009_refresh_token_found_whatever_the_hint(kit):
    """§2.1: a token not found as the hinted type is searched as the others."""
    tokens = kit.tokens(kit.post)
    assert_ok(revoke_as(kit, kit.post, tokens["refresh_token"], token_type_hint="access_token"))
    assert kit.store.refresh_token(tokens["refresh_token"]).revoked_at is not None


def test_rfc7009_refresh_token_without_a_chain_is_revoked_alone(kit):
    tokens = kit.tokens(kit.basic)
    kit.store.set_refresh_token(tokens["refresh_token"], code_digest=None)
    assert_ok(revoke_as(kit, kit.basic, tokens["refresh_token"]))
    assert kit.store.refresh_token(tokens["refresh_token"]).revoked_at is not None
    assert_error(kit.refresh(kit.basic, tokens["refresh_token"]), 400, "invalid_grant")


# --- §2.2: the answer -----------------------------------------------------------------------


@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token"])
def test_rfc7009_unknown_or_invalid_tokens_answer_200(kit, hint):
    tokens = kit.tokens(kit.basic)
    forged = tokens["access_token"][:-4] + (
        "AAAA" if tokens["access_token"][-4:] != "AAAA" else "BBBB"
    )
    for token in ("garbage", tokens["id_token"], tokens["code"], forged, "x" * 10_000):
        assert_ok(revoke_as(kit, kit.basic, token, token_type_hint=hint))
    assert revoked_rows(kit) == []


def test_rfc7009_expired_access_token_answers_200(kit):
    tokens = kit.tokens(kit.basic)
    kit.store.set_access_token(tokens["access_token"], expires_at=now() - 1)
    assert_ok(revoke_as(kit, kit.basic, tokens["access_token"]))


def test_rfc7009_revocation_is_idempotent(kit):
    tokens = kit.tokens(kit.basic)
    assert_ok(revoke_as(kit, kit.basic, tokens["access_token"]))
    assert_ok(revoke_as(kit, kit.basic, tokens["refresh_token"]))
    revoked = {r.revoked_at for r in revoked_rows(kit)}
    assert_ok(revoke_as(kit, kit.basic, tokens["access_token"]))
    assert_ok(revoke_as(kit, kit.basic, tokens["refresh_token"]))
    assert {r.revoked_at for r in revoked_rows(kit)} == revoked


# --- §2.2.1: errors -------------------------------------------------------------------------


def test_rfc7009_unsupported_token_type_hint(kit):
    tokens = kit.tokens(kit.basic)
    response = revoke_as(kit, kit.basic, tokens["access_token"], token_type_hint="id_token")
    assert_error(response, 400, "unsupported_token_type")
    assert access_usable(kit, tokens["access_token"])


@pytest.mark.parametrize("token", [None, ""])
def test_rfc7009_token_is_required(kit, token):
    assert_error(revocation(kit, token, credentials(kit.basic)), 400, "invalid_request")


def test_rfc7009_client_authentication_is_required(kit):
    tokens = kit.tokens(kit.basic)
    no_auth = revocation(kit, tokens["access_token"], ({}, {}))
    wrong_secret = revocation(
        kit, tokens["access_token"], ({}, basic_auth(kit.basic.client_id, "wrong"))
    )
    for response in (no_auth, wrong_secret):
        assert_error(response, 401, "invalid_client")
    assert access_usable(kit, tokens["access_token"])


def test_rfc7009_only_the_registered_method_authenticates(kit):
    """A client_secret_basic client sending its secret in the form is refused."""
    tokens = kit.tokens(kit.basic)
    form = {"client_id": kit.basic.client_id, "client_secret": kit.basic.secret or ""}
    assert_error(revocation(kit, tokens["access_token"], (form, {})), 401, "invalid_client")
    assert access_usable(kit, tokens["access_token"])


def test_rfc7009_client_assertion_cannot_be_replayed(kit):
    tokens = kit.tokens(kit.jwt)
    auth = credentials(kit.jwt)
    assert_ok(revocation(kit, "unknown", auth))
    replayed = revocation(kit, tokens["access_token"], auth)
    assert replayed.body.get("error") == "invalid_client" and replayed.status in (400, 401)
    assert access_usable(kit, tokens["access_token"])


# --- Attacks ----------------------------------------------------------------------------------


def test_attack_revoking_another_clients_token(kit):
    """§2.1 has the server check that the token was issued to the caller. It answers as for an
    unknown token, and revokes nothing: the caller learns nothing about a token it holds."""
    victim = kit.tokens(kit.basic)
    unknown = revoke_as(kit, kit.post, "unknown")
    for token in (victim["access_token"], victim["refresh_token"]):
        for hint in (None, "access_token", "refresh_token"):
            response = revoke_as(kit, kit.post, token, token_type_hint=hint)
            assert (response.status, response.body) == (unknown.status, unknown.body)
    assert revoked_rows(kit) == []
    assert access_usable(kit, victim["access_token"])
    assert kit.refresh(kit.basic, victim["refresh_token"]).status == 200


def test_attack_revocation_by_digest_is_not_possible(kit):
    """The stored digest of a refresh token is not the token."""
    tokens = kit.tokens(kit.basic)
    assert_ok(revoke_as(kit, kit.basic, digest(tokens["refresh_token"])))
    assert revoked_rows(kit) == []


# --- RFC 8414 ---------------------------------------------------------------------------------


def test_rfc7009_discovery_names_the_endpoint(kit):
    body = metadata(kit.config, ["openid"], ["sub"])
    assert body["revocation_endpoint"] == REVOCATION_ENDPOINT
    assert body["revocation_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ]
