"""Back-channel logout records in SQL (OpenID Connect Back-Channel Logout 1.0): the services to
tell when a broker session ends (participants, §2.3), and the outbox their logout notices wait
in until delivered (``broker.interaction.logout_notices`` posts them).

A participant is taken (deleted) in the transaction that queues its notice: whoever ends the
session first (a sign-out, the expiry sweep of another process) tells each service once."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from broker.core.db import table_of
from broker.core.outbox import OutboxStatements
from broker.oidc.logout_token import client_sid
from broker.store.models import OAuthClient, Service
from broker.store.protocol_models import LogoutNotice, LogoutParticipant

# Delivered or given-up notices are kept a month for support, then purged (`broker db purge`).
NOTICE_KEEP = 30 * 24 * 3600

PARTICIPANT = table_of(LogoutParticipant)
NOTICE = table_of(LogoutNotice)
CLIENT = table_of(OAuthClient)
SERVICE = table_of(Service)

TAKE_PARTICIPANTS = (
    delete(PARTICIPANT)
    .where(PARTICIPANT.c.sid == bindparam("b_sid"))
    .returning(PARTICIPANT.c.client_id, PARTICIPANT.c.sub)
)
LOGOUT_URIS = (
    select(CLIENT.c.client_id, CLIENT.c.backchannel_logout_uri, SERVICE.c.sector_identifier)
    .join(SERVICE, SERVICE.c.id == CLIENT.c.service_id)
    .where(
        CLIENT.c.client_id.in_(bindparam("client_ids", expanding=True)),
        CLIENT.c.backchannel_logout_uri.is_not(None),
        CLIENT.c.disabled_at.is_(None),
    )
)
INSERT_NOTICE = insert(NOTICE)
DUE_SESSIONS = (
    select(PARTICIPANT.c.sid)
    .where(PARTICIPANT.c.check_at <= bindparam("now"))
    .group_by(PARTICIPANT.c.sid)
    .order_by(func.min(PARTICIPANT.c.check_at))
    .limit(bindparam("limit"))
)
CHECK_LATER = (
    update(PARTICIPANT)
    .where(PARTICIPANT.c.sid == bindparam("b_sid"))
    .values(check_at=bindparam("check_at"))
)

STATEMENTS = OutboxStatements.for_table(NOTICE)
DUE = STATEMENTS.due(
    select(
        NOTICE.c.id,
        NOTICE.c.client_id,
        NOTICE.c.sid,
        NOTICE.c.sub,
        NOTICE.c.url,
        NOTICE.c.attempts,
        NOTICE.c.next_attempt_at,
    )
)


def add_participant(conn: Connection, *, sid: str, client_id: str, sub: str, now: int) -> None:
    """Records that ``client_id`` (which has a back-channel logout URI) got a code in session
    ``sid``, in the caller's transaction; a second code in the same session changes nothing.
    The expiry sweep looks at the session within a minute, then at its deadline."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(PARTICIPANT).on_conflict_do_nothing(),
        {"sid": sid, "client_id": client_id, "sub": sub, "created_at": now, "check_at": now},
    )


def take_participants(conn: Connection, sid: str, now: int, pairwise_key: bytes) -> int:
    """The session ``sid`` ended: one notice queued per participant with a back-channel URI
    still registered, in the caller's transaction; the participants are gone. Returns how
    many notices were queued. Each notice carries the sid its service's ID tokens had
    (``client_sid``, from its sector), never the session's own."""
    taken = {row.client_id: row.sub for row in conn.execute(TAKE_PARTICIPANTS, {"b_sid": sid})}
    if not taken:
        return 0
    rows = [
        {
            "client_id": client_id,
            "sid": client_sid(pairwise_key, sector_identifier, sid),
            "sub": taken[client_id],
            "url": url,
            "created_at": now,
            "attempts": 0,
            "next_attempt_at": now,
        }
        for client_id, url, sector_identifier in conn.execute(
            LOGOUT_URIS, {"client_ids": sorted(taken)}
        )
    ]
    if rows:
        conn.execute(INSERT_NOTICE, rows)
    return len(rows)


def due_sessions(conn: Connection, now: int, limit: int) -> list[str]:
    """The sids of sessions with participants that may have ended by ``now``."""
    return list(conn.execute(DUE_SESSIONS, {"now": now, "limit": limit}).scalars())


def check_later(conn: Connection, sid: str, check_at: int) -> None:
    conn.execute(CHECK_LATER, {"b_sid": sid, "check_at": check_at})


def purge_settled(conn: Connection, now: int) -> dict[str, int]:
    """Deletes the notices delivered or given up more than ``NOTICE_KEEP`` ago."""
    settled = delete(NOTICE).where(
        or_(NOTICE.c.delivered_at < now - NOTICE_KEEP, NOTICE.c.failed_at < now - NOTICE_KEEP)
    )
    return {"logout_notices": conn.execute(settled).rowcount}
