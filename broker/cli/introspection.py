"""``broker introspection``: data providers allowed to introspect access tokens (RFC 7662)."""

from __future__ import annotations

import click

from broker.cli.common import admin_action, database, load_settings, print_json


@click.group()
def introspection() -> None:
    """Data providers allowed to introspect access tokens (RFC 7662)."""


@introspection.command("add")
@click.option("--provider", required=True, help="Data provider key, e.g. dgfip.")
def introspection_add(provider: str) -> None:
    """Print the provider's client_id and client_secret (shown once)."""
    from broker.admin.introspection import add_introspection_client

    print_json(admin_action(lambda session: add_introspection_client(session, provider)))


@introspection.command("list")
def introspection_list() -> None:
    from broker.admin.introspection import list_introspection_clients

    with database(load_settings()) as db, db.reader() as session:
        print_json(list_introspection_clients(session))


@introspection.command("revoke")
@click.argument("client_id")
def introspection_revoke(client_id: str) -> None:
    from broker.admin.introspection import revoke_introspection_client

    print_json(admin_action(lambda session: revoke_introspection_client(session, client_id)))
