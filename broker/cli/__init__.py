"""The ``broker`` command. Every command prints JSON (or nothing) on stdout; logs go to stderr.
One module per command group."""

from __future__ import annotations

import logging
import sys

import click

from broker.cli.audit import audit
from broker.cli.clients import clients
from broker.cli.common import load_settings
from broker.cli.database import db
from broker.cli.demo import demo
from broker.cli.habilitations import apikeys, habilitations
from broker.cli.idps import idps
from broker.cli.introspection import introspection
from broker.cli.keys import keys
from broker.cli.portal import portal
from broker.cli.serve import resources, run, simulators
from broker.cli.status import status
from broker.core.logs import configure_logging

log = logging.getLogger("broker.cli")


@click.group()
def cli() -> None:
    """Consent broker: OpenID Connect provider for public-sector data sharing."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    if settings.is_development:
        log.warning(settings.describe_mode())


for command in (
    run,
    db,
    clients,
    resources,
    simulators,
    habilitations,
    apikeys,
    introspection,
    keys,
    idps,
    demo,
    portal,
    audit,
    status,
):
    cli.add_command(command)


def main() -> None:
    """Console entry point: database problems become one readable line, not a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        cli.main(prog_name="broker")
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc  # the driver's own error, when there is one
        click.echo(
            f"Error: database: {type(cause).__name__}: "
            f"{str(cause).splitlines()[0]}. "
            "Is BROKER_DATABASE_URL right, and is the schema migrated "
            "(`broker db upgrade`)?",
            err=True,
        )
        sys.exit(1)
