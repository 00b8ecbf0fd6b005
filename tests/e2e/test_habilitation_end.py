"""A habilitation that is revoked or expires stops its API keys and its service's access tokens
at their very next call, over real sockets: a broker, the data API and the provider simulators
each on their own port, the database changed between two calls as the portal (revocation by an
administrator) or time (the expiry date passing) changes it."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update
from sqlmodel import select

from broker.admin.api_keys import issue_key
from broker.admin.habilitation_revocation import revoke_as_administrator
from broker.store.data_access_models import Habilitation
from broker.store.models import Service
from tests.broker.admin.habilitation_support import (
    administrator,
    organisation_habilitation,
    requester,
)
from tests.e2e.data_api_support import (
    access_token,
    assert_error,
    assert_ok,
    call,
    identite_params,
    journal_row,
    unique,
)

QF_IDENTITE = "/v3/dss/quotient_familial/identite"
QF_FRANCE_CONNECT = "/v3/dss/quotient_familial/france_connect"
ENDINGS = ["revoked", "expired"]


def end(broker, habilitation_id: str, ending: str) -> None:
    """Revoked by an administrator through the portal's domain code (reason, audit trail), or
    expired: its expiry date set a second in the past, as time passing would leave it."""
    if ending == "revoked":
        with broker.state.db.transaction() as session:
            revoke_as_administrator(session, administrator(), habilitation_id, "Fin du marché")
        return
    with broker.state.db.transaction() as session:
        session.exec(
            update(Habilitation)
            .where(Habilitation.id == habilitation_id)  # type: ignore[arg-type]
            .values(expires_at=int(time.time()) - 1)
        )


@pytest.mark.parametrize("ending", ENDINGS)
def test_key_stops_at_the_next_call_when_its_habilitation_ends(broker, data_api, ending):
    alice = requester()
    habilitation = organisation_habilitation(broker.state.db)
    with broker.state.db.transaction() as session:
        issued = issue_key(session, alice, habilitation, "Logiciel cantine", int(time.time()))
    params = identite_params("nom_composé")

    data = assert_ok(call(data_api, QF_IDENTITE, issued.secret, params=params))
    assert data["quotient_familial"]["valeur"] == 635
    end(broker, habilitation, ending)

    for header in ("authorization", "x-api-key"):
        refused = call(data_api, QF_IDENTITE, issued.secret, header=header, params=params)
        error = assert_error(refused, 401, "00101")
        said = "a été révoquée" if ending == "revoked" else "a expiré"
        assert error["detail"] == f"L'habilitation de cette clé d'API {said}."
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        row = journal_row(data_api, refused)
        assert (row.outcome, row.status) == ("unauthorized", 401)


@pytest.mark.parametrize("ending", ENDINGS)
def test_access_token_stops_at_the_next_call_when_its_habilitation_ends(broker, data_api, ending):
    service = unique("CCAS")
    token = access_token(
        broker, "nom_composé", "openid profile cnaf_quotient_familial", service=service
    )
    with broker.state.db.reader() as session:
        [habilitation] = session.exec(
            select(Habilitation.id)
            .join(Service, Service.id == Habilitation.service_id)  # type: ignore[arg-type]
            .where(Service.name == service)
        ).all()

    data = assert_ok(call(data_api, QF_FRANCE_CONNECT, token.access_token, recipient=None))
    assert data["quotient_familial"]["valeur"] == 635
    end(broker, habilitation, ending)

    refused = call(data_api, QF_FRANCE_CONNECT, token.access_token, recipient=None)
    error = assert_error(refused, 403, "00100")
    said = "a été révoquée" if ending == "revoked" else "a expiré"
    assert error["detail"] == (
        f"L'habilitation sous laquelle l'usager a consenti {said} : ce jeton ne donne plus "
        "accès à ces données."
    )
    row = journal_row(data_api, refused)
    assert (row.outcome, row.status, row.credential) == ("forbidden", 403, "access_token")
