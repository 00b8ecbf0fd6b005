"""A request's moves, each in the caller's transaction and written three times: the request
row, a message (what happened, for the exchange on the request) and an audit entry.

Versions: the version being written is the last one and is edited in place; submitting
freezes it. Editing a request whose last version is frozen (changes were asked for, or a
reopening's terms in force) starts version n+1 from the new content."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, select

from broker.admin import audit
from broker.admin.principal import Agent
from broker.admin.requests.access import NOT_FOUND, acting_role, checked_action, of_organisation
from broker.admin.requests.approval import put_into_effect
from broker.admin.requests.content import INCOMPLETE, checked_content
from broker.admin.requests.errors import Refusal, RequestError
from broker.admin.requests.records import load_request, versions_of
from broker.admin.requests.states import Action, Status
from broker.admin.requests.text import has_control_characters, typed_text
from broker.admin.requests.words import N_, problem
from broker.core.security import random_token
from broker.store.models import Service
from broker.store.portal_models import (
    HabilitationRequestMessage,
    HabilitationRequestRecord,
    HabilitationRequestVersion,
)

TARGET = "habilitation_request"
MAX_MESSAGE = 4000
NOT_A_REQUESTER = N_(
    "Seuls les agents d'une organisation (identifiée par son SIRET) déposent des demandes."
)
REASON_NEEDED = N_("Expliquez votre décision : le demandeur la lira.")
MESSAGE_NEEDED = N_("Écrivez votre message.")
MESSAGE_TOO_LONG = N_("Le message doit faire au plus %(limit)s caractères (il en a %(length)s).")
MESSAGE_CONTROL = N_(
    "Le texte contient des caractères de contrôle (invisibles) : retirez-les, puis envoyez-le "
    "de nouveau."
)
SERVICE_TAKEN = N_(
    "Ce service appartient à une autre organisation : choisissez un autre nom de service."
)
SERVICE_OWNERLESS = N_(
    "Ce service existe déjà sans organisation : un opérateur doit le rattacher (broker "
    "habilitations add --organisation …)."
)
SERVICE_KEPT = N_(
    "Une demande de modification garde le service de l'habilitation (%(service)s) : pour un "
    "autre service, déposez une nouvelle demande."
)


def create_request(
    session: Session, agent: Agent, raw: Mapping[str, Any], now: int | None = None
) -> HabilitationRequestRecord:
    """A new request, as a draft of its organisation (the agent's)."""
    if not agent.siret or not of_organisation(agent, agent.siret):
        raise RequestError(Refusal.FORBIDDEN, problem(NOT_A_REQUESTER))
    now = now or int(time.time())
    content = checked_content(raw, agent.siret)
    check_service(session, content, agent.siret, None)
    request = new_request(session, agent, agent.siret, content, now)
    audit.record(
        session,
        actor=agent.actor,
        action="request.create",
        target_type=TARGET,
        target_id=request.id,
        before=None,
        after={"status": request.status, "version": 1, "content": content},
    )
    return request


def new_request(
    session: Session,
    agent: Agent,
    organisation_siret: str,
    content: Mapping[str, Any],
    now: int,
    *,
    habilitation_id: str | None = None,
) -> HabilitationRequestRecord:
    """A draft request and its version 1 (flushed, not audited: the caller says why it was
    made). Reopening ``habilitation_id``: version 1 is its terms in force, frozen as they were
    when reopened."""
    request = HabilitationRequestRecord(
        id="req_" + random_token(12),
        organisation_siret=organisation_siret,
        status=Status.DRAFT,
        habilitation_id=habilitation_id,
        filed_by=agent.id,
        current_version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    session.flush()
    session.add(
        HabilitationRequestVersion(
            request_id=request.id,
            number=1,
            content=dict(content),
            author=agent.id,
            created_at=now,
            submitted_at=now if habilitation_id else None,
        )
    )
    session.flush()
    return request


def edit_request(
    session: Session,
    agent: Agent,
    request_id: str,
    raw: Mapping[str, Any],
    now: int | None = None,
) -> HabilitationRequestVersion:
    """The version being written, replaced by ``raw`` (checked); a frozen last version is
    left as it is and followed by a new one."""
    request, versions = locked(session, request_id)
    status = checked_action(agent, request, Action.EDIT, authors(versions))
    now = now or int(time.time())
    content = checked_content(raw, request.organisation_siret)
    last = versions[-1]
    in_force = versions[0] if request.habilitation_id else None
    check_service(session, content, request.organisation_siret, in_force)
    before = {"version": last.number, "content": last.content}
    if last.submitted_at is None:
        last.content, last.author = content, agent.id
        version = last
    else:
        version = HabilitationRequestVersion(
            request_id=request.id,
            number=last.number + 1,
            content=content,
            author=agent.id,
            created_at=now,
        )
    session.add(version)
    request.current_version, request.status, request.updated_at = version.number, status, now
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor=agent.actor,
        action="request.edit",
        target_type=TARGET,
        target_id=request.id,
        before=before,
        after={"version": version.number, "content": content},
    )
    return version


def submit(session: Session, agent: Agent, request_id: str, now: int | None = None) -> int:
    """Freezes the version being written and hands the request to the instructors; resubmitted
    unchanged after changes were asked for, its last version is copied as the next one."""
    request, versions = locked(session, request_id)
    status = checked_action(agent, request, Action.SUBMIT, authors(versions))
    now = now or int(time.time())
    last = versions[-1]
    content = checked_content(last.content, request.organisation_siret)
    in_force = versions[0] if request.habilitation_id else None
    check_service(session, content, request.organisation_siret, in_force)
    if last.submitted_at is not None:
        last = HabilitationRequestVersion(
            request_id=request.id,
            number=last.number + 1,
            content=content,
            author=agent.id,
            created_at=now,
        )
    last.submitted_at = now
    session.add(last)
    before = {"status": request.status, "version": request.current_version}
    request.status, request.current_version = status, last.number
    request.submitted_at = request.updated_at = now
    return moved(session, agent, request, Action.SUBMIT, before, "", now)


def ask_changes(
    session: Session, agent: Agent, request_id: str, reason: str, now: int | None = None
) -> int:
    return decide(session, agent, request_id, Action.ASK_CHANGES, reason, now)


def refuse(
    session: Session, agent: Agent, request_id: str, reason: str, now: int | None = None
) -> int:
    return decide(session, agent, request_id, Action.REFUSE, reason, now)


def approve(
    session: Session, agent: Agent, request_id: str, note: str = "", now: int | None = None
) -> dict[str, Any]:
    """Puts the submitted version into effect: a new habilitation, or the reopened one
    changed in place. Returns the habilitation as ``describe`` gives it."""
    request, versions = locked(session, request_id)
    status = checked_action(agent, request, Action.APPROVE, authors(versions))
    now = now or int(time.time())
    note = checked_message(note, required=False)
    in_force = versions[0] if request.habilitation_id else None
    # Checked again: the service may have been registered since the submission.
    check_service(session, versions[-1].content, request.organisation_siret, in_force)
    habilitation = put_into_effect(session, agent, request, versions[-1].content, now)
    before = {"status": request.status, "version": request.current_version}
    request.status, request.decided_at, request.decided_by = status, now, agent.id
    request.decision_reason, request.updated_at = note or None, now
    moved(session, agent, request, Action.APPROVE, before, note, now)
    return habilitation


def post_message(
    session: Session, agent: Agent, request_id: str, body: str, now: int | None = None
) -> int:
    request, versions = locked(session, request_id)
    checked_action(agent, request, Action.MESSAGE, authors(versions))
    body = checked_message(body, required=True)
    now = now or int(time.time())
    return moved(session, agent, request, Action.MESSAGE, None, body, now)


def decide(
    session: Session,
    agent: Agent,
    request_id: str,
    action: Action,
    reason: str,
    now: int | None,
) -> int:
    """Asking for changes or refusing: the reason is required."""
    request, versions = locked(session, request_id)
    status = checked_action(agent, request, action, authors(versions))
    reason = checked_message(reason, required=True, missing=REASON_NEEDED)
    now = now or int(time.time())
    before = {"status": request.status, "version": request.current_version}
    request.status, request.updated_at = status, now
    if action == Action.REFUSE:
        request.decided_at, request.decided_by, request.decision_reason = now, agent.id, reason
    return moved(session, agent, request, action, before, reason, now)


MESSAGE_KINDS = {
    Action.SUBMIT: "submitted",
    Action.ASK_CHANGES: "changes_requested",
    Action.APPROVE: "approved",
    Action.REFUSE: "refused",
    Action.MESSAGE: "message",
}


def moved(
    session: Session,
    agent: Agent,
    request: HabilitationRequestRecord,
    action: Action,
    before: dict[str, Any] | None,
    body: str,
    now: int,
) -> int:
    """Writes the request, its message and the audit entry; returns the message's id."""
    session.add(request)
    message = HabilitationRequestMessage(
        request_id=request.id,
        author=agent.id,
        author_role=acting_role(agent, request),
        kind=MESSAGE_KINDS[action],
        body=body,
        version=request.current_version,
        at=now,
    )
    session.add(message)
    session.flush()
    after: dict[str, Any] = {"status": request.status, "version": request.current_version}
    if body:
        after["message"] = body
    audit.record(
        session,
        actor=agent.actor,
        action=f"request.{action.value}",
        target_type=TARGET,
        target_id=request.id,
        before=before,
        after=after,
    )
    assert message.id is not None  # flushed
    return message.id


def locked(
    session: Session, request_id: str
) -> tuple[HabilitationRequestRecord, list[HabilitationRequestVersion]]:
    request = load_request(session, request_id, for_update=True)
    if request is None:
        raise RequestError(Refusal.NOT_FOUND, problem(NOT_FOUND))
    return request, versions_of(session, request.id)


def authors(versions: list[HabilitationRequestVersion]) -> set[str]:
    return {v.author for v in versions}


def checked_message(text: str, *, required: bool, missing: str = MESSAGE_NEEDED) -> str:
    body = typed_text(text)
    if required and not body:
        raise RequestError(Refusal.INVALID, problem(missing), {"body": problem(missing)})
    if has_control_characters(body):
        raise RequestError(
            Refusal.INVALID, problem(MESSAGE_CONTROL), {"body": problem(MESSAGE_CONTROL)}
        )
    if len(body) > MAX_MESSAGE:
        too_long = problem(MESSAGE_TOO_LONG, limit=MAX_MESSAGE, length=len(body))
        raise RequestError(Refusal.INVALID, too_long, {"body": too_long})
    return body


def check_service(
    session: Session,
    content: Mapping[str, Any],
    organisation_siret: str,
    terms_in_force: HabilitationRequestVersion | None,
) -> None:
    """A new request names a service that is free or its organisation's; a reopening keeps
    the service of its habilitation (its keys and consents are bound to it). A service that
    exists without an organisation (registered with the command line) is no one's to claim
    through a request: an operator attaches it to its organisation."""
    name = content["service"]
    if terms_in_force is not None:
        kept = terms_in_force.content.get("service")
        if name != kept:
            refused = problem(SERVICE_KEPT, service=kept or "")
            raise RequestError(Refusal.INVALID, problem(INCOMPLETE), {"service": refused})
        return
    existing = session.exec(select(Service).where(Service.name == name)).first()
    if existing is None or existing.organisation_siret == organisation_siret:
        return
    taken = SERVICE_TAKEN if existing.organisation_siret else SERVICE_OWNERLESS
    raise RequestError(Refusal.INVALID, problem(INCOMPLETE), {"service": problem(taken)})
