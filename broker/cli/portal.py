"""``broker portal``: the operators' portal's server, and its agents' roles.

Roles are granted by email (the agents' identity provider's, lower-cased), before or after a
first sign-in; each grant and revocation is written to the audit trail with the actor
``cli:<operating-system user>``."""

from __future__ import annotations

import asyncio
import time

import click

from broker.admin.agents import grant_role, list_roles
from broker.admin.audit import cli_actor
from broker.admin.role_grants import revoke_keeping_an_administrator
from broker.cli.common import admin_action, database, load_settings, print_json
from broker.cli.serve import require_latest_schema
from broker.core.http_server import HttpLimits, server_options
from broker.core.settings import Settings

DEFAULT_PORT = 8005
PORTAL_URL_ENV = "BROKER_PORTAL_URL"


@click.group()
def portal() -> None:
    """The operators' portal: habilitation requests, keys, clients, statistics, status."""


def with_portal_url(settings: Settings, host: str, port: int) -> Settings:
    """The portal's address defaults to http://HOST:PORT unless BROKER_PORTAL_URL is set."""
    if settings.portal_url:
        return settings
    shown_host = f"[{host}]" if ":" in host else host
    return settings.model_copy(update={"portal_url": f"http://{shown_host}:{port}"})


@portal.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
def portal_run(host: str, port: int) -> None:
    """Serve the portal. Its address defaults to http://HOST:PORT unless BROKER_PORTAL_URL is
    set; agents sign in at BROKER_PORTAL_IDP_ISSUER (in development, the demo agents'
    provider at BROKER_DEMO_IDP_URL/agents-demo)."""
    import uvicorn

    from broker.core.settings import ConfigurationError
    from broker.portal.app import create_portal_app

    settings = with_portal_url(load_settings(), host, port)
    with database(settings) as db:
        require_latest_schema(db)
    try:
        app = create_portal_app(settings)
    except (ConfigurationError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"  Operators' portal: {settings.portal_url}", err=True)
    uvicorn.run(app, host=host, port=port, **server_options(HttpLimits.from_settings(settings)))


@portal.group("roles")
def roles() -> None:
    """Agents' roles: instructor, administrator, data_provider (of one provider)."""


ROLE = click.argument("role", type=click.Choice(["instructor", "administrator", "data_provider"]))
PROVIDER = click.option(
    "--provider", default="", help="the data provider's key (data_provider role only), e.g. cnaf"
)


@roles.command("grant")
@click.argument("email")
@ROLE
@PROVIDER
def roles_grant(email: str, role: str, provider: str) -> None:
    """Give ROLE to the agent of EMAIL."""
    actor = cli_actor()
    granted = admin_action(
        lambda session: grant_role(session, email=email, role=role, provider=provider, actor=actor)
    )
    print_json(
        {"email": email.strip().lower(), "role": role, "provider": provider, "granted": granted}
    )


@roles.command("revoke")
@click.argument("email")
@ROLE
@PROVIDER
def roles_revoke(email: str, role: str, provider: str) -> None:
    """Take ROLE away from the agent of EMAIL (at their next request)."""
    actor = cli_actor()
    revoked = admin_action(
        lambda session: revoke_keeping_an_administrator(
            session, email=email, role=role, provider=provider, actor=actor
        )
    )
    print_json(
        {"email": email.strip().lower(), "role": role, "provider": provider, "revoked": revoked}
    )


@roles.command("list")
def roles_list() -> None:
    """Every role granted, by email."""
    print_json([grant.as_dict() for grant in admin_action(list_roles)])


@portal.command("rollup")
def portal_rollup() -> None:
    """Roll the access journal and the consent events up into the usage statistics now (the
    running portal does it every minute); prints the source rows read."""
    from broker.admin.usage import roll_up

    read = admin_action(lambda session: roll_up(session, int(time.time())))
    print_json({"rows_read": read})


@portal.command("remind")
def portal_remind() -> None:
    """Send the expiry reminders that are due (90, 30 and 7 days before a habilitation ends)
    now (the running portal does it every hour); prints how many emails were sent."""
    from broker.admin.reminders import send_due
    from broker.cli.common import database
    from broker.core.mail import Mailer

    settings = load_settings()
    portal_url = settings.portal_url or f"http://127.0.0.1:{DEFAULT_PORT}"
    with database(settings) as db:
        sent = asyncio.run(
            send_due(db, Mailer.from_settings(settings), portal_url, int(time.time()))
        )
    print_json({"emails_sent": sent})
