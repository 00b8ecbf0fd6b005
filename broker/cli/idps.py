"""``broker idps``: the registry of upstream identity providers (FranceConnect, the demo ones,
any OpenID Connect provider)."""

from __future__ import annotations

from typing import Any

import click
from sqlmodel import Session

from broker.cli.common import admin_action, audited, database, load_settings, print_json


@click.group()
def idps() -> None:
    """Upstream identity providers the citizens may sign in through."""


@idps.command("add")
@click.option("--name", required=True, help="Shown on the choice page.")
@click.option("--issuer", required=True, help="The provider's issuer (its discovery is there).")
@click.option("--client-id", required=True, help="The broker's client id at that provider.")
@click.option("--client-secret", default=None, help="For client_secret_basic or _post.")
@click.option(
    "--auth-method",
    default=None,
    type=click.Choice(["client_secret_basic", "client_secret_post", "private_key_jwt"]),
    help="How the broker authenticates to the provider [default: client_secret_basic, or "
    "private_key_jwt without --client-secret; the provider reads the broker's keys at "
    "ISSUER/jwks]",
)
@click.option("--scopes", default=None, help="Default: the identity pivot's claims.")
@click.option(
    "--acr",
    "acr_values",
    multiple=True,
    required=True,
    type=click.Choice(["eidas1", "eidas2", "eidas3"]),
    help="A level this provider can reach (repeat for several).",
)
@click.option(
    "--kind",
    default="oidc",
    show_default=True,
    type=click.Choice(["oidc", "franceconnect_v2"]),
    help="franceconnect_v2 applies that platform's profile (signed userinfo, its scopes).",
)
@click.option(
    "--id-token-alg",
    "id_token_algs",
    multiple=True,
    help="An algorithm accepted for its ID tokens (repeat) [default: ES256 and RS256].",
)
@click.option("--signed-userinfo", is_flag=True, help="Refuse userinfo that is not a signed JWT.")
@click.option("--logo", type=click.File("rb"), default=None, help="PNG or JPEG, at most 100 kB.")
def idps_add(
    name,
    issuer,
    client_id,
    client_secret,
    auth_method,
    scopes,
    acr_values,
    kind,
    id_token_algs,
    signed_userinfo,
    logo,
) -> None:
    """Register a provider; prints it with the redirect_uri to register at that provider."""
    from broker.admin.identity_providers import (
        DEFAULT_SCOPES,
        FRANCECONNECT_SCOPES,
        ProviderRegistration,
        add_provider,
    )
    from broker.core.outbound.policy import OutboundPolicy
    from broker.keys.vault import KeyVault

    settings = load_settings()
    method = auth_method or ("client_secret_basic" if client_secret else "private_key_jwt")
    registration = ProviderRegistration(
        name=name,
        issuer=issuer,
        client_id=client_id,
        client_secret=client_secret,
        auth_method=method,
        scopes=scopes or (FRANCECONNECT_SCOPES if kind == "franceconnect_v2" else DEFAULT_SCOPES),
        acr_values=tuple(acr_values),
        kind=kind,
        id_token_algs=tuple(id_token_algs) or ("ES256", "RS256"),
        signed_userinfo=signed_userinfo,
        logo=logo.read() if logo else None,
    )
    vault = KeyVault(settings.secret)
    # The broker calls the issuer's discovery: https and public addresses only in production.
    outbound = OutboundPolicy.from_settings(settings)

    def add(session: Session) -> dict[str, Any]:
        added = add_provider(session, vault, registration, issuer_url(settings), outbound)
        audited(
            session,
            "identity_provider.add",
            target_type="identity_provider",
            target_id=added["id"],
            before=None,
            after=added,
            skip_unchanged=True,
        )
        return added

    print_json(admin_action(add))


def switch(provider_id: str, enabled: bool, message: str) -> dict[str, Any]:
    from broker.admin.identity_providers import describe, provider, set_enabled

    url = issuer_url(load_settings())

    def change(session: Session) -> dict[str, Any]:
        before = describe(provider(session, provider_id), url)
        after = set_enabled(session, provider_id, enabled, message, url)
        action = "identity_provider." + ("enable" if enabled else "disable")
        audited(
            session,
            action,
            target_type="identity_provider",
            target_id=provider_id,
            before=before,
            after=after,
            skip_unchanged=True,
        )
        return after

    return admin_action(change)


def issuer_url(settings) -> str:
    return settings.with_issuer_default("127.0.0.1", 8000).issuer_url


@idps.command("list")
def idps_list() -> None:
    """Every identity provider, with the redirect_uri registered at it."""
    from broker.admin.identity_providers import list_providers

    settings = load_settings()
    with database(settings) as db, db.reader() as session:
        print_json(list_providers(session, issuer_url(settings)))


@idps.command("disable")
@click.argument("provider_id")
@click.option("--message", default="", help="Shown on the choice page while it is disabled.")
def idps_disable(provider_id, message) -> None:
    """Maintenance: shown but not choosable; callbacks already under way are refused."""
    print_json(switch(provider_id, False, message))


@idps.command("enable")
@click.argument("provider_id")
def idps_enable(provider_id) -> None:
    """End a maintenance: the provider is choosable again."""
    print_json(switch(provider_id, True, ""))


@idps.command("remove")
@click.argument("provider_id")
def idps_remove(provider_id) -> None:
    """Remove a provider from the registry: citizens can no longer sign in through it."""
    from broker.admin.identity_providers import describe, provider, remove_provider

    url = issuer_url(load_settings())

    def remove(session: Session) -> dict[str, Any]:
        before = describe(provider(session, provider_id), url)
        removed = remove_provider(session, provider_id)
        audited(
            session,
            "identity_provider.remove",
            target_type="identity_provider",
            target_id=provider_id,
            before=before,
            after=None,
            skip_unchanged=True,
        )
        return removed

    print_json(admin_action(remove))
