"""The demo seed's part for the operators' portal: the test agents' roles, and the demo
service and habilitation owned by the Mairie de Villebourg; idempotent, and an older demo
database is brought up to date in place."""

from __future__ import annotations

from sqlmodel import select

from broker.admin.agents import agent_roles, list_roles
from broker.core.db import Database
from broker.demo.agents import AGENTS, VILLEBOURG_SIRET
from broker.demo.seed import DEMO_CLIENT_ID, seed
from broker.store.data_access_models import Habilitation
from broker.store.models import OAuthClient, Service
from broker.store.portal_models import AuditEntry
from tests.conftest import make_settings


def demo_rows(session) -> tuple[Service, list[Habilitation]]:
    client = session.get(OAuthClient, DEMO_CLIENT_ID)
    service = session.get(Service, client.service_id)
    habilitations = session.exec(
        select(Habilitation).where(Habilitation.service_id == service.id)
    ).all()
    return service, list(habilitations)


def test_the_test_agents_have_their_roles(database_url):
    """The test databases are seeded as ``broker demo seed`` seeds."""
    db = Database(database_url)
    with db.transaction() as session:
        for agent in AGENTS:
            roles, providers = agent_roles(session, agent.email)
            assert sorted(roles) == sorted(role for role, _ in agent.roles)
            assert providers == {provider for _, provider in agent.roles if provider}
        service, habilitations = demo_rows(session)
        assert service.organisation_siret == VILLEBOURG_SIRET
        assert [h.organisation_siret for h in habilitations] == [VILLEBOURG_SIRET]
        assert session.exec(select(AuditEntry)).all() == []  # demo data, not operators' changes
    db.dispose()


def test_seeding_again_changes_nothing_and_updates_an_older_database(database_url, var_dir):
    db = Database(database_url)
    with db.transaction() as session:
        service, [habilitation] = demo_rows(session)
        service.organisation_siret = None  # as a database seeded before the portal
        habilitation.organisation_siret = None
        session.add_all([service, habilitation])
    with db.transaction() as session:
        roles_before = [g.as_dict() for g in list_roles(session)]
    settings = make_settings(
        database_url, var_dir, "http://127.0.0.1:8000", "http://127.0.0.1:8004"
    )
    for _ in range(2):
        with db.transaction() as session:
            result = seed(session, settings, "http://127.0.0.1:8001")
    assert result["demo_organisation_siret"] == VILLEBOURG_SIRET
    with db.transaction() as session:
        service, [habilitation] = demo_rows(session)
        assert service.organisation_siret == habilitation.organisation_siret == VILLEBOURG_SIRET
        assert [g.as_dict() for g in list_roles(session)] == roles_before  # no duplicates
    db.dispose()
