"""Who is told by email when a request moves, and the telling: best effort, after the change
is committed (the portal shows the same thing to whoever signs in).

- submitted: every instructor and administrator;
- changes requested, approved, refused: the agent who filed it and the request's responsible
  and technical contacts;
- a message: the other side (the instructors and administrators when the organisation
  writes, the filer and the contacts when an instructor or administrator writes).

Whoever acted is not told of their own move."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from broker.admin.principal import Agent, Role
from broker.admin.request_mail import RequestEvent, notify_request_event
from broker.admin.requests.access import acting_role
from broker.admin.requests.records import load_request, versions_of
from broker.admin.requests.states import Action
from broker.core.mail import Mailer, MailError, check_address
from broker.store.portal_models import HabilitationRequestRecord, PortalAgent, PortalRole

log = logging.getLogger("broker.admin.requests.notify")

EVENTS = {
    Action.SUBMIT: RequestEvent.SUBMITTED,
    Action.ASK_CHANGES: RequestEvent.CHANGES_REQUESTED,
    Action.APPROVE: RequestEvent.APPROVED,
    Action.REFUSE: RequestEvent.REFUSED,
    Action.MESSAGE: RequestEvent.MESSAGE,
}
STAFF = (Role.INSTRUCTOR.value, Role.ADMINISTRATOR.value)
CONTACTS_TOLD = ("responsible", "technical")


@dataclass(frozen=True)
class Notice:
    event: RequestEvent
    request_id: str
    service: str
    to: list[str]


def notice_of(session: Session, agent: Agent, request_id: str, action: Action) -> Notice | None:
    """The email ``action`` by ``agent`` calls for (None: the action tells no one), read in
    the transaction that made it."""
    event = EVENTS.get(action)
    request = load_request(session, request_id)
    if event is None or request is None:
        return None
    versions = versions_of(session, request.id)
    content = versions[-1].content if versions else {}
    by_organisation = acting_role(agent, request) == Role.REQUESTER.value
    to_staff = event == RequestEvent.SUBMITTED or (
        event == RequestEvent.MESSAGE and by_organisation
    )
    candidates = staff_emails(session) if to_staff else organisation_side(session, request, content)
    return Notice(
        event=event,
        request_id=request.id,
        service=str(content.get("service") or ""),
        to=deliverable(candidates, leaving_out=agent.email),
    )


def staff_emails(session: Session) -> list[str]:
    return list(
        session.exec(
            select(PortalRole.email)
            .where(col(PortalRole.role).in_(STAFF))
            .distinct()
            .order_by(col(PortalRole.email))
        ).all()
    )


def organisation_side(
    session: Session, request: HabilitationRequestRecord, content: Mapping[str, Any]
) -> list[str]:
    filer = session.get(PortalAgent, request.filed_by)
    contacts = content.get("contacts") or {}
    emails = [filer.email if filer else ""]
    emails += [str((contacts.get(role) or {}).get("email") or "") for role in CONTACTS_TOLD]
    return emails


def deliverable(candidates: Iterable[str], *, leaving_out: str) -> list[str]:
    """Valid addresses, each once (case-insensitively), the actor's own left out."""
    seen: dict[str, str] = {leaving_out.strip().lower(): ""}
    for candidate in candidates:
        address = candidate.strip()
        if not address or address.lower() in seen:
            continue
        try:
            check_address(address)
        except MailError:
            log.warning("an invalid address skipped for a request email")
            continue
        seen[address.lower()] = address
    return [address for address in seen.values() if address]


async def send_notice(mailer: Mailer, notice: Notice | None, portal_url: str) -> bool:
    """Sends ``notice``; never raises (the change it tells about is made): False if it was not
    sent."""
    if notice is None or not notice.to:
        return False
    try:
        return await notify_request_event(
            mailer,
            to=notice.to,
            request_id=notice.request_id,
            event=notice.event,
            portal_url=portal_url,
            service=notice.service or None,
        )
    except Exception:  # a mail problem of any kind must not turn a made change into an error
        log.exception("request email not sent", extra={"request_id": notice.request_id})
        return False
