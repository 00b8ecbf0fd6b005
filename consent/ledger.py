"""The consent ledger: finds a grant covering a request, records approvals and refusals.

It works inside the caller's transaction, so a decision and the code it yields are committed
together or not at all. What happens to a grant afterwards (revoked, narrowed, expired) is in
``consent.lifecycle``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from broker.core.db import table_of
from broker.core.security import random_token
from broker.oidc.models import GrantStanding, GrantTerms
from consent.models import (
    TRANSITIONS,
    ConsentEvent,
    ConsentGrant,
    ConsentGrantScope,
    ConsentMode,
    EventKind,
    GrantStatus,
)

DEFAULT_GRANT_TTL = 180 * 24 * 3600


@dataclass(frozen=True)
class Decision:
    citizen_id: str
    client_id: str
    service_id: str
    scopes: list[str]  # what the citizen gave (required items and the optional ones ticked)
    wording: dict[str, Any]
    interaction_id: str | None
    at: int
    habilitation_id: str | None = None
    optional_scopes: frozenset[str] = field(default_factory=frozenset)
    mode: ConsentMode = ConsentMode.RECURRING
    expires_at: int | None = None  # None: the ledger's default lifetime


GRANT = table_of(ConsentGrant)
GRANT_SCOPE = table_of(ConsentGrantScope)
EVENT = table_of(ConsentEvent)
ACTIVE_GRANTS = (
    select(
        GRANT.c.id, GRANT.c.expires_at, GRANT.c.habilitation_id, GRANT.c.mode, GRANT_SCOPE.c.scope
    )
    .join(GRANT_SCOPE, GRANT_SCOPE.c.grant_id == GRANT.c.id)
    .where(
        GRANT.c.citizen_id == bindparam("citizen_id"),
        GRANT.c.client_id == bindparam("client_id"),
        GRANT.c.status == GrantStatus.ACTIVE,
        GRANT_SCOPE.c.withdrawn_at.is_(None),
    )
    .order_by(GRANT.c.created_at.desc(), GRANT.c.id)
)
INSERT_GRANT, INSERT_SCOPE, INSERT_EVENT = insert(GRANT), insert(GRANT_SCOPE), insert(EVENT)
GRANT_STANDING = select(GRANT.c.status, GRANT.c.expires_at, GRANT.c.habilitation_id).where(
    GRANT.c.id == bindparam("grant_id")
)
GRANT_TERMS = (
    select(
        GRANT.c.status,
        GRANT.c.mode,
        GRANT.c.expires_at,
        GRANT_SCOPE.c.scope,
    )
    .outerjoin(
        GRANT_SCOPE, (GRANT_SCOPE.c.grant_id == GRANT.c.id) & GRANT_SCOPE.c.withdrawn_at.is_(None)
    )
    .where(GRANT.c.id == bindparam("grant_id"))
    # Tokens are issued under a lock on their grant, so that a revocation or a narrowing
    # cannot commit between this read and the tokens' insert (PostgreSQL; SQLite serialises
    # writers and ignores it).
    .with_for_update(of=GRANT)
)


class ConsentLedger:
    def __init__(self, grant_ttl: int = DEFAULT_GRANT_TTL) -> None:
        self.grant_ttl = grant_ttl

    def covering_grant(
        self,
        conn: Connection,
        citizen_id: str,
        client_id: str,
        scopes: Sequence[str],
        now: int,
        habilitation_id: str | None = None,
    ) -> str | None:
        """The newest active, unexpired, recurring grant of this citizen to this client covering
        scopes, given under ``habilitation_id``: consent to one purpose never carries over to
        another, and a one-time consent is never remembered."""
        granted: dict[str, set[str]] = {}
        for grant_id, expires_at, grant_habilitation, mode, scope in conn.execute(
            ACTIVE_GRANTS, {"citizen_id": citizen_id, "client_id": client_id}
        ):
            if (
                mode == ConsentMode.RECURRING
                and (expires_at is None or expires_at > now)
                and grant_habilitation == habilitation_id
            ):
                granted.setdefault(grant_id, set()).add(scope)
        wanted = set(scopes)
        return next((gid for gid, covered in granted.items() if wanted <= covered), None)

    def standing(self, conn: Connection, grant_id: str | None, now: int) -> GrantStanding:
        """Whether a grant still holds, and the habilitation it was given under: tokens are
        worth what their grant is worth, at every use."""
        row = conn.execute(GRANT_STANDING, {"grant_id": grant_id}).first() if grant_id else None
        if row is None:
            return GrantStanding(active=False, habilitation_id=None)
        return GrantStanding(
            active=_holds(row.status, row.expires_at, now), habilitation_id=row.habilitation_id
        )

    def terms(self, conn: Connection, grant_id: str | None, now: int) -> GrantTerms | None:
        rows = conn.execute(GRANT_TERMS, {"grant_id": grant_id}).all() if grant_id else []
        if not rows:
            return None
        first = rows[0]
        active = _holds(first.status, first.expires_at, now)
        return GrantTerms(
            active=active,
            refreshable=active and first.mode == ConsentMode.RECURRING,
            expires_at=first.expires_at,
            scopes=frozenset(r.scope for r in rows if r.scope),
        )

    def record_approval(
        self, conn: Connection, decision: Decision, receipt_for: Callable[[str], str]
    ) -> str:
        """A new grant, with its signed receipt (``receipt_for`` signs it for the new grant's
        id, so that the row is written once). Earlier grants to the same client for the same
        purpose are left as they are: codes and tokens issued on them moments ago stay usable
        (two tabs, a double click). Withdrawing consent ends them all
        (``consent.lifecycle.revoke``)."""
        expires_at = decision.expires_at or decision.at + self.grant_ttl
        return self._record(
            conn, decision, EventKind.GRANTED, expires_at=expires_at, receipt_for=receipt_for
        )

    def record_refusal(self, conn: Connection, decision: Decision) -> str:
        return self._record(conn, decision, EventKind.REFUSED, expires_at=None)

    def _record(
        self,
        conn: Connection,
        decision: Decision,
        kind: EventKind,
        *,
        expires_at: int | None,
        receipt_for: Callable[[str], str] | None = None,
    ) -> str:
        _, status = TRANSITIONS[kind]
        grant_id = random_token(18)
        conn.execute(
            INSERT_GRANT,
            {
                "id": grant_id,
                "citizen_id": decision.citizen_id,
                "client_id": decision.client_id,
                "service_id": decision.service_id,
                "status": status,
                "created_at": decision.at,
                "expires_at": expires_at,
                "revoked_at": None,
                "mode": decision.mode,
                "habilitation_id": decision.habilitation_id,
                "receipt": receipt_for(grant_id) if receipt_for else None,
            },
        )
        conn.execute(
            INSERT_SCOPE,
            [
                {
                    "grant_id": grant_id,
                    "scope": scope,
                    "withdrawn_at": None,
                    "optional": scope in decision.optional_scopes,
                }
                for scope in dict.fromkeys(decision.scopes)
            ],
        )
        conn.execute(
            INSERT_EVENT,
            {
                "grant_id": grant_id,
                "kind": kind,
                "scopes": list(decision.scopes),
                "wording": decision.wording,
                "interaction_id": decision.interaction_id,
                "at": decision.at,
            },
        )
        return grant_id


def _holds(status: str, expires_at: int | None, now: int) -> bool:
    return status == GrantStatus.ACTIVE and (expires_at is None or expires_at > now)
