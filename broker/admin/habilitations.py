"""Habilitations of the services: added (the command line, an approved request), their terms
replaced (a reopening approved), what they tell citizens changed, revoked. Their API keys are
``broker.admin.api_keys``', their consent terms' rules ``broker.admin.consent_terms``'."""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from broker.admin.clients import AdminError, check_https_url, service_for
from broker.admin.consent_information import StatedInformation, amended, checked_information
from broker.admin.consent_terms import consent_terms
from broker.catalogue.registry import DATA
from broker.catalogue.scopes import REGISTRY
from broker.catalogue.siret import valid_siret
from broker.core.security import random_token
from broker.oidc.models import ConsentMode
from broker.store.data_access_models import Habilitation
from broker.store.models import Service

MAX_RATE_LIMIT = 600_000  # requests per minute (10,000 a second)
VALIDITY_MONTHS = 18  # an approved habilitation, unless told otherwise
INFORMATION_COLUMNS = ("controller", "contact", "dpo", "retention", "reasons", "if_refused")


def months_later(day: date, months: int) -> date:
    """The same day ``months`` calendar months later, or the last day of that month when it
    is shorter (31 August + 18 months: 29 February 2028)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_expiry(now: int) -> date:
    """The last day of a habilitation approved at ``now``: 18 months later (UTC dates)."""
    return months_later(datetime.fromtimestamp(now, UTC).date(), VALIDITY_MONTHS)


@dataclass(frozen=True)
class HabilitationRequest:
    service: str
    scopes: str
    purpose: str
    legal_basis: str
    expires: date | None = None
    rate_limit: int | None = None
    create_service: bool = False  # else the service must exist (a typo must not approve rights)
    optional_scopes: str = ""  # items the citizen may tick (unticked at first); within ``scopes``
    consent_mode: str = ConsentMode.RECURRING  # ONE_TIME: nothing remembered
    consent_days: int | None = None  # recurring consents: how long (default and maximum 365)
    legal_basis_url: str | None = None
    # Who is responsible, contacts, retention, reasons, the alternative: all optional.
    information: StatedInformation = field(default_factory=StatedInformation)
    # The organisation that holds it (SIRET; default: its service's), the public bodies the
    # data may be sent to (SIRETs), and the portal request approving it.
    organisation_siret: str | None = None
    recipients: tuple[str, ...] = ()
    request_id: str | None = None


def _checked_scopes(text: str) -> list[str]:
    scopes = list(dict.fromkeys(text.split()))
    if not scopes:
        raise AdminError("--scopes must name at least one data scope")
    if unknown := REGISTRY.unknown(scopes):
        raise AdminError(f"unknown scopes: {' '.join(unknown)}")
    not_data = [s for s in scopes if (scope := REGISTRY.get(s)) is None or scope.kind != DATA]
    if not_data:
        raise AdminError("identity scopes need no habilitation: " + " ".join(not_data))
    return scopes


def _expiry(day: date | None, now: int) -> int | None:
    """A habilitation is valid through its expiry date (UTC), so it ends the next midnight."""
    if day is None:
        return None
    end = int(datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC).timestamp())
    if end <= now:
        raise AdminError(f"--expires {day.isoformat()} is in the past")
    return end


def checked_siret(value: str, option: str) -> str:
    """The SIRET, the spaces people write in it ("217 300 015 00013") dropped."""
    siret = "".join(value.split())
    if not valid_siret(siret):
        raise AdminError(f"{option} must be a SIRET: 14 digits with a valid check key: {value!r}")
    return siret


def _checked_terms(req: HabilitationRequest, now: int) -> dict[str, Any]:
    """The habilitation's columns that ``req`` sets, every rule checked."""
    scopes = _checked_scopes(req.scopes)
    purpose, legal_basis = req.purpose.strip(), req.legal_basis.strip()
    if not purpose or not legal_basis:
        raise AdminError("--purpose and --legal-basis are required and must not be blank")
    if req.rate_limit is not None and not 1 <= req.rate_limit <= MAX_RATE_LIMIT:
        raise AdminError(f"--rate-limit must be between 1 and {MAX_RATE_LIMIT} requests a minute")
    if not req.service.strip():
        raise AdminError("--service must not be blank")
    expires_at = _expiry(req.expires, now)
    terms = consent_terms(scopes, req.optional_scopes.split(), req.consent_mode, req.consent_days)
    if req.legal_basis_url:
        check_https_url(req.legal_basis_url, "--legal-basis-url")
    recipients = list(dict.fromkeys(checked_siret(r, "--recipient") for r in req.recipients))
    return {
        "scopes": scopes,
        "purpose": purpose,
        "legal_basis": legal_basis,
        "rate_limit": req.rate_limit,
        "expires_at": expires_at,
        "optional_scopes": terms.optional_scopes,
        "consent_mode": req.consent_mode,
        "consent_days": terms.consent_days,
        "legal_basis_url": req.legal_basis_url or None,
        "recipients": recipients or None,
        "request_id": req.request_id,
        **checked_information(req.information, scopes),
    }


