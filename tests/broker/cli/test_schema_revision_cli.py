"""The servers start only on a database at this version's latest migration: code run before
its migration (0012 turned the rate limits from per second to per minute) or after a newer
version's would read the data wrong. ``broker db upgrade`` first, and they start."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from broker.core import migrate
from tests.conftest import TEST_SECRET

SERVERS = [("run",), ("resources", "run"), ("portal", "run")]


@pytest.fixture
def started(monkeypatch) -> list[str]:
    """Which servers got as far as starting uvicorn (which then would serve until stopped)."""
    import uvicorn

    calls: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(str(app)))
    # `broker run` tells its workers the issuer through the environment: the runner then
    # restores this variable, as a process exiting would have dropped it.
    monkeypatch.setenv("BROKER_ISSUER_DEFAULT", "")
    return calls


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return {
        "BROKER_DATABASE_URL": f"sqlite:///{tmp_path / 'broker.db'}",
        "BROKER_VAR_DIR": str(tmp_path / "var"),
        "BROKER_KEY_ENCRYPTION_SECRET": TEST_SECRET,
        "BROKER_ISSUER": "http://127.0.0.1:8000",
        "BROKER_LOG_FORMAT": "text",
    }


@pytest.mark.parametrize("command", SERVERS)
def test_attack_a_server_does_not_start_on_a_database_behind_the_code(cli, env, started, command):
    migrate.upgrade(env["BROKER_DATABASE_URL"], "0011")  # before rates became per minute
    [head] = migrate.head_revisions()
    refused = cli(*command, env=env, ok=False)
    assert refused.exit_code == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert "the database schema is at revision 0011" in refused.stderr
    assert f"needs revision {head} (the latest)" in refused.stderr
    assert "run `broker db upgrade` before starting it" in refused.stderr
    assert started == []

    cli("db", "upgrade", env=env)
    cli(*command, env=env)
    assert len(started) == 1


@pytest.mark.parametrize("command", SERVERS)
def test_attack_a_server_does_not_start_on_a_database_a_newer_version_migrated(
    cli, env, started, command
):
    migrate.upgrade(env["BROKER_DATABASE_URL"])
    engine = create_engine(env["BROKER_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9001'"))
    engine.dispose()
    refused = cli(*command, env=env, ok=False)
    assert refused.exit_code == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert "at revision 9001, which this version of the broker does not know" in refused.stderr
    assert "`broker db downgrade --revision" in refused.stderr
    assert started == []
