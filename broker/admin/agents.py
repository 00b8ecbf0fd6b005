"""The portal's agents and their roles.

An agent is whoever the agents' identity provider (ProConnect in France) says signed in: the
record is created or refreshed at each sign-in from the provider's claims. Being a requester
needs no grant: an agent whose provider names an organisation (SIRET) requests for it. The
other roles are granted by email (lower-cased), before or after a first sign-in, and every
grant and revocation is written to the audit trail in the same transaction.

Roles hang on the email, so only an email the provider vouches for may carry them: a provider
that says ``email_verified: false`` gets no granted role for that agent (see
:class:`UnverifiedEmail`), and what it said is kept with the agent, so that a role granted to
that email later does not apply to them either (until a sign-in where the provider vouches for
it). A SIRET without a valid check key names no organisation."""

from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass

from sqlmodel import Session, col, select

from broker.admin import audit
from broker.admin.client_profile import AdminError
from broker.admin.principal import Agent, Role
from broker.catalogue.scopes import REGISTRY
from broker.catalogue.siret import valid_siret
from broker.store.portal_models import PortalAgent, PortalRole

log = logging.getLogger("broker.admin.agents")

GRANTED_ROLES = (Role.INSTRUCTOR, Role.ADMINISTRATOR, Role.DATA_PROVIDER)
EMAIL = re.compile(r"^[^@\s]{1,200}@[^@\s]{1,118}$")
# What a grant got wrong, by field: the /roles page words each code, the CLI too.
BAD_EMAIL = "email"
BAD_ROLE = "role"
NEEDS_PROVIDER = "provider_needed"  # a data provider's role, without a provider of the catalogue
PROVIDER_NOT_WANTED = "provider_not_wanted"
GRANT_ERROR_WORDS = {
    BAD_EMAIL: "not an email address",
    BAD_ROLE: "role must be one of "
    + ", ".join(GRANTED_ROLES)
    + " (requesters are named by their SIRET)",
    NEEDS_PROVIDER: "a data provider role names a provider of the catalogue (--provider KEY)",
    PROVIDER_NOT_WANTED: "--provider applies to the data provider role only",
}


class UnverifiedEmail(AdminError):
    """The provider says it did not verify the agent's email, and roles are granted to that
    email: signing in with it would hand them to whoever typed it."""


@dataclass(frozen=True)
class Identity:
    """What the agents' identity provider says about who signed in."""

    issuer: str
    subject: str
    email: str
    given_name: str = ""
    family_name: str = ""
    siret: str | None = None
    organisation: str | None = None
    email_verified: bool | None = None  # None: the provider did not say (ProConnect's emails are)


@dataclass(frozen=True)
class RoleGrant:
    email: str
    role: str
    provider: str
    granted_at: int
    granted_by: str

    def as_dict(self) -> dict[str, str | int]:
        return {
            "email": self.email,
            "role": self.role,
            "provider": self.provider,
            "granted_at": self.granted_at,
            "granted_by": self.granted_by,
        }


def normal_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise AdminError(f"not an email address: {email!r}")
    return email


def upsert_agent(session: Session, identity: Identity, now: int) -> PortalAgent:
    """The agent ``identity`` names (by issuer and subject), created at a first sign-in and
    refreshed at each one: their name, email and organisation are the provider's word. A new
    agent, or a new email or organisation (what their rights hang on), goes to the audit
    trail, in the caller's transaction."""
    siret = (identity.siret or "").strip() or None
    if siret is not None and not valid_siret(siret):
        # not a SIRET (or a mistyped one: its check key fails): the agent signs in, but
        # requests for no organisation
        log.warning("agent's SIRET refused: its check key fails", extra={"siret": siret})
        siret = None
    if identity.email_verified is False:
        refuse_unverified_email(session, identity)
    record = session.exec(
        select(PortalAgent).where(
            PortalAgent.idp_issuer == identity.issuer,
            PortalAgent.idp_subject == identity.subject,
        )
    ).first()
    before = audited_fields(record) if record is not None else None
    if record is None:
        record = PortalAgent(
            id=uuid.uuid4().hex,
            idp_issuer=identity.issuer,
            idp_subject=identity.subject,
            email=normal_email(identity.email),
            created_at=now,
            last_sign_in_at=now,
        )
    record.email = normal_email(identity.email)
    record.given_name = identity.given_name.strip()[:255]
    record.family_name = identity.family_name.strip()[:255]
    record.siret = siret
    record.organisation = (identity.organisation or "").strip()[:300] or None
    record.email_verified = identity.email_verified
    record.last_sign_in_at = now
    session.add(record)
    session.flush()
    after = audited_fields(record)
    if before != after:
        audit.record(
            session,
            actor=f"agent:{record.id} {record.email}"[:200],
            action="agent.create" if before is None else "agent.update",
            target_type="agent",
            target_id=record.id,
            before=before,
            after=after,
        )
    return record


def refuse_unverified_email(session: Session, identity: Identity) -> None:
    """An email the provider did not verify gets no role granted to it: the sign-in is
    refused when that email has one (logged); with none it goes on (the agent's requester
    right comes from the SIRET, not the email)."""
    roles, _ = agent_roles(session, identity.email)
    if roles:
        log.warning(
            "agent sign-in refused: roles are granted to an email its provider did not verify",
            extra={"issuer": identity.issuer, "subject": identity.subject},
        )
        raise UnverifiedEmail("the identity provider did not verify this agent's email")
    log.info(
        "agent's email not verified by its provider: no granted role applies",
        extra={"issuer": identity.issuer, "subject": identity.subject},
    )


