"""The recipient of a call must be one of its habilitation's recipients (SIRETs): refused
otherwise with a 403 naming the allowed ones, and journaled as refused."""

from __future__ import annotations

import pytest

from broker.catalogue.siret import valid_siret
from broker.resources import errors
from broker.resources.recipients import ALLOWED_RECIPIENTS, check_recipient
from tests.broker.resources.data_api_kit import (
    DINUM,
    IDENTITY,
    QF_IDENTITE,
    VILLEBOURG,
    api_key,
    data_api_in_process,
)

ALL_ZEROS = "00000000000000"
ANOTHER_BODY = "21440109300015"  # a SIRET of another public body


def refusal(recipient: str | None, allowed) -> errors.ApiError:
    with pytest.raises(errors.ApiError) as raised:
        check_recipient(recipient, allowed)
    return raised.value


def test_a_listed_recipient_or_none_given_passes():
    check_recipient(DINUM, (VILLEBOURG, DINUM))
    check_recipient(None, (DINUM,))  # a token's call names none: nothing to check
    check_recipient(None, ())


def test_attack_recipient_not_bound():
    refused = refusal(ANOTHER_BODY, (VILLEBOURG, DINUM))
    assert refused.status == 403 and refused.code == "00100"
    [item] = refused.body()["errors"]
    assert f"{VILLEBOURG}, {DINUM}" in item["detail"] and ANOTHER_BODY in item["detail"]
    assert item["meta"][ALLOWED_RECIPIENTS] == [VILLEBOURG, DINUM]
    assert item["meta"]["introspect"]  # like every 403, it links the caller's rights
    assert item["source"] == {"parameter": "recipient"}


def test_attack_recipient_all_zeros():
    """00000000000000 has a valid Luhn key: it passes as a SIRET, never as a recipient."""
    assert valid_siret(ALL_ZEROS)
    assert refusal(ALL_ZEROS, (DINUM,)).status == 403


@pytest.mark.parametrize("unlisted", [None, ()])
def test_attack_habilitation_without_recipients_sends_data_to_no_one(unlisted):
    refused = refusal(DINUM, unlisted)
    [item] = refused.body()["errors"]
    assert "aucun organisme destinataire" in item["detail"]
    assert item["meta"][ALLOWED_RECIPIENTS] == []


def test_attack_recipient_not_bound_over_the_api_is_refused_and_journaled(state):
    key = api_key(state, recipients=(DINUM,))
    headers = {"X-Api-Key": key.secret}
    with data_api_in_process(state) as api:
        refused = api.get(QF_IDENTITE, headers, {**IDENTITY, "recipient": ANOTHER_BODY})
        zeros = api.get(QF_IDENTITE, headers, {**IDENTITY, "recipient": ALL_ZEROS})
        row = api.journal_row(refused)
    for response in (refused, zeros):
        assert response.status_code == 403, response.text
        [item] = response.json()["errors"]
        assert item["code"] == "00100" and item["meta"][ALLOWED_RECIPIENTS] == [DINUM]
        # The link to the caller's rights is absolute, on the data API's public address.
        introspect = state.settings.resource_server_audience + "/v3/introspect"
        assert item["meta"]["introspect"] == introspect and introspect in item["detail"]
    assert (row.outcome, row.status, row.error_code) == ("forbidden", 403, "00100")
    assert row.recipient == ANOTHER_BODY  # who the data would have gone to, for the audit
    assert row.habilitation_id == key.habilitation_id and row.scopes == []


def test_attack_key_of_a_habilitation_without_recipients_gets_no_data(state):
    key = api_key(state, recipients=())
    with data_api_in_process(state) as api:
        response = api.get(QF_IDENTITE, {"X-Api-Key": key.secret}, {**IDENTITY, "recipient": DINUM})
    assert response.status_code == 403
    assert "aucun organisme destinataire" in response.json()["errors"][0]["detail"]


def test_a_malformed_recipient_is_a_parameter_error_first(state):
    """The recipient is checked once it is known to be a SIRET: a typo gets the 422 that
    says so, not a list of SIRETs."""
    key = api_key(state, recipients=(DINUM,))
    with data_api_in_process(state) as api:
        response = api.get(
            QF_IDENTITE, {"X-Api-Key": key.secret}, {**IDENTITY, "recipient": "13002526500014"}
        )
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"] == {"parameter": "recipient"}