def _service_of(
    session: Session, req: HabilitationRequest, organisation: str | None, now: int
) -> Service:
    """The service ``req`` names: created if asked to, given to ``organisation`` if it has
    none, refused if it belongs to another one. Only an operator attaches an ownerless
    service (``--organisation``): a portal request (``req.request_id``) may not claim one."""
    name = req.service.strip()
    existing = session.exec(select(Service).where(Service.name == name)).first()
    if existing is None and not req.create_service:
        raise AdminError(
            f"no service named {name!r}: register its client first (`broker "
            "clients add --name …`), or pass --create-service"
        )
    service = existing or service_for(session, name, now)
    if organisation is None:
        return service
    if existing is not None and existing.organisation_siret is None and req.request_id:
        raise AdminError(
            f"the service {name!r} exists without an organisation: an operator must attach it "
            "(broker habilitations add --organisation …)"
        )
    if service.organisation_siret is None:
        service.organisation_siret = organisation
        session.add(service)
        session.flush()
    elif service.organisation_siret != organisation:
        raise AdminError(
            f"the service {name!r} belongs to another organisation "
            f"(SIRET {service.organisation_siret}): choose another name"
        )
    return service


def add_habilitation(session: Session, req: HabilitationRequest) -> dict[str, Any]:
    now = int(time.time())
    columns = _checked_terms(req, now)
    organisation = (
        checked_siret(req.organisation_siret, "--organisation") if req.organisation_siret else None
    )
    service = _service_of(session, req, organisation, now)
    habilitation = Habilitation(
        id="hab_" + random_token(12),
        service_id=service.id,
        created_at=now,
        organisation_siret=organisation or service.organisation_siret,
        **columns,
    )
    session.add(habilitation)
    session.flush()
    return describe(habilitation, service, now)


def replace_terms(
    session: Session, habilitation_id: str, req: HabilitationRequest
) -> dict[str, Any]:
    """Gives an active habilitation new terms (a reopening approved), checked as
    ``add_habilitation`` checks them. It keeps its id, service and organisation: its API keys
    and the consents given under it keep pointing at it."""
    habilitation = session.get(Habilitation, habilitation_id)
    now = int(time.time())
    if habilitation is None:
        raise AdminError(f"no habilitation {habilitation_id!r}")
    if habilitation.revoked_at is not None:
        raise AdminError(f"habilitation {habilitation_id} was revoked")
    service = session.get(Service, habilitation.service_id)
    if service is None or service.name != req.service.strip():
        raise AdminError(f"habilitation {habilitation_id} stays with its service")
    if req.organisation_siret and req.organisation_siret != habilitation.organisation_siret:
        raise AdminError(f"habilitation {habilitation_id} stays with its organisation")
    for column, value in _checked_terms(req, now).items():
        setattr(habilitation, column, value)
    session.add(habilitation)
    session.flush()
    return describe(habilitation, service, now)


