"""``broker portal roles grant`` checks a grant with the same domain rule as the /roles page:
a data provider's role names a provider of the catalogue, exactly."""

from __future__ import annotations

import json

from tests.broker.cli.test_portal_cli import audit_entries


def test_cli_refuses_unknown_provider(cli, database_url):
    roles_before = json.loads(cli("portal", "roles", "list").stdout)
    entries_before = len(audit_entries(database_url))
    refused = cli(
        "portal",
        "roles",
        "grant",
        "claire@cnaf.example",
        "data_provider",
        "--provider",
        "acme",
        ok=False,
    )
    assert refused.exit_code == 1
    assert "provider of the catalogue" in refused.stderr
    shaped = cli(
        "portal",
        "roles",
        "grant",
        "claire@cnaf.example",
        "data_provider",
        "--provider",
        "CNAF",
        ok=False,
    )
    assert shaped.exit_code == 1  # a key is matched exactly: no case folding
    assert json.loads(cli("portal", "roles", "list").stdout) == roles_before
    assert len(audit_entries(database_url)) == entries_before
    granted = cli(
        "portal", "roles", "grant", "claire@cnaf.example", "data_provider", "--provider", "cnaf"
    )
    assert json.loads(granted.stdout)["granted"] is True
