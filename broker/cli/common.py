"""What every ``broker`` command uses: the settings, one JSON print, the database, admin
actions in one transaction, their audit entries, the key store."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
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
    """The database for one command: its pooled connections are closed when the command ends."""
    db = Database(settings.effective_database_url)
    try:
        yield db
    finally:
        db.dispose()


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
