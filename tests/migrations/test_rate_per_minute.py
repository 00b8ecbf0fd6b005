"""Revision 0012: the habilitations' rate limits go from requests per second to requests per
minute, the same rate; back again on a downgrade, never down to 0."""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData, select

from broker.core import migrate
from broker.core.db import create_db_engine
from tests.migrations.sample_rows import insert_batch

# Per second before; per minute after; per second after a downgrade.
LIMITS = [
    (20, 1200, 20),
    (1, 60, 1),
    (10_000, 600_000, 10_000),  # the largest the admin accepted per second
    (50_000, 600_000, 10_000),  # never valid: capped, so that it fits an INTEGER
    (None, None, None),  # the platform's default
]


def limits(engine) -> list[int | None]:
    metadata = MetaData()
    metadata.reflect(engine, only=["habilitation"])
    table = metadata.tables["habilitation"]
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.rate_limit).order_by(table.c.id)).all()
    return [row[0] for row in rows]


@pytest.mark.parametrize("empty_database", ["sqlite", "postgresql"], indirect=True)
def test_rate_limits_become_per_minute_and_back(empty_database):
    migrate.upgrade(empty_database, "0011")
    engine = create_db_engine(empty_database)
    try:
        metadata = MetaData()
        metadata.reflect(engine, only=["habilitation"])
        table = metadata.tables["habilitation"]
        ids = []
        for batch, (per_second, _, _) in enumerate(LIMITS, start=1):
            with engine.begin() as conn:
                [row] = insert_batch(conn, batch)["habilitation"].values()
                conn.execute(
                    table.update().where(table.c.id == row["id"]).values(rate_limit=per_second)
                )
            ids.append(row["id"])
        assert ids == sorted(ids)
        assert limits(engine) == [before for before, _, _ in LIMITS]

        migrate.upgrade(empty_database, "0012")
        assert limits(engine) == [after for _, after, _ in LIMITS]
        migrate.downgrade(empty_database, "0011")
        assert limits(engine) == [back for _, _, back in LIMITS]
    finally:
        engine.dispose()
