"""``broker demo``: demo data, and the whole system on one machine."""

from __future__ import annotations

import sys

import click

from broker.cli.common import database, load_settings, print_json

@click.group()
def demo() -> None:
    """Demo data and the demo online service."""


@demo.command("seed")
@click.option("--service-url", default="http://127.0.0.1:8001", show_default=True)
@click.option("--password-profile", default="standard", show_default=True,
              type=click.Choice(["standard", "benchmark"]),
              help="argon2id cost for the test citizens (benchmark = minimal cost)")
def demo_seed(service_url: str, password_profile: str) -> None:
    """Create or update the test citizens and the demo service (idempotent)."""
    from broker.demo.seed import seed

    settings = load_settings()
    with database(settings).transaction() as session:
        print_json(seed(session, settings.var_dir, service_url, password_profile))


@demo.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--service-port", default=8001, show_default=True, type=int)
@click.option("--data-api-port", default=8002, show_default=True, type=int)
@click.option("--simulators-port", default=8003, show_default=True, type=int)
def demo_run(host: str, port: int, service_port: int, data_api_port: int,
             simulators_port: int) -> None:
    """Migrate, seed, and start the broker, the data API, the provider simulators and the
    demo online service together."""
    from broker.demo.runner import run_demo

    settings = load_settings().with_issuer_default(host, port)
    sys.exit(run_demo(settings, host, port, service_port, data_api_port, simulators_port))
