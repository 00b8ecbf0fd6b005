"""Deleting what has expired and serves no one any more (run it from cron: `broker db purge`)."""

from __future__ import annotations

from sqlalchemy import Connection, delete, or_

from broker.store import models as m
from consent.models import ConsentNotification, RefreshToken

# Kept a while after expiry: a replayed code or a late token must still be recognised.
CODE_GRACE = 3600
TOKEN_GRACE = 24 * 3600
# Delivered or given-up consent events are kept a month for support, then dropped: the
# consent history itself (consent_event) is never purged.
NOTIFICATION_KEEP = 30 * 24 * 3600


REFRESH = RefreshToken.__table__
NOTIFY = ConsentNotification.__table__


def purge_expired(conn: Connection, now: int) -> dict[str, int]:
    statements = {
        "interactions": delete(m.Interaction.__table__)
        .where(m.Interaction.__table__.c.expires_at < now),
        "browser_sessions": delete(m.BrowserSession.__table__)
        .where(m.BrowserSession.__table__.c.expires_at < now),
        "client_assertion_jtis": delete(m.ClientAssertionJti.__table__)
        .where(m.ClientAssertionJti.__table__.c.expires_at < now),
        "authorization_codes": delete(m.AuthorizationCode.__table__)
        .where(m.AuthorizationCode.__table__.c.expires_at < now - CODE_GRACE),
        "access_tokens": delete(m.AccessToken.__table__)
        .where(m.AccessToken.__table__.c.expires_at < now - TOKEN_GRACE),
        # Kept past expiry like access tokens, so that a late reuse is still recognised.
        "refresh_tokens": delete(REFRESH).where(REFRESH.c.expires_at < now - TOKEN_GRACE),
        "consent_notifications": delete(NOTIFY).where(
            or_(NOTIFY.c.delivered_at < now - NOTIFICATION_KEEP,
                NOTIFY.c.failed_at < now - NOTIFICATION_KEEP)),
    }
    return {name: conn.execute(statement).rowcount for name, statement in statements.items()}
