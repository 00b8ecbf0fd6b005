"""consent information on habilitations: the organisation responsible for the data, its contact
and data protection officer, how long the service keeps the data, a reason per item and what
to do instead if the citizen refuses

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT_COLUMNS = {
    "controller": 300,
    "contact": 500,
    "dpo": 500,
    "retention": 1000,
    "if_refused": 2000,
}


def upgrade() -> None:
    # Habilitations approved before this revision keep NULLs: the consent screen leaves out
    # what it does not know rather than invent it.
    with op.batch_alter_table("habilitation") as batch:
        for name, length in TEXT_COLUMNS.items():
            batch.add_column(
                sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=True)
            )
        batch.add_column(sa.Column("reasons", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("habilitation") as batch:
        batch.drop_column("reasons")
        for name in reversed(TEXT_COLUMNS):
            batch.drop_column(name)
