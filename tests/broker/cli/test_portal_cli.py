"""``broker portal roles``: grant, revoke, list, each change in the audit trail with the
operating-system user as its actor."""

from __future__ import annotations

import getpass
import json

from sqlmodel import select

from broker.core.db import Database
from broker.store.portal_models import AuditEntry

ACTOR = f"cli:{getpass.getuser()}"


def audit_entries(database_url: str) -> list[AuditEntry]:
    db = Database(database_url)
    with db.transaction() as session:
        entries = list(session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all())
    db.dispose()
    return entries


def test_roles_are_granted_listed_and_revoked_with_audit(cli, database_url):
    granted = json.loads(
        cli("portal", "roles", "grant", "Ines@Operateur.example", "instructor").stdout
    )
    assert granted == {
        "email": "ines@operateur.example",
        "role": "instructor",
        "provider": "",
        "granted": True,
    }
    again = json.loads(
        cli("portal", "roles", "grant", "ines@operateur.example", "instructor").stdout
    )
    assert again["granted"] is False  # already had it: nothing written
    cli("portal", "roles", "grant", "claire@cnaf.example", "data_provider", "--provider", "cnaf")
    listed = json.loads(cli("portal", "roles", "list").stdout)
    mine = [(r["email"], r["role"], r["provider"], r["granted_by"]) for r in listed]
    assert ("ines@operateur.example", "instructor", "", ACTOR) in mine
    assert ("claire@cnaf.example", "data_provider", "cnaf", ACTOR) in mine
    revoked = json.loads(
        cli("portal", "roles", "revoke", "ines@operateur.example", "instructor").stdout
    )
    assert revoked["revoked"] is True
    entries = [e for e in audit_entries(database_url) if e.target_type == "agent_role"]
    assert [(e.actor, e.action, e.target_id) for e in entries] == [
        (ACTOR, "role.grant", "ines@operateur.example"),
        (ACTOR, "role.grant", "claire@cnaf.example"),
        (ACTOR, "role.revoke", "ines@operateur.example"),
    ]
    assert entries[1].after == {
        "email": "claire@cnaf.example",
        "role": "data_provider",
        "provider": "cnaf",
    }
    assert entries[2].before["role"] == "instructor" and entries[2].after is None


def test_bad_grants_are_one_readable_line(cli, database_url):
    no_provider = cli("portal", "roles", "grant", "claire@cnaf.example", "data_provider", ok=False)
    assert no_provider.exit_code == 1 and "--provider" in no_provider.stderr
    stray = cli(
        "portal", "roles", "grant", "a@b.example", "instructor", "--provider", "cnaf", ok=False
    )
    assert stray.exit_code == 1 and "data provider role only" in stray.stderr
    bad_email = cli("portal", "roles", "grant", "not-an-email", "administrator", ok=False)
    assert bad_email.exit_code == 1 and "not an email address" in bad_email.stderr
    unknown = cli("portal", "roles", "grant", "a@b.example", "requester", ok=False)
    assert unknown.exit_code == 2  # not a role one grants: a usage error
    assert not [e for e in audit_entries(database_url) if e.target_type == "agent_role"]


def test_portal_run_is_offered(cli):
    assert "--port" in cli("portal", "run", "--help").stdout
