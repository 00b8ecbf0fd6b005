"""The schema exists only through Alembic: upgrade, downgrade to base, upgrade again."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import create_engine, inspect

from broker.core import migrate
from broker.core.db import normalise_url

TABLES = {
    "service",
    "oauth_client",
    "signing_key",
    "citizen",
    "identity_provider",
    "client_idp_rule",
    "federation_login",
    "sign_in_event",
    "citizen_idp_block",
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
    "pushed_authorization_request",
    "dpop_proof",
    "logout_participant",
    "logout_notice",
    "portal_agent",
    "portal_role",
    "portal_session",
    "habilitation_request",
    "habilitation_request_version",
    "habilitation_request_message",
    "habilitation_reminder",
    "audit_entry",
    "usage_day",
    "usage_service_day",
    "consent_day",
    "rollup_cursor",
    "status_check",
    "status_incident",
    "status_notice",
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
    """Autogenerate, through migrations/env.py and only what it imports (a fresh interpreter:
    this one has every model loaded already), finds nothing to do."""
    check = "import sys; from broker.core import migrate; migrate.check(sys.argv[1])"
    result = subprocess.run(
        [sys.executable, "-c", check, normalise_url(database_url)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_schema_problem_names_both_revisions_until_the_schema_is_at_head(db_factory):
    """On the suite's backend (SQLite, or PostgreSQL in CI)."""
    url = db_factory.empty()
    engine = create_engine(normalise_url(url))
    try:
        [head] = migrate.head_revisions()
        assert "at revision none (never migrated)" in (migrate.schema_problem(engine) or "")
        migrate.upgrade(url, "0011")
        assert migrate.current_revisions(engine) == ("0011",)
        problem = migrate.schema_problem(engine) or ""
        assert f"at revision 0011, and this version of the broker needs revision {head}" in (
            problem
        )
        assert "`broker db upgrade`" in problem
        migrate.upgrade(url)
        assert migrate.current_revisions(engine) == (head,)
        assert migrate.schema_problem(engine) is None
    finally:
        engine.dispose()
        db_factory.drop(url)
