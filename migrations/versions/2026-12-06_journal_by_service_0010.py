"""the access journal indexed by citizen (or identity digest), then service, then time: the
citizen space filters a citizen's journal by service and finds each consent's last access
without walking every citizen's rows of that service

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "access_journal"


def upgrade() -> None:
    # Replaced rather than added: each index costs every data API call a write.
    op.create_index(
        "ix_access_journal_citizen_service_at", TABLE, ["citizen_id", "service_id", "at"]
    )
    op.create_index(
        "ix_access_journal_identity_service_at", TABLE, ["identity_digest", "service_id", "at"]
    )
    op.drop_index("ix_access_journal_citizen_at", table_name=TABLE)
    op.drop_index("ix_access_journal_identity_at", table_name=TABLE)


def downgrade() -> None:
    op.create_index("ix_access_journal_citizen_at", TABLE, ["citizen_id", "at"])
    op.create_index("ix_access_journal_identity_at", TABLE, ["identity_digest", "at"])
    op.drop_index("ix_access_journal_identity_service_at", table_name=TABLE)
    op.drop_index("ix_access_journal_citizen_service_at", table_name=TABLE)