def describe(habilitation: Habilitation, service: Service, now: int) -> dict[str, Any]:
    expires = habilitation.expires_at
    return {
        "id": habilitation.id,
        "service": service.name,
        "service_id": service.id,
        "scopes": list(habilitation.scopes),
        "purpose": habilitation.purpose,
        "legal_basis": habilitation.legal_basis,
        "rate_limit": habilitation.rate_limit,
        "legal_basis_url": habilitation.legal_basis_url,
        "optional_scopes": list(habilitation.optional_scopes),
        "consent_mode": habilitation.consent_mode,
        "consent_days": habilitation.consent_days,
        "controller": habilitation.controller,
        "contact": habilitation.contact,
        "dpo": habilitation.dpo,
        "retention": habilitation.retention,
        "reasons": dict(habilitation.reasons or {}),
        "if_refused": habilitation.if_refused,
        "organisation_siret": habilitation.organisation_siret,
        "recipients": list(habilitation.recipients or ()),
        "request_id": habilitation.request_id,
        "created_at": habilitation.created_at,
        "expires_at": expires,
        "revoked_at": habilitation.revoked_at,
        "active": habilitation.revoked_at is None and (expires is None or expires > now),
    }


def list_habilitations(session: Session) -> list[dict[str, Any]]:
    now = int(time.time())
    rows = session.exec(
        select(Habilitation, Service)
        .join(Service, col(Service.id) == col(Habilitation.service_id))
        .order_by(col(Habilitation.created_at), col(Habilitation.id))
    ).all()
    return [describe(h, s, now) for h, s in rows]


def revoke_habilitation(session: Session, habilitation_id: str) -> dict[str, Any]:
    """Ends the habilitation at once: its API keys and the data scopes of its service's tokens
    stop working on the next request."""
    habilitation = session.get(Habilitation, habilitation_id)
    if habilitation is None:
        raise AdminError(f"no habilitation {habilitation_id!r}")
    now = int(time.time())
    if habilitation.revoked_at is None:
        habilitation.revoked_at = now
        session.add(habilitation)
        session.flush()
    return described(session, habilitation, now)


def described(session: Session, habilitation: Habilitation, now: int) -> dict[str, Any]:
    """``describe`` with the habilitation's service read."""
    service = session.get(Service, habilitation.service_id)
    if service is None:  # the foreign key rules it out
        raise AdminError(f"habilitation {habilitation.id!r} has no service")
    return describe(habilitation, service, now)


def described_by_id(session: Session, habilitation_id: str) -> dict[str, Any] | None:
    """The habilitation as ``describe`` gives it, None if there is no such habilitation."""
    habilitation = session.get(Habilitation, habilitation_id)
    return described(session, habilitation, int(time.time())) if habilitation else None


def set_consent_information(
    session: Session, habilitation_id: str, info: StatedInformation
) -> dict[str, Any]:
    """Replaces what an active habilitation tells citizens (checked as ``add_habilitation``
    checks it). Its rights do not change (scopes, optional items, consent terms, purpose, legal
    basis), so the consents given under it stand."""
    habilitation = session.get(Habilitation, habilitation_id)
    now = int(time.time())
    if habilitation is None:
        raise AdminError(f"no habilitation {habilitation_id!r}")
    if habilitation.revoked_at is not None or (
        habilitation.expires_at is not None and habilitation.expires_at <= now
    ):
        raise AdminError(f"habilitation {habilitation_id} is no longer active")
    for column, value in checked_information(info, habilitation.scopes).items():
        setattr(habilitation, column, value)
    session.add(habilitation)
    session.flush()
    return described(session, habilitation, now)


def amend_consent_information(
    session: Session,
    habilitation_id: str,
    changes: StatedInformation,
    *,
    cleared: Iterable[str] = (),
) -> dict[str, Any]:
    """``set_consent_information`` with only the texts given changed and those ``cleared``
    (column names, see ``amended``) removed."""
    habilitation = session.get(Habilitation, habilitation_id)
    if habilitation is None:
        raise AdminError(f"no habilitation {habilitation_id!r}")
    stored = {column: getattr(habilitation, column) for column in INFORMATION_COLUMNS}
    information = amended(stored, changes, cleared=cleared)
    return set_consent_information(session, habilitation_id, information)
