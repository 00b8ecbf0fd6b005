"""Deleting the broker's records that have expired and serve no one any more (run it from cron:
`broker db purge`, which also purges the consent side's delivered events)."""

from __future__ import annotations

from sqlalchemy import Connection, delete

from broker.store import models as m

# Kept a while after expiry: a replayed code or a late token must still be recognised.
CODE_GRACE = 3600
TOKEN_GRACE = 24 * 3600
REFRESH = m.RefreshToken.__table__


def purge_expired(conn: Connection, now: int) -> dict[str, int]:
    statements = {
        "interactions": delete(m.Interaction.__table__).where(
            m.Interaction.__table__.c.expires_at < now
        ),
        "browser_sessions": delete(m.BrowserSession.__table__).where(
            m.BrowserSession.__table__.c.expires_at < now
        ),
        "client_assertion_jtis": delete(m.ClientAssertionJti.__table__).where(
            m.ClientAssertionJti.__table__.c.expires_at < now
        ),
        "authorization_codes": delete(m.AuthorizationCode.__table__).where(
            m.AuthorizationCode.__table__.c.expires_at < now - CODE_GRACE
        ),
        "access_tokens": delete(m.AccessToken.__table__).where(
            m.AccessToken.__table__.c.expires_at < now - TOKEN_GRACE
        ),
        # Kept past expiry like access tokens, so that a late reuse is still recognised.
        "refresh_tokens": delete(REFRESH).where(REFRESH.c.expires_at < now - TOKEN_GRACE),
    }
    return {name: conn.execute(statement).rowcount for name, statement in statements.items()}
