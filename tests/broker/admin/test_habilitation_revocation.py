"""A habilitation revoked with a reason, from the portal or the command line: the reason is
plain text (PostgreSQL refuses a NUL outright: it must be a field error, never a 500)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from broker.admin.habilitation_revocation import revoke_as_administrator, revoke_as_operator
from broker.admin.habilitation_views import HabilitationRefused, revocation_of
from broker.core.db import Database
from broker.store.data_access_models import Habilitation
from broker.store.portal_models import AuditEntry
from tests.broker.admin.habilitation_support import administrator, organisation_habilitation


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.mark.parametrize("bad", ["\x00", "\x08", "\x1b[2J", "\x7f", "\x9b"])
def test_attack_control_characters_in_a_revocation_reason_refused(db, bad):
    habilitation_id = organisation_habilitation(db)
    for revoke in (
        lambda s: revoke_as_administrator(s, administrator(), habilitation_id, f"Motif{bad}"),
        lambda s: revoke_as_operator(s, "cli:ops", habilitation_id, f"Motif{bad}"),
    ):
        with pytest.raises(HabilitationRefused) as refused, db.transaction() as session:
            revoke(session)
        assert (refused.value.field, refused.value.status) == ("reason", 400)
    with db.reader() as session:
        assert session.get(Habilitation, habilitation_id).revoked_at is None
        assert session.exec(select(AuditEntry)).all() == []


def test_reason_keeps_its_line_breaks_and_the_portal_reads_it(db):
    habilitation_id = organisation_habilitation(db)
    with db.transaction() as session:
        revoke_as_operator(session, "cli:ops", habilitation_id, "Finalité\r\ndétournée\t(contrôle)")
    with db.transaction() as session:  # again: nothing changes, nothing audited
        revoke_as_operator(session, "cli:ops", habilitation_id, "Encore")
    with db.reader() as session:
        revocation = revocation_of(session, session.get(Habilitation, habilitation_id))
        assert len(session.exec(select(AuditEntry)).all()) == 1
    assert revocation is not None
    assert (revocation.actor, revocation.reason) == ("cli:ops", "Finalité\ndétournée\t(contrôle)")
