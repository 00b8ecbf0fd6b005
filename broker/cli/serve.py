"""``broker run``, ``broker resources run`` and ``broker simulators run``: the servers."""

from __future__ import annotations

import logging
import os
from typing import Any

import click

from broker.cli.common import database, keystore, load_settings
from broker.core import migrate
from broker.core.db import Database
from broker.core.http_server import HttpLimits, server_options
from broker.core.settings import Settings

log = logging.getLogger("broker.cli")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
def run(host: str, port: int, workers: int) -> None:
    """Serve the broker. The issuer defaults to http://HOST:PORT unless BROKER_ISSUER is set."""
    import uvicorn

    from broker.asgi import ISSUER_DEFAULT_ENV
    from broker.keys.keystore import SUPPORTED_ALGS
    from broker.keys.vault import VaultError

    settings = load_settings().with_issuer_default(host, port)
    os.environ[ISSUER_DEFAULT_ENV] = settings.issuer_url  # read by worker processes too
    if workers > 1:
        shared_flow_state(settings)
    # Generate missing keys once, here, so that several workers do not race to create them,
    # and open them: a wrong key-encryption secret stops here with a non-zero exit status.
    with database(settings) as db:
        require_latest_schema(db)
        keys = keystore(settings, db)
        keys.ensure_keys()
        try:
            for alg in SUPPORTED_ALGS:
                keys.signing_key(alg)
        except VaultError as exc:
            raise click.ClickException(str(exc)) from exc
    uvicorn.run(
        "broker.asgi:build",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **proxy_options(settings),
        **server_options(HttpLimits.from_settings(settings)),
    )


def require_latest_schema(db: Database) -> None:
    """A server starts only on a database migrated to this version's latest revision."""
    problem = migrate.schema_problem(db.engine)
    if problem is not None:
        raise click.ClickException(problem)


def proxy_options(settings: Settings) -> dict[str, Any]:
    """X-Forwarded-For is believed only from the proxies BROKER_FORWARDED_ALLOW_IPS names."""
    if not settings.forwarded_allow_ips:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}


def shared_flow_state(settings: Settings) -> None:
    """Several workers share the flow state: one process's memory cannot hold it."""
    backend = settings.flow_state_backend
    if backend == "memory":
        if settings.flow_state == "memory":
            raise click.ClickException(
                "BROKER_FLOW_STATE=memory holds flows in one process: run one worker, or set "
                "BROKER_REDIS_URL (or BROKER_FLOW_STATE=database)"
            )
        os.environ["BROKER_FLOW_STATE"] = backend = "database"  # read by the worker processes
    if backend == "database":
        log.warning(
            "several workers without Redis: the flow state is kept in the database "
            "(BROKER_REDIS_URL keeps it in Redis, faster)"
        )


@click.group()
def resources() -> None:
    """The data API (resource server)."""


@resources.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8002, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
def resources_run(host: str, port: int, workers: int) -> None:
    """Serve the data API. BROKER_ISSUER must name the broker whose tokens it accepts."""
    import uvicorn

    settings = load_settings()
    if not settings.issuer:
        raise click.ClickException(
            "set BROKER_ISSUER to the issuer URL of the broker whose "
            "access tokens this data API accepts"
        )
    with database(settings) as db:
        require_latest_schema(db)
    uvicorn.run(
        "broker.asgi:build_resources",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **proxy_options(settings),
        **server_options(HttpLimits.from_settings(settings)),
    )


@click.group()
def simulators() -> None:
    """Simulators of the data providers, for development and tests."""


@simulators.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8003, show_default=True, type=int)
@click.option(
    "--provider",
    default=None,
    help="Serve only this provider's simulator (default: all, under /<provider>).",
)
@click.option(
    "--slow-seconds",
    default=30.0,
    show_default=True,
    type=float,
    help="How long the 'slow' scenario citizens make the simulators wait.",
)
@click.option("--maintenance", is_flag=True, help="Answer every call with a maintenance window.")
def simulators_run(
    host: str, port: int, provider: str | None, slow_seconds: float, maintenance: bool
) -> None:
    """Serve the data providers' simulators (see docs/simulators.md)."""
    import uvicorn

    from broker.demo.simulators import SimulatorOptions, create_all_app, create_app_for

    options = SimulatorOptions(slow_seconds=slow_seconds, maintenance=maintenance)
    try:
        app = create_app_for(provider, options) if provider else create_all_app(options)
    except KeyError as exc:
        raise click.ClickException(f"unknown provider {provider!r}") from exc
    limits = HttpLimits.from_settings(load_settings())
    uvicorn.run(app, host=host, port=port, **server_options(limits))
