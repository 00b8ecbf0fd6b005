"""The schema exists only through Alembic: upgrade, downgrade to base, upgrade again."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from broker.core import migrate
from broker.core.db import normalise_url

TABLES = {
    "service",
    "oauth_client",
    "signing_key",
    "citizen",
    "demo_identity",
    "browser_session",
    "interaction",
    "authorization_code",
    "access_token",
    "client_assertion_jti",
    "consent_grant",
    "consent_grant_scope",
    "consent_event",
    "habilitation",
    "api_key",
    "access_journal",
    "introspection_client",
    "refresh_token",
    "consent_notification",
}


def tables(url: str) -> set[str]:
    engine = create_engine(normalise_url(url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(db_factory):
    url = db_factory.empty()
    try:
        migrate.upgrade(url)
        assert tables(url) == TABLES
        migrate.downgrade(url, "base")
        assert tables(url) == set()
        migrate.upgrade(url)
        assert tables(url) == TABLES
    finally:
        db_factory.drop(url)


def test_models_match_migrations(database_url):
    """Autogenerate finds nothing to do: the models and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import broker.store.models  # noqa: F401
    import consent.models  # noqa: F401

    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
    finally:
        engine.dispose()
