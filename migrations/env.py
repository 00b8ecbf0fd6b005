"""Alembic environment. The URL comes from the caller (``broker db upgrade``) or from settings."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

# Imported for their side effect: they register every table on SQLModel.metadata, which
# autogenerate compares with the database (tests/broker/core/test_migrate.py checks it).
import broker.store.data_access_models  # noqa: F401
import broker.store.federation_models  # noqa: F401
import broker.store.models  # noqa: F401
import broker.store.portal_models  # noqa: F401
import consent.models  # noqa: F401
from broker.core.db import create_db_engine

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from broker.core.settings import Settings

    return Settings().effective_database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_db_engine(_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection) -> None:
    # SQLite: a batch ALTER copies a table, then drops the old one, which the foreign keys of
    # rows pointing at it forbid. Off while migrating (SQLite ignores the pragma inside a
    # transaction: before it), checked at the end.
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()  # SQLAlchemy began a transaction for it: Alembic runs its own
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
            raise RuntimeError("the migration left rows pointing at missing rows")
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
