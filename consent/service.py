"""The consent ledger: finds a grant covering a request, records approvals and refusals.

It works inside the caller's transaction, so a decision and the code it yields are committed
together or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from broker.security import random_token
from consent.models import ConsentEvent, ConsentGrant, ConsentGrantScope

DEFAULT_GRANT_TTL = 180 * 24 * 3600


@dataclass(frozen=True)
class Decision:
    citizen_id: str
    client_id: str
    service_id: str
    scopes: list[str]
    wording: dict[str, Any]
    interaction_id: str | None
    at: int
    habilitation_id: str | None = None


GRANT = ConsentGrant.__table__
GRANT_SCOPE = ConsentGrantScope.__table__
EVENT = ConsentEvent.__table__
ACTIVE_GRANTS = (
    select(GRANT.c.id, GRANT.c.expires_at, GRANT.c.habilitation_id, GRANT_SCOPE.c.scope)
    .join(GRANT_SCOPE, GRANT_SCOPE.c.grant_id == GRANT.c.id)
    .where(GRANT.c.citizen_id == bindparam("citizen_id"),
           GRANT.c.client_id == bindparam("client_id"), GRANT.c.status == "active")
    .order_by(GRANT.c.created_at.desc(), GRANT.c.id)
)
INSERT_GRANT, INSERT_SCOPE, INSERT_EVENT = insert(GRANT), insert(GRANT_SCOPE), insert(EVENT)
GRANT_STANDING = select(GRANT.c.status, GRANT.c.expires_at, GRANT.c.habilitation_id).where(
    GRANT.c.id == bindparam("grant_id"))


@dataclass(frozen=True)
class GrantStanding:
    active: bool
    habilitation_id: str | None


class ConsentLedger:
    def __init__(self, grant_ttl: int = DEFAULT_GRANT_TTL) -> None:
        self.grant_ttl = grant_ttl

    def decision(self, **fields: Any) -> Decision:
        return Decision(**fields)

    def covering_grant(self, conn: Connection, citizen_id: str, client_id: str,
                       scopes: list[str], now: int,
                       habilitation_id: str | None = None) -> str | None:
        """The newest active, unexpired grant of this citizen to this client covering scopes,
        given under ``habilitation_id``: consent to one purpose never carries over to another."""
        granted: dict[str, set[str]] = {}
        for grant_id, expires_at, grant_habilitation, scope in conn.execute(
                ACTIVE_GRANTS, {"citizen_id": citizen_id, "client_id": client_id}):
            if (expires_at is None or expires_at > now) and grant_habilitation == habilitation_id:
                granted.setdefault(grant_id, set()).add(scope)
        wanted = set(scopes)
        return next((gid for gid, covered in granted.items() if wanted <= covered), None)

    def standing(self, conn: Connection, grant_id: str | None, now: int) -> GrantStanding:
        """Whether a grant still holds, and the habilitation it was given under: tokens are
        worth what their grant is worth, at every use."""
        row = conn.execute(GRANT_STANDING, {"grant_id": grant_id}).first() if grant_id else None
        if row is None:
            return GrantStanding(active=False, habilitation_id=None)
        active = row.status == "active" and (row.expires_at is None or row.expires_at > now)
        return GrantStanding(active=active, habilitation_id=row.habilitation_id)

    def record_approval(self, conn: Connection, decision: Decision) -> str:
        return self._record(conn, decision, status="active", kind="granted",
                            expires_at=decision.at + self.grant_ttl)

    def record_refusal(self, conn: Connection, decision: Decision) -> str:
        return self._record(conn, decision, status="refused", kind="refused", expires_at=None)

    def _record(self, conn: Connection, decision: Decision, *, status: str, kind: str,
                expires_at: int | None) -> str:
        grant_id = random_token(18)
        conn.execute(INSERT_GRANT, {
            "id": grant_id, "citizen_id": decision.citizen_id, "client_id": decision.client_id,
            "service_id": decision.service_id, "status": status, "created_at": decision.at,
            "expires_at": expires_at, "revoked_at": None,
            "habilitation_id": decision.habilitation_id})
        conn.execute(INSERT_SCOPE, [{"grant_id": grant_id, "scope": scope}
                                    for scope in dict.fromkeys(decision.scopes)])
        conn.execute(INSERT_EVENT, {
            "grant_id": grant_id, "kind": kind, "scopes": list(decision.scopes),
            "wording": decision.wording, "interaction_id": decision.interaction_id,
            "at": decision.at})
        return grant_id
