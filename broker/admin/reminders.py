"""Expiry reminders: an email 90, 30 and 7 days before a habilitation expires, to the contacts
of the request that approved it and to the agent who filed that request.

One reminder per threshold and per expiry: a row of ``habilitation_reminder`` is claimed (its
primary key decides between two processes) and committed before the email is sent, and
deleted again if sending fails, so that the next run retries it and a reminder sent is never
sent again. A habilitation first seen inside a threshold gets only the tightest one reached;
the wider ones are recorded as passed (no recipients). A row belongs to the expiry it was
written for: one written before its threshold of the current expiry (the habilitation was
renewed, its expiry moved) no longer counts, and is claimed again when that threshold comes.

Without an SMTP server (the mailer disabled) nothing is claimed: the reminders go out at the
first run once one is configured. A send interrupted in any way (a cancelled job included)
gives its claim back before the interruption goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from broker.admin.reminder_mail import reminder_email
from broker.core.db import Database, table_of
from broker.core.mail import Mailer, MailError, check_address
from broker.store.data_access_models import Habilitation
from broker.store.models import Service
from broker.store.portal_models import (
    HabilitationReminder,
    HabilitationRequestRecord,
    HabilitationRequestVersion,
    PortalAgent,
)

log = logging.getLogger("broker.admin.reminders")

DAY = 86_400
THRESHOLDS = (90, 30, 7)  # days before expiry, widest first
CONTACT_ROLES = ("responsible", "technical")

habilitations = table_of(Habilitation)
services = table_of(Service)
reminders = table_of(HabilitationReminder)
requests = table_of(HabilitationRequestRecord)
versions = table_of(HabilitationRequestVersion)
agents = table_of(PortalAgent)


@dataclass(frozen=True)
class DueReminder:
    habilitation_id: str
    days_before: int  # the tightest threshold reached
    passed: tuple[int, ...]  # wider thresholds without a row for this expiry
    expires_at: int
    service: str
    purpose: str
    recipients: list[str]


class AlreadyClaimed(Exception):
    pass


def threshold_reached(expires_at: int, now: int) -> int | None:
    """The tightest threshold whose day has come (None: more than 90 days left, or expired)."""
    left = expires_at - now
    if left <= 0:
        return None
    reached = [days for days in THRESHOLDS if left <= days * DAY]
    return min(reached) if reached else None


def counts_for(expires_at: int, days_before: int, sent_at: int) -> bool:
    """Whether a row written at ``sent_at`` belongs to this expiry (not to one before it)."""
    return sent_at >= expires_at - days_before * DAY


def find_due(db: Database, now: int) -> list[DueReminder]:
    with db.connect() as conn:
        rows = conn.execute(
            select(
                habilitations.c.id,
                habilitations.c.expires_at,
                habilitations.c.purpose,
                habilitations.c.request_id,
                services.c.name,
            )
            .join(services, services.c.id == habilitations.c.service_id)
            .where(
                habilitations.c.revoked_at.is_(None),
                habilitations.c.expires_at.is_not(None),
                habilitations.c.expires_at > now,
                habilitations.c.expires_at <= now + max(THRESHOLDS) * DAY,
            )
            .order_by(habilitations.c.expires_at)
        ).all()
        if not rows:
            return []
        written = written_reminders(conn, [row.id for row in rows])
        due = []
        for row in rows:
            days = threshold_reached(row.expires_at, now)
            if days is None:
                continue
            counted = {
                d
                for d, sent_at in written.get(row.id, {}).items()
                if counts_for(row.expires_at, d, sent_at)
            }
            if days in counted:
                continue
            recipients = recipients_of(conn, row.request_id)
            if not recipients:
                log.warning(
                    "expiry reminder not sent: the habilitation has no contact email",
                    extra={"habilitation_id": row.id, "days_before": days},
                )
                continue
            due.append(
                DueReminder(
                    habilitation_id=row.id,
                    days_before=days,
                    passed=tuple(d for d in THRESHOLDS if d > days and d not in counted),
                    expires_at=row.expires_at,
                    service=row.name,
                    purpose=row.purpose,
                    recipients=recipients,
                )
            )
        return due


def written_reminders(conn: Connection, ids: list[str]) -> dict[str, dict[int, int]]:
    written: dict[str, dict[int, int]] = {}
    for row in conn.execute(
        select(reminders.c.habilitation_id, reminders.c.days_before, reminders.c.sent_at).where(
            reminders.c.habilitation_id.in_(ids)
        )
    ):
        written.setdefault(row.habilitation_id, {})[row.days_before] = row.sent_at
    return written


def recipients_of(conn: Connection, request_id: str | None) -> list[str]:
    """The responsible and technical contacts of the approved version, and the agent who filed
    the request: valid addresses only, each once (case-insensitively)."""
    if request_id is None:
        return []
    filer = conn.execute(
        select(agents.c.email)
        .join(requests, requests.c.filed_by == agents.c.id)
        .where(requests.c.id == request_id)
    ).scalar_one_or_none()
    content = conn.execute(
        select(versions.c.content)
        .where(versions.c.request_id == request_id, versions.c.submitted_at.is_not(None))
        .order_by(versions.c.number.desc())
        .limit(1)
    ).scalar_one_or_none()
    return unique_addresses([*contact_emails(content), filer])


def contact_emails(content: Any) -> list[str]:
    contacts = content.get("contacts") if isinstance(content, dict) else None
    if not isinstance(contacts, dict):
        return []
    emails = []
    for role in CONTACT_ROLES:
        contact = contacts.get(role)
        if isinstance(contact, dict) and isinstance(contact.get("email"), str):
            emails.append(contact["email"])
    return emails


def unique_addresses(candidates: Iterable[str | None]) -> list[str]:
    seen: dict[str, str] = {}
    for candidate in candidates:
        address = (candidate or "").strip()
        if not address or address.lower() in seen:
            continue
        try:
            check_address(address)
        except MailError:
            log.warning("an invalid contact email skipped for a reminder")
            continue
        seen[address.lower()] = address
    return list(seen.values())


def claim(db: Database, due: DueReminder, now: int) -> bool:
    """Writes the reminder's row (and the passed ones) and commits; False when another
    process got there first."""
    try:
        with db.begin() as conn:
            claim_row(conn, due, due.days_before, due.recipients, now)
            for days in due.passed:
                claim_row(conn, due, days, [], now)
    except (IntegrityError, AlreadyClaimed):
        return False
    return True


def claim_row(
    conn: Connection, due: DueReminder, days: int, recipients: list[str], now: int
) -> None:
    key = (reminders.c.habilitation_id == due.habilitation_id) & (reminders.c.days_before == days)
    sent_at = conn.execute(select(reminders.c.sent_at).where(key)).scalar_one_or_none()
    values = {"sent_at": now, "recipients": recipients}
    if sent_at is None:
        row = {"habilitation_id": due.habilitation_id, "days_before": days, **values}
        conn.execute(insert(reminders).values(**row))
        return
    if counts_for(due.expires_at, days, sent_at):
        raise AlreadyClaimed
    # A row of an earlier expiry: taken over only if nobody else took it over meanwhile.
    taken = update(reminders).where(key, reminders.c.sent_at == sent_at).values(**values)
    if conn.execute(taken).rowcount != 1:
        raise AlreadyClaimed


def release(db: Database, due: DueReminder, now: int) -> None:
    """Gives the claim back after a failed send (the passed rows stay: they were passed)."""
    with db.begin() as conn:
        conn.execute(
            delete(reminders).where(
                reminders.c.habilitation_id == due.habilitation_id,
                reminders.c.days_before == due.days_before,
                reminders.c.sent_at == now,
            )
        )


async def send_due(db: Database, mailer: Mailer, portal_url: str, now: int) -> int:
    """Sends the reminders due at ``now``; returns how many emails were sent."""
    if not mailer.enabled:
        log.warning("reminder not sent: no SMTP server configured")
        return 0
    sent = 0
    for due in await db.run(partial(find_due, db, now)):
        if not await db.run(partial(claim, db, due, now)):
            continue
        if await send_claimed(db, mailer, portal_url, due, now):
            sent += 1
    return sent


async def send_claimed(
    db: Database, mailer: Mailer, portal_url: str, due: DueReminder, now: int
) -> bool:
    """Sends a claimed reminder; a failure gives the claim back (retried at the next run)."""
    subject, body = reminder_email(
        service=due.service,
        purpose=due.purpose,
        expires_at=due.expires_at,
        days_left=-(-(due.expires_at - now) // DAY),
        link=f"{portal_url.rstrip('/')}/habilitations/{due.habilitation_id}",
    )
    try:
        await mailer.send(due.recipients, subject, body)
    except MailError as error:
        log.warning(
            "expiry reminder not sent, retried at the next run",
            extra={"habilitation_id": due.habilitation_id, "error": str(error)},
        )
        await db.run(partial(release, db, due, now))
        return False
    except BaseException:
        # Cancelled (the job stopped) or broken mid-send: not sent as far as we know, so the
        # claim goes back; the release runs in a worker thread the cancellation cannot reach.
        await asyncio.shield(db.run(partial(release, db, due, now)))
        raise
    log.info(
        "expiry reminder sent",
        extra={"habilitation_id": due.habilitation_id, "days_before": due.days_before},
    )
    return True
