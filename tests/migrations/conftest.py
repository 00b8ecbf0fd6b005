"""Databases for the migration tests: each test gets its own empty database, on SQLite and on
PostgreSQL, whatever backend the rest of the suite runs on (BROKER_DATABASE_URL only chooses
which PostgreSQL server hosts them)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.databases import PostgresFactory, SqliteFactory, backend_url

DEFAULT_POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_server() -> str:
    """The server URL, pointing at its ``postgres`` maintenance database."""
    url = make_url(backend_url() or DEFAULT_POSTGRES_SERVER).set(database="postgres")
    return url.render_as_string(hide_password=False)


def postgres_answers(server_url: str) -> bool:
    libpq_url = make_url(server_url).set(drivername="postgresql")
    try:
        psycopg.connect(libpq_url.render_as_string(hide_password=False), connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


@pytest.fixture
def postgres_factory() -> Iterator[PostgresFactory]:
    """Creates and drops (WITH (FORCE)) uniquely named databases on the PostgreSQL server;
    skips when the server does not answer."""
    server = postgres_server()
    if not postgres_answers(server):
        pytest.skip(f"no PostgreSQL server answers at {make_url(server).host}")
    factory = PostgresFactory(server, os.environ.get("PYTEST_XDIST_WORKER", "main"))
    yield factory
    factory.admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path) -> Iterator[str]:
    """The URL of a new, empty database."""
    factory: SqliteFactory | PostgresFactory
    if request.param == "sqlite":
        factory = SqliteFactory(tmp_path)
    else:
        factory = request.getfixturevalue("postgres_factory")
    url = factory.empty()
    yield url
    factory.drop(url)
