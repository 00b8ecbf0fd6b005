"""Agents and their roles (broker.admin.agents): created from the identity provider's word,
roles granted by email, requester by SIRET, every change audited in its transaction."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import select

from broker.admin.agents import (
    BAD_EMAIL,
    NEEDS_PROVIDER,
    Identity,
    UnverifiedEmail,
    agent_of,
    agent_roles,
    grant_errors,
    grant_role,
    list_roles,
    load_agent,
    revoke_role,
    upsert_agent,
)
from broker.admin.client_profile import AdminError
from broker.admin.principal import Role
from broker.core.db import Database
from broker.store.portal_models import AuditEntry, PortalAgent, PortalRole

VILLEBOURG = "21730001500013"
ISSUER = "https://agents.example"


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


def identity(**changes) -> Identity:
    values = {
        "issuer": ISSUER,
        "subject": "sub-1",
        "email": "Anne.Roy@Villebourg.example",
        "given_name": "Anne",
        "family_name": "ROY",
        "siret": VILLEBOURG,
        "organisation": "Mairie de Villebourg",
    }
    values.update(changes)
    return Identity(**values)


def actions(session) -> list[str]:
    return [e.action for e in session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()]


def test_an_agent_with_a_siret_is_a_requester_and_roles_come_by_email(db):
    with db.transaction() as session:
        record = upsert_agent(session, identity(), 1000)
        assert record.email == "anne.roy@villebourg.example"
        assert agent_of(session, record).roles == {Role.REQUESTER}
        grant_role(session, email="ANNE.ROY@villebourg.example", role="instructor", actor="t")
        grant_role(session, email=record.email, role="data_provider", provider="cnaf", actor="t")
        grant_role(session, email=record.email, role="data_provider", provider="cnous", actor="t")
        agent = agent_of(session, record)
        assert agent.roles == {Role.REQUESTER, Role.INSTRUCTOR, Role.DATA_PROVIDER}
        assert agent.providers == {"cnaf", "cnous"}
        assert agent.actor == f"agent:{record.id} anne.roy@villebourg.example"


def test_the_same_subject_is_the_same_agent_refreshed(db):
    with db.transaction() as session:
        first = upsert_agent(session, identity(), 1000)
        again = upsert_agent(
            session, identity(given_name="Anne-Marie", siret="20005478900017"), 2000
        )
        assert again.id == first.id and again.given_name == "Anne-Marie"
        assert again.siret == "20005478900017" and again.last_sign_in_at == 2000
        other = upsert_agent(session, identity(subject="sub-2"), 3000)
        assert other.id != first.id
        assert len(session.exec(select(PortalAgent)).all()) == 2
        # created, its organisation changed, another created; a name change is not audited
        assert actions(session) == ["agent.create", "agent.update", "agent.create"]


def test_role_a_malformed_siret_makes_no_requester(db):
    with db.transaction() as session:
        record = upsert_agent(session, identity(siret="2173 0001 5000"), 1000)
        assert record.siret is None
        assert Role.REQUESTER not in agent_of(session, record).roles


def test_grants_and_revocations_are_audited_once(db):
    with db.transaction() as session:
        assert grant_role(session, email="a@b.example", role="administrator", actor="cli:op")
        assert not grant_role(session, email="a@b.example", role="administrator", actor="cli:op")
        assert revoke_role(session, email="a@b.example", role="administrator", actor="cli:op")
        assert not revoke_role(session, email="a@b.example", role="administrator", actor="cli:op")
        assert actions(session) == ["role.grant", "role.revoke"]
        assert agent_roles(session, "a@b.example") == (frozenset(), frozenset())


@pytest.mark.parametrize(
    ("role", "provider", "message"),
    [
        ("requester", "", "role must be one of"),
        ("superuser", "", "role must be one of"),
        ("data_provider", "", "names a provider of the catalogue"),
        ("data_provider", "../cnaf", "names a provider of the catalogue"),
        ("instructor", "cnaf", "data provider role only"),
    ],
)
def test_bad_grants_are_refused_and_nothing_is_written(db, role, provider, message):
    with pytest.raises(AdminError, match=message), db.transaction() as session:
        grant_role(session, email="a@b.example", role=role, provider=provider, actor="t")
    with db.transaction() as session:
        assert list_roles(session) == [] or all(
            g.email != "a@b.example" for g in list_roles(session)
        )
        assert actions(session) == []


def test_attack_siret_with_a_wrong_check_key_names_no_organisation(db):
    """14 digits whose Luhn key fails (a typo, or an invented number) make no requester."""
    wrong_key = VILLEBOURG[:-1] + str((int(VILLEBOURG[-1]) + 1) % 10)
    with db.transaction() as session:
        record = upsert_agent(session, identity(siret=wrong_key), 1000)
        assert record.siret is None
        assert Role.REQUESTER not in agent_of(session, record).roles
        valid = upsert_agent(session, identity(subject="sub-2", siret=VILLEBOURG), 1000)
        assert Role.REQUESTER in agent_of(session, valid).roles


def test_attack_unverified_email_gets_no_granted_role(db, caplog):
    """Whoever makes the provider say an administrator's email, unverified, is not signed in
    with that administrator's roles: the sign-in is refused, logged, nothing written."""
    with db.transaction() as session:
        grant_role(session, email="anne.roy@villebourg.example", role="administrator", actor="t")
    with pytest.raises(UnverifiedEmail), db.transaction() as session:
        upsert_agent(session, identity(email_verified=False), 1000)
    assert "did not verify" in caplog.text
    with db.transaction() as session:
        assert session.exec(select(PortalAgent)).all() == []
        assert actions(session) == ["role.grant"]


