"""The ``broker`` command line: operators and scripts depend on this exact contract."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from broker.core.db import Database
from broker.core.security import digest
from broker.store.federation_models import IdentityProviderRecord
from broker.store.models import OAuthClient, SigningKey


def test_clients_add_prints_json_and_stores_the_secret_hashed(cli, database_url):
    out = cli(
        "clients",
        "add",
        "--name",
        "Mairie de Test",
        "--redirect-uri",
        "https://mairie.example/cb",
        "--redirect-uri",
        "https://mairie.example/cb2",
        "--scope",
        "openid profile",
    )
    created = json.loads(out.stdout)
    assert created["client_id"] and len(created["client_secret"]) >= 43
    assert created["redirect_uris"] == ["https://mairie.example/cb", "https://mairie.example/cb2"]
    db = Database(database_url)
    with db.reader() as s:
        row = s.get(OAuthClient, created["client_id"])
    db.dispose()
    assert row.secret_digest == digest(created["client_secret"])
    assert created["client_secret"] not in json.dumps(row.model_dump())

    again = json.loads(
        cli(
            "clients",
            "add",
            "--name",
            "Mairie de Test",
            "--redirect-uri",
            "https://mairie.example/other",
            "--scope",
            "openid",
            "--auth-method",
            "private_key_jwt",
            "--jwks-uri",
            "https://mairie.example/jwks",
        ).stdout
    )
    assert again["service_id"] == created["service_id"], "the service NAME is reused"
    assert "client_secret" not in again
    listed = json.loads(cli("clients", "list").stdout)
    assert {c["client_id"] for c in listed} >= {created["client_id"], again["client_id"]}
    assert all("client_secret" not in c for c in listed)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--redirect-uri", "http://evil.example/cb", "--scope", "openid"], "loopback"),
        (["--redirect-uri", "https://a.example/cb#frag", "--scope", "openid"], "fragment"),
        (["--redirect-uri", "https://a.example/cb", "--scope", "openid made_up"], "unknown scopes"),
        (["--redirect-uri", "https://a.example/cb", "--scope", "profile"], "openid"),
        (
            [
                "--redirect-uri",
                "https://a.example/cb",
                "--scope",
                "openid",
                "--auth-method",
                "private_key_jwt",
            ],
            "jwks",
        ),
    ],
)
def test_clients_add_rejects_bad_registrations(cli, args, message):
    result = cli("clients", "add", "--name", "X", *args, ok=False)
    assert result.exit_code != 0 and message in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_keys_rotate_and_list(cli, database_url):
    before = {k["kid"] for k in json.loads(cli("keys", "list").stdout)}
    rotated = json.loads(cli("keys", "rotate").stdout)
    assert len(rotated["created"]) == 2
    keys = json.loads(cli("keys", "list").stdout)
    assert {k["kid"] for k in keys} == before | set(rotated["created"])
    assert all(k["retired_at"] for k in keys if k["kid"] in rotated["retired"])
    db = Database(database_url)
    with db.reader() as s:
        assert len(s.exec(select(SigningKey)).all()) == len(keys)
    db.dispose()


def test_demo_seed_is_idempotent(cli, database_url):
    first = json.loads(cli("demo", "seed").stdout)
    second = json.loads(cli("demo", "seed").stdout)
    db = Database(database_url)
    with db.reader() as s:
        providers = s.exec(select(IdentityProviderRecord)).all()
        clients = s.exec(
            select(OAuthClient).where(OAuthClient.client_id == first["demo_client_id"])
        ).all()
    db.dispose()
    assert first == second
    assert first["identity_providers"] == ["identite-demo", "identite-demo-renforcee"]
    assert sorted(p.id for p in providers) == first["identity_providers"]
    assert all(p.demo and p.client_secret_sealed for p in providers)
    assert len(clients) == 1


def test_db_upgrade_on_a_migrated_database_is_a_no_op(broker_process):
    """Smoke test of the installed command: ``python -m broker.cli``, migrations included."""
    assert json.loads(broker_process("db", "upgrade").stdout) == {"upgraded_to": "head"}


def test_production_mode_refuses_to_start_without_secrets(cli, monkeypatch):
    import uvicorn

    def serve(*args, **kwargs):
        raise AssertionError("`broker run` started a server")

    monkeypatch.setattr(uvicorn, "run", serve)
    result = cli("run", env={"BROKER_ENV": "production"}, ok=False)
    assert result.exit_code != 0
    assert "BROKER_KEY_ENCRYPTION_SECRET" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [("resources", "run"), ("run",), ("clients", "list")])
def test_commands_refuse_unknown_cached_products(cli, broker_env, monkeypatch, command):
    import uvicorn

    def serve(*args, **kwargs):
        raise AssertionError("a server was started")

    monkeypatch.setattr(uvicorn, "run", serve)
    env = {
        **broker_env,
        "BROKER_ISSUER": "http://127.0.0.1:8000",
        "BROKER_CACHE_LIFETIMES": '{"dss/quotient_familal": 60}',
    }
    result = cli(*command, env=env, ok=False)
    assert result.exit_code != 0 and "Traceback" not in result.stderr
    assert "unknown products: dss/quotient_familal" in result.stderr


def test_db_purge_deletes_only_what_has_expired(cli, database_url):
    import time

    from broker.store.models import ClientAssertionJti

    db = Database(database_url)
    with db.transaction() as s:
        s.add(ClientAssertionJti(client_id="c", jti="old", expires_at=int(time.time()) - 10))
        s.add(ClientAssertionJti(client_id="c", jti="live", expires_at=int(time.time()) + 600))
    purged = json.loads(cli("db", "purge").stdout)
    assert purged["client_assertion_jtis"] == 1
    with db.reader() as s:
        assert [r.jti for r in s.exec(select(ClientAssertionJti)).all()] == ["live"]
    db.dispose()


def test_db_purge_deletes_portal_sessions_past_their_lifetime(cli, database_url):
    import time

    from broker.store.portal_models import PortalAgent, PortalSession

    now = int(time.time())
    db = Database(database_url)
    with db.transaction() as s:
        s.add(
            PortalAgent(
                id="ag_1",
                idp_issuer="https://idp.example",
                idp_subject="s",
                email="a@b.example",
                created_at=now,
                last_sign_in_at=now,
            )
        )
        s.flush()
        for name, expires in (("ended", now - 10), ("open", now + 600)):
            s.add(
                PortalSession(
                    id_digest=name,
                    agent_id="ag_1",
                    created_at=now - 100,
                    expires_at=expires,
                    last_seen=now - 100,
                )
            )
    purged = json.loads(cli("db", "purge").stdout)
    assert purged["portal_sessions"] == 1
    with db.reader() as s:
        assert [r.id_digest for r in s.exec(select(PortalSession)).all()] == ["open"]
    db.dispose()


def test_db_purge_keeps_pending_consent_events(cli, database_url):
    import time

    from consent.models import ConsentNotification

    now = int(time.time())
    db = Database(database_url)
    with db.transaction() as s:
        for name, delivered in (("old", now - 40 * 86400), ("recent", now - 60), ("due", None)):
            s.add(
                ConsentNotification(
                    client_id="c",
                    grant_id=name,
                    url="https://x.example/e",
                    event="e",
                    created_at=now,
                    delivered_at=delivered,
                    next_attempt_at=None if delivered else now,
                )
            )
    purged = json.loads(cli("db", "purge").stdout)
    assert purged["consent_notifications"] == 1
    with db.reader() as s:
        left = {r.grant_id for r in s.exec(select(ConsentNotification)).all()}
    assert left == {"recent", "due"}
    db.dispose()


def test_unmigrated_database_gives_one_readable_line(broker_process, broker_env, db_factory):
    """Smoke test of the console entry point: main() turns a database error into one line."""
    url = db_factory.empty()
    try:
        result = broker_process(
            "clients", "list", env={**broker_env, "BROKER_DATABASE_URL": url}, ok=False
        )
    finally:
        db_factory.drop(url)
    assert result.returncode == 1 and "broker db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def run_two_workers(broker_process, env):
    """`broker run --workers 2` on a port it never gets to serve on: it stops first."""
    return broker_process("run", "--port", "1", "--workers", "2", env=env, ok=False)


def test_run_refuses_to_start_with_a_wrong_secret(cli, broker_process, broker_env):
    """Smoke test in a real process: had it not refused, `broker run` would serve. On its way
    it says where several workers without Redis keep the flow state."""
    cli("keys", "rotate")  # keys sealed under TEST_SECRET
    wrong = {**broker_env, "BROKER_KEY_ENCRYPTION_SECRET": "a-different-secret-" * 3}
    result = run_two_workers(broker_process, wrong)
    assert result.returncode == 1 and "cannot decrypt signing key" in result.stderr
    assert "Traceback" not in result.stderr
    assert "the flow state is kept in the database" in result.stderr


def test_run_refuses_several_workers_on_flow_state_in_memory(broker_process, broker_env):
    result = run_two_workers(broker_process, {**broker_env, "BROKER_FLOW_STATE": "memory"})
    assert result.returncode == 1 and "BROKER_FLOW_STATE=memory" in result.stderr
    assert "Traceback" not in result.stderr
