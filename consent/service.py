"""The consent ledger: finds a grant covering a request, records approvals and refusals.

It works inside the caller's transaction, so a decision and the code it yields are committed
together or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

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


class ConsentLedger:
    def __init__(self, grant_ttl: int = DEFAULT_GRANT_TTL) -> None:
        self.grant_ttl = grant_ttl

    def decision(self, **fields: Any) -> Decision:
        return Decision(**fields)

    def covering_grant(self, session: Session, citizen_id: str, client_id: str,
                       scopes: list[str], now: int) -> str | None:
        """The newest active, unexpired grant of this citizen to this client covering scopes."""
        grants = session.exec(
            select(ConsentGrant)
            .where(ConsentGrant.citizen_id == citizen_id, ConsentGrant.client_id == client_id,
                   ConsentGrant.status == "active")
            .order_by(ConsentGrant.created_at.desc())
        ).all()
        wanted = set(scopes)
        for grant in grants:
            if grant.expires_at is not None and grant.expires_at <= now:
                continue
            granted = set(session.exec(
                select(ConsentGrantScope.scope).where(ConsentGrantScope.grant_id == grant.id)
            ).all())
            if wanted <= granted:
                return grant.id
        return None

    def record_approval(self, session: Session, decision: Decision) -> str:
        return self._record(session, decision, status="active", kind="granted",
                            expires_at=decision.at + self.grant_ttl)

    def record_refusal(self, session: Session, decision: Decision) -> str:
        return self._record(session, decision, status="refused", kind="refused", expires_at=None)

    def _record(self, session: Session, decision: Decision, *, status: str, kind: str,
                expires_at: int | None) -> str:
        grant_id = random_token(18)
        session.add(ConsentGrant(
            id=grant_id, citizen_id=decision.citizen_id, client_id=decision.client_id,
            service_id=decision.service_id, status=status, created_at=decision.at,
            expires_at=expires_at,
        ))
        session.flush()
        for scope in dict.fromkeys(decision.scopes):
            session.add(ConsentGrantScope(grant_id=grant_id, scope=scope))
        session.add(ConsentEvent(
            grant_id=grant_id, kind=kind, scopes=list(decision.scopes), wording=decision.wording,
            interaction_id=decision.interaction_id, at=decision.at,
        ))
        return grant_id
