"""The ``broker`` command. Every command prints JSON (or nothing) on stdout; logs go to stderr."""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

import click

from broker.logs import configure_logging
from broker.settings import ConfigurationError, Settings

log = logging.getLogger("broker.cli")


def _settings() -> Settings:
    try:
        return Settings()
    except (ConfigurationError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


def _print(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _db(settings: Settings):
    from broker.db import Database

    return Database(settings.effective_database_url)


@click.group()
def cli() -> None:
    """Consent broker: OpenID Connect provider for public-sector data sharing."""
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    if settings.is_development:
        log.warning(settings.describe_mode())


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
def run(host: str, port: int, workers: int) -> None:
    """Serve the broker. The issuer defaults to http://HOST:PORT unless BROKER_ISSUER is set."""
    import uvicorn

    from broker.asgi import ISSUER_DEFAULT_ENV

    settings = _settings().with_issuer_default(host, port)
    os.environ[ISSUER_DEFAULT_ENV] = settings.issuer_url  # read by worker processes too
    # Generate missing keys once, here, so that several workers do not race to create them,
    # and open them: a wrong key-encryption secret stops here with a non-zero exit status.
    from broker.keys.keystore import SUPPORTED_ALGS
    from broker.keys.vault import VaultError

    keystore = _keystore(settings)
    keystore.ensure_keys()
    try:
        for alg in SUPPORTED_ALGS:
            keystore.signing_key(alg)
    except VaultError as exc:
        raise click.ClickException(str(exc)) from exc
    uvicorn.run("broker.asgi:build", factory=True, host=host, port=port, workers=workers,
                log_config=None, access_log=False, server_header=False, proxy_headers=False)


@cli.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command()
@click.option("--revision", default="head", show_default=True)
def upgrade(revision: str) -> None:
    from broker import migrate

    settings = _settings()
    migrate.upgrade(settings.effective_database_url, revision)
    _print({"upgraded_to": revision})


@db.command()
def purge() -> None:
    """Delete expired interactions, sessions, codes, assertion ids and old access tokens."""
    import time

    from broker.store.maintenance import purge_expired

    with _db(_settings()).begin() as conn:
        _print(purge_expired(conn, int(time.time())))


@db.command()
@click.option("--revision", default="base", show_default=True)
def downgrade(revision: str) -> None:
    from broker import migrate

    settings = _settings()
    migrate.downgrade(settings.effective_database_url, revision)
    _print({"downgraded_to": revision})


@cli.group()
def clients() -> None:
    """OpenID Connect clients of the services."""


@clients.command("add")
@click.option("--name", required=True, help="Service name; created if new, reused otherwise.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True)
@click.option("--scope", required=True, help='e.g. "openid profile"')
@click.option("--auth-method", default="client_secret_basic", show_default=True,
              type=click.Choice(["client_secret_basic", "client_secret_post", "private_key_jwt"]))
@click.option("--jwks-uri", default=None)
@click.option("--id-token-alg", default="ES256", show_default=True,
              type=click.Choice(["ES256", "RS256"]))
@click.option("--access-token-ttl", default=600, show_default=True, type=int)
@click.option("--notification-uri", default=None,
              help="Where signed consent events (revocation...) are posted.")
def clients_add(name, redirect_uris, scope, auth_method, jwks_uri, id_token_alg,
                access_token_ttl, notification_uri) -> None:
    from broker.admin.clients import AdminError, ClientRegistration, add_client

    settings = _settings()
    registration = ClientRegistration(
        name=name, redirect_uris=list(redirect_uris), scope=scope, auth_method=auth_method,
        jwks_uri=jwks_uri, id_token_alg=id_token_alg, access_token_ttl=access_token_ttl,
        notification_uri=notification_uri)
    try:
        with _db(settings).transaction() as session:
            created = add_client(session, registration)
    except AdminError as exc:
        raise click.ClickException(str(exc)) from exc
    _print(created)


@clients.command("logo")
@click.option("--name", required=True, help="Service name.")
@click.argument("image", type=click.File("rb"))
def clients_logo(name, image) -> None:
    """Set the logo (PNG or JPEG, at most 100 kB) the consent screen shows for a service."""
    from broker.admin.clients import set_service_logo

    data = image.read()
    _print(_admin(lambda session: set_service_logo(session, name, data)))


@clients.command("list")
def clients_list() -> None:
    from broker.admin.clients import list_clients

    with _db(_settings()).reader() as session:
        _print(list_clients(session))


@cli.group()
def resources() -> None:
    """The data API (resource server)."""


@resources.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8002, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
def resources_run(host: str, port: int, workers: int) -> None:
    """Serve the data API. BROKER_ISSUER must name the broker whose tokens it accepts."""
    import uvicorn

    settings = _settings()
    if not settings.issuer:
        raise click.ClickException("set BROKER_ISSUER to the issuer URL of the broker whose "
                                   "access tokens this data API accepts")
    uvicorn.run("broker.asgi:build_resources", factory=True, host=host, port=port,
                workers=workers, log_config=None, access_log=False, server_header=False,
                proxy_headers=False)


@cli.group()
def simulators() -> None:
    """Simulators of the data providers, for development and tests."""


@simulators.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8003, show_default=True, type=int)
@click.option("--provider", default=None,
              help="Serve only this provider's simulator (default: all, under /<provider>).")
@click.option("--slow-seconds", default=30.0, show_default=True, type=float,
              help="How long the 'slow' scenario citizens make the simulators wait.")
@click.option("--maintenance", is_flag=True, help="Answer every call with a maintenance window.")
def simulators_run(host: str, port: int, provider: str | None, slow_seconds: float,
                   maintenance: bool) -> None:
    import uvicorn

    from broker.providers.simulators import SimulatorOptions, create_all_app, create_app_for

    options = SimulatorOptions(slow_seconds=slow_seconds, maintenance=maintenance)
    try:
        app = create_app_for(provider, options) if provider else create_all_app(options)
    except KeyError as exc:
        raise click.ClickException(f"unknown provider {provider!r}") from exc
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False,
                server_header=False)


@cli.group()
def habilitations() -> None:
    """Habilitations: a service's approved right to data scopes, for a purpose."""


def _admin(action):
    """Run an admin action in one transaction; an AdminError is a one-line message."""
    from broker.admin.clients import AdminError

    try:
        with _db(_settings()).transaction() as session:
            return action(session)
    except AdminError as exc:
        raise click.ClickException(str(exc)) from exc


@habilitations.command("add")
@click.option("--service", required=True, help="Name of an existing service.")
@click.option("--create-service", is_flag=True, help="Create the service if it does not exist.")
@click.option("--scopes", required=True, help='Data scopes, e.g. "cnaf_quotient_familial"')
@click.option("--purpose", required=True)
@click.option("--legal-basis", required=True)
@click.option("--expires", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day of validity (YYYY-MM-DD, UTC).")
@click.option("--rate-limit", type=int, default=None, help="Requests per second (default 20).")
@click.option("--optional-scopes", default="", help="Scopes the citizen may untick.")
@click.option("--consent", "consent_mode", type=click.Choice(["recurring", "one_time"]),
              default="recurring", show_default=True,
              help="one_time: nothing remembered; recurring: remembered, with refresh tokens.")
@click.option("--consent-days", type=int, default=None,
              help="How long a recurring consent lasts (default and maximum 365).")
@click.option("--legal-basis-url", default=None, help="Link to the legal text.")
def habilitations_add(service, create_service, scopes, purpose, legal_basis, expires,
                      rate_limit, optional_scopes, consent_mode, consent_days,
                      legal_basis_url) -> None:
    from broker.admin.habilitations import HabilitationRequest, add_habilitation

    request = HabilitationRequest(service=service, scopes=scopes, purpose=purpose,
                                  legal_basis=legal_basis,
                                  expires=expires.date() if expires else None,
                                  rate_limit=rate_limit, create_service=create_service,
                                  optional_scopes=optional_scopes, consent_mode=consent_mode,
                                  consent_days=consent_days, legal_basis_url=legal_basis_url)
    _print(_admin(lambda session: add_habilitation(session, request)))


@habilitations.command("list")
def habilitations_list() -> None:
    from broker.admin.habilitations import list_habilitations

    with _db(_settings()).reader() as session:
        _print(list_habilitations(session))


@habilitations.command("revoke")
@click.argument("habilitation_id")
def habilitations_revoke(habilitation_id) -> None:
    from broker.admin.habilitations import revoke_habilitation

    _print(_admin(lambda session: revoke_habilitation(session, habilitation_id)))


@cli.group()
def apikeys() -> None:
    """API keys of agents' software, each bound to one habilitation."""


@apikeys.command("issue")
@click.argument("habilitation_id")
def apikeys_issue(habilitation_id) -> None:
    """Print a new key once; only its digest is stored."""
    from broker.admin.habilitations import issue_api_key

    _print(_admin(lambda session: issue_api_key(session, habilitation_id)))


@apikeys.command("revoke")
@click.argument("key_id")
def apikeys_revoke(key_id) -> None:
    from broker.admin.habilitations import revoke_api_key

    _print(_admin(lambda session: revoke_api_key(session, key_id)))


@apikeys.command("list")
def apikeys_list() -> None:
    from broker.admin.habilitations import list_api_keys

    with _db(_settings()).reader() as session:
        _print(list_api_keys(session))


@cli.group()
def introspection() -> None:
    """Data providers allowed to introspect access tokens (RFC 7662)."""


@introspection.command("add")
@click.option("--provider", required=True, help="Data provider key, e.g. dgfip.")
def introspection_add(provider: str) -> None:
    """Print the provider's client_id and client_secret (shown once)."""
    from broker.admin.introspection import add_introspection_client

    _print(_admin(lambda session: add_introspection_client(session, provider)))


@introspection.command("list")
def introspection_list() -> None:
    from broker.admin.introspection import list_introspection_clients

    with _db(_settings()).reader() as session:
        _print(list_introspection_clients(session))


@introspection.command("revoke")
@click.argument("client_id")
def introspection_revoke(client_id: str) -> None:
    from broker.admin.introspection import revoke_introspection_client

    _print(_admin(lambda session: revoke_introspection_client(session, client_id)))


@cli.group()
def keys() -> None:
    """Signing keys."""


def _keystore(settings: Settings):
    from broker.keys.keystore import KeyStore
    from broker.keys.vault import KeyVault
    from broker.store.key_store import SqlKeyRepository

    return KeyStore(SqlKeyRepository(_db(settings)), KeyVault(settings.secret),
                    max_token_ttl=settings.max_token_ttl)


@keys.command("rotate")
def keys_rotate() -> None:
    """New keys sign from now on; the old ones stay in the JWKS until their tokens expire."""
    _print(_keystore(_settings()).rotate())


@keys.command("list")
def keys_list() -> None:
    from broker.store.key_store import SqlKeyRepository

    stored = SqlKeyRepository(_db(_settings())).list_keys()
    _print([{"kid": k.kid, "alg": k.alg, "created_at": k.created_at, "retired_at": k.retired_at,
             "unpublish_at": k.unpublish_at} for k in stored])


@cli.group()
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

    settings = _settings()
    with _db(settings).transaction() as session:
        _print(seed(session, settings.var_dir, service_url, password_profile))


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

    settings = _settings().with_issuer_default(host, port)
    sys.exit(run_demo(settings, host, port, service_port, data_api_port, simulators_port))


def main() -> None:
    """Console entry point: database problems become one readable line, not a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        cli.main(prog_name="broker")
    except SQLAlchemyError as exc:
        click.echo(f"Error: database: {type(exc.orig or exc).__name__}: "
                   f"{str(exc.orig or exc).splitlines()[0]}. "
                   "Is BROKER_DATABASE_URL right, and is the schema migrated "
                   "(`broker db upgrade`)?", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
