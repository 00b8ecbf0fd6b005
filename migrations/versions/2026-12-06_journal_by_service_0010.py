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


def create(name: str, columns: list[str]) -> None:
    # CONCURRENTLY on PostgreSQL: a plain build locks out the journal's writes, and every data
    # API call writes its row before data leaves. It cannot run in a transaction.
    with op.get_context().autocommit_block():
        op.create_index(name, TABLE, columns, postgresql_concurrently=True)


def drop(name: str) -> None:
    with op.get_context().autocommit_block():
        op.drop_index(name, table_name=TABLE, postgresql_concurrently=True)


def upgrade() -> None:
    # Replaced rather than added: each index costs every data API call a write.
    create("ix_access_journal_citizen_service_at", ["citizen_id", "service_id", "at"])
    create("ix_access_journal_identity_service_at", ["identity_digest", "service_id", "at"])
    drop("ix_access_journal_citizen_at")
    drop("ix_access_journal_identity_at")


def downgrade() -> None:
    create("ix_access_journal_citizen_at", ["citizen_id", "at"])
    create("ix_access_journal_identity_at", ["identity_digest", "at"])
    drop("ix_access_journal_identity_service_at")
    drop("ix_access_journal_citizen_service_at")
