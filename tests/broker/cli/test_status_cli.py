"""``broker status``: a round of checks from the command line, and maintenance notices
written, listed and ended (each in the audit trail)."""

from __future__ import annotations

import getpass
import json
import os
import time

import pytest
from click.testing import CliRunner, Result
from sqlmodel import select

from broker.cli.status import status
from broker.core.db import Database
from broker.store.portal_models import AuditEntry
from tests.broker.admin.status_support import closed_port_url


@pytest.fixture
def run_status(broker_env, demo_idp):
    """``run_status("notice", "list")``: ``broker status notice list`` in this process."""
    runner = CliRunner(catch_exceptions=False)
    env = {name: None for name in os.environ if name.startswith("BROKER_")}
    env.update(broker_env)
    env["BROKER_DEMO_IDP_URL"] = demo_idp.url

    def run(*args: str, ok: bool = True, **more: str) -> Result:
        result = runner.invoke(status, list(args), env={**env, **more})
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


def test_check_records_and_prints_every_state(run_status, database_url):
    result = run_status("check", BROKER_DATA_API_URL=closed_port_url())
    board = json.loads(result.stdout)
    services = {s["id"]: s for s in board["services"]}
    assert board["status"] == "disrupted"
    assert services["provider:cnaf"]["state"] == "down", "the data API does not answer"
    idps = [s for s in board["services"] if s["kind"] == "identity_provider"]
    assert idps and {s["state"] for s in idps} == {"up"}, "the demo identity providers answer"
    shown = json.loads(run_status("show").stdout)
    assert shown["services"] == board["services"]


def test_notice_add_list_end_are_audited(run_status, database_url):
    added = json.loads(
        run_status(
            "notice", "add", "--message", "Maintenance de la CAF", "--target", "provider:cnaf"
        ).stdout
    )
    assert added["ends_at"] - added["starts_at"] == 2 * 3600
    listed = json.loads(run_status("notice", "list").stdout)
    assert [n["id"] for n in listed] == [added["id"]]
    ended = json.loads(run_status("notice", "end", str(added["id"])).stdout)
    assert ended["ends_at"] <= int(time.time())
    db = Database(database_url)
    try:
        with db.reader() as session:
            entries = session.exec(
                select(AuditEntry).where(AuditEntry.target_type == "status_notice")
            ).all()
    finally:
        db.dispose()
    assert [(e.action, e.actor) for e in entries] == [
        ("status_notice.add", f"cli:{getpass.getuser()}"),
        ("status_notice.end", f"cli:{getpass.getuser()}"),
    ]


def test_refused_notice_is_one_line_and_writes_nothing(run_status):
    result = run_status(
        "notice",
        "add",
        "--message",
        "x",
        "--starts",
        "2026-12-01T10:00",
        "--ends",
        "2026-12-01T09:00",
        ok=False,
    )
    assert result.exit_code == 1
    assert "La fin doit venir après le début. (ends_at)" in result.output
    assert "Traceback" not in result.output
    assert json.loads(run_status("notice", "list").stdout) == []
    bad_date = run_status("notice", "add", "--message", "x", "--starts", "demain", ok=False)
    assert bad_date.exit_code == 2 and "ISO 8601" in bad_date.output
    missing = run_status("notice", "end", "424242", ok=False)
    assert missing.exit_code == 1 and "Cette annonce n'existe pas." in missing.output
