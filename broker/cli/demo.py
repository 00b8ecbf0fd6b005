"""``broker demo``: demo data, and the whole system on one machine."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from dataclasses import dataclass

import click
import uvicorn

from broker.app import create_asgi_app
from broker.cli.common import database, load_settings, print_json
from broker.cli.portal import DEFAULT_PORT as PORTAL_PORT
from broker.cli.portal import with_portal_url
from broker.core import migrate
from broker.core.db import Database
from broker.core.http_server import HttpLimits, server_options
from broker.core.settings import Settings
from broker.demo.agents import AGENTS
from broker.demo.citizens import CITIZENS
from broker.demo.idp import DemoIdpOptions, create_demo_idp_app
from broker.demo.idp.registration import broker_as_client, describe_demo_idps, portal_as_client
from broker.demo.online_service import RelyingParty, create_service_app
from broker.demo.seed import DEMO_CLIENT_ID, demo_service_key, seed
from broker.demo.simulators import SimulatorOptions, create_all_app
from broker.demo.smtp_sink import serve_sink, sink_directory
from broker.keys.vault import derive_key
from broker.portal.app import create_portal_app
from broker.resources.app import create_resource_asgi_app
from broker.resources.stores import shared_store


@click.group()
def demo() -> None:
    """Demo data and the demo online service."""


@demo.command("seed")
@click.option("--service-url", default="http://127.0.0.1:8001", show_default=True)
def demo_seed(service_url: str) -> None:
    """Register the demo identity providers (at BROKER_DEMO_IDP_URL) and create or update the
    demo service (idempotent)."""
    settings = load_settings()
    with database(settings) as db, db.transaction() as session:
        print_json(seed(session, settings, service_url))


@demo.group("idp")
def demo_idp() -> None:
    """The demo identity providers: a separate OpenID Connect provider process."""


PASSWORD_PROFILE = click.option(
    "--password-profile",
    default="standard",
    show_default=True,
    type=click.Choice(["standard", "benchmark"]),
    help="argon2id cost of the test citizens' passwords (benchmark = minimal cost)",
)


@demo_idp.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8004, show_default=True, type=int)
@PASSWORD_PROFILE
def demo_idp_run(host: str, port: int, password_profile: str) -> None:
    """Serve "Identité démo" and "Identité démo renforcée" (each under its own issuer path),
    with the broker at BROKER_ISSUER (default http://127.0.0.1:8000) as their client, and
    "Identité agents (démo)" with the portal at BROKER_PORTAL_URL (default
    http://127.0.0.1:8005) as its client."""
    settings = load_settings().with_issuer_default("127.0.0.1", 8000)
    settings = with_portal_url(settings, "127.0.0.1", PORTAL_PORT)
    app = demo_idp_app(settings, f"http://{host}:{port}", password_profile)
    for provider in app.state.idp.providers.values():
        click.echo(f"  {provider.site.label}: {provider.issuer}", err=True)
    demo_server(app, host, port, settings).run()


def demo_idp_app(settings: Settings, base_url: str, password_profile: str = "standard"):
    options = DemoIdpOptions(
        base_url=base_url,
        password_profile=password_profile,
        device_key=derive_key(settings.secret, "demo idp device cookies v1"),
        throttle_store=shared_store(settings, "demo-idp-throttle") if settings.redis_url else None,
    )
    options.register(broker_as_client(settings))
    options.register(portal_as_client(settings))
    return create_demo_idp_app(options)


@demo.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--service-port", default=8001, show_default=True, type=int)
@click.option("--data-api-port", default=8002, show_default=True, type=int)
@click.option("--simulators-port", default=8003, show_default=True, type=int)
@click.option("--idp-port", default=8004, show_default=True, type=int)
@click.option("--portal-port", default=PORTAL_PORT, show_default=True, type=int)
@click.option("--smtp-port", default=8025, show_default=True, type=int)
@PASSWORD_PROFILE
def demo_run(
    host: str,
    port: int,
    service_port: int,
    data_api_port: int,
    simulators_port: int,
    idp_port: int,
    portal_port: int,
    smtp_port: int,
    password_profile: str,
) -> None:
    """Migrate, seed, and start the broker, the data API, the provider simulators, the demo
    identity providers, the demo online service, the operators' portal and the development
    SMTP sink (the emails the portal sends, shown at its /courriels) together."""
    settings = load_settings().with_issuer_default(host, port)
    ports = DemoPorts(
        port, service_port, data_api_port, simulators_port, idp_port, portal_port, smtp_port
    )
    sys.exit(run_demo(settings, host, ports, password_profile))


def demo_server(app, host: str, port: int, settings: Settings) -> uvicorn.Server:
    limits = HttpLimits.from_settings(settings)
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, **server_options(limits)))


