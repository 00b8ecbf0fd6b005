"""``broker habilitations`` and ``broker apikeys``: services' rights to data, and the API keys bound
to them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

import click
from sqlmodel import Session

from broker.admin.consent_information import (
    CLEARABLE,
    StatedInformation,
    option_name,
    unstated,
)
from broker.cli.common import admin_action, audited, database, load_settings, print_json
from broker.cli.services import find_service, service_to_join
from broker.oidc.models import ConsentMode

T = TypeVar("T")

if TYPE_CHECKING:
    from broker.admin.api_keys import KeyLine


def information_options(command: Callable[..., None]) -> Callable[..., None]:
    """What the consent screen tells citizens: the same options to add and to change it."""
    options = (
        click.option("--controller", default=None, help="Organisation responsible for the data."),
        click.option(
            "--contact", default=None, help="Its contact: an email address or an https URL."
        ),
        click.option(
            "--dpo",
            default=None,
            help="Its data protection officer: an email address or an https URL.",
        ),
        click.option(
            "--retention", default=None, help="How long the service keeps the data, in words."
        ),
        click.option(
            "--reason",
            "reasons",
            multiple=True,
            metavar="SCOPE=TEXT",
            help="Why the service needs this item (repeatable; a data scope, or an identity "
            "scope the consent screen lists: not openid).",
        ),
        click.option(
            "--if-refused", default=None, help="What the citizen can do instead of consenting."
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command


def print_habilitation(described: dict[str, Any]) -> None:
    """The habilitation as JSON, and on stderr what the consent screen cannot say."""
    print_json(described)
    if missing := unstated(described):
        click.echo(
            "warning: the consent screen cannot tell citizens what these would say: "
            + ", ".join(missing),
            err=True,
        )


@click.group()
def habilitations() -> None:
    """Habilitations: a service's approved right to data scopes, for a purpose."""


@habilitations.command("add")
@click.option(
    "--service",
    required=True,
    help="An existing service: its id or its name (case, accents and punctuation aside).",
)
@click.option(
    "--create-service",
    is_flag=True,
    help="Create the service, named as --service says, if no service has exactly this name "
    "or id (one whose name is only close is refused).",
)
@click.option(
    "--scopes",
    required=True,
    help='Data scopes, e.g. "cnaf_quotient_familial" (identity scopes need no habilitation).',
)
@click.option(
    "--purpose", required=True, help="Why the service needs the data (shown to citizens)."
)
@click.option(
    "--legal-basis", required=True, help="The legal text that allows it (shown to citizens)."
)
@click.option(
    "--expires",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day of validity (YYYY-MM-DD, UTC; default: 18 months from today).",
)
@click.option(
    "--organisation",
    "organisation_siret",
    default=None,
    metavar="SIRET",
    help="The organisation that holds it (default: its service's). A new service is given "
    "to it; a service of another organisation is refused.",
)
@click.option(
    "--recipient",
    "recipients",
    multiple=True,
    metavar="SIRET",
    help="The SIRET of a public body the data may be sent to (repeatable). The data API refuses "
    "any other `recipient`; with none, every call that names a recipient is refused.",
)
@click.option(
    "--rate-limit",
    type=int,
    default=None,
    help="Data API requests per minute, per token or API key (default: BROKER_RATE_LIMIT, 1200).",
)
@click.option(
    "--optional-scopes",
    default="",
    help="Scopes among --scopes (not all of them) that the consent screen offers unticked: "
    "shared only when the citizen ticks them (opt-in).",
)
@click.option(
    "--consent",
    "consent_mode",
    type=click.Choice([mode.value for mode in ConsentMode]),
    default=ConsentMode.RECURRING.value,
    show_default=True,
    help="one_time: nothing remembered; recurring: remembered, with refresh tokens.",
)
@click.option(
    "--consent-days",
    type=int,
    default=None,
    help="How long a recurring consent lasts (default and maximum 365).",
)
@click.option("--legal-basis-url", default=None, help="Link to the legal text.")
@information_options
def habilitations_add(
    service,
    create_service,
    scopes,
    purpose,
    legal_basis,
    expires,
    rate_limit,
    optional_scopes,
    consent_mode,
    consent_days,
    organisation_siret,
    recipients,
    legal_basis_url,
    controller,
    contact,
    dpo,
    retention,
    reasons,
    if_refused,
) -> None:
    """Approve a service's right to data scopes, with the portal's rules (valid 18 months
    unless --expires says otherwise). The consent screen shows --controller, --contact,
    --dpo, --retention, each --reason and --if-refused: a warning names those left out."""
    from broker.admin.habilitations import HabilitationRequest, add_habilitation, default_expiry

    request = HabilitationRequest(
        service=service,
        scopes=scopes,
        purpose=purpose,
        legal_basis=legal_basis,
        expires=expires.date() if expires else default_expiry(int(time.time())),
        rate_limit=rate_limit,
        create_service=create_service,
        optional_scopes=optional_scopes,
        consent_mode=consent_mode,
        consent_days=consent_days,
        legal_basis_url=legal_basis_url,
        information=StatedInformation(
            controller=controller,
            contact=contact,
            dpo=dpo,
            retention=retention,
            reasons=tuple(reasons),
            if_refused=if_refused,
        ),
        organisation_siret=organisation_siret,
        recipients=tuple(recipients),
    )

    def add(session: Session) -> dict[str, Any]:
        found = (
            service_to_join(session, service, by_id=True)
            if create_service
            else find_service(session, service)
        )
        added = add_habilitation(
            session, replace(request, service=found.name) if found else request
        )
        audited(
            session,
            "habilitation.add",
            target_type="habilitation",
            target_id=added["id"],
            before=None,
            after=added,
        )
        return added

    print_habilitation(admin_action(add))
    if not recipients:
        click.echo(
            "warning: no --recipient: the data API refuses every call of this habilitation "
            "that names a recipient (every API-key call); recipients come with a habilitation "
            "(--recipient here, or the portal's request and its reopening).",
            err=True,
        )


