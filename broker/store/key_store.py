"""KeyRepository on SQL. It opens its own short transactions: keys are read rarely (cached)."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col, select

from broker.core.db import Database
from broker.keys.keystore import StoredKey
from broker.store.models import SigningKey


class SqlKeyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list_keys(self) -> list[StoredKey]:
        with self.db.reader() as session:
            return [
                StoredKey(
                    kid=r.kid,
                    alg=r.alg,
                    public_jwk=dict(r.public_jwk),
                    private_jwk_encrypted=bytes(r.private_jwk_encrypted),
                    created_at=r.created_at,
                    retired_at=r.retired_at,
                    unpublish_at=r.unpublish_at,
                )
                for r in session.exec(select(SigningKey)).all()
            ]

    def add_key(self, key: StoredKey) -> None:
        with self.db.transaction() as session:
            session.add(
                SigningKey(
                    kid=key.kid,
                    alg=key.alg,
                    public_jwk=key.public_jwk,
                    private_jwk_encrypted=key.private_jwk_encrypted,
                    created_at=key.created_at,
                )
            )

    def retire_keys(self, kids: list[str], retired_at: int, unpublish_at: int) -> None:
        if not kids:
            return
        with self.db.transaction() as session:
            session.exec(
                update(SigningKey)
                .where(col(SigningKey.kid).in_(kids))
                .values(retired_at=retired_at, unpublish_at=unpublish_at)
            )
