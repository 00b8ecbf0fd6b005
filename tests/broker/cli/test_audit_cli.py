"""``broker audit``, and the audit entries the ``idps``, ``introspection`` and ``keys``
commands leave, in the transaction of their change."""

from __future__ import annotations

import getpass
import json

from broker.core.db import Database
from tests.broker.admin.test_audit import rows, tamper

ACTOR = f"cli:{getpass.getuser()}"


def trail(cli, *options: str) -> list[dict]:
    return json.loads(cli("audit", "list", "--limit", "1000", *options).stdout)


def add_idp(cli, *, ok: bool = True):
    return cli(
        "idps",
        "add",
        "--name",
        "Impots.gouv (test)",
        "--issuer",
        "https://idp.impots.example",
        "--client-id",
        "broker-at-impots",
        "--client-secret",
        "s3cret-value",
        "--acr",
        "eidas1",
        ok=ok,
    )


def test_idps_commands_leave_entries(cli):
    created = json.loads(add_idp(cli).stdout)
    cli("idps", "disable", created["id"], "--message", "Maintenance")
    cli("idps", "disable", created["id"], "--message", "Maintenance")  # no change, no entry
    cli("idps", "enable", created["id"])
    cli("idps", "remove", created["id"])
    entries = trail(cli, "--target", f"identity_provider:{created['id']}")
    assert [e["action"] for e in entries] == [
        "identity_provider.remove",
        "identity_provider.enable",
        "identity_provider.disable",
        "identity_provider.add",
    ]
    removed, enabled, disabled, added = entries
    assert {e["actor"] for e in entries} == {ACTOR}
    assert added["before"] is None and added["after"]["issuer"] == "https://idp.impots.example"
    assert (disabled["before"]["enabled"], disabled["after"]["enabled"]) == (True, False)
    assert disabled["after"]["message"] == "Maintenance"
    assert (enabled["before"]["enabled"], enabled["after"]["enabled"]) == (False, True)
    assert removed["before"]["id"] == created["id"] and removed["after"] is None
    assert "s3cret-value" not in json.dumps(entries)


def test_failed_command_leaves_no_entry(cli, database_url):
    before = trail(cli)
    assert cli("idps", "disable", "nope", ok=False).exit_code == 1
    assert cli("introspection", "revoke", "rs_nope", ok=False).exit_code == 1
    assert add_idp(cli).exit_code == 0
    assert "exists already" in add_idp(cli, ok=False).stderr
    assert len(trail(cli)) == len(before) + 1


def test_introspection_commands_leave_entries(cli):
    created = json.loads(cli("introspection", "add", "--provider", "dgfip").stdout)
    cli("introspection", "revoke", created["client_id"])
    cli("introspection", "revoke", created["client_id"])  # already revoked: no entry
    revoked, added = trail(cli, "--target", created["client_id"])
    assert added["action"] == "introspection_client.add" and added["actor"] == ACTOR
    assert added["after"]["provider"] == "dgfip" and added["before"] is None
    assert created["client_secret"] not in json.dumps([added, revoked])
    assert revoked["action"] == "introspection_client.revoke"
    assert revoked["before"]["revoked_at"] is None and revoked["after"]["revoked_at"]


def test_keys_rotate_leaves_an_entry(cli):
    first = json.loads(cli("keys", "rotate").stdout)
    second = json.loads(cli("keys", "rotate").stdout)
    latest, earlier = trail(cli, "--action", "signing_key")[:2]
    assert latest["after"] == {"signing": second["created"], "retired": second["retired"]}
    assert latest["before"] == {"signing": first["created"]} == {"signing": second["retired"]}
    assert earlier["after"]["signing"] == first["created"]
    listed = {k["kid"]: k for k in json.loads(cli("keys", "list").stdout)}
    assert all(listed[kid]["retired_at"] for kid in first["created"])
    assert all(listed[kid]["retired_at"] is None for kid in second["created"])


def test_list_pages_and_filters(cli):
    for provider in ("dgfip", "cnaf", "dgfip"):
        cli("introspection", "add", "--provider", provider)
    newest = trail(cli, "--action", "introspection_client.add")
    assert len(newest) == 3
    page = trail(cli, "--limit", "1", "--before-seq", str(newest[0]["seq"]))
    assert [e["seq"] for e in page] == [newest[1]["seq"]]
    assert cli("audit", "list", "--limit", "0", ok=False).exit_code == 2


def test_verify_exit_codes(cli, database_url):
    cli("introspection", "add", "--provider", "dgfip")
    cli("keys", "rotate")
    intact = cli("audit", "verify")
    report = json.loads(intact.stdout)
    assert report["intact"] and report["broken_seq"] is None
    assert report["checked"] == report["head_seq"] >= 2
    db = Database(database_url)
    try:
        edited = rows(db)[-2]["seq"]
        tamper(
            db, f"""UPDATE audit_entry SET after = '{{"provider": "cnaf"}}' WHERE seq = {edited}"""
        )
    finally:
        db.dispose()
    broken = cli("audit", "verify", ok=False)
    assert broken.exit_code == 1
    assert json.loads(broken.stdout)["broken_seq"] == edited
    assert f"broken at seq {edited}: edited" in broken.stderr


def test_verify_against_a_noted_head(cli, database_url):
    cli("introspection", "add", "--provider", "dgfip")
    cli("keys", "rotate")
    noted = json.loads(cli("audit", "verify").stdout)["head_digest"]
    cli("introspection", "add", "--provider", "cnaf")
    still = json.loads(cli("audit", "verify", "--head", noted.upper()).stdout)
    assert still["intact"] and still["head_found"] is True
    db = Database(database_url)
    try:
        newest = rows(db)[-2]["seq"]
        tamper(db, f"DELETE FROM audit_entry WHERE seq >= {newest}")
    finally:
        db.dispose()
    assert json.loads(cli("audit", "verify").stdout)["intact"]  # the chain alone cannot tell
    cut = cli("audit", "verify", "--head", noted, ok=False)
    assert cut.exit_code == 1
    assert json.loads(cut.stdout)["head_found"] is False
    assert "cut off or rewritten" in cut.stderr
    assert cli("audit", "verify", "--head", "not-a-digest", ok=False).exit_code == 2


def test_audited_helper_records_in_the_commands_transaction(database_url):
    """broker.cli.common.audited: one entry signed by the OS user; with skip_unchanged,
    none when nothing changed; rolled back with the command's transaction."""
    from broker.cli.common import audited

    db = Database(database_url)
    try:
        start = len(rows(db))
        with db.transaction() as session:
            kept = audited(
                session,
                "identity_provider.disable",
                target_type="identity_provider",
                target_id="p1",
                before={"enabled": True},
                after={"enabled": False},
                skip_unchanged=True,
            )
            audited(
                session,
                "identity_provider.enable",
                target_type="identity_provider",
                target_id="p1",
                before={"enabled": True},
                after={"enabled": True},
                skip_unchanged=True,
            )
        assert kept == {"enabled": False}
        written = rows(db)[start:]
        assert [(r["action"], r["actor"]) for r in written] == [
            ("identity_provider.disable", f"cli:{getpass.getuser()}")
        ]
        try:
            with db.transaction() as session:
                audited(
                    session,
                    "client.rotate_secret",
                    target_type="client",
                    target_id="c1",
                    before={"rotated": False},
                    after={"rotated": False},
                )
                raise RuntimeError("the command failed")
        except RuntimeError:
            pass
        assert len(rows(db)) == start + 1
    finally:
        db.dispose()
