"""back-channel logout: the session's public id (sid) on sessions, interactions and codes, its
last use (the idle timeout), the services to tell when it ends, and their outbox

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def sid_column() -> sa.Column:
    return sa.Column("sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)


def upgrade() -> None:
    # Sessions opened before this revision have no sid: their services are not told of their
    # end (they end within the session lifetime anyway).
    with op.batch_alter_table("browser_session") as batch:
        batch.add_column(sid_column())
        batch.add_column(sa.Column("last_seen", sa.BigInteger(), nullable=True))
        batch.create_index("ix_browser_session_sid", ["sid"], unique=True)
    for table in ("interaction", "authorization_code"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sid_column())
    op.create_table(
        "logout_participant",
        sa.Column("sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("sub", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("check_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["oauth_client.client_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("sid", "client_id"),
    )
    op.create_index("ix_logout_participant_check_at", "logout_participant", ["check_at"])
    op.create_table(
        "logout_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sub", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=True),
        sa.Column("delivered_at", sa.BigInteger(), nullable=True),
        sa.Column("failed_at", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_logout_notice_next_attempt_at", "logout_notice", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_logout_notice_next_attempt_at", table_name="logout_notice")
    op.drop_table("logout_notice")
    op.drop_index("ix_logout_participant_check_at", table_name="logout_participant")
    op.drop_table("logout_participant")
    for table in ("authorization_code", "interaction"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("sid")
    with op.batch_alter_table("browser_session") as batch:
        batch.drop_index("ix_browser_session_sid")
        batch.drop_column("last_seen")
        batch.drop_column("sid")
