"""The last administrator role cannot be revoked, even by two administrators revoking each
other at the same moment."""

from __future__ import annotations

import threading
import time

import pytest
from sqlmodel import delete

from broker.admin.agents import agent_roles, grant_role
from broker.admin.principal import Role
from broker.admin.role_grants import LastAdministrator, revoke_keeping_an_administrator
from broker.core.db import Database
from broker.store.portal_models import PortalRole

ALICE, BOB = "alice@operateur.example", "bob@operateur.example"


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    with database.transaction() as session:
        session.exec(delete(PortalRole).where(PortalRole.role == Role.ADMINISTRATOR))  # type: ignore[call-overload]
        for email in (ALICE, BOB):
            grant_role(session, email=email, role="administrator", actor="test:setup")
    yield database
    database.dispose()


def admins(db: Database) -> set[str]:
    with db.reader() as session:
        return {e for e in (ALICE, BOB) if Role.ADMINISTRATOR in agent_roles(session, e)[0]}


def test_role_last_administrator_kept(db):
    with db.transaction() as session:
        assert revoke_keeping_an_administrator(
            session, email=BOB, role="administrator", actor="agent:a alice"
        )
    with pytest.raises(LastAdministrator), db.transaction() as session:
        revoke_keeping_an_administrator(
            session, email=ALICE, role="administrator", actor="agent:a alice"
        )
    assert admins(db) == {ALICE}
    with db.transaction() as session:  # other roles of the last administrator may go
        grant_role(session, email=ALICE, role="instructor", actor="test:setup")
        assert revoke_keeping_an_administrator(
            session, email=ALICE, role="instructor", actor="agent:a alice"
        )


def test_role_administrators_revoking_each_other_at_once_keep_one(db):
    """Alice's revocation of Bob is written but not committed when Bob's of Alice starts:
    Bob's must wait for it, then see that nobody would be left."""
    written, outcome = threading.Event(), {}

    def alice_revokes_bob() -> None:
        with db.transaction() as session:
            revoke_keeping_an_administrator(
                session, email=BOB, role="administrator", actor="agent:a alice"
            )
            written.set()
            time.sleep(0.3)  # Bob's revocation runs meanwhile

    def bob_revokes_alice() -> None:
        written.wait(5)
        try:
            with db.transaction() as session:
                revoke_keeping_an_administrator(
                    session, email=ALICE, role="administrator", actor="agent:b bob"
                )
        except LastAdministrator:
            outcome["bob"] = "refused"
        except Exception as exc:  # anything else fails the assertion below, by its name
            outcome["bob"] = type(exc).__name__
        else:
            outcome["bob"] = "revoked"

    threads = [
        threading.Thread(target=alice_revokes_bob),
        threading.Thread(target=bob_revokes_alice),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcome["bob"] == "refused"
    assert admins(db) == {ALICE}
