"""What every ``broker`` command uses: the settings, one JSON print, the database (never created
by accident), admin actions in one transaction, their audit entries, the key store."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlmodel import Session

from broker.admin.clients import AdminError
from broker.core.db import Database
from broker.core.settings import ConfigurationError, Settings
from broker.keys.keystore import KeyStore
from broker.keys.vault import KeyVault
from broker.store.key_store import SqlKeyRepository

T = TypeVar("T")


def load_settings() -> Settings:
    """The settings, checked as every process would check them: a bad value stops any
    command with one readable line."""
    from broker.resources.cache import check_lifetimes  # the data API's stores: only here

    try:
        settings = Settings()
        check_lifetimes(settings.cache_lifetimes)
    except (ConfigurationError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    return settings


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@contextmanager
def database(settings: Settings) -> Iterator[Database]:
    """The database for one command, which must exist with its schema: its pooled connections
    are closed when the command ends."""
    url = settings.effective_database_url
    refuse_missing_sqlite_file(url)
    db = Database(url)
    try:
        if not inspect(db.engine).has_table(SCHEMA_MARK):
            raise click.ClickException(no_schema(url, "has no schema"))
        yield db
    finally:
        db.dispose()


SCHEMA_MARK = "alembic_version"  # written by the first migration: the schema is there


def refuse_missing_sqlite_file(url: str) -> None:
    """SQLite creates a missing database file on connection: a command run from another
    directory, or with a mistyped URL, would leave an empty database behind and fail further
    on. Only ``broker db upgrade`` (and ``broker demo run``) create it."""
    parsed = make_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:":
        return
    if path.startswith("file:") or parsed.query.get("mode") == "memory":
        return  # a URI filename: SQLite's own rules, as written
    if not Path(path).is_file():
        raise click.ClickException(no_schema(url, "does not exist"))


def no_schema(url: str, problem: str) -> str:
    shown = make_url(url).render_as_string(hide_password=True)
    return (
        f"the database {shown} {problem}. Create it with `broker db upgrade` (it applies the "
        "migrations), or set BROKER_DATABASE_URL to the database you meant"
    )


def admin_action(action: Callable[[Session], T]) -> T:
    """Run an admin action in one transaction; an AdminError is a one-line message."""
    try:
        with database(load_settings()) as db, db.transaction() as session:
            return action(session)
    except AdminError as exc:
        raise click.ClickException(str(exc)) from exc


def audited(
    session: Session,
    action: str,
    *,
    target_type: str,
    target_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    skip_unchanged: bool = False,
) -> dict[str, Any] | None:
    """Records a command's change in the audit trail, in the command's transaction, signed
    with the operating system user who ran it; returns ``after``. ``skip_unchanged``: nothing
    is written when ``before`` equals ``after`` (a command that found it already so)."""
    from broker.admin.audit import cli_actor, record

    if not (skip_unchanged and before == after):
        record(
            session,
            actor=cli_actor(),
            action=action,
            target_type=target_type,
            target_id=target_id,
            before=before,
            after=after,
        )
    return after


def keystore(settings: Settings, db: Database) -> KeyStore:
    return KeyStore(
        SqlKeyRepository(db),
        KeyVault(settings.secret),
        max_token_ttl=settings.max_token_ttl,
    )
