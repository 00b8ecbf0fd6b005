"""Reopening an approved habilitation to change or renew it: a request whose version 1 is
the habilitation's terms in force (frozen, the baseline the instructors compare with), and
whose next version the organisation writes. The habilitation keeps running unchanged until
the request is approved."""

from __future__ import annotations

import time
from typing import Any

from sqlmodel import Session, col, select

from broker.admin import audit
from broker.admin.principal import Agent
from broker.admin.requests.access import of_organisation
from broker.admin.requests.content import CONTACT_ROLES
from broker.admin.requests.errors import Refusal, RequestError
from broker.admin.requests.lifecycle import TARGET, new_request
from broker.admin.requests.records import frozen, versions_of
from broker.admin.requests.states import OPEN
from broker.admin.requests.words import N_, problem
from broker.store.data_access_models import Habilitation
from broker.store.models import Service
from broker.store.portal_models import HabilitationRequestRecord

NO_HABILITATION = N_(
    "Cette habilitation n'existe pas, ou elle n'appartient pas à votre organisation."
)
EMPTY_CONTACT = {"name": "", "email": "", "phone": ""}
REVOKED = N_("Cette habilitation a été révoquée : déposez une nouvelle demande.")


def reopen(
    session: Session, agent: Agent, habilitation_id: str, now: int | None = None
) -> tuple[str, bool]:
    """The request that changes ``habilitation_id``: the open one if there is one (False),
    else a new one (True)."""
    habilitation = session.get(Habilitation, habilitation_id)
    service = session.get(Service, habilitation.service_id) if habilitation else None
    organisation = habilitation and (
        habilitation.organisation_siret or (service and service.organisation_siret)
    )
    if habilitation is None or service is None or not organisation:
        raise RequestError(Refusal.NOT_FOUND, problem(NO_HABILITATION))
    if not of_organisation(agent, organisation):
        raise RequestError(Refusal.NOT_FOUND, problem(NO_HABILITATION))
    if habilitation.revoked_at is not None:
        raise RequestError(Refusal.CONFLICT, problem(REVOKED))
    already = session.exec(
        select(HabilitationRequestRecord.id).where(
            HabilitationRequestRecord.habilitation_id == habilitation.id,
            col(HabilitationRequestRecord.status).in_([s.value for s in OPEN]),
        )
    ).first()
    if already is not None:
        return already, False
    now = now or int(time.time())
    content = terms_in_force(session, habilitation, service, organisation, agent)
    request = new_request(
        session, agent, organisation, content, now, habilitation_id=habilitation.id
    )
    audit.record(
        session,
        actor=agent.actor,
        action="request.reopen",
        target_type=TARGET,
        target_id=request.id,
        before=None,
        after={"status": request.status, "habilitation_id": habilitation.id, "content": content},
    )
    return request.id, True


def terms_in_force(
    session: Session,
    habilitation: Habilitation,
    service: Service,
    organisation: str,
    agent: Agent,
) -> dict[str, Any]:
    """The habilitation's terms as a request's content: those of the request it was approved
    from (contacts, volume…), with what the habilitation says now laid over them (its
    information may have been changed since)."""
    approved = approved_content(session, habilitation.request_id)
    contacts = {
        role: dict((approved.get("contacts") or {}).get(role) or EMPTY_CONTACT)
        for role in CONTACT_ROLES
    }
    # The addresses the consent screen shows now (an https page instead is left aside).
    for role, column in (("responsible", habilitation.contact), ("dpo", habilitation.dpo)):
        if column and "@" in column and ":" not in column:
            contacts[role]["email"] = column
    return {
        "organisation": approved.get("organisation")
        or {"siret": organisation, "name": agent.organisation or ""},
        "service": service.name,
        "purpose": habilitation.purpose,
        "legal_basis": habilitation.legal_basis,
        "legal_basis_url": habilitation.legal_basis_url or "",
        "scopes": list(habilitation.scopes),
        "optional_scopes": list(habilitation.optional_scopes or ()),
        "consent_mode": habilitation.consent_mode,
        "consent_days": habilitation.consent_days,
        "recipients": list(habilitation.recipients or ()),
        "expected_volume": approved.get("expected_volume") or "",
        "contacts": contacts,
        "controller": habilitation.controller or "",
        "retention": habilitation.retention or "",
        "if_refused": habilitation.if_refused or "",
        "reasons": {
            s: text for s, text in (habilitation.reasons or {}).items() if s in habilitation.scopes
        },
    }


def approved_content(session: Session, request_id: str | None) -> dict[str, Any]:
    if request_id is None:
        return {}
    versions = frozen(versions_of(session, request_id))
    return dict(versions[-1].content) if versions else {}
