"""``broker keys``: the broker's signing keys."""

from __future__ import annotations

import click
from sqlalchemy import update
from sqlmodel import Session, col, select

from broker.admin.audit import cli_actor, record
from broker.cli.common import database, load_settings, print_json
from broker.keys.keystore import KeyStore, StoredKey
from broker.keys.vault import KeyVault
from broker.store.models import SigningKey


class KeysInOneTransaction:
    """The key repository on the command's own session: a rotation and its audit entry are
    committed together, or not at all (the server's repository opens a transaction per call)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def list_keys(self) -> list[StoredKey]:
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
            for r in self.session.exec(select(SigningKey)).all()
        ]

    def add_key(self, key: StoredKey) -> None:
        self.session.add(
            SigningKey(
                kid=key.kid,
                alg=key.alg,
                public_jwk=key.public_jwk,
                private_jwk_encrypted=key.private_jwk_encrypted,
                created_at=key.created_at,
            )
        )
        self.session.flush()

    def retire_keys(self, kids: list[str], retired_at: int, unpublish_at: int) -> None:
        if kids:
            self.session.exec(
                update(SigningKey)
                .where(col(SigningKey.kid).in_(kids))
                .values(retired_at=retired_at, unpublish_at=unpublish_at)
            )


@click.group()
def keys() -> None:
    """Signing keys."""


@keys.command("rotate")
def keys_rotate() -> None:
    """New keys sign from now on; the old ones stay in the JWKS until their tokens expire."""
    settings = load_settings()
    with database(settings) as db, db.transaction() as session:
        store = KeyStore(
            KeysInOneTransaction(session),
            KeyVault(settings.secret),
            max_token_ttl=settings.max_token_ttl,
        )
        rotated = store.rotate()
        record(
            session,
            actor=cli_actor(),
            action="signing_key.rotate",
            target_type="signing_key",
            target_id="jwks",
            before={"signing": rotated["retired"]},
            after={"signing": rotated["created"], "retired": rotated["retired"]},
        )
    print_json(rotated)


@keys.command("list")
def keys_list() -> None:
    """The signing keys: the ones signing now and the retired ones still published."""
    from broker.store.key_store import SqlKeyRepository

    with database(load_settings()) as db:
        stored = SqlKeyRepository(db).list_keys()
    print_json(
        [
            {
                "kid": k.kid,
                "alg": k.alg,
                "created_at": k.created_at,
                "retired_at": k.retired_at,
                "unpublish_at": k.unpublish_at,
            }
            for k in stored
        ]
    )
