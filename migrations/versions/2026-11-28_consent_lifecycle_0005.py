"""consent lifecycle: durations, optional items, receipts, refresh tokens, notifications

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("habilitation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("legal_basis_url", String(length=2000), nullable=True))
        batch_op.add_column(
            sa.Column("optional_scopes", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column("consent_mode", String(length=20), nullable=False, server_default="recurring")
        )
        batch_op.add_column(sa.Column("consent_days", sa.Integer(), nullable=True))
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.add_column(sa.Column("logo", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("logo_type", String(length=40), nullable=True))
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notification_uri", String(length=2000), nullable=True))
    with op.batch_alter_table("consent_grant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mode", String(length=20), nullable=False, server_default="recurring")
        )
        batch_op.add_column(sa.Column("receipt", sa.Text(), nullable=True))
    with op.batch_alter_table("consent_grant_scope", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("optional", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("withdrawn_at", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_consent_grant_citizen_created",
        "consent_grant",
        ["citizen_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_consent_grant_status_expires", "consent_grant", ["status", "expires_at"], unique=False
    )

    op.create_table(
        "refresh_token",
        sa.Column("digest", String(length=64), nullable=False),
        sa.Column("grant_id", String(length=64), nullable=False),
        sa.Column("client_id", String(length=64), nullable=False),
        sa.Column("citizen_id", String(length=64), nullable=False),
        sa.Column("scope", String(length=4000), nullable=False),
        sa.Column("code_digest", String(length=64), nullable=True),
        sa.Column("auth_time", sa.BigInteger(), nullable=False),
        sa.Column("acr", String(length=10), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["grant_id"], ["consent_grant.id"]),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_index("ix_refresh_token_grant_id", "refresh_token", ["grant_id"], unique=False)
    op.create_index("ix_refresh_token_expires_at", "refresh_token", ["expires_at"], unique=False)
    op.create_index("ix_refresh_token_code_digest", "refresh_token", ["code_digest"], unique=False)

    op.create_table(
        "consent_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", String(length=64), nullable=False),
        sa.Column("grant_id", String(length=64), nullable=False),
        sa.Column("url", String(length=2000), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=True),
        sa.Column("delivered_at", sa.BigInteger(), nullable=True),
        sa.Column("failed_at", sa.BigInteger(), nullable=True),
        sa.Column("last_error", String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_consent_notification_grant_id", "consent_notification", ["grant_id"], unique=False
    )
    op.create_index(
        "ix_consent_notification_next_attempt_at",
        "consent_notification",
        ["next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_consent_notification_next_attempt_at", table_name="consent_notification")
    op.drop_index("ix_consent_notification_grant_id", table_name="consent_notification")
    op.drop_table("consent_notification")
    op.drop_index("ix_refresh_token_code_digest", table_name="refresh_token")
    op.drop_index("ix_refresh_token_expires_at", table_name="refresh_token")
    op.drop_index("ix_refresh_token_grant_id", table_name="refresh_token")
    op.drop_table("refresh_token")
    op.drop_index("ix_consent_grant_status_expires", table_name="consent_grant")
    op.drop_index("ix_consent_grant_citizen_created", table_name="consent_grant")
    with op.batch_alter_table("consent_grant_scope", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("optional")
    with op.batch_alter_table("consent_grant", schema=None) as batch_op:
        batch_op.drop_column("receipt")
        batch_op.drop_column("mode")
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.drop_column("notification_uri")
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_column("logo_type")
        batch_op.drop_column("logo")
    with op.batch_alter_table("habilitation", schema=None) as batch_op:
        batch_op.drop_column("consent_days")
        batch_op.drop_column("consent_mode")
        batch_op.drop_column("optional_scopes")
        batch_op.drop_column("legal_basis_url")
