"""The commands never create a database they were not asked to: only ``broker db upgrade`` (and
``broker demo run``, which migrates) does; the others name the URL and say how to create it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.conftest import TEST_SECRET

READING_COMMANDS = [
    ("clients", "list"),
    ("habilitations", "list"),
    ("apikeys", "list"),
    ("keys", "list"),
    ("keys", "rotate"),
    ("idps", "list"),
    ("introspection", "list"),
    ("audit", "list"),
    ("status", "show"),
    ("db", "purge"),
    ("db", "downgrade"),
    ("demo", "seed"),
]


def env_for(var_dir: Path, url: str | None = None) -> dict[str, str]:
    env = {
        "BROKER_VAR_DIR": str(var_dir),
        "BROKER_KEY_ENCRYPTION_SECRET": TEST_SECRET,
        "BROKER_LOG_FORMAT": "text",
    }
    if url is not None:
        env["BROKER_DATABASE_URL"] = url
    return env


@pytest.mark.parametrize("command", READING_COMMANDS)
def test_default_database_missing_is_refused_not_created(cli, tmp_path, command):
    """The default URL (var/broker.db) where nothing was ever migrated: as when the command
    is run from another directory."""
    var_dir = tmp_path / "elsewhere" / "var"
    result = cli(*command, env=env_for(var_dir), ok=False)
    expected_url = f"sqlite:///{(var_dir / 'broker.db').resolve()}"
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert f"the database {expected_url} does not exist" in result.stderr
    assert "`broker db upgrade`" in result.stderr
    assert not (var_dir / "broker.db").exists()


def test_database_without_schema_is_refused(cli, tmp_path):
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()  # an empty file, as an earlier run of the CLI left them
    result = cli("clients", "list", env=env_for(tmp_path / "var", f"sqlite:///{path}"), ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert f"the database sqlite:///{path} has no schema" in result.stderr
    assert "`broker db upgrade`" in result.stderr


def test_db_upgrade_creates_it_and_then_the_commands_work(cli, tmp_path):
    path = tmp_path / "new" / "broker.db"
    path.parent.mkdir()
    env = env_for(tmp_path / "var", f"sqlite:///{path}")
    assert json.loads(cli("db", "upgrade", env=env).stdout) == {"upgraded_to": "head"}
    assert json.loads(cli("clients", "list", env=env).stdout) == []


@pytest.fixture
def empty_postgres_database() -> Iterator[str]:
    """A PostgreSQL database without any table, on the local server (skipped without one)."""
    server = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 2})
    name = f"cli_empty_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError:
        admin.dispose()
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    try:
        yield f"postgresql://postgres:s3cr3t-pass@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_postgres_database_without_schema_is_refused_password_hidden(
    cli, tmp_path, empty_postgres_database
):
    result = cli(
        "clients", "list", env=env_for(tmp_path / "var", empty_postgres_database), ok=False
    )
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "has no schema" in result.stderr and "`broker db upgrade`" in result.stderr
    assert "postgres:***@127.0.0.1" in result.stderr
    assert "s3cr3t-pass" not in result.stderr + result.stdout


def test_installed_command_run_from_another_directory_creates_no_database(tmp_path):
    """The reported case, in a real process: `broker clients list` from a directory with no
    var/ and no BROKER_DATABASE_URL."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BROKER_")}
    environ.update(BROKER_KEY_ENCRYPTION_SECRET=TEST_SECRET, BROKER_LOG_FORMAT="text")
    result = subprocess.run(
        [sys.executable, "-m", "broker.cli", "clients", "list"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "does not exist" in result.stderr and "`broker db upgrade`" in result.stderr
    assert not (tmp_path / "var" / "broker.db").exists()
