"""The outbox of consent events: rows written in the same transaction as the consent change
they tell of (so an event exists if and only if its change does), claimed and settled by the
dispatcher (``consent.notifications``) with the compare-and-set statements of
``broker.core.outbox``, purged a month after
they settle."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, or_, select

from broker.core.db import table_of
from broker.core.outbox import OutboxStatements
from broker.store.models import OAuthClient
from consent.models import ConsentNotification

# Delivered or given-up events are kept a month for support, then dropped (`broker db purge`):
# the consent history itself (consent_event) is never purged.
NOTIFICATION_KEEP = 30 * 24 * 3600

NOTIFICATION = table_of(ConsentNotification)
CLIENT = table_of(OAuthClient)
STATEMENTS = OutboxStatements.for_table(NOTIFICATION)
DUE = STATEMENTS.due(
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
    ).outerjoin(CLIENT, CLIENT.c.client_id == NOTIFICATION.c.client_id)
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
