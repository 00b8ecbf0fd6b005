"""Recipients bound to the habilitation, over real HTTP: an API key's call and a token's call
naming a recipient send data only to one of the habilitation's recipients; the others are
refused (403, the allowed SIRETs named) and journaled as refused. The demo habilitation lists
the recipient of the documentation's examples."""

from __future__ import annotations

import pytest
from sqlmodel import select

from broker.demo.seed import DEMO_CLIENT_ID, DEMO_RECIPIENTS
from broker.store.data_access_models import Habilitation
from broker.store.models import OAuthClient
from tests.e2e.data_api_support import (
    DINUM,
    access_token,
    api_key,
    assert_error,
    assert_ok,
    call,
    identite_params,
    journal_row,
    live_broker,
    live_data_api,
    route,
)

QF = "dss/quotient_familial"
QF_SCOPE = "cnaf_quotient_familial cnaf_enfants"
LOGIN = "nom_composé"
ANOTHER_BODY = "21440109300015"
ALL_ZEROS = "00000000000000"  # a valid Luhn key


@pytest.fixture(scope="module")
def shared_broker(db_factory, tmp_path_factory, demo_idp):
    with live_broker(db_factory, tmp_path_factory.mktemp("var"), demo_idp) as server:
        yield server


@pytest.fixture(scope="module")
def api(shared_broker, simulators):
    with live_data_api(shared_broker, simulators) as server:
        yield server


def test_attack_recipient_not_bound(shared_broker, api):
    key = api_key(shared_broker, QF_SCOPE)
    path = route(QF, "identite")
    params = identite_params(LOGIN)
    assert assert_ok(call(api, path, key.secret, header="x-api-key", params=params))
    for recipient in (ANOTHER_BODY, ALL_ZEROS):
        refused = call(
            api, path, key.secret, header="x-api-key", params=params, recipient=recipient
        )
        error = assert_error(refused, 403, "00100")
        assert DINUM in error["detail"] and error["meta"]["allowed_recipients"] == [DINUM]
        assert error["meta"]["introspect"] == (
            shared_broker.settings.resource_server_audience + "/v3/introspect"
        )
        row = journal_row(api, refused)
        assert (row.outcome, row.status, row.recipient) == ("forbidden", 403, recipient)
        assert row.credential_id == key.id and row.scopes == []


def test_attack_token_naming_an_unbound_recipient(shared_broker, api):
    """A token needs no recipient; one it names anyway is checked like a key's."""
    token = access_token(shared_broker, LOGIN, QF_SCOPE)
    path = route(QF, "france_connect")
    assert assert_ok(call(api, path, token.access_token, recipient=None))
    assert assert_ok(call(api, path, token.access_token, recipient=DINUM))
    refused = call(api, path, token.access_token, recipient=ANOTHER_BODY)
    error = assert_error(refused, 403, "00100")
    assert error["meta"]["allowed_recipients"] == [DINUM]
    assert journal_row(api, refused).outcome == "forbidden"


def test_demo_habilitation_lists_the_examples_recipient(shared_broker):
    assert DINUM in DEMO_RECIPIENTS
    with shared_broker.state.db.reader() as session:
        client = session.get(OAuthClient, DEMO_CLIENT_ID)
        assert client is not None
        habilitations = session.exec(
            select(Habilitation).where(Habilitation.service_id == client.service_id)
        ).all()
    assert habilitations and all(DINUM in (h.recipients or ()) for h in habilitations)
