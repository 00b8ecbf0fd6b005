"""What happens to a grant after the decision: revoked by the citizen (or by the broker when a
refresh token is reused), narrowed (optional items withdrawn), expired.

Every change is an event; the grant row only changes status. Ending or narrowing a grant
revokes the access and refresh tokens issued on it in the same transaction, so they stop at the
very next request."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select, update

from broker.core.db import table_of
from broker.store.models import AccessToken, RefreshToken
from consent.models import (
    TRANSITIONS,
    ConsentEvent,
    ConsentGrant,
    ConsentGrantScope,
    ConsentMode,
    EventKind,
    GrantStatus,
)

GRANT = table_of(ConsentGrant)
GRANT_SCOPE = table_of(ConsentGrantScope)
EVENT = table_of(ConsentEvent)
ACCESS = table_of(AccessToken)
REFRESH = table_of(RefreshToken)

MOVE_GRANT = (
    update(GRANT)
    .where(GRANT.c.id == bindparam("grant_id"), GRANT.c.status == bindparam("from_status"))
    .values(status=bindparam("new_status"), revoked_at=bindparam("now"))
)
# (Bind names differ from column names: SQLAlchemy reserves those in UPDATE statements.)
REVOKE_ACCESS = (
    update(ACCESS)
    .where(ACCESS.c.grant_id == bindparam("b_grant_id"), ACCESS.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("now"))
)
REVOKE_REFRESH = (
    update(REFRESH)
    .where(REFRESH.c.grant_id == bindparam("b_grant_id"), REFRESH.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("now"))
)
SCOPES_OF = select(GRANT_SCOPE.c.scope, GRANT_SCOPE.c.optional).where(
    GRANT_SCOPE.c.grant_id == bindparam("grant_id"), GRANT_SCOPE.c.withdrawn_at.is_(None)
)
GRANT_ROW = select(GRANT).where(GRANT.c.id == bindparam("grant_id"))
LOCKED_GRANT_ROW = GRANT_ROW.with_for_update()  # PostgreSQL; SQLite serialises writers
SAME_PURPOSE = select(GRANT.c.id).where(
    GRANT.c.citizen_id == bindparam("citizen_id"),
    GRANT.c.client_id == bindparam("client_id"),
    GRANT.c.status == GrantStatus.ACTIVE,
    GRANT.c.id != bindparam("grant_id"),
)
WITHDRAW = (
    update(GRANT_SCOPE)
    .where(
        GRANT_SCOPE.c.grant_id == bindparam("b_grant_id"),
        GRANT_SCOPE.c.scope == bindparam("b_scope"),
        GRANT_SCOPE.c.withdrawn_at.is_(None),
    )
    .values(withdrawn_at=bindparam("now"))
)
DUE_TO_EXPIRE = (
    select(GRANT.c.id)
    .where(GRANT.c.status == GrantStatus.ACTIVE, GRANT.c.expires_at <= bindparam("now"))
    .order_by(GRANT.c.expires_at)
    .limit(bindparam("limit"))
)


@dataclass(frozen=True)
class GrantChange:
    """A grant that was revoked, narrowed or expired: what its service is told."""

    grant_id: str
    kind: EventKind  # REVOKED, NARROWED or EXPIRED
    client_id: str
    citizen_id: str
    scopes: list[str]  # ended: every scope it held; narrowed: the withdrawn ones
    reason: str | None = None
    mode: str = ConsentMode.RECURRING


class GrantNotChangeable(Exception):
    """Not this citizen's grant, no longer active, or the items cannot be withdrawn."""


def end_grant(
    conn: Connection, grant_id: str, now: int, *, kind: EventKind, wording: dict
) -> GrantChange | None:
    """Ends an active grant once, as ``TRANSITIONS[kind]`` says (compare-and-set on its
    status); None if it was not active."""
    from_status, status = TRANSITIONS[kind]
    row = conn.execute(GRANT_ROW, {"grant_id": grant_id}).first()
    if (
        row is None
        or conn.execute(
            MOVE_GRANT,
            {"grant_id": grant_id, "from_status": from_status, "new_status": status, "now": now},
        ).rowcount
        != 1
    ):
        return None
    scopes = [r.scope for r in conn.execute(SCOPES_OF, {"grant_id": grant_id})]
    _revoke_tokens(conn, grant_id, now)
    conn.execute(
        insert(EVENT),
        {
            "grant_id": grant_id,
            "kind": kind,
            "scopes": scopes,
            "wording": wording,
            "interaction_id": None,
            "at": now,
        },
    )
    return GrantChange(
        grant_id=grant_id,
        kind=kind,
        client_id=row.client_id,
        citizen_id=row.citizen_id,
        scopes=scopes,
        reason=wording.get("reason"),
        mode=row.mode,
    )


