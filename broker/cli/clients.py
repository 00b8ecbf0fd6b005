"""``broker clients``: the OpenID Connect clients of the services, and their logos."""

from __future__ import annotations

from typing import Any

import click
from sqlmodel import Session, select

from broker.admin.client_secrets import DEFAULT_OVERLAP_HOURS, OVERLAP_HOURS
from broker.cli.common import admin_action, audited, database, load_settings, print_json
from broker.keys.keystore import SUPPORTED_ALGS
from broker.oidc.models import PROFILES
from broker.store.models import Service

OVERLAP_CHOICES = tuple(str(hours) for hours in OVERLAP_HOURS)


def service_id_named(session: Session, name: str) -> str:
    service = session.exec(select(Service).where(Service.name == name.strip())).first()
    return service.id if service is not None else name[:64]


@click.group()
def clients() -> None:
    """OpenID Connect clients of the services."""


@clients.command("add")
@click.option("--name", required=True, help="Service name; created if new, reused otherwise.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True)
@click.option("--scope", required=True, help='e.g. "openid profile"')
@click.option(
    "--auth-method",
    default="client_secret_basic",
    show_default=True,
    type=click.Choice(["client_secret_basic", "client_secret_post", "private_key_jwt"]),
)
@click.option("--jwks-uri", default=None)
@click.option(
    "--jwks-file",
    type=click.File("r"),
    default=None,
    help="The client's public keys inline: a JSON Web Key Set file (instead of --jwks-uri).",
)
@click.option(
    "--id-token-alg", default="ES256", show_default=True, type=click.Choice(SUPPORTED_ALGS)
)
@click.option("--access-token-ttl", default=600, show_default=True, type=int)
@click.option(
    "--notification-uri",
    default=None,
    help="Where signed consent events (revocation...) are posted.",
)
@click.option(
    "--post-logout-redirect-uri",
    "post_logout_redirect_uris",
    multiple=True,
    help="Where the broker's end_session_endpoint may send the citizen back (exact match).",
)
@click.option(
    "--profile",
    default=None,
    type=click.Choice(PROFILES),
    help="fapi2: the FAPI 2.0 Security Profile (implies --require-par and --dpop; "
    "private_key_jwt and ES256 only).",
)
@click.option(
    "--require-par",
    is_flag=True,
    help="Authorization requests only through the pushed authorization endpoint (RFC 9126).",
)
@click.option("--dpop", is_flag=True, help="Every token bound to a DPoP key (RFC 9449).")
@click.option(
    "--backchannel-logout-uri",
    default=None,
    help="Where signed logout tokens are posted when the citizen's broker session ends.",
)
@click.option(
    "--id-token-encryption",
    nargs=2,
    default=None,
    metavar="ALG ENC",
    help="Encrypt ID tokens to the client's key, e.g. RSA-OAEP-256 A256GCM or ECDH-ES A256GCM.",
)
@click.option(
    "--userinfo-encryption",
    nargs=2,
    default=None,
    metavar="ALG ENC",
    help="Encrypt userinfo answers to the client's key (signed first).",
)
@click.option(
    "--userinfo-alg",
    default=None,
    type=click.Choice(SUPPORTED_ALGS),
    help="Answer userinfo as a JWT signed with this algorithm.",
)
def clients_add(
    name,
    redirect_uris,
    scope,
    auth_method,
    jwks_uri,
    jwks_file,
    id_token_alg,
    access_token_ttl,
    notification_uri,
    post_logout_redirect_uris,
    profile,
    require_par,
    dpop,
    backchannel_logout_uri,
    id_token_encryption,
    userinfo_encryption,
    userinfo_alg,
) -> None:
    from broker.admin.client_jwks import parse_jwks
    from broker.admin.clients import AdminError, ClientRegistration, add_client
    from broker.core.outbound.policy import OutboundPolicy

    try:
        jwks = parse_jwks(jwks_file.read()) if jwks_file is not None else None
    except AdminError as exc:
        raise click.ClickException(f"--jwks-file: {exc}") from exc
    # --jwks-uri, --notification-uri and --backchannel-logout-uri are called by the broker:
    # https and public addresses only in production (docs/operations.md, "Outbound requests").
    outbound = OutboundPolicy.from_settings(load_settings())
    registration = ClientRegistration(
        name=name,
        redirect_uris=list(redirect_uris),
        scope=scope,
        auth_method=auth_method,
        jwks_uri=jwks_uri,
        jwks=jwks,
        id_token_alg=id_token_alg,
        access_token_ttl=access_token_ttl,
        notification_uri=notification_uri,
        post_logout_redirect_uris=tuple(post_logout_redirect_uris),
        profile=profile,
        require_par=require_par,
        dpop=dpop,
        backchannel_logout_uri=backchannel_logout_uri,
        id_token_encryption=tuple(id_token_encryption) if id_token_encryption else None,
        userinfo_encryption=tuple(userinfo_encryption) if userinfo_encryption else None,
        userinfo_signed_response_alg=userinfo_alg,
    )

    def add(session: Session) -> dict[str, Any]:
        created = add_client(session, registration, outbound)
        described = {k: v for k, v in created.items() if k != "client_secret"}
        audited(
            session,
            "client.add",
            target_type="client",
            target_id=created["client_id"],
            before=None,
            after=described,
        )
        return created

    print_json(admin_action(add))


@clients.command("logo")
@click.option("--name", required=True, help="Service name.")
@click.argument("image", type=click.File("rb"))
def clients_logo(name, image) -> None:
    """Set the logo (PNG or JPEG, at most 100 kB) the consent screen shows for a service."""
    from broker.admin.clients import set_service_logo

    data = image.read()

    def set_logo(session: Session) -> dict[str, Any]:
        done = set_service_logo(session, name, data)
        after = {"logo_type": done["logo_type"], "logo_bytes": done["logo_bytes"]}
        audited(
            session,
            "service.set_logo",
            target_type="service",
            target_id=done["service_id"],
            before=None,
            after=after,
        )
        return {**done, **after}

    print_json(admin_action(set_logo))


@clients.command("list")
def clients_list() -> None:
    from broker.admin.clients import list_clients

    with database(load_settings()) as db, db.reader() as session:
        print_json(list_clients(session))


@clients.command("idps")
@click.option("--name", required=True, help="Service name.")
@click.option("--allow", "allow", multiple=True, help="Offer only these providers (repeat).")
@click.option("--block", "block", multiple=True, help="Never offer these providers (repeat).")
def clients_idps(name, allow, block) -> None:
    """Which identity providers the service's clients may use (replaces the previous rules;
    neither --allow nor --block: every provider again)."""
    from broker.admin.identity_providers import set_client_rules

    def set_rules(session: Session) -> dict[str, Any]:
        rules = set_client_rules(session, name, list(allow), list(block))
        audited(
            session,
            "service.identity_providers",
            target_type="service",
            target_id=service_id_named(session, name),
            before=None,
            after=rules,
        )
        return rules

    print_json(admin_action(set_rules))


@clients.command("rotate-secret")
@click.argument("client_id")
@click.option(
    "--overlap-hours",
    type=click.Choice(OVERLAP_CHOICES),
    default=str(DEFAULT_OVERLAP_HOURS),
    show_default=True,
    help="How long the previous secret keeps working, so that the service can deploy the "
    "new one (0: it stops now).",
)
def clients_rotate_secret(client_id, overlap_hours) -> None:
    """A new secret for the client, printed once; the previous one keeps authenticating
    during the overlap."""
    from broker.admin.audit import cli_actor
    from broker.admin.client_access import ClientManager
    from broker.admin.client_secrets import rotate_secret

    manager = ClientManager.operator(cli_actor())
    rotated = admin_action(
        lambda session: rotate_secret(session, manager, client_id, overlap_hours=int(overlap_hours))
    )
    print_json(
        {
            "client_id": rotated.client_id,
            "client_secret": rotated.client_secret,
            "previous_secret_valid_until": rotated.previous_accepted_until,
        }
    )