@dataclass(frozen=True)
class DemoPorts:
    broker: int
    service: int
    data_api: int
    simulators: int
    idp: int
    portal: int
    smtp: int


def run_demo(settings: Settings, host: str, ports: DemoPorts, password_profile: str) -> int:
    url = settings.effective_database_url
    migrate.upgrade(url)
    port = ports.broker
    service_url = f"http://{host}:{ports.service}"
    data_api_url = f"http://{host}:{ports.data_api}"
    simulators_url = f"http://{host}:{ports.simulators}"
    idp_url = f"http://{host}:{ports.idp}"
    settings = settings.model_copy(
        update={
            "providers_url": simulators_url,
            "demo_idp_url": idp_url,
            "data_api_url": data_api_url,
        }
    )
    settings = with_portal_url(settings, host, ports.portal)
    # The portal's emails go to the development SMTP sink, unless BROKER_SMTP_URL says where.
    portal_settings = settings
    if not settings.smtp_url:
        portal_settings = settings.model_copy(update={"smtp_url": f"smtp://{host}:{ports.smtp}"})
    with Database(url).transaction() as session:
        seed(session, settings, service_url)
    broker_app = create_asgi_app(settings)
    rp = RelyingParty(
        issuer=settings.issuer_url,
        client_id=DEMO_CLIENT_ID,
        private_key=demo_service_key(settings.var_dir),
        base_url=service_url,
        data_api_url=data_api_url,
    )
    servers = [
        demo_server(broker_app, host, port, settings),
        demo_server(create_service_app(rp), host, ports.service, settings),
        demo_server(create_resource_asgi_app(settings), host, ports.data_api, settings),
        demo_server(create_all_app(SimulatorOptions()), host, ports.simulators, settings),
        demo_server(demo_idp_app(settings, idp_url, password_profile), host, ports.idp, settings),
        demo_server(create_portal_app(portal_settings), host, ports.portal, settings),
    ]
    portal_url = settings.portal_url.rstrip("/")
    agent = AGENTS[0]

    first = CITIZENS[0]
    print(
        "\n  Consent broker (development mode) is running:\n"
        f"    demo online service : {service_url}/   <- start here\n"
        f"    its consent events  : {rp.notification_uri} (signed by the broker)\n"
        f"    your citizen space  : {settings.issuer_url}/espace   <- consents, accesses, revoke\n"
        f"    broker (issuer)     : {settings.issuer_url}\n"
        f"    discovery           : {settings.issuer_url}/.well-known/openid-configuration\n"
        f"    data API            : {data_api_url}/v3/ping\n"
        f"    provider simulators : {simulators_url}/<provider>/  (see docs/simulators.md)\n"
        + "".join(
            f"    identity provider   : {idp['name']} at {idp['issuer']}\n"
            for idp in describe_demo_idps(settings)
        )
        + f"    test citizen        : login '{first.login}', password '{first.password}' "
        f"({first.given_name} {first.family_name}); others are listed on the login pages\n"
        f"    operators' portal   : {portal_url}/   <- habilitation requests, keys, clients\n"
        f"    test agent          : login '{agent.login}', password '{agent.password}' "
        f"({agent.given_name} {agent.usual_name}, {agent.organisation}); an instructor, an "
        "administrator and data providers are listed on the agents' login page\n"
        + (
            f"    emails caught       : {portal_url}/courriels  (SMTP sink at "
            f"{host}:{ports.smtp})\n"
            if not settings.smtp_url
            else ""
        )
        + "  Press Ctrl+C to stop.\n",
        flush=True,
    )

    async def serve_all() -> None:
        sink = None
        if not settings.smtp_url:
            sink = asyncio.create_task(
                serve_sink(host, ports.smtp, sink_directory(settings.var_dir))
            )
        try:
            await asyncio.gather(*(server.serve() for server in servers))
        finally:
            if sink is not None:  # it serves until told to stop: when the servers have
                sink.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sink

    asyncio.run(serve_all())
    return 0
