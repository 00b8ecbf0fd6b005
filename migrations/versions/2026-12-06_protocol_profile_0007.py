"""protocol profile: pushed authorization requests, DPoP-bound tokens, FAPI 2.0 clients,
back-channel logout and encrypted responses registered per client

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLIENT_STRINGS = (
    ("profile", 20),
    ("backchannel_logout_uri", 2000),
    ("id_token_encrypted_response_alg", 20),
    ("id_token_encrypted_response_enc", 20),
    ("userinfo_encrypted_response_alg", 20),
    ("userinfo_encrypted_response_enc", 20),
    ("userinfo_signed_response_alg", 10),
)


def upgrade() -> None:
    with op.batch_alter_table("oauth_client") as batch:
        batch.add_column(
            sa.Column(
                "require_pushed_authorization_requests",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
        batch.add_column(
            sa.Column(
                "dpop_bound_access_tokens", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        for name, length in CLIENT_STRINGS:
            batch.add_column(
                sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=True)
            )
    for table in ("access_token", "refresh_token"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("jkt", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
            )
    with op.batch_alter_table("authorization_code") as batch:
        batch.add_column(
            sa.Column("dpop_jkt", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    op.create_table(
        "pushed_authorization_request",
        sa.Column("uri_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["oauth_client.client_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("uri_digest"),
    )
    op.create_index(
        "ix_pushed_authorization_request_expires_at",
        "pushed_authorization_request",
        ["expires_at"],
    )
    op.create_table(
        "dpop_proof",
        sa.Column("proof_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("proof_digest"),
    )
    op.create_index("ix_dpop_proof_expires_at", "dpop_proof", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_dpop_proof_expires_at", table_name="dpop_proof")
    op.drop_table("dpop_proof")
    op.drop_index(
        "ix_pushed_authorization_request_expires_at", table_name="pushed_authorization_request"
    )
    op.drop_table("pushed_authorization_request")
    with op.batch_alter_table("authorization_code") as batch:
        batch.drop_column("dpop_jkt")
    for table in ("refresh_token", "access_token"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("jkt")
    with op.batch_alter_table("oauth_client") as batch:
        for name, _ in reversed(CLIENT_STRINGS):
            batch.drop_column(name)
        batch.drop_column("dpop_bound_access_tokens")
        batch.drop_column("require_pushed_authorization_requests")
