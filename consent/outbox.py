"""The outbox of consent events: rows written in the same transaction as the consent change
they tell of (so an event exists if and only if its change does), claimed and settled by the
dispatcher (``consent.notifications``) with compare-and-set statements, purged a month after
they settle."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, delete, func, insert, or_, select, update

from broker.core.db import table_of
from broker.store.models import OAuthClient
from consent.models import ConsentNotification

# Delivered or given-up events are kept a month for support, then dropped (`broker db purge`):
# the consent history itself (consent_event) is never purged.
NOTIFICATION_KEEP = 30 * 24 * 3600

NOTIFICATION = table_of(ConsentNotification)
CLIENT = table_of(OAuthClient)
PENDING = NOTIFICATION.c.delivered_at.is_(None) & NOTIFICATION.c.failed_at.is_(None)

DUE = (
    select(
        NOTIFICATION.c.id,
        NOTIFICATION.c.client_id,
        NOTIFICATION.c.grant_id,
        NOTIFICATION.c.url,
        NOTIFICATION.c.event,
        NOTIFICATION.c.attempts,
        NOTIFICATION.c.next_attempt_at,
        CLIENT.c.notification_uri,
        CLIENT.c.disabled_at,
    )
    .outerjoin(CLIENT, CLIENT.c.client_id == NOTIFICATION.c.client_id)
    .where(
        PENDING,
        NOTIFICATION.c.next_attempt_at <= bindparam("now"),
        NOTIFICATION.c.attempts < bindparam("max_attempts"),
    )
    .order_by(NOTIFICATION.c.next_attempt_at, NOTIFICATION.c.id)
    .limit(bindparam("limit"))
)
CLAIM = (
    update(NOTIFICATION)
    .where(
        NOTIFICATION.c.id == bindparam("row_id"),
        PENDING,
        NOTIFICATION.c.attempts == bindparam("seen_attempts"),
        NOTIFICATION.c.next_attempt_at == bindparam("seen_next"),
    )
    .values(attempts=NOTIFICATION.c.attempts + 1, next_attempt_at=bindparam("lease_until"))
)
# Outcomes are written only by the process holding the claim (same attempt number).
OWNED = (
    (NOTIFICATION.c.id == bindparam("row_id"))
    & PENDING
    & (NOTIFICATION.c.attempts == bindparam("attempt"))
)
DELIVERED = (
    update(NOTIFICATION)
    .where(OWNED)
    .values(delivered_at=bindparam("now"), next_attempt_at=None, last_error=None)
)
RETRY = (
    update(NOTIFICATION)
    .where(OWNED)
    .values(next_attempt_at=bindparam("next_at"), last_error=bindparam("error"))
)
GIVE_UP = (
    update(NOTIFICATION)
    .where(OWNED)
    .values(failed_at=bindparam("now"), next_attempt_at=None, last_error=bindparam("error"))
)
# What waits for delivery, for the metrics: how many events, since when.
BACKLOG = select(func.count(), func.min(NOTIFICATION.c.created_at)).where(PENDING)
# A last attempt interrupted (crash) after its claim: its lease ran out, nothing is left to try.
ABANDONED = (
    update(NOTIFICATION)
    .where(
        PENDING,
        NOTIFICATION.c.next_attempt_at <= bindparam("now"),
        NOTIFICATION.c.attempts >= bindparam("max_attempts"),
    )
    .values(failed_at=bindparam("now"), next_attempt_at=None, last_error="last attempt interrupted")
)


def enqueue(
    conn: Connection, *, client_id: str, url: str, grant_id: str, event: str, now: int
) -> None:
    """Records a signed event for delivery, in the caller's transaction; due at once. Call the
    dispatcher's ``wake()`` after the commit for an immediate delivery."""
    conn.execute(
        insert(NOTIFICATION),
        {
            "client_id": client_id,
            "grant_id": grant_id,
            "url": url,
            "event": event,
            "created_at": now,
            "attempts": 0,
            "next_attempt_at": now,
        },
    )


def purge_settled(conn: Connection, now: int) -> dict[str, int]:
    """Deletes the events delivered or given up more than ``NOTIFICATION_KEEP`` ago."""
    settled = delete(NOTIFICATION).where(
        or_(
            NOTIFICATION.c.delivered_at < now - NOTIFICATION_KEEP,
            NOTIFICATION.c.failed_at < now - NOTIFICATION_KEEP,
        )
    )
    return {"consent_notifications": conn.execute(settled).rowcount}
