"""data access: habilitations, API keys, access journal

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_journal",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("service_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("habilitation_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("credential", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("credential_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("citizen_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("identity_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("product", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=14), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("error_code", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("access_journal", schema=None) as batch_op:
        batch_op.create_index("ix_access_journal_citizen_at", ["citizen_id", "at"], unique=False)
        batch_op.create_index(
            "ix_access_journal_identity_at", ["identity_digest", "at"], unique=False
        )
        batch_op.create_index("ix_access_journal_service_at", ["service_id", "at"], unique=False)

    op.create_table(
        "habilitation",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("service_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("legal_basis", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("rate_limit", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("habilitation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_habilitation_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "api_key",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("habilitation_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["habilitation_id"],
            ["habilitation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest"),
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_key_habilitation_id"), ["habilitation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_key_habilitation_id"))

    op.drop_table("api_key")
    with op.batch_alter_table("habilitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_habilitation_service_id"))

    op.drop_table("habilitation")
    with op.batch_alter_table("access_journal", schema=None) as batch_op:
        batch_op.drop_index("ix_access_journal_service_at")
        batch_op.drop_index("ix_access_journal_identity_at")
        batch_op.drop_index("ix_access_journal_citizen_at")

    op.drop_table("access_journal")