def test_unverified_email_without_grants_signs_in_as_a_requester_only(db, caplog):
    caplog.set_level(logging.INFO, "broker.admin.agents")
    with db.transaction() as session:
        record = upsert_agent(session, identity(email_verified=False), 1000)
        assert agent_of(session, record).roles == {Role.REQUESTER}
        verified = upsert_agent(session, identity(subject="sub-2", email_verified=True), 1000)
        grant_role(session, email=verified.email, role="instructor", actor="t")
        assert Role.INSTRUCTOR in agent_of(session, verified).roles
    assert "no granted role applies" in caplog.text


def test_attack_role_granted_later_to_an_unverified_email_is_ignored(db):
    """The provider said the email was not verified, and no role was granted to it then: the
    agent signed in as a requester. A role granted to that email afterwards (an administrator
    trusting the address) must not reach this agent, whose session goes on; it reaches them
    once their provider vouches for the email."""
    with db.transaction() as session:
        record = upsert_agent(session, identity(email_verified=False), 1000)
        agent_id = record.id
        assert record.email_verified is False
    with db.transaction() as session:
        grant_role(session, email="anne.roy@villebourg.example", role="administrator", actor="t")
        grant_role(
            session,
            email="anne.roy@villebourg.example",
            role="data_provider",
            provider="cnaf",
            actor="t",
        )
    with db.transaction() as session:
        agent = load_agent(session, agent_id)
        assert agent is not None
        assert agent.roles == {Role.REQUESTER}  # the SIRET still makes a requester
        assert agent.providers == frozenset()
        # another agent, same email, vouched for by their provider: the grants are theirs
        other = upsert_agent(session, identity(subject="sub-2", email_verified=True), 1100)
        assert Role.ADMINISTRATOR in agent_of(session, other).roles
    with db.transaction() as session:
        # the provider now vouches for it (or stops saying): the roles apply, and the change
        # is audited
        again = upsert_agent(session, identity(email_verified=None), 2000)
        assert again.id == agent_id and again.email_verified is None
        assert agent_of(session, again).roles == {
            Role.REQUESTER,
            Role.ADMINISTRATOR,
            Role.DATA_PROVIDER,
        }
        assert actions(session)[-1] == "agent.update"


def test_email_verified_is_stored_at_each_sign_in(db):
    with db.transaction() as session:
        for verified in (True, None, False, True):
            record = upsert_agent(session, identity(email_verified=verified), 1000)
            assert record.email_verified is verified
    with db.transaction() as session:
        [stored] = session.exec(select(PortalAgent)).all()
        assert stored.email_verified is True


@pytest.mark.parametrize("provider", ["acme", "CNAF", "cnaf ", ""])
def test_role_data_provider_grant_names_a_provider_of_the_catalogue(db, provider):
    with db.transaction() as session, pytest.raises(AdminError, match="catalogue"):
        grant_role(
            session, email="claire@cnaf.example", role="data_provider", provider=provider, actor="t"
        )
    assert grant_errors("claire@cnaf.example", "data_provider", "cnaf") == {}
    assert grant_errors("x", "data_provider", "acme") == {
        "email": BAD_EMAIL,
        "provider": NEEDS_PROVIDER,
    }


def test_a_grant_whose_provider_left_the_catalogue_can_still_be_revoked(db):
    with db.transaction() as session:
        session.add(
            PortalRole(
                email="old@provider.example",
                role="data_provider",
                provider="gone",
                granted_at=1,
                granted_by="t",
            )
        )
    with db.transaction() as session:
        assert revoke_role(
            session, email="old@provider.example", role="data_provider", provider="gone", actor="t"
        )
