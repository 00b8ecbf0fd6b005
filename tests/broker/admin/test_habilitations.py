"""Changing what a habilitation tells citizens: checked as when it is added, its rights kept,
never on a habilitation that has ended."""

from __future__ import annotations

import pytest

from broker.admin.clients import AdminError
from broker.admin.consent_information import StatedInformation
from broker.admin.habilitations import (
    HabilitationRequest,
    add_habilitation,
    revoke_habilitation,
    set_consent_information,
)
from broker.core.db import Database

REQUEST = HabilitationRequest(
    service="CCAS de Villebourg",
    scopes="cnaf_quotient_familial cnaf_enfants",
    purpose="Tarifs sociaux",
    legal_basis="Code de l'action sociale",
    optional_scopes="cnaf_enfants",
    create_service=True,
)


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


def test_consent_information_is_replaced_and_the_rights_kept(db):
    with db.transaction() as session:
        added = add_habilitation(session, REQUEST)
    info = StatedInformation(controller="CCAS", reasons=("cnaf_enfants=Pour compter.",))
    with db.transaction() as session:
        changed = set_consent_information(session, added["id"], info)
    assert (changed["controller"], changed["reasons"]) == (
        "CCAS",
        {"cnaf_enfants": "Pour compter."},
    )
    rights = ("scopes", "optional_scopes", "purpose", "legal_basis", "consent_days", "created_at")
    assert {k: changed[k] for k in rights} == {k: added[k] for k in rights}
    with db.transaction() as session:
        cleared = set_consent_information(session, added["id"], StatedInformation())
    assert (cleared["controller"], cleared["reasons"]) == (None, {})


def test_attack_reason_added_later_for_a_scope_not_in_the_habilitation(db):
    with db.transaction() as session:
        added = add_habilitation(session, REQUEST)
    refused = pytest.raises(AdminError, match="cnaf_adresse, which is not among --scopes")
    with refused, db.transaction() as session:
        set_consent_information(
            session, added["id"], StatedInformation(reasons=("cnaf_adresse=Pour écrire.",))
        )


def test_an_ended_or_unknown_habilitation_is_not_changed(db):
    with db.transaction() as session:
        added = add_habilitation(session, REQUEST)
        revoke_habilitation(session, added["id"])
    for habilitation_id, message in (
        (added["id"], "no longer active"),
        ("hab_x", "no habilitation"),
    ):
        refused = pytest.raises(AdminError, match=message)
        with refused, db.transaction() as session:
            set_consent_information(
                session, habilitation_id, StatedInformation(dpo="dpo@x.example")
            )
