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
@click.option("--revision", default="head", show_default=True)
def upgrade(revision: str) -> None:
    migrate.upgrade(load_settings().effective_database_url, revision)
    print_json({"upgraded_to": revision})


@db.command()
@click.option("--revision", default="base", show_default=True)
def downgrade(revision: str) -> None:
    migrate.downgrade(load_settings().effective_database_url, revision)
    print_json({"downgraded_to": revision})


@db.command()
def purge() -> None:
    """Delete expired interactions, sessions, codes, assertion ids and old access tokens, and
    consent events delivered or given up a month ago."""
    from broker.store.maintenance import purge_expired
    from consent.outbox import purge_settled

    now = int(time.time())
    with database(load_settings()) as db, db.begin() as conn:
        print_json({**purge_expired(conn, now), **purge_settled(conn, now)})
