"""Test databases. Each test gets its own database, copied from a template that was built once
per worker by running the Alembic migrations and the demo seed.

SQLite by default; PostgreSQL when BROKER_DATABASE_URL points at one (the server named there
hosts the template and per-test databases; the database in the URL itself is left alone)."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from broker.core import migrate
from broker.core.db import Database, normalise_url
from broker.core.settings import Settings
from broker.demo.seed import seed


def backend_url() -> str | None:
    url = os.environ.get("BROKER_DATABASE_URL", "")
    return normalise_url(url) if url.startswith("postgres") else None


def migrate_and_seed(url: str, settings: Settings) -> None:
    """The schema only through the migrations, then the demo data (the demo identity providers
    registered at ``settings.demo_idp_url``)."""
    migrate.upgrade(url)
    db = Database(url)
    with db.transaction() as session:
        seed(session, settings, "http://127.0.0.1:8001")
    db.dispose()


class SqliteFactory:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.template = workdir / "template.db"

    def build_template(self, settings: Settings) -> None:
        migrate_and_seed(f"sqlite:///{self.template}", settings)

    def create(self) -> str:
        path = self.workdir / f"t-{uuid.uuid4().hex}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"

    def empty(self) -> str:
        return f"sqlite:///{self.workdir / f'e-{uuid.uuid4().hex}.db'}"

    def drop(self, url: str) -> None:
        path = Path(make_url(url).database)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


class PostgresFactory:
    def __init__(self, server_url: str, worker: str) -> None:
        self.server_url = make_url(server_url)
        self.admin = create_engine(
            self.server_url.set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        self.template = f"tpl_{worker}_{uuid.uuid4().hex[:8]}"

    def _url(self, name: str) -> str:
        return self.server_url.set(database=name).render_as_string(hide_password=False)

    def _execute(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(sql))

    def build_template(self, settings: Settings) -> None:
        self._execute(f'CREATE DATABASE "{self.template}"')
        migrate_and_seed(self._url(self.template), settings)

    def create(self) -> str:
        name = f"t_{uuid.uuid4().hex}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return self._url(name)

    def empty(self) -> str:
        name = f"e_{uuid.uuid4().hex}"
        self._execute(f'CREATE DATABASE "{name}"')
        return self._url(name)

    def drop(self, url: str) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    def close(self) -> None:
        self.drop(self._url(self.template))
        self.admin.dispose()