def revoke(
    conn: Connection,
    grant_id: str,
    now: int,
    *,
    reason: str,
    citizen_id: str | None = None,
    wording: dict | None = None,
) -> GrantChange:
    """``citizen_id`` given: only that citizen's own grant can be revoked."""
    _own_active_grant(conn, grant_id, citizen_id, now)
    change = end_grant(
        conn, grant_id, now, kind=EventKind.REVOKED, wording={**(wording or {}), "reason": reason}
    )
    if change is None:
        raise GrantNotChangeable("not active")
    return change


def revoke_purpose(
    conn: Connection, grant_id: str, citizen_id: str, now: int, wording: dict | None = None
) -> list[GrantChange]:
    """The citizen withdraws consent to a service for a purpose: the grant named and every
    other active grant of theirs to the same client under the same habilitation (an earlier
    approval, another tab) end together."""
    row = _own_active_grant(conn, grant_id, citizen_id, now)
    same = SAME_PURPOSE.where(
        GRANT.c.habilitation_id.is_(None)
        if row.habilitation_id is None
        else GRANT.c.habilitation_id == row.habilitation_id
    )
    others = [
        r.id
        for r in conn.execute(
            same, {"citizen_id": citizen_id, "client_id": row.client_id, "grant_id": grant_id}
        )
    ]
    changes = [revoke(conn, grant_id, now, reason="citizen", wording=wording)]
    for other in others:
        change = end_grant(
            conn,
            other,
            now,
            kind=EventKind.REVOKED,
            wording={**(wording or {}), "reason": "citizen"},
        )
        if change is not None:
            changes.append(change)
    return changes


def narrow(
    conn: Connection,
    grant_id: str,
    citizen_id: str,
    scopes: list[str],
    now: int,
    wording: dict | None = None,
) -> GrantChange:
    """Withdraws optional items from an active grant. Required items cannot be withdrawn one
    by one: the citizen revokes the whole consent instead."""
    row = _own_active_grant(conn, grant_id, citizen_id, now)
    held = {r.scope: r.optional for r in conn.execute(SCOPES_OF, {"grant_id": grant_id})}
    wanted = list(dict.fromkeys(scopes))
    if not wanted or any(not held.get(scope, False) for scope in wanted):
        raise GrantNotChangeable("only optional items still held can be withdrawn")
    for scope in wanted:
        if (
            conn.execute(WITHDRAW, {"b_grant_id": grant_id, "b_scope": scope, "now": now}).rowcount
            != 1
        ):
            raise GrantNotChangeable("already withdrawn")  # a concurrent narrowing won
    # Tokens carry scopes in their claims: the ones out there stop now; refreshing gives
    # tokens without the withdrawn items.
    _revoke_tokens(conn, grant_id, now, refresh=False)
    conn.execute(
        insert(EVENT),
        {
            "grant_id": grant_id,
            "kind": EventKind.NARROWED,
            "scopes": wanted,
            "wording": {**(wording or {}), "reason": "citizen"},
            "interaction_id": None,
            "at": now,
        },
    )
    return GrantChange(
        grant_id=grant_id,
        kind=EventKind.NARROWED,
        client_id=row.client_id,
        citizen_id=row.citizen_id,
        scopes=wanted,
        reason="citizen",
    )


def expire_due(conn: Connection, now: int, limit: int = 500) -> list[GrantChange]:
    changes = []
    for (grant_id,) in conn.execute(DUE_TO_EXPIRE, {"now": now, "limit": limit}).all():
        change = end_grant(
            conn, grant_id, now, kind=EventKind.EXPIRED, wording={"reason": "expiry"}
        )
        if change is not None:
            changes.append(change)
    return changes


def _own_active_grant(conn: Connection, grant_id: str, citizen_id: str | None, now: int):
    row = conn.execute(LOCKED_GRANT_ROW, {"grant_id": grant_id}).first()
    if row is None or (citizen_id is not None and row.citizen_id != citizen_id):
        raise GrantNotChangeable("unknown")
    if row.status != GrantStatus.ACTIVE or (row.expires_at is not None and row.expires_at <= now):
        raise GrantNotChangeable("not active")
    return row


def _revoke_tokens(conn: Connection, grant_id: str, now: int, refresh: bool = True) -> None:
    conn.execute(REVOKE_ACCESS, {"b_grant_id": grant_id, "now": now})
    if refresh:
        conn.execute(REVOKE_REFRESH, {"b_grant_id": grant_id, "now": now})
