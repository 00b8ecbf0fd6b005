"""``broker demo``: demo data, and the whole system on one machine."""

from __future__ import annotations

import asyncio
import sys

import click
import uvicorn

from broker.app import create_asgi_app
from broker.cli.common import database, load_settings, print_json
from broker.core import migrate
from broker.core.db import Database
from broker.core.settings import Settings
from broker.demo.citizens import CITIZENS
from broker.demo.online_service import RelyingParty, create_service_app
from broker.demo.seed import DEMO_CLIENT_ID, demo_service_key, seed
from broker.demo.simulators import SimulatorOptions, create_all_app
from broker.resources.app import create_resource_asgi_app


@click.group()
def demo() -> None:
    """Demo data and the demo online service."""


@demo.command("seed")
@click.option("--service-url", default="http://127.0.0.1:8001", show_default=True)
@click.option(
    "--password-profile",
    default="standard",
    show_default=True,
    type=click.Choice(["standard", "benchmark"]),
    help="argon2id cost for the test citizens (benchmark = minimal cost)",
)
def demo_seed(service_url: str, password_profile: str) -> None:
    """Create or update the test citizens and the demo service (idempotent)."""
    settings = load_settings()
    with database(settings) as db, db.transaction() as session:
        print_json(seed(session, settings.var_dir, service_url, password_profile))


@demo.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--service-port", default=8001, show_default=True, type=int)
@click.option("--data-api-port", default=8002, show_default=True, type=int)
@click.option("--simulators-port", default=8003, show_default=True, type=int)
def demo_run(
    host: str, port: int, service_port: int, data_api_port: int, simulators_port: int
) -> None:
    """Migrate, seed, and start the broker, the data API, the provider simulators and the
    demo online service together."""
    settings = load_settings().with_issuer_default(host, port)
    sys.exit(run_demo(settings, host, port, service_port, data_api_port, simulators_port))


def demo_server(app, host: str, port: int) -> uvicorn.Server:
    return uvicorn.Server(
        uvicorn.Config(
            app, host=host, port=port, log_config=None, access_log=False, server_header=False
        )
    )


def run_demo(
    settings: Settings,
    host: str,
    port: int,
    service_port: int,
    data_api_port: int,
    simulators_port: int,
) -> int:
    url = settings.effective_database_url
    migrate.upgrade(url)
    service_url = f"http://{host}:{service_port}"
    data_api_url = f"http://{host}:{data_api_port}"
    simulators_url = f"http://{host}:{simulators_port}"
    settings = settings.model_copy(update={"providers_url": simulators_url})
    with Database(url).transaction() as session:
        seed(session, settings.var_dir, service_url)
    broker_app = create_asgi_app(settings)
    rp = RelyingParty(
        issuer=settings.issuer_url,
        client_id=DEMO_CLIENT_ID,
        private_key=demo_service_key(settings.var_dir),
        base_url=service_url,
        data_api_url=data_api_url,
    )
    servers = [
        demo_server(broker_app, host, port),
        demo_server(create_service_app(rp), host, service_port),
        demo_server(create_resource_asgi_app(settings), host, data_api_port),
        demo_server(create_all_app(SimulatorOptions()), host, simulators_port),
    ]

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
        f"    test citizen        : login '{first.login}', password '{first.password}' "
        f"({first.given_name} {first.family_name}); others are listed on the login page\n"
        "  Press Ctrl+C to stop.\n",
        flush=True,
    )

    async def serve_all() -> None:
        await asyncio.gather(*(server.serve() for server in servers))

    asyncio.run(serve_all())
    return 0
