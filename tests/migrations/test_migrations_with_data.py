"""Every Alembic revision, up and down, with rows in every table: what a migration is not meant
to change survives it, and what it is meant to drop is listed here.

From an empty database the walk upgrades one revision at a time and, after each, adds one
representative row to every table the schema then has. It then walks down to base; at each
step it goes back up one revision and down again, as a deployment rolled back and retried
would. Finally it upgrades to head again and adds rows once more. After every step the schema
must be the one that revision had on the way up, and every row must be there with its values:
unchanged, NULL or the declared backfill in a column a migration added, gone only with a table
or column a migration drops."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlmodel import SQLModel

from broker.core import migrate
from broker.core.db import create_db_engine
from tests.migrations.database_state import (
    ExpectedRows,
    Shape,
    lost,
    shape_differences,
    shape_of,
)
from tests.migrations.sample_rows import insert_batch

BASE = "base"

# What an upgrade is meant to lose; anything else it loses fails the test.
LOST_ON_UPGRADE = {
    # The demo accounts moved to the demo identity providers' own process; a downgrade brings
    # the table back, empty.
    "0006": {"demo_identity"},
}

# What a downgrade loses: the tables and columns its revision added, with their data.
LOST_ON_DOWNGRADE = {
    "0001": {
        "access_token",
        "authorization_code",
        "browser_session",
        "citizen",
        "client_assertion_jti",
        "consent_event",
        "consent_grant",
        "consent_grant_scope",
        "demo_identity",
        "interaction",
        "oauth_client",
        "service",
        "signing_key",
    },
    "0002": {"access_journal", "api_key", "habilitation"},
    "0003": {"introspection_client"},
    "0004": {"consent_grant.habilitation_id"},
    "0005": {
        "consent_notification",
        "refresh_token",
        "consent_grant.mode",
        "consent_grant.receipt",
        "consent_grant_scope.optional",
        "consent_grant_scope.withdrawn_at",
        "habilitation.consent_days",
        "habilitation.consent_mode",
        "habilitation.legal_basis_url",
        "habilitation.optional_scopes",
        "oauth_client.notification_uri",
        "service.logo",
        "service.logo_type",
    },
    "0006": {
        "citizen_idp_block",
        "client_idp_rule",
        "federation_login",
        "identity_provider",
        "sign_in_event",
        "authorization_code.idp",
        "browser_session.upstream_id_token",
        "citizen.pivot_digest",
        "oauth_client.post_logout_redirect_uris",
    },
    "0007": {
        "dpop_proof",
        "pushed_authorization_request",
        "access_token.jkt",
        "authorization_code.dpop_jkt",
        "refresh_token.jkt",
        "oauth_client.backchannel_logout_uri",
        "oauth_client.dpop_bound_access_tokens",
        "oauth_client.id_token_encrypted_response_alg",
        "oauth_client.id_token_encrypted_response_enc",
        "oauth_client.profile",
        "oauth_client.require_pushed_authorization_requests",
        "oauth_client.userinfo_encrypted_response_alg",
        "oauth_client.userinfo_encrypted_response_enc",
        "oauth_client.userinfo_signed_response_alg",
    },
    "0008": {
        "logout_notice",
        "logout_participant",
        "authorization_code.sid",
        "browser_session.last_seen",
        "browser_session.sid",
        "interaction.sid",
    },
    "0009": {
        "habilitation.contact",
        "habilitation.controller",
        "habilitation.dpo",
        "habilitation.if_refused",
        "habilitation.reasons",
        "habilitation.retention",
    },
    "0010": set(),
    "0011": {
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
        "habilitation.organisation_siret",
        "habilitation.recipients",
        "habilitation.request_id",
        "api_key.name",
        "api_key.created_by",
        "service.organisation_siret",
        "oauth_client.previous_secret_digest",
        "oauth_client.previous_secret_expires_at",
    },
    "0012": set(),
}

# What a data migration converts in the rows there: revision -> (table, column, the value after
# the upgrade, the value after the downgrade), given the value before.
CONVERTED = {
    # Rate limits per second -> per minute; back, rounded up.
    "0012": ("habilitation", "rate_limit", lambda n: n * 60, lambda n: -(-n // 60)),
}

# The value rows already there get in a column a migration adds (its server default); NULL
# for any column not listed.
BACKFILL: dict[tuple[str, str], Any] = {
    ("habilitation", "optional_scopes"): [],
    ("habilitation", "consent_mode"): "recurring",
    ("consent_grant", "mode"): "recurring",
    ("consent_grant_scope", "optional"): False,
    ("oauth_client", "post_logout_redirect_uris"): [],
    ("oauth_client", "require_pushed_authorization_requests"): False,
    ("oauth_client", "dpop_bound_access_tokens"): False,
}


class MigrationWalk:
    """One database moved one revision at a time, checked after every move."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_db_engine(url)
        self.expected = ExpectedRows(BACKFILL)
        self.shape: Shape = {}
        self.shapes = {BASE: self.shape}  # revision -> shape first seen at it

    def revisions(self) -> list[str]:
        """Oldest first."""
        script = ScriptDirectory.from_config(migrate.alembic_config(self.url))
        return [script.revision for script in reversed(list(script.walk_revisions()))]

    def upgrade_to(self, revision: str) -> None:
        before = self.shape
        migrate.upgrade(self.url, revision)
        self.look_at(revision)
        self.convert(revision, upgrade=True)
        assert lost(before, self.shape) == LOST_ON_UPGRADE.get(revision, set())
        self.check_rows(f"after upgrading to {revision}")

    def downgrade_from(self, revision: str, to: str) -> None:
        before = self.shape
        migrate.downgrade(self.url, to)
        self.look_at(to)
        self.convert(revision, upgrade=False)
        assert lost(before, self.shape) == LOST_ON_DOWNGRADE[revision]
        self.check_rows(f"after downgrading to {to}")

    def look_at(self, revision: str) -> None:
        with self.engine.connect() as conn:
            self.shape = shape_of(conn)
        first_seen = self.shapes.setdefault(revision, self.shape)
        report(f"the schema at {revision} differs", shape_differences(first_seen, self.shape))
        self.expected.follow(self.shape)

    def convert(self, revision: str, upgrade: bool) -> None:
        if revision not in CONVERTED:
            return
        table, column, up, down = CONVERTED[revision]
        for row in self.expected.rows.get(table, {}).values():
            if row.get(column) is not None:
                row[column] = (up if upgrade else down)(row[column])

    def add_rows(self, batch: int) -> None:
        with self.engine.begin() as conn:
            self.expected.add(insert_batch(conn, batch))
        self.check_rows(f"after inserting batch {batch}")

    def check_rows(self, when: str) -> None:
        with self.engine.connect() as conn:
            report(when, self.expected.differences(conn, self.shape))

    def close(self) -> None:
        self.engine.dispose()


