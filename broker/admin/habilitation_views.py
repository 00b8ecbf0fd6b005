"""Habilitations as the operators' portal shows them: who may see and manage which, where each
stands, the requests behind it.

Requesters see their organisation's habilitations (the SIRET they act for), instructors and
administrators see them all. Keys belong to the requesters of the organisation; administrators
manage them too."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, or_, select

from broker.admin.principal import Agent, Role
from broker.store.data_access_models import ApiKey, Habilitation
from broker.store.models import Service
from broker.store.portal_models import (
    AuditEntry,
    HabilitationRequestRecord,
    HabilitationRequestVersion,
)

EXPIRY_NOTICE_DAYS = 90  # the first reminder: from then on, the page says when it ends
OPEN_REQUEST_STATUSES = frozenset({"draft", "submitted", "changes_requested"})
REVOKE_ACTION = "habilitation.revoke"


def N_(message: str) -> str:  # noqa: N802 - gettext's marker name, as Babel's extractor knows it
    """Marks a French msgid for the catalog; the portal translates it when it shows it."""
    return message


class HabilitationRefused(Exception):
    """A portal action refused: ``message`` is a French msgid for the page, ``status`` the
    HTTP status the portal answers with, ``field`` the form field at fault (if any)."""

    def __init__(self, message: str, status: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


NOT_FOUND = N_("Cette habilitation n'existe pas, ou elle n'est pas visible pour votre compte.")


def requests_for(agent: Agent, habilitation: Habilitation) -> bool:
    """``agent`` is a requester of the organisation that holds the habilitation."""
    siret = habilitation.organisation_siret
    return agent.has(Role.REQUESTER) and siret is not None and agent.siret == siret


def sees_all(agent: Agent) -> bool:
    return agent.has(Role.INSTRUCTOR) or agent.has(Role.ADMINISTRATOR)


def may_see(agent: Agent, habilitation: Habilitation) -> bool:
    return sees_all(agent) or requests_for(agent, habilitation)


def may_manage_keys(agent: Agent, habilitation: Habilitation) -> bool:
    return agent.has(Role.ADMINISTRATOR) or requests_for(agent, habilitation)


class Standing(StrEnum):
    ACTIVE = "active"
    EXPIRING = "expiring"  # active, ending within EXPIRY_NOTICE_DAYS
    EXPIRED = "expired"
    REVOKED = "revoked"


def standing(habilitation: Habilitation, now: int) -> Standing:
    if habilitation.revoked_at is not None:
        return Standing.REVOKED
    expires = habilitation.expires_at
    if expires is not None and expires <= now:
        return Standing.EXPIRED
    if expires is not None and expires - now <= EXPIRY_NOTICE_DAYS * 86400:
        return Standing.EXPIRING
    return Standing.ACTIVE


def is_running(habilitation: Habilitation, now: int) -> bool:
    return standing(habilitation, now) in (Standing.ACTIVE, Standing.EXPIRING)


def visible_habilitation(session: Session, agent: Agent, habilitation_id: str) -> Habilitation:
    """The habilitation, if ``agent`` may see it; the same refusal whether it does not exist or
    belongs to another organisation (no probing of ids)."""
    habilitation = (
        session.get(Habilitation, habilitation_id) if len(habilitation_id) <= 64 else None
    )
    if habilitation is None or not may_see(agent, habilitation):
        raise HabilitationRefused(NOT_FOUND, status=404)
    return habilitation


@dataclass(frozen=True)
class HabilitationLine:
    id: str
    service: str
    organisation: str  # its name from the approved request, else its SIRET, else ""
    organisation_siret: str | None
    purpose: str
    standing: Standing
    expires_at: int | None
    revoked_at: int | None
    active_keys: int


def habilitation_lines(session: Session, agent: Agent, now: int) -> list[HabilitationLine]:
    """The habilitations ``agent`` may see, the most recent first."""
    query = select(Habilitation, Service).join(
        Service, col(Service.id) == col(Habilitation.service_id)
    )
    if not sees_all(agent):
        if not agent.has(Role.REQUESTER) or agent.siret is None:
            return []
        query = query.where(Habilitation.organisation_siret == agent.siret)
    rows = session.exec(query.order_by(col(Habilitation.created_at).desc(), col(Habilitation.id)))
    pairs = list(rows.all())
    keys = _active_key_counts(session, [h.id for h, _ in pairs])
    names = organisation_names(session, [h for h, _ in pairs])
    return [
        HabilitationLine(
            id=h.id,
            service=s.name,
            organisation=names.get(h.id) or h.organisation_siret or "",
            organisation_siret=h.organisation_siret,
            purpose=h.purpose,
            standing=standing(h, now),
            expires_at=h.expires_at,
            revoked_at=h.revoked_at,
            active_keys=keys.get(h.id, 0),
        )
        for h, s in pairs
    ]


def _active_key_counts(session: Session, habilitation_ids: list[str]) -> dict[str, int]:
    if not habilitation_ids:
        return {}
    rows = session.exec(
        select(ApiKey.habilitation_id).where(
            col(ApiKey.habilitation_id).in_(habilitation_ids), col(ApiKey.revoked_at).is_(None)
        )
    ).all()
    counts: dict[str, int] = {}
    for habilitation_id in rows:
        counts[habilitation_id] = counts.get(habilitation_id, 0) + 1
    return counts


def organisation_names(session: Session, habilitations: list[Habilitation]) -> dict[str, str]:
    """Habilitation id -> the organisation's name, as its approved request version gives it."""
    by_request = {h.request_id: h.id for h in habilitations if h.request_id}
    if not by_request:
        return {}
    rows = session.exec(
        select(HabilitationRequestVersion, HabilitationRequestRecord)
        .join(
            HabilitationRequestRecord,
            col(HabilitationRequestRecord.id) == col(HabilitationRequestVersion.request_id),
        )
        .where(
            col(HabilitationRequestVersion.request_id).in_(list(by_request)),
            col(HabilitationRequestVersion.number)
            == col(HabilitationRequestRecord.current_version),
        )
    ).all()
    names: dict[str, str] = {}
    for version, request in rows:
        organisation = version.content.get("organisation")
        if isinstance(organisation, dict) and isinstance(organisation.get("name"), str):
            names[by_request[request.id]] = organisation["name"]
    return names


