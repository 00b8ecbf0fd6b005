"""ops/backup_drill.py as an operator runs it, against a throwaway PostgreSQL database that
the migrations, the demo seed and the broker's first start have filled, plus one
representative row in every table."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from broker.cli.common import keystore
from broker.core.db import Database, normalise_url
from broker.core.settings import Settings
from broker.keys.vault import KeyVault
from broker.store.identity_providers import seal_secret
from tests.databases import PostgresFactory, migrate_and_seed
from tests.migrations.sample_rows import insert_batch

DRILL = Path(__file__).resolve().parents[2] / "ops" / "backup_drill.py"
SECRET = "drill-key-encryption-secret-0123456789-abcdefghij"


@pytest.fixture
def broker_database(postgres_factory: PostgresFactory, tmp_path: Path) -> Iterator[str]:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump or pg_restore is not installed")
    url = postgres_factory.empty()
    try:
        settings = Settings(database_url=url, key_encryption_secret=SECRET, var_dir=tmp_path)
        migrate_and_seed(url, settings)
        db = Database(url)
        keystore(settings, db).ensure_keys()
        db.dispose()
        add_a_row_to_every_table(url, KeyVault(settings.secret))
        yield url
    finally:
        postgres_factory.drop(url)


def add_a_row_to_every_table(url: str, vault: KeyVault) -> None:
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        rows = insert_batch(conn, batch=1)
        # The drill opens every sealed client secret: this one must be sealed for real.
        ((provider_id,),) = rows["identity_provider"]
        conn.execute(
            text("UPDATE identity_provider SET client_secret_sealed = :sealed WHERE id = :id"),
            {"sealed": seal_secret(vault, provider_id, "upstream secret"), "id": provider_id},
        )
    engine.dispose()


def run_drill(url: str, secret: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BROKER_KEY_ENCRYPTION_SECRET": secret, "BROKER_VAR_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, str(DRILL), url], env=env, capture_output=True, text=True, timeout=120
    )


def row_counts(drill_output: str) -> dict[str, tuple[str, str]]:
    """The drill's count table: table -> (source, restored)."""
    lines = drill_output.split("[7/8] row counts\n", 1)[1].split("\n[8/8]", 1)[0].splitlines()
    return {table: (source, restored) for table, source, restored in map(str.split, lines[1:])}


def drill_databases_left(postgres_factory: PostgresFactory, url: str) -> list[str]:
    with postgres_factory.admin.connect() as conn:
        return list(
            conn.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
                {"prefix": f"{make_url(url).database}_drill_%"},
            ).scalars()
        )


def test_the_drill_restores_a_copy_the_broker_can_use(broker_database, postgres_factory, tmp_path):
    result = run_drill(broker_database, SECRET, tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("OK")
    counts = row_counts(result.stdout)
    assert "consent_event" in counts
    assert "access_journal" in counts
    assert all(source == restored and int(source) >= 1 for source, restored in counts.values())
    assert drill_databases_left(postgres_factory, broker_database) == []


def test_the_drill_fails_without_the_right_secret(broker_database, postgres_factory, tmp_path):
    result = run_drill(broker_database, "another-secret-" + SECRET, tmp_path)

    assert result.returncode == 1
    assert "FAILED: cannot decrypt signing key" in result.stdout
    assert drill_databases_left(postgres_factory, broker_database) == []
