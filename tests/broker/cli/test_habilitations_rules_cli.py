"""``broker habilitations`` under the portal's rules: the organisation and the recipients
checked (SIRET), a service of another organisation refused, 18 months by default, and every
change in the audit trail signed with the operating system user."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from broker.admin import audit
from broker.admin.habilitations import months_later
from broker.core.db import Database
from broker.store.models import Service
from broker.store.portal_models import AuditEntry

VILLEBOURG = "21730001500013"
VAL_FLEURI = "20005478900017"


def add(cli, *extra: str, service: str = "Cantine de Villebourg", ok: bool = True):
    return cli(
        "habilitations",
        "add",
        "--service",
        service,
        "--create-service",
        "--scopes",
        "cnaf_quotient_familial",
        "--purpose",
        "Tarifs",
        "--legal-basis",
        "Code de l'éducation",
        *extra,
        ok=ok,
    )


def trail(database_url: str) -> list[AuditEntry]:
    db = Database(database_url)
    with db.reader() as session:
        entries = list(session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all())
        assert audit.verify(session).intact
    db.dispose()
    return entries


def test_organisation_and_recipients_are_stored(cli, database_url):
    created = json.loads(
        add(
            cli,
            "--organisation",
            VILLEBOURG,
            "--recipient",
            "217 300 015 00013",
            "--recipient",
            VAL_FLEURI,
        ).stdout
    )
    assert created["organisation_siret"] == VILLEBOURG
    assert created["recipients"] == [VILLEBOURG, VAL_FLEURI]
    db = Database(database_url)
    with db.reader() as session:
        service = session.get(Service, created["service_id"])
    db.dispose()
    assert service.organisation_siret == VILLEBOURG
    # Without --organisation, a habilitation of that service is the organisation's too.
    again = json.loads(add(cli).stdout)
    assert again["organisation_siret"] == VILLEBOURG


def test_bad_sirets_and_another_organisations_service_are_refused(cli):
    add(cli, "--organisation", VILLEBOURG)
    cases = [
        (["--organisation", "21730001500014"], "--organisation must be a SIRET"),
        (["--recipient", "123"], "--recipient must be a SIRET"),
        (["--organisation", VAL_FLEURI], "belongs to another organisation"),
    ]
    for extra, message in cases:
        result = add(cli, *extra, ok=False)
        assert result.exit_code == 1 and message in result.stderr, (extra, result.stderr)
        assert "Traceback" not in result.stderr
    listed = json.loads(cli("habilitations", "list").stdout)
    assert len(listed) == 2  # the demo's and the first one: nothing written by the refusals


def test_habilitation_runs_18_months_by_default(cli):
    created = json.loads(add(cli).stdout)
    last_day = months_later(datetime.fromtimestamp(created["created_at"], UTC).date(), 18)
    midnight = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), UTC)
    assert created["expires_at"] == int(midnight.timestamp())
    tomorrow = date.today() + timedelta(days=1)
    chosen = json.loads(add(cli, "--expires", tomorrow.isoformat()).stdout)
    assert chosen["expires_at"] < created["expires_at"]


def test_every_change_is_audited_as_the_cli_user(cli, database_url):
    created = json.loads(add(cli, "--organisation", VILLEBOURG).stdout)
    cli("habilitations", "set-information", created["id"], "--controller", "Mairie")
    issued = json.loads(cli("apikeys", "issue", created["id"], "--name", "Cantine").stdout)
    cli("apikeys", "revoke", issued["id"])
    cli("apikeys", "revoke", issued["id"])  # already revoked: nothing changes, nothing audited
    cli("habilitations", "revoke", created["id"], "--reason", "Finalité détournée")
    cli("habilitations", "revoke", created["id"], "--reason", "Encore")
    entries = trail(database_url)
    assert [(e.action, e.target_id) for e in entries] == [
        ("habilitation.add", created["id"]),
        ("habilitation.set_information", created["id"]),
        ("api_key.issue", issued["id"]),
        ("api_key.revoke", issued["id"]),
        ("habilitation.revoke", created["id"]),
    ]
    assert {e.actor for e in entries} == {audit.cli_actor()}
    assert entries[1].before["controller"] is None and entries[1].after["controller"] == "Mairie"
    assert issued["api_key"] not in json.dumps([e.after for e in entries])


def test_cli_and_portal_write_the_same_key_and_revocation_entries(cli, database_url):
    """One path: the portal shows a revocation made on the command line with its reason, and
    the key entries have the portal's shape."""
    from broker.admin.habilitation_views import revocation_of
    from broker.store.data_access_models import Habilitation

    created = json.loads(add(cli, "--organisation", VILLEBOURG).stdout)
    issued = json.loads(cli("apikeys", "issue", created["id"], "--name", "Cantine").stdout)
    cli("apikeys", "revoke", issued["id"])
    refused = cli("habilitations", "revoke", created["id"], "--reason", "a\x00b", ok=False)
    assert refused.exit_code == 1 and "Traceback" not in refused.stderr
    assert cli("habilitations", "revoke", created["id"], ok=False).exit_code == 2  # no reason
    cli("habilitations", "revoke", created["id"], "--reason", "Finalité détournée")
    _, issue, revoke, ended = trail(database_url)
    assert issue.after == {
        "habilitation_id": created["id"],
        "name": "Cantine",
        "created_at": issued["created_at"],
        "created_by": audit.cli_actor(),
    }
    assert revoke.before == {"name": "Cantine", "revoked_at": None}
    assert revoke.after == {"name": "Cantine", "revoked_at": revoke.after["revoked_at"]}
    assert ended.before == {"revoked_at": None}
    assert ended.after["reason"] == "Finalité détournée"
    db = Database(database_url)
    try:
        with db.reader() as session:
            revocation = revocation_of(session, session.get(Habilitation, created["id"]))
    finally:
        db.dispose()
    assert revocation is not None
    assert (revocation.actor, revocation.reason) == (audit.cli_actor(), "Finalité détournée")


def test_refused_command_leaves_no_audit_entry(cli, database_url):
    add(cli, "--organisation", "nope", ok=False)
    cli("apikeys", "issue", "hab_nope", ok=False)
    assert trail(database_url) == []


def test_a_habilitation_without_recipients_is_flagged(cli):
    """The data API refuses every recipient of such a habilitation: the operator is told."""
    without = add(cli)
    assert "no --recipient" in without.stderr and "refuses" in without.stderr
    assert json.loads(without.stdout)["recipients"] in (None, [])
    with_one = add(cli, "--recipient", VILLEBOURG, service="Cantine de Val Fleuri")
    assert "no --recipient" not in with_one.stderr