@dataclass(frozen=True)
class RequestLine:
    id: str
    status: str
    created_at: int
    submitted_at: int | None
    decided_at: int | None
    is_change: bool  # a change to the habilitation (reopening, renewal), not its first request


def request_history(session: Session, habilitation: Habilitation) -> list[RequestLine]:
    """The request that created it and every request that changed (or asks to change) it,
    oldest first."""
    conditions = [col(HabilitationRequestRecord.habilitation_id) == habilitation.id]
    if habilitation.request_id:
        conditions.append(col(HabilitationRequestRecord.id) == habilitation.request_id)
    rows = session.exec(
        select(HabilitationRequestRecord)
        .where(or_(*conditions))
        .order_by(col(HabilitationRequestRecord.created_at), col(HabilitationRequestRecord.id))
    ).all()
    return [
        RequestLine(
            id=r.id,
            status=r.status,
            created_at=r.created_at,
            submitted_at=r.submitted_at,
            decided_at=r.decided_at,
            is_change=r.habilitation_id == habilitation.id and r.id != habilitation.request_id,
        )
        for r in rows
    ]


def open_change_request(history: list[RequestLine]) -> RequestLine | None:
    """A change being prepared or reviewed: while it is open, there is nothing to reopen."""
    return next(
        (r for r in reversed(history) if r.is_change and r.status in OPEN_REQUEST_STATUSES), None
    )


@dataclass(frozen=True)
class Revocation:
    at: int
    actor: str
    reason: str


def revocation_of(session: Session, habilitation: Habilitation) -> Revocation | None:
    """Who revoked it and why, as the audit trail recorded it (the CLI gives no reason)."""
    if habilitation.revoked_at is None:
        return None
    entry = session.exec(
        select(AuditEntry)
        .where(
            AuditEntry.action == REVOKE_ACTION,
            AuditEntry.target_type == "habilitation",
            AuditEntry.target_id == habilitation.id,
        )
        .order_by(col(AuditEntry.seq).desc())
    ).first()
    after: dict[str, Any] = (entry.after or {}) if entry is not None else {}
    reason = after.get("reason")
    return Revocation(
        at=habilitation.revoked_at,
        actor=entry.actor if entry is not None else "",
        reason=reason if isinstance(reason, str) else "",
    )