def audited_fields(record: PortalAgent) -> dict[str, str | bool | None]:
    return {
        "email": record.email,
        "email_verified": record.email_verified,
        "siret": record.siret,
        "organisation": record.organisation,
    }


def agent_roles(session: Session, email: str) -> tuple[frozenset[Role], frozenset[str]]:
    """The roles granted to ``email`` and, for data providers, the providers' keys (being a
    requester is not granted: see :func:`agent_of`)."""
    rows = session.exec(select(PortalRole).where(PortalRole.email == email.strip().lower())).all()
    roles = frozenset(Role(row.role) for row in rows if row.role in GRANTED_ROLES)
    providers = frozenset(row.provider for row in rows if row.role == Role.DATA_PROVIDER)
    return roles, providers


def agent_of(session: Session, record: PortalAgent) -> Agent:
    """The agent as the portal's guards see them, with their roles as they are now: none of
    those granted to their email when their provider said, at their last sign-in, that it did
    not verify it (being a requester comes from the SIRET, and still applies)."""
    roles: frozenset[Role] = frozenset()
    providers: frozenset[str] = frozenset()
    if record.email_verified is not False:
        roles, providers = agent_roles(session, record.email)
    if record.siret:
        roles = roles | {Role.REQUESTER}
    return Agent(
        id=record.id,
        email=record.email,
        given_name=record.given_name,
        family_name=record.family_name,
        siret=record.siret,
        organisation=record.organisation,
        roles=roles,
        providers=providers,
    )


def load_agent(session: Session, agent_id: str) -> Agent | None:
    record = session.get(PortalAgent, agent_id)
    return agent_of(session, record) if record is not None else None


def catalogue_providers() -> frozenset[str]:
    return frozenset(provider.key for provider in REGISTRY.providers())


def grant_errors(
    email: str, role: str, provider: str, *, known_providers: frozenset[str] | None = None
) -> dict[str, str]:
    """Field -> code (``BAD_EMAIL``…) of what a grant got wrong; empty when it may be made.
    A data provider's role names a provider of the catalogue, exactly (``known_providers``:
    the catalogue's keys by default; a revocation also accepts a key no longer in it)."""
    errors: dict[str, str] = {}
    try:
        normal_email(email)
    except AdminError:
        errors["email"] = BAD_EMAIL
    known = catalogue_providers() if known_providers is None else known_providers
    if role not in GRANTED_ROLES:
        errors["role"] = BAD_ROLE
    elif role == Role.DATA_PROVIDER:
        if provider not in known:
            errors["provider"] = NEEDS_PROVIDER
    elif provider:
        errors["provider"] = PROVIDER_NOT_WANTED
    return errors


def granted_providers(session: Session) -> frozenset[str]:
    """The catalogue's providers and those named by a grant (to revoke a stale one)."""
    rows = session.exec(select(PortalRole.provider).where(PortalRole.provider != "")).all()
    return catalogue_providers() | frozenset(rows)


def checked_grant(
    email: str, role: str, provider: str, known_providers: frozenset[str] | None = None
) -> tuple[str, Role, str]:
    errors = grant_errors(email, role, provider, known_providers=known_providers)
    if errors:
        raise AdminError("; ".join(GRANT_ERROR_WORDS[code] for code in errors.values()))
    return normal_email(email), Role(role), provider


def find_grant(session: Session, email: str, role: Role, provider: str) -> PortalRole | None:
    return session.exec(
        select(PortalRole).where(
            PortalRole.email == email, PortalRole.role == role, PortalRole.provider == provider
        )
    ).first()


def grant_role(
    session: Session,
    *,
    email: str,
    role: str,
    provider: str = "",
    actor: str,
    now: int | None = None,
) -> bool:
    """Gives ``role`` to ``email``; False if they already had it (nothing written)."""
    now = int(time.time()) if now is None else now
    email, checked, provider = checked_grant(email, role, provider)
    if find_grant(session, email, checked, provider) is not None:
        return False
    row = PortalRole(
        email=email, role=checked, provider=provider, granted_at=now, granted_by=actor[:200]
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="role.grant",
        target_type="agent_role",
        target_id=email[:64],
        before=None,
        after={"email": email, "role": str(checked), "provider": provider},
    )
    return True


def revoke_role(session: Session, *, email: str, role: str, provider: str = "", actor: str) -> bool:
    """Takes ``role`` away from ``email``; False if they did not have it (nothing written).
    It applies at their next request: the guards read the roles each time."""
    email, checked, provider = checked_grant(email, role, provider, granted_providers(session))
    row = find_grant(session, email, checked, provider)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="role.revoke",
        target_type="agent_role",
        target_id=email[:64],
        before={"email": email, "role": str(checked), "provider": provider},
        after=None,
    )
    return True


def list_roles(session: Session) -> list[RoleGrant]:
    rows = session.exec(
        select(PortalRole).order_by(
            col(PortalRole.email), col(PortalRole.role), col(PortalRole.provider)
        )
    ).all()
    return [
        RoleGrant(
            email=row.email,
            role=row.role,
            provider=row.provider,
            granted_at=row.granted_at,
            granted_by=row.granted_by,
        )
        for row in rows
    ]
