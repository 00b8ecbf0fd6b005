"""RFC 6749 §6 (refreshing an access token) with RFC 9700 §4.14.2 (refresh token rotation and
reuse detection): refresh tokens for recurring consents only, rotated at every use, a reused
one ending its whole grant through the consent port."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.broker.oidc.kit import credentials
from tests.broker.oidc.memory import now


def assert_error(response, status: int, error: str) -> None:
    assert (response.status, response.body.get("error")) == (status, error), response.body


# --- Which grants get refresh tokens ----------------------------------------------------------


def test_refresh_token_issued_for_a_recurring_consent(kit):
    tokens = kit.tokens(kit.basic, recurring=True)
    record = kit.store.refresh_token(tokens["refresh_token"])
    assert record.grant_id == tokens["consent_id"] and record.client_id == kit.basic.client_id
    assert record.expires_at == kit.grants.grants[tokens["consent_id"]].expires_at


def test_no_refresh_token_for_a_one_time_consent(kit):
    tokens = kit.tokens(kit.basic, recurring=False)
    assert "refresh_token" not in tokens and kit.store.refresh_tokens == {}


def test_no_refresh_token_for_a_code_standing_on_no_consent(kit):
    tokens = kit.tokens(kit.basic, grant_id=None)
    assert "refresh_token" not in tokens and kit.store.refresh_tokens == {}


# --- Rotation and reuse -----------------------------------------------------------------------


def test_refresh_token_is_rotated_at_every_use(kit):
    tokens = kit.tokens(kit.basic)
    first = kit.refresh(kit.basic, tokens["refresh_token"])
    assert first.status == 200, first.body
    assert first.body["refresh_token"] != tokens["refresh_token"]
    assert first.body["access_token"] != tokens["access_token"]
    assert kit.store.refresh_token(tokens["refresh_token"]).used_at is not None
    second = kit.refresh(kit.basic, first.body["refresh_token"])
    assert second.status == 200 and second.body["refresh_token"] != first.body["refresh_token"]
    assert ("Cache-Control", "no-store") in second.headers


def test_attack_reused_refresh_token_revokes_the_grant(kit):
    tokens = kit.tokens(kit.basic)
    grant_id = tokens["consent_id"]
    rotated = kit.refresh(kit.basic, tokens["refresh_token"]).body

    reuse = kit.refresh(kit.basic, tokens["refresh_token"])

    assert_error(reuse, 400, "invalid_grant")
    assert [g for g, _ in kit.grants.reuse_revocations] == [grant_id]
    assert kit.grants.terms(grant_id, now()).active is False
    # Ending the grant stops everything issued on it: the legitimate holder's rotation too.
    assert_error(kit.refresh(kit.basic, rotated["refresh_token"]), 400, "invalid_grant")
    assert kit.store.access_token(rotated["access_token"]).revoked_at is not None


def test_attack_concurrent_refresh_is_settled_by_compare_and_set(kit, monkeypatch):
    """Two requests read the refresh token before either rotates it: the loser of the
    compare-and-set gets nothing and the reuse ends the grant."""
    tokens = kit.tokens(kit.basic)
    assert kit.refresh(kit.basic, tokens["refresh_token"]).status == 200
    stored = kit.store.get_refresh_token
    monkeypatch.setattr(kit.store, "get_refresh_token", lambda d: replace(stored(d), used_at=None))

    loser = kit.refresh(kit.basic, tokens["refresh_token"])

    assert_error(loser, 400, "invalid_grant")
    assert [g for g, _ in kit.grants.reuse_revocations] == [tokens["consent_id"]]


def test_attack_another_clients_refresh_token_is_refused_without_revoking(kit):
    """RFC 6749 §10.4: bound to its client. Another client holding it, even an already
    rotated one, proves no leak from the rightful client: the grant stays."""
    tokens = kit.tokens(kit.basic)
    rotated = kit.refresh(kit.basic, tokens["refresh_token"]).body
    for refresh_token in (tokens["refresh_token"], rotated["refresh_token"]):
        assert_error(kit.refresh(kit.post, refresh_token), 400, "invalid_grant")
    assert kit.grants.reuse_revocations == []
    assert kit.refresh(kit.basic, rotated["refresh_token"]).status == 200


@pytest.mark.parametrize(
    "change",
    [
        lambda kit, t: kit.store.set_refresh_token(t["refresh_token"], expires_at=now()),
        lambda kit, t: kit.store.set_refresh_token(t["refresh_token"], revoked_at=now()),
    ],
    ids=["expired", "revoked"],
)
def test_expired_or_revoked_refresh_token_is_refused(kit, change):
    tokens = kit.tokens(kit.basic)
    change(kit, tokens)
    assert_error(kit.refresh(kit.basic, tokens["refresh_token"]), 400, "invalid_grant")
    assert kit.grants.reuse_revocations == []


def test_unknown_refresh_token_is_refused(kit):
    kit.tokens(kit.basic)
    assert_error(kit.refresh(kit.basic, "not-a-refresh-token"), 400, "invalid_grant")


def test_missing_refresh_token_is_invalid_request(kit):
    response = kit.token({"grant_type": "refresh_token"}, auth=credentials(kit.basic))
    assert_error(response, 400, "invalid_request")


# --- The grant behind the refresh token -------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        lambda grants, grant_id: grants.expire(grant_id),
        lambda grants, grant_id: grants.make_one_time(grant_id),
        lambda grants, grant_id: grants.revoke(grant_id, tokens=False),
    ],
    ids=["grant-expired", "grant-no-longer-recurring", "grant-revoked"],
)
def test_refresh_refused_once_the_grant_is_not_refreshable(kit, change):
    tokens = kit.tokens(kit.basic)
    change(kit.grants, tokens["consent_id"])
    assert_error(kit.refresh(kit.basic, tokens["refresh_token"]), 400, "invalid_grant")
    assert kit.grants.reuse_revocations == []


def test_narrowed_grant_gives_a_narrower_scope(kit):
    tokens = kit.tokens(kit.basic)
    kit.grants.narrow(tokens["consent_id"], "dgfip_rfr email")
    refreshed = kit.refresh(kit.basic, tokens["refresh_token"]).body
    expected = {"openid", "profile", "birth", "dgfip_nbpart", "cnaf_quotient_familial"}
    assert set(refreshed["scope"].split()) == expected
    assert set(kit.store.access_token(refreshed["access_token"]).scope.split()) == expected
    assert set(kit.store.refresh_token(refreshed["refresh_token"]).scope.split()) == expected


def test_withdrawn_item_cannot_be_asked_for_explicitly(kit):
    tokens = kit.tokens(kit.basic)
    kit.grants.narrow(tokens["consent_id"], "dgfip_rfr")
    response = kit.refresh(kit.basic, tokens["refresh_token"], scope="openid dgfip_rfr")
    assert_error(response, 400, "invalid_scope")


def test_tokens_never_outlive_the_grant(kit):
    tokens = kit.tokens(kit.basic)
    grant_expiry = now() + 100
    kit.grants.expire(tokens["consent_id"], at=grant_expiry)
    refreshed = kit.refresh(kit.basic, tokens["refresh_token"]).body
    assert kit.basic.client.access_token_ttl > 100
    assert 0 < refreshed["expires_in"] <= 100
    assert kit.store.access_token(refreshed["access_token"]).expires_at <= grant_expiry
    assert kit.store.refresh_token(refreshed["refresh_token"]).expires_at <= grant_expiry


def test_tokens_from_a_code_never_outlive_the_grant(kit):
    issued = kit.obtain_code(kit.basic)
    grant_expiry = now() + 100
    kit.grants.expire(issued.grant_id, at=grant_expiry)
    body = kit.redeem(kit.basic, issued.code, issued.verifier).body
    assert 0 < body["expires_in"] <= 100
    assert kit.store.refresh_token(body["refresh_token"]).expires_at <= grant_expiry


# --- Scope (RFC 6749 §6) ----------------------------------------------------------------------


def test_narrower_scope_may_be_asked_for_and_the_refresh_token_keeps_its_own(kit):
    tokens = kit.tokens(kit.basic)
    original = kit.store.refresh_token(tokens["refresh_token"]).scope
    narrower = kit.refresh(kit.basic, tokens["refresh_token"], scope="openid dgfip_rfr").body
    assert narrower["scope"] == "openid dgfip_rfr"
    assert kit.store.access_token(narrower["access_token"]).scope == "openid dgfip_rfr"
    # "if omitted is treated as equal to the scope originally granted"
    assert kit.store.refresh_token(narrower["refresh_token"]).scope == original
    again = kit.refresh(kit.basic, narrower["refresh_token"]).body
    assert again["scope"] == original


@pytest.mark.parametrize(
    "scope", ["openid profile email dgfip_rfr cnous_statut_boursier", "openid unknown_scope"]
)
def test_broader_scope_is_refused(kit, scope):
    tokens = kit.tokens(kit.basic, granted_scope="openid profile email dgfip_rfr")
    response = kit.refresh(kit.basic, tokens["refresh_token"], scope=scope)
    assert_error(response, 400, "invalid_scope")
    assert kit.refresh(kit.basic, tokens["refresh_token"]).status == 200, "nothing burnt"