@habilitations.command("set-information")
@click.argument("habilitation_id")
@information_options
@click.option(
    "--clear",
    "cleared",
    multiple=True,
    type=click.Choice([option_name(field) for field in CLEARABLE]),
    help="Remove this text from the consent screen (repeatable). reasons: all the stored "
    "reasons, then only the --reason given are kept.",
)
def habilitations_set_information(
    habilitation_id, controller, contact, dpo, retention, reasons, if_refused, cleared
) -> None:
    """Change what the consent screen tells citizens about an active habilitation. Options
    left out keep their text; --reason SCOPE=TEXT replaces that item's reason only; --clear
    FIELD removes a text (not with its own option in the same call). Its rights (scopes,
    consent terms, purpose) do not change: the consents given under it stand."""
    from broker.admin.habilitations import amend_consent_information, described_by_id

    changes = StatedInformation(
        controller=controller,
        contact=contact,
        dpo=dpo,
        retention=retention,
        reasons=tuple(reasons),
        if_refused=if_refused,
    )
    columns = tuple(option.replace("-", "_") for option in cleared)

    def amend(session: Session) -> dict[str, Any]:
        before = described_by_id(session, habilitation_id)
        after = amend_consent_information(session, habilitation_id, changes, cleared=columns)
        audited(
            session,
            "habilitation.set_information",
            target_type="habilitation",
            target_id=after["id"],
            before=before,
            after=after,
        )
        return after

    print_habilitation(admin_action(amend))


@habilitations.command("list")
def habilitations_list() -> None:
    """Every habilitation, active or not, with its service and consent terms."""
    from broker.admin.habilitations import list_habilitations

    with database(load_settings()) as db, db.reader() as session:
        print_json(list_habilitations(session))


@habilitations.command("revoke")
@click.argument("habilitation_id")
@click.option(
    "--reason",
    required=True,
    help="Why it ends: kept in the audit trail, shown on the habilitation's portal page.",
)
def habilitations_revoke(habilitation_id, reason) -> None:
    """End a habilitation at once: its API keys and its service's data tokens stop working.
    Already revoked: nothing changes."""
    from broker.admin.habilitation_revocation import revoke_as_operator

    print_json(
        portal_rules(lambda s: revoke_as_operator(s, audit_actor(), habilitation_id, reason))
    )


@click.group()
def apikeys() -> None:
    """API keys of agents' software, each bound to one habilitation."""


@apikeys.command("issue")
@click.argument("habilitation_id")
@click.option(
    "--name", required=True, help="What the key is for, as the portal lists it (1-100 chars)."
)
def apikeys_issue(habilitation_id, name) -> None:
    """Print a new key once; only its digest is stored."""
    from broker.admin.api_keys import issue_by_operator

    def issue(session: Session) -> dict[str, Any]:
        issued = issue_by_operator(session, audit_actor(), habilitation_id, name, now())
        return {**key_json(issued.key), "api_key": issued.secret}

    print_json(portal_rules(issue))


@apikeys.command("revoke")
@click.argument("key_id")
def apikeys_revoke(key_id) -> None:
    """Revoke a key at once. Already revoked: nothing changes."""
    from broker.admin.api_keys import revoke_by_operator

    def revoke(session: Session) -> dict[str, Any]:
        line, already = revoke_by_operator(session, audit_actor(), key_id, now())
        return {**key_json(line), "already_revoked": already}

    print_json(portal_rules(revoke))


@apikeys.command("list")
def apikeys_list() -> None:
    """Every API key, revoked ones included (never the key itself)."""
    from broker.admin.api_keys import every_key

    with database(load_settings()) as db, db.reader() as session:
        print_json([key_json(line) for line in every_key(session)])


def key_json(line: KeyLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "habilitation_id": line.habilitation_id,
        "name": line.name,
        "created_at": line.created_at,
        "created_by": line.created_by,
        "revoked_at": line.revoked_at,
    }


def audit_actor() -> str:
    from broker.admin.audit import cli_actor

    return cli_actor()


def now() -> int:
    return int(time.time())


def portal_rules(action: Callable[[Session], T]) -> T:
    """``admin_action`` for the domain functions the portal shares: their refusals (French
    messages, the portal's words) are one-line errors too."""
    from broker.admin.habilitation_views import HabilitationRefused

    try:
        return admin_action(action)
    except HabilitationRefused as refused:
        raise click.ClickException(refused.message) from refused
