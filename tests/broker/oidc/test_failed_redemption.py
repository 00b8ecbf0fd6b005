"""A code is consumed by any failed redemption of it, PKCE failures included: neither a
verifier nor a redirect URI can be guessed by retrying. A failed redemption revokes nothing;
only the replay of a code that was redeemed revokes what it produced."""

from __future__ import annotations

import pytest

from tests.broker.oidc.kit import pkce_pair


def assert_error(response, status: int, error: str) -> None:
    assert (response.status, response.body.get("error")) == (status, error), response.body


def burnt_logs(caplog) -> list:
    return [
        r
        for r in caplog.records
        if r.getMessage() == "authorization code consumed by a failed redemption"
    ]


@pytest.mark.parametrize(
    "overrides, error",
    [
        pytest.param({"code_verifier": pkce_pair()[0]}, "invalid_grant", id="wrong-verifier"),
        pytest.param({"code_verifier": None}, "invalid_request", id="missing-verifier"),
        pytest.param({"code_verifier": "x" * 42}, "invalid_request", id="malformed-verifier"),
        pytest.param(
            {"redirect_uri": "https://service-a.example/other"}, "invalid_grant", id="redirect-uri"
        ),
        pytest.param({"redirect_uri": None}, "invalid_grant", id="missing-redirect-uri"),
    ],
)
def test_attack_failed_redemption_burns_the_code(kit, caplog, overrides, error):
    issued = kit.obtain_code(kit.basic)
    params = {"code_verifier": issued.verifier, **overrides}
    verifier = params.pop("code_verifier")
    assert_error(kit.redeem(kit.basic, issued.code, verifier, **params), 400, error)
    assert kit.store.code(issued.code).consumed_at is not None
    # The right verifier and redirect URI now come too late.
    assert_error(kit.redeem(kit.basic, issued.code, issued.verifier), 400, "invalid_grant")
    assert kit.store.access_tokens == {}
    [log] = burnt_logs(caplog)
    assert log.client_id == kit.basic.client_id and not log.exc_info
    assert issued.code not in caplog.text


def test_attack_pkce_verifier_guessing_burns_the_code(kit):
    issued = kit.obtain_code(kit.basic)
    guesses = [pkce_pair()[0] for _ in range(5)] + [issued.verifier]
    results = [kit.redeem(kit.basic, issued.code, guess).status for guess in guesses]
    assert results == [400] * 6  # the right verifier, sixth, is too late
    assert kit.store.access_tokens == {}


def test_attack_code_presented_by_another_client_burns_it(kit, caplog):
    issued = kit.obtain_code(kit.basic)
    stolen = kit.redeem(kit.post, issued.code, issued.verifier, redirect_uri=kit.basic.redirect_uri)
    assert_error(stolen, 400, "invalid_grant")
    assert_error(kit.redeem(kit.basic, issued.code, issued.verifier), 400, "invalid_grant")
    [log] = burnt_logs(caplog)
    assert log.client_id == kit.basic.client_id


def test_failed_redemption_revokes_no_tokens_but_a_replay_still_does(kit, caplog):
    first = kit.tokens(kit.basic)
    kit.tokens(kit.basic)

    def revoked() -> int:
        rows = list(kit.store.access_tokens.values()) + list(kit.store.refresh_tokens.values())
        return sum(row.record.revoked_at is not None for row in rows)

    # A failed redemption of another code revokes nothing.
    issued = kit.obtain_code(kit.basic)
    assert_error(kit.redeem(kit.basic, issued.code, pkce_pair()[0]), 400, "invalid_grant")
    assert revoked() == 0
    # The replay of a redeemed code revokes the tokens it produced (access and refresh token),
    # and only those.
    replay = kit.redeem(kit.basic, first["code"], first["issued"].verifier)
    assert_error(replay, 400, "invalid_grant")
    replays = [r for r in caplog.records if r.getMessage() == "authorization code replayed"]
    assert [r.tokens_revoked for r in replays] == [2]
    assert revoked() == 2
