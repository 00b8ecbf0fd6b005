"""Habilitations as the portal lists them: by role, with where each stands, the requests
behind it, and the administrators' revocation (reason required, audited)."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from broker.admin.habilitation_revocation import revoke_as_administrator
from broker.admin.habilitation_views import (
    HabilitationRefused,
    Standing,
    habilitation_lines,
    open_change_request,
    request_history,
    revocation_of,
    standing,
    visible_habilitation,
)
from broker.admin.key_rights import key_rights
from broker.admin.principal import Role
from broker.core.db import Database
from broker.store.data_access_models import Habilitation
from broker.store.portal_models import (
    AuditEntry,
    HabilitationRequestRecord,
    HabilitationRequestVersion,
    PortalAgent,
)
from tests.broker.admin.habilitation_support import (
    DINUM,
    VAL_FLEURI,
    VILLEBOURG,
    administrator,
    agent,
    end_habilitation,
    instructor,
    organisation_habilitation,
    requester,
)


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


def test_role_requester_sees_only_own_organisation_habilitations(db):
    mine = organisation_habilitation(db)
    theirs = organisation_habilitation(db, VAL_FLEURI)
    alice = requester()
    with db.reader() as session:
        lines = habilitation_lines(session, alice, int(time.time()))
        assert mine in {line.id for line in lines} and theirs not in {line.id for line in lines}
        assert {line.organisation_siret for line in lines} == {VILLEBOURG}
        with pytest.raises(HabilitationRefused) as refused:
            visible_habilitation(session, alice, theirs)
        assert refused.value.status == 404
        everyone = {line.id for line in habilitation_lines(session, instructor(), 0)}
        assert {mine, theirs} <= everyone
        assert {mine, theirs} <= {
            line.id for line in habilitation_lines(session, administrator(), 0)
        }
        # A data provider, or an agent without a role, sees none.
        provider = agent(Role.DATA_PROVIDER, siret=VILLEBOURG)
        assert habilitation_lines(session, provider, 0) == []
        with pytest.raises(HabilitationRefused):
            visible_habilitation(session, provider, mine)


def test_standing_of_a_habilitation():
    now = 1_900_000_000
    running = Habilitation(
        id="h", service_id="s", scopes=[], purpose="p", legal_basis="l", created_at=0
    )
    assert standing(running, now) is Standing.ACTIVE
    running.expires_at = now + 91 * 86400
    assert standing(running, now) is Standing.ACTIVE
    running.expires_at = now + 89 * 86400
    assert standing(running, now) is Standing.EXPIRING
    running.expires_at = now
    assert standing(running, now) is Standing.EXPIRED
    running.revoked_at = now - 5
    assert standing(running, now) is Standing.REVOKED


def test_only_administrators_revoke_with_a_reason_kept_in_the_audit_trail(db):
    habilitation = organisation_habilitation(db)
    for who in (requester(), instructor()):
        with pytest.raises(HabilitationRefused) as refused, db.transaction() as session:
            revoke_as_administrator(session, who, habilitation, "Je veux")
        assert refused.value.status == 403
    with pytest.raises(HabilitationRefused) as refused, db.transaction() as session:
        revoke_as_administrator(session, administrator(), habilitation, "   ")
    assert refused.value.field == "reason"
    with db.reader() as session:
        assert session.get(Habilitation, habilitation).revoked_at is None
        assert session.exec(select(AuditEntry)).all() == []

    adam = administrator()
    with db.transaction() as session:
        revoke_as_administrator(session, adam, habilitation, "Finalité détournée")
    with db.reader() as session:
        row = session.get(Habilitation, habilitation)
        assert row.revoked_at is not None
        revocation = revocation_of(session, row)
        [entry] = session.exec(select(AuditEntry)).all()
    assert revocation is not None
    assert (revocation.actor, revocation.reason) == (adam.actor, "Finalité détournée")
    assert (entry.action, entry.target_type, entry.target_id) == (
        "habilitation.revoke",
        "habilitation",
        habilitation,
    )
    assert entry.after == {"revoked_at": row.revoked_at, "reason": "Finalité détournée"}
    with pytest.raises(HabilitationRefused) as refused, db.transaction() as session:
        revoke_as_administrator(session, adam, habilitation, "Encore")
    assert refused.value.status == 409


def test_request_history_and_the_open_change(db):
    habilitation = organisation_habilitation(db)
    now = int(time.time())
    with db.transaction() as session:
        session.add(
            PortalAgent(
                id="agt_alice",
                idp_issuer="https://idp.example",
                idp_subject="alice",
                email="alice@villebourg.fr",
                siret=VILLEBOURG,
                created_at=now,
                last_sign_in_at=now,
            )
        )
        session.flush()
        for offset, (request_id, status, target) in enumerate(
            (
                ("req_first", "approved", None),
                ("req_change", "submitted", habilitation),
                ("req_other", "draft", None),
            )
        ):
            session.add(
                HabilitationRequestRecord(
                    id=request_id,
                    organisation_siret=VILLEBOURG,
                    status=status,
                    habilitation_id=target,
                    filed_by="agt_alice",
                    created_at=now + offset,
                    updated_at=now + offset,
                )
            )
            session.add(
                HabilitationRequestVersion(
                    request_id=request_id,
                    number=1,
                    content={"organisation": {"siret": VILLEBOURG, "name": "Mairie de Villebourg"}},
                    author="agt_alice",
                    created_at=now,
                )
            )
        session.flush()
        row = session.get(Habilitation, habilitation)
        row.request_id = "req_first"
        session.add(row)
    with db.reader() as session:
        row = session.get(Habilitation, habilitation)
        history = request_history(session, row)
        [line] = [x for x in habilitation_lines(session, requester(), now) if x.id == habilitation]
    assert [(r.id, r.is_change) for r in history] == [("req_first", False), ("req_change", True)]
    change = open_change_request(history)
    assert change is not None and change.id == "req_change"
    assert line.organisation == "Mairie de Villebourg"


def test_key_rights_are_the_habilitations(db):
    habilitation = organisation_habilitation(
        db, scopes="cnaf_quotient_familial dgfip_rfr", recipients=[DINUM], rate_limit=None
    )
    with db.reader() as session:
        row = session.get(Habilitation, habilitation)
    rights = key_rights(row, platform_rate_limit=20)
    assert [g.provider.key for g in rights.groups] == ["cnaf", "dgfip"]
    assert [s.name for s in rights.groups[0].scopes] == ["cnaf_quotient_familial"]
    by_product = {e.product.key: e for e in rights.endpoints}
    qf = by_product["dss/quotient_familial"]
    assert qf.key_routes == ("/v3/dss/quotient_familial/identite",)
    assert qf.france_connect_route == "/v3/dss/quotient_familial/france_connect"
    dgfip = by_product["dgfip/situation_fiscale"]
    assert dgfip.key_routes == ()  # France Connect only: a key cannot call it
    assert (rights.recipients, rights.rate_limit, rights.default_rate_limit) == ((DINUM,), 20, True)
    end_habilitation(db, habilitation, revoked=False)