def report(heading: str, differences: list[str]) -> None:
    assert not differences, "\n".join([f"{heading}:", *differences])


def model_tables() -> set[str]:
    """The tables of the models, as migrations/env.py registers them."""
    import broker.store.data_access_models  # noqa: F401
    import broker.store.federation_models  # noqa: F401
    import broker.store.models  # noqa: F401
    import broker.store.portal_models  # noqa: F401
    import consent.models  # noqa: F401

    return set(SQLModel.metadata.tables)


@pytest.mark.parametrize(
    "empty_database",
    ["sqlite", "postgresql"],
    indirect=True,
)
def test_rows_survive_every_revision_up_and_down(empty_database):
    walk = MigrationWalk(empty_database)
    try:
        revisions = walk.revisions()
        assert set(revisions) == set(LOST_ON_DOWNGRADE), "declare what each downgrade loses"
        for batch, revision in enumerate(revisions, start=1):
            walk.upgrade_to(revision)
            walk.add_rows(batch)
        assert set(walk.shape) == model_tables(), "every table of the models gets rows"

        previous_revisions = [BASE, *revisions[:-1]]
        for revision, previous in reversed(list(zip(revisions, previous_revisions, strict=True))):
            walk.downgrade_from(revision, previous)
            walk.upgrade_to(revision)
            walk.downgrade_from(revision, previous)
        assert walk.shape == {}

        for revision in revisions:
            walk.upgrade_to(revision)
        walk.add_rows(len(revisions) + 1)
    finally:
        walk.close()
