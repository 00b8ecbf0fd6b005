"""Pushed authorization requests (RFC 9126) on SQL, in the step's own transaction: pushed at
/par, used once at /authorize. Every process of the broker shares them through the database;
the compare-and-set in ``consume`` makes a ``request_uri`` usable once whatever runs at the
same time. Expired rows serve no one and may be purged."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, insert, update

from broker.core.db import table_of
from broker.store.models import PushedAuthorizationRequest

PUSHED = table_of(PushedAuthorizationRequest)
INSERT_PUSHED = insert(PUSHED)
CONSUME_PUSHED = (
    update(PUSHED)
    .where(
        PUSHED.c.uri_digest == bindparam("b_digest"),
        PUSHED.c.client_id == bindparam("b_client_id"),
        PUSHED.c.used_at.is_(None),
        PUSHED.c.expires_at > bindparam("b_now"),
    )
    .values(used_at=bindparam("b_now"))
    # One statement marks the request used and reads it back (SQLite 3.35+, PostgreSQL).
    .returning(PUSHED.c.params)
)


class SqlPushedRequests:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def save(
        self,
        uri_digest: str,
        client_id: str,
        params: dict[str, str],
        created_at: int,
        expires_at: int,
    ) -> None:
        self.conn.execute(
            INSERT_PUSHED,
            {
                "uri_digest": uri_digest,
                "client_id": client_id,
                "params": params,
                "created_at": created_at,
                "expires_at": expires_at,
            },
        )

    def consume(self, uri_digest: str, client_id: str, now: int) -> dict[str, str] | None:
        row = self.conn.execute(
            CONSUME_PUSHED, {"b_digest": uri_digest, "b_client_id": client_id, "b_now": now}
        ).first()
        return dict(row.params) if row is not None else None
