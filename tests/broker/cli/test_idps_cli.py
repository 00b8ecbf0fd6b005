"""``broker idps`` and ``broker clients idps``: the registry of upstream identity providers."""

from __future__ import annotations

import base64
import json

from sqlmodel import select

from broker.core.db import Database
from broker.keys.vault import KeyVault
from broker.store.federation_models import ClientIdpRule, IdentityProviderRecord
from broker.store.identity_providers import open_secret
from tests.conftest import TEST_SECRET

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def add(cli, *extra: str, ok: bool = True):
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
        "--acr",
        "eidas2",
        *extra,
        ok=ok,
    )


def test_add_prints_the_provider_and_its_redirect_uri(cli, database_url):
    created = json.loads(add(cli).stdout)
    assert created["id"] == "impots-gouv-test"
    assert created["redirect_uri"].endswith("/federation/impots-gouv-test/callback")
    assert created["acr_values"] == ["eidas1", "eidas2"]
    assert created["auth_method"] == "client_secret_basic" and created["enabled"]
    assert "s3cret-value" not in json.dumps(created)
    db = Database(database_url)
    with db.reader() as s:
        row = s.get(IdentityProviderRecord, created["id"])
    db.dispose()
    assert "s3cret-value" not in (row.client_secret_sealed or "")
    vault = KeyVault(TEST_SECRET.encode())
    assert open_secret(vault, row.id, row.client_secret_sealed) == "s3cret-value"
    listed = json.loads(cli("idps", "list").stdout)
    assert created["id"] in {p["id"] for p in listed}


def test_add_refuses_what_cannot_work(cli):
    add(cli)
    again = add(cli, ok=False)
    assert again.exit_code != 0 and "exists already" in again.stderr
    no_secret = cli(
        "idps",
        "add",
        "--name",
        "X",
        "--issuer",
        "https://x.example",
        "--client-id",
        "c",
        "--auth-method",
        "client_secret_post",
        "--acr",
        "eidas1",
        ok=False,
    )
    assert "needs --client-secret" in no_secret.stderr
    plain_http = cli(
        "idps",
        "add",
        "--name",
        "Y",
        "--issuer",
        "http://y.example",
        "--client-id",
        "c",
        "--client-secret",
        "s",
        "--acr",
        "eidas1",
        ok=False,
    )
    assert "plain http" in plain_http.stderr


def test_private_key_jwt_and_franceconnect_profile_and_logo(cli, tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    created = json.loads(
        cli(
            "idps",
            "add",
            "--name",
            "FranceConnect",
            "--issuer",
            "https://fcp.integ01.dev-franceconnect.fr/api/v2",
            "--client-id",
            "abc",
            "--client-secret",
            "xyz",
            "--kind",
            "franceconnect_v2",
            "--acr",
            "eidas1",
            "--logo",
            str(logo),
        ).stdout
    )
    assert created["signed_userinfo"] and created["logo"]
    assert "birthcountry" in created["scopes"] and "email" in created["scopes"]
    keyed = json.loads(
        cli(
            "idps",
            "add",
            "--name",
            "Keyed",
            "--issuer",
            "https://keyed.example",
            "--client-id",
            "abc",
            "--acr",
            "eidas3",
        ).stdout
    )
    assert keyed["auth_method"] == "private_key_jwt"


def test_disable_enable_remove_and_service_rules(cli, database_url):
    created = json.loads(add(cli).stdout)
    disabled = json.loads(
        cli("idps", "disable", created["id"], "--message", "Maintenance jusqu'à 14 h").stdout
    )
    assert not disabled["enabled"] and disabled["message"] == "Maintenance jusqu'à 14 h"
    enabled = json.loads(cli("idps", "enable", created["id"]).stdout)
    assert enabled["enabled"] and enabled["message"] == ""
    cli(
        "clients",
        "add",
        "--name",
        "Mairie",
        "--redirect-uri",
        "https://m.example/cb",
        "--scope",
        "openid",
    )
    rules = json.loads(cli("clients", "idps", "--name", "Mairie", "--block", created["id"]).stdout)
    assert rules["block"] == [created["id"]] and len(rules["clients"]) == 1
    both = cli(
        "clients",
        "idps",
        "--name",
        "Mairie",
        "--allow",
        "identite-demo",
        "--block",
        created["id"],
        ok=False,
    )
    assert "not both" in both.stderr
    unknown = cli("clients", "idps", "--name", "Mairie", "--allow", "nope", ok=False)
    assert "no identity provider" in unknown.stderr
    assert json.loads(cli("idps", "remove", created["id"]).stdout)["removed"]
    db = Database(database_url)
    with db.reader() as s:
        assert s.exec(select(ClientIdpRule)).all() == []
    db.dispose()
    assert cli("idps", "enable", created["id"], ok=False).exit_code != 0
