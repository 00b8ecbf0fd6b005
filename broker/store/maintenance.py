"""Deleting the broker's records that have expired and serve no one any more (run it from cron:
`broker db purge`, which also purges the consent side's delivered events)."""

from __future__ import annotations

from sqlalchemy import Connection, delete

from broker.core.db import table_of
from broker.store import dpop_proofs, logout_outbox
from broker.store.federation_models import FederationLogin
from broker.store.models import (
    AccessToken,
    AuthorizationCode,
    BrowserSession,
    ClientAssertionJti,
    Interaction,
    PushedAuthorizationRequest,
    RefreshToken,
)
from broker.store.portal_models import PortalSession

# Kept a while after expiry: a replayed code or a late token must still be recognised.
CODE_GRACE = 3600
TOKEN_GRACE = 24 * 3600
REFRESH = table_of(RefreshToken)


def purge_expired(conn: Connection, now: int) -> dict[str, int]:
    statements = {
        "interactions": delete(table_of(Interaction)).where(
            table_of(Interaction).c.expires_at < now
        ),
        "federation_logins": delete(table_of(FederationLogin)).where(
            table_of(FederationLogin).c.expires_at < now
        ),
        "browser_sessions": delete(table_of(BrowserSession)).where(
            table_of(BrowserSession).c.expires_at < now
        ),
        "client_assertion_jtis": delete(table_of(ClientAssertionJti)).where(
            table_of(ClientAssertionJti).c.expires_at < now
        ),
        "authorization_codes": delete(table_of(AuthorizationCode)).where(
            table_of(AuthorizationCode).c.expires_at < now - CODE_GRACE
        ),
        "access_tokens": delete(table_of(AccessToken)).where(
            table_of(AccessToken).c.expires_at < now - TOKEN_GRACE
        ),
        "pushed_authorization_requests": delete(table_of(PushedAuthorizationRequest)).where(
            table_of(PushedAuthorizationRequest).c.expires_at < now
        ),
        # Agents' portal sessions past their lifetime (an idle or revoked one is refused at
        # once, and goes when its lifetime ends).
        "portal_sessions": delete(table_of(PortalSession)).where(
            table_of(PortalSession).c.expires_at < now
        ),
        # Kept past expiry like access tokens, so that a late reuse is still recognised.
        "refresh_tokens": delete(REFRESH).where(REFRESH.c.expires_at < now - TOKEN_GRACE),
    }
    purged = {name: conn.execute(statement).rowcount for name, statement in statements.items()}
    # Spent DPoP proofs, once no host's clock can accept them any more.
    purged["dpop_proofs"] = dpop_proofs.purge_expired(conn, now)
    # Delivered or given-up logout notices, a month on (participants leave with their session).
    return {**purged, **logout_outbox.purge_settled(conn, now)}
