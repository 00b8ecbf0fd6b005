"""``broker clients``: the OpenID Connect clients of the services, and their logos."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import click
from sqlmodel import Session

from broker.admin.client_secrets import DEFAULT_OVERLAP_HOURS, OVERLAP_HOURS
from broker.cli.common import admin_action, audited, database, load_settings, print_json
from broker.cli.services import existing_service, service_to_join, uncovered_data_scopes
from broker.keys.keystore import SUPPORTED_ALGS
from broker.oidc.models import PROFILES

OVERLAP_CHOICES = tuple(str(hours) for hours in OVERLAP_HOURS)
SERVICE_OPTION = click.option(
    "--service",
    "--name",
    "service",
    required=True,
    help="The service: its id or its name (case, accents and punctuation aside). --name is "
    "the former spelling of this option.",
)


@click.group()
def clients() -> None:
    """OpenID Connect clients of the services."""


@clients.command("add")
@click.option(
    "--name",
    required=True,
    help="The client's name; without --service, also its service's: the service of exactly "
    "that name is reused, or created if there is none (a service whose name is only close, "
    "case, accents and punctuation aside, is refused: pass --service).",
)
@click.option(
    "--service",
    default=None,
    help="An existing service the client joins: its id or its name (case, accents and "
    "punctuation aside).",
)
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    required=True,
    help="Where the broker sends the citizen back with the code, matched exactly (https; "
    "plain http on loopback only). Repeatable.",
)
@click.option(
    "--scope",
    required=True,
    help='The scopes the client may request, e.g. "openid profile cnaf_quotient_familial"; '
    "openid required. Data scopes are granted only within an active habilitation of the "
    "service: a warning names those none covers.",
)
@click.option(
    "--auth-method",
    default="client_secret_basic",
    show_default=True,
    type=click.Choice(["client_secret_basic", "client_secret_post", "private_key_jwt"]),
)
@click.option(
    "--jwks-uri",
    default=None,
    help="Where the broker fetches the client's public keys (private_key_jwt, encryption).",
)
@click.option(
    "--jwks-file",
    type=click.File("r"),
    default=None,
    help="The client's public keys inline: a JSON Web Key Set file (instead of --jwks-uri).",
)
@click.option(
    "--id-token-alg", default="ES256", show_default=True, type=click.Choice(SUPPORTED_ALGS)
)
@click.option(
    "--access-token-ttl",
    default=600,
    show_default=True,
    type=int,
    help="Lifetime of its access tokens, in seconds (60 to 3600).",
)
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
    service,
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
    """Register an OpenID Connect client (and its service when new); prints it, with its
    secret once (secret methods). A warning on stderr names the data scopes of --scope that
    no active habilitation of the service covers."""
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

    def add(session: Session) -> tuple[dict[str, Any], list[str]]:
        joined = (
            existing_service(session, service)
            if service is not None
            else service_to_join(session, name, by_id=False)
        )
        chosen = replace(registration, service=joined.name if joined else None)
        created = add_client(session, chosen, outbound)
        described = {k: v for k, v in created.items() if k != "client_secret"}
        audited(
            session,
            "client.add",
            target_type="client",
            target_id=created["client_id"],
            before=None,
            after=described,
        )
        uncovered = uncovered_data_scopes(session, created["service_id"], scope.split())
        return created, uncovered

    created, uncovered = admin_action(add)
    print_json(created)
    if uncovered:
        click.echo(
            f"warning: no active habilitation of the service {created['service']!r} covers "
            f"these data scopes: {' '.join(uncovered)}. The broker refuses authorization "
            "requests asking for them (invalid_scope) until one does: `broker habilitations "
            f"add --service {created['service_id']} --scopes …`, or a request approved on "
            "the portal.",
            err=True,
        )


@clients.command("logo")
@SERVICE_OPTION
@click.argument("image", type=click.File("rb"))
def clients_logo(service, image) -> None:
    """Set the logo (PNG or JPEG, at most 100 kB) the consent screen shows for a service."""
    from broker.admin.clients import set_service_logo

    data = image.read()

    def set_logo(session: Session) -> dict[str, Any]:
        done = set_service_logo(session, existing_service(session, service).name, data)
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
    """Every client, with its service's name and id (never a secret)."""
    from broker.admin.clients import list_clients

    with database(load_settings()) as db, db.reader() as session:
        print_json(list_clients(session))


@clients.command("idps")
@SERVICE_OPTION
@click.option(
    "--allow",
    "allow",
    multiple=True,
    help="Offer only this identity provider (its id, as `broker idps list` shows; repeat; "
    "not with --block).",
)
@click.option(
    "--block",
    "block",
    multiple=True,
    help="Never offer this identity provider (its id; repeat).",
)
def clients_idps(service, allow, block) -> None:
    """Which identity providers the service's clients may use (replaces the previous rules;
    neither --allow nor --block: every provider again)."""
    from broker.admin.identity_providers import set_client_rules

    def set_rules(session: Session) -> dict[str, Any]:
        found = existing_service(session, service)
        rules = set_client_rules(session, found.name, list(allow), list(block))
        audited(
            session,
            "service.identity_providers",
            target_type="service",
            target_id=found.id,
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
