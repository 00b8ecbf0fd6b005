"""habilitations' rate limits counted per minute, as API Particulier v3 counts them: the limits
stored per second are multiplied by 60 (the same rate); a downgrade divides them back,
rounding up so that no limit falls to 0

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SECONDS = 60
# The largest limit the admin accepted per second; anything above was never valid and is
# capped so that the product still fits an INTEGER.
MAX_PER_SECOND = 10_000

habilitation = sa.table("habilitation", sa.column("rate_limit", sa.Integer()))
rate_limit = habilitation.c.rate_limit


def upgrade() -> None:
    op.execute(
        habilitation.update()
        .where(rate_limit.is_not(None))
        .values(
            rate_limit=sa.case(
                (rate_limit > MAX_PER_SECOND, MAX_PER_SECOND * SECONDS),
                else_=rate_limit * SECONDS,
            )
        )
    )


def downgrade() -> None:
    # Floor division of integers: (n + 59) // 60 rounds up.
    op.execute(
        habilitation.update()
        .where(rate_limit.is_not(None))
        .values(rate_limit=(rate_limit + SECONDS - 1) // SECONDS)
    )
