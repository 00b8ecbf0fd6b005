"""``broker keys``: the broker's signing keys."""

from __future__ import annotations

import click

from broker.cli.common import database, keystore, load_settings, print_json


@click.group()
def keys() -> None:
    """Signing keys."""


@keys.command("rotate")
def keys_rotate() -> None:
    """New keys sign from now on; the old ones stay in the JWKS until their tokens expire."""
    settings = load_settings()
    with database(settings) as db:
        print_json(keystore(settings, db).rotate())


@keys.command("list")
def keys_list() -> None:
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
