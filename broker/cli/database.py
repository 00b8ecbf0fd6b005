"""``broker db``: the schema (Alembic migrations) and the purge of expired records."""

from __future__ import annotations

import time

import click

from broker.cli.common import database, load_settings, print_json
from broker.core import migrate


@click.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command()
@click.option("--revision", default="head", show_default=True, help="The revision to reach.")
def upgrade(revision: str) -> None:
    """Apply the migrations up to --revision; creates the database (SQLite: its file) if
    there is none."""
    migrate.upgrade(load_settings().effective_database_url, revision)
    print_json({"upgraded_to": revision})


@db.command()
@click.option(
    "--revision",
    default="base",
    show_default=True,
    help="The revision to go back to (base: no table left, every record lost).",
)
def downgrade(revision: str) -> None:
    """Undo the migrations down to --revision, on an existing database."""
    settings = load_settings()
    with database(settings):
        pass  # refuses a database that does not exist or has no schema
    migrate.downgrade(settings.effective_database_url, revision)
    print_json({"downgraded_to": revision})


@db.command()
def purge() -> None:
    """Delete what has expired: interactions, sign-in and portal sessions, codes, pushed
    requests, assertion ids, DPoP proof ids, old access and refresh tokens; and consent and
    logout events delivered or given up a month ago."""
    from broker.store.maintenance import purge_expired
    from consent.outbox import purge_settled

    now = int(time.time())
    with database(load_settings()) as db, db.begin() as conn:
        print_json({**purge_expired(conn, now), **purge_settled(conn, now)})
