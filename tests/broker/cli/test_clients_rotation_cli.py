"""``broker clients rotate-secret``: a new secret printed once, the previous one kept for the
chosen overlap; ``broker clients add --jwks-file``: public keys only; every mutating
``broker clients`` command in the audit trail, with the operator's account and no secret."""

from __future__ import annotations

import json
import time

import pytest
from joserfc.jwk import ECKey
from sqlmodel import col, select

from broker.admin import audit
from broker.admin.client_secrets import DEFAULT_OVERLAP_HOURS, OVERLAP_HOURS
from broker.cli.clients import clients_rotate_secret
from broker.core.db import Database
from broker.core.security import digest
from broker.store.models import OAuthClient
from broker.store.portal_models import AuditEntry

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


# A generated client_id may start with "-": after "--", click never reads it as an option.
def add(cli, *extra: str) -> dict:
    out = cli(
        "clients",
        "add",
        "--name",
        "Cantine de Villebourg",
        "--redirect-uri",
        "https://cantine.example/cb",
        "--scope",
        "openid",
        *extra,
    )
    return json.loads(out.stdout)


def trail(db: Database) -> list[AuditEntry]:
    with db.reader() as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all())


def test_rotate_secret_prints_the_new_secret_once_and_keeps_the_old_one(cli, db):
    created = add(cli)
    before = int(time.time())
    out = json.loads(
        cli("clients", "rotate-secret", "--overlap-hours", "168", "--", created["client_id"]).stdout
    )
    assert out["client_id"] == created["client_id"]
    assert out["client_secret"] != created["client_secret"] and len(out["client_secret"]) >= 43
    with db.reader() as session:
        row = session.get(OAuthClient, created["client_id"])
    assert row.secret_digest == digest(out["client_secret"])
    assert row.previous_secret_digest == digest(created["client_secret"])
    assert before + 168 * 3600 <= row.previous_secret_expires_at <= int(time.time()) + 168 * 3600
    assert out["previous_secret_valid_until"] == row.previous_secret_expires_at
    listed = cli("clients", "list").stdout
    assert out["client_secret"] not in listed and row.secret_digest not in listed


def test_rotate_secret_defaults_to_a_days_overlap_and_zero_stops_the_old_one(cli, db):
    created = add(cli)
    out = json.loads(cli("clients", "rotate-secret", "--", created["client_id"]).stdout)
    assert out["previous_secret_valid_until"] - int(time.time()) in range(86_390, 86_401)
    out = json.loads(
        cli("clients", "rotate-secret", "--overlap-hours", "0", "--", created["client_id"]).stdout
    )
    assert out["previous_secret_valid_until"] is None
    with db.reader() as session:
        row = session.get(OAuthClient, created["client_id"])
    assert (row.previous_secret_digest, row.previous_secret_expires_at) == (None, None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--overlap-hours", "5"), "'5' is not one of"),
        (("--overlap-hours", "-24"), "is not one of"),
    ],
)
def test_rotate_secret_overlap_outside_the_choices_refused(cli, db, args, message):
    created = add(cli)
    result = cli("clients", "rotate-secret", *args, "--", created["client_id"], ok=False)
    assert result.exit_code != 0 and message in result.stderr, result.stderr
    with db.reader() as session:
        assert session.get(OAuthClient, created["client_id"]).secret_digest == digest(
            created["client_secret"]
        )


def test_rotate_secret_of_an_unknown_or_secretless_client_is_a_clear_error(cli):
    result = cli("clients", "rotate-secret", "no-such-client", ok=False)
    assert result.exit_code == 1 and "no client 'no-such-client'" in result.stderr
    assert "Traceback" not in result.stderr
    jwks_uri = ("--auth-method", "private_key_jwt", "--jwks-uri", "https://cantine.example/jwks")
    keyed = add(cli, *jwks_uri)
    result = cli("clients", "rotate-secret", "--", keyed["client_id"], ok=False)
    assert result.exit_code == 1 and "no secret to rotate" in result.stderr


def test_rotate_secret_offers_the_domains_overlaps():
    """The command's choices are the domain's, not a copy that could drift from it."""
    command = clients_rotate_secret.params[1]
    assert command.name == "overlap_hours"
    assert tuple(int(choice) for choice in command.type.choices) == OVERLAP_HOURS
    assert int(command.default) == DEFAULT_OVERLAP_HOURS


def test_attack_deeply_nested_jwks_file_refused(cli, tmp_path):
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 19000)
    result = cli(
        "clients",
        "add",
        "--name",
        "Cantine",
        "--redirect-uri",
        "https://cantine.example/cb",
        "--scope",
        "openid",
        "--auth-method",
        "private_key_jwt",
        "--jwks-file",
        str(nested),
        ok=False,
    )
    assert result.exit_code == 1 and "nested too deeply" in result.stderr
    assert "Traceback" not in result.stderr


def test_add_with_a_jwks_file_takes_public_keys_only(cli, tmp_path):
    public = tmp_path / "public.json"
    public.write_text(json.dumps({"keys": [ECKey.generate_key("P-256").as_dict(private=False)]}))
    created = add(cli, "--auth-method", "private_key_jwt", "--jwks-file", str(public))
    assert "client_secret" not in created
    private = tmp_path / "private.json"
    private.write_text(json.dumps({"keys": [ECKey.generate_key("P-256").as_dict(private=True)]}))
    refused = cli(
        "clients",
        "add",
        "--name",
        "Cantine",
        "--redirect-uri",
        "https://cantine.example/cb",
        "--scope",
        "openid",
        "--auth-method",
        "private_key_jwt",
        "--jwks-file",
        str(private),
        ok=False,
    )
    assert refused.exit_code == 1 and "private key material" in refused.stderr
    assert refused.stdout == ""


def test_every_mutating_clients_command_is_audited_without_a_secret(cli, db, tmp_path):
    created = add(cli)
    rotated = json.loads(cli("clients", "rotate-secret", "--", created["client_id"]).stdout)
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    cli("clients", "logo", "--name", "Cantine de Villebourg", str(logo))
    cli("clients", "idps", "--name", "Cantine de Villebourg")
    entries = trail(db)
    assert [e.action for e in entries[-4:]] == [
        "client.add",
        "client.rotate_secret",
        "service.set_logo",
        "service.identity_providers",
    ]
    assert {e.actor for e in entries[-4:]} == {audit.cli_actor()}
    assert entries[-4].target_id == created["client_id"]
    assert entries[-4].after["redirect_uris"] == ["https://cantine.example/cb"]
    assert entries[-2].target_id == entries[-1].target_id == created["service_id"]
    written = json.dumps([e.model_dump() for e in entries])
    for secret in (created["client_secret"], rotated["client_secret"]):
        assert secret not in written and digest(secret) not in written
    with db.reader() as session:
        assert audit.verify(session).intact
