"""``broker introspection``: data providers allowed to introspect access tokens (RFC 7662)."""

from __future__ import annotations

from typing import Any

import click
from sqlmodel import Session

from broker.cli.common import admin_action, audited, database, load_settings, print_json


@click.group()
def introspection() -> None:
    """Data providers allowed to introspect access tokens (RFC 7662)."""


@introspection.command("add")
@click.option("--provider", required=True, help="Data provider key, e.g. dgfip.")
def introspection_add(provider: str) -> None:
    """Print the provider's client_id and client_secret (shown once)."""
    from broker.admin.introspection import add_introspection_client

    def add(session: Session) -> dict[str, Any]:
        issued = add_introspection_client(session, provider)
        described = {key: value for key, value in issued.items() if key != "client_secret"}
        audited(
            session,
            "introspection_client.add",
            target_type="introspection_client",
            target_id=issued["client_id"],
            before=None,
            after=described,
            skip_unchanged=True,
        )
        return issued

    print_json(admin_action(add))


@introspection.command("list")
def introspection_list() -> None:
    """The introspection clients (never a secret)."""
    from broker.admin.introspection import list_introspection_clients

    with database(load_settings()) as db, db.reader() as session:
        print_json(list_introspection_clients(session))


@introspection.command("revoke")
@click.argument("client_id")
def introspection_revoke(client_id: str) -> None:
    """Revoke an introspection client at once."""
    from broker.admin.introspection import describe, revoke_introspection_client
    from broker.store.data_access_models import IntrospectionClient

    def revoke(session: Session) -> dict[str, Any]:
        row = session.get(IntrospectionClient, client_id)
        before = describe(row) if row is not None else None
        after = revoke_introspection_client(session, client_id)
        audited(
            session,
            "introspection_client.revoke",
            target_type="introspection_client",
            target_id=client_id,
            before=before,
            after=after,
            skip_unchanged=True,
        )
        return after

    print_json(admin_action(revoke))
