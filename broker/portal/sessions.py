"""Signed-in agents' sessions, kept on the server (table ``portal_session``).

The browser holds a random id in an HttpOnly, SameSite=Lax cookie; the table holds only its
digest, so a leaked table opens no session. A session ends when it is closed (sign-out),
revoked, past its lifetime, or unused for longer than the idle timeout. The agent and their
roles are read again at every request: a role taken away applies at once."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from litestar.datastructures import Cookie
from sqlmodel import Session, col, select

from broker.admin.agents import load_agent
from broker.admin.principal import Agent
from broker.core.db import Database
from broker.core.security import digest, keyed_digest, random_token
from broker.store.portal_models import PortalSession

COOKIE = "portal_session"
TOUCH_EVERY = 60  # seconds: last_seen is written at most this often (not at every page)


@dataclass(frozen=True)
class SignedIn:
    """The session a request came with, and who it is."""

    session_id: str
    agent: Agent
    csrf: str  # the token every POST form of this session carries
    upstream_id_token: str | None


class PortalSessions:
    def __init__(self, db: Database, csrf_key: bytes, ttl: int, idle_ttl: int) -> None:
        self.db = db
        self.csrf_key = csrf_key
        self.ttl = ttl
        self.idle_ttl = idle_ttl

    def csrf_token(self, session_id: str) -> str:
        """Bound to the session: a form from another session (or none) does not pass."""
        return keyed_digest(self.csrf_key, session_id)

    def csrf_matches(self, session_id: str, token: str) -> bool:
        return hmac.compare_digest(self.csrf_token(session_id), token)

    def open_in(
        self,
        session: Session,
        agent_id: str,
        now: int,
        upstream_id_token: str | None = None,
    ) -> str:
        """A new session for ``agent_id`` in the caller's transaction; returns the id the
        cookie carries (shown nowhere else)."""
        session_id = random_token(32)
        session.add(
            PortalSession(
                id_digest=digest(session_id),
                agent_id=agent_id,
                created_at=now,
                expires_at=now + self.ttl,
                last_seen=now,
                upstream_id_token=upstream_id_token,
            )
        )
        session.flush()
        return session_id

    async def open(self, agent_id: str, upstream_id_token: str | None = None) -> str:
        def step() -> str:
            with self.db.transaction() as session:
                return self.open_in(session, agent_id, int(time.time()), upstream_id_token)

        return await self.db.run(step)

    def read_in(self, session: Session, session_id: str, now: int) -> SignedIn | None:
        """The signed-in agent of ``session_id``, or None: unknown, closed, revoked, expired
        or idle too long."""
        if not session_id or len(session_id) > 100:
            return None
        record = session.get(PortalSession, digest(session_id))
        if record is None or record.revoked_at is not None:
            return None
        if now >= record.expires_at or now - record.last_seen > self.idle_ttl:
            return None
        agent = load_agent(session, record.agent_id)
        if agent is None:
            return None
        if now - record.last_seen >= TOUCH_EVERY:
            record.last_seen = now
            session.add(record)
        return SignedIn(session_id, agent, self.csrf_token(session_id), record.upstream_id_token)

    async def read(self, session_id: str) -> SignedIn | None:
        def step() -> SignedIn | None:
            with self.db.transaction() as session:
                return self.read_in(session, session_id, int(time.time()))

        return await self.db.run(step)

    def close_in(self, session: Session, session_id: str, now: int) -> PortalSession | None:
        """Ends the session (kept, marked revoked); returns it as it was, or None."""
        record = session.get(PortalSession, digest(session_id))
        if record is None or record.revoked_at is not None:
            return None
        record.revoked_at = now
        session.add(record)
        session.flush()
        return record

    async def close(self, session_id: str) -> PortalSession | None:
        def step() -> PortalSession | None:
            with self.db.transaction() as session:
                return self.close_in(session, session_id, int(time.time()))

        return await self.db.run(step)

    def revoke_agent_in(self, session: Session, agent_id: str, now: int) -> int:
        """Ends every open session of an agent (an administrator's decision); returns how many."""
        records = session.exec(
            select(PortalSession).where(
                PortalSession.agent_id == agent_id, col(PortalSession.revoked_at).is_(None)
            )
        ).all()
        count = 0
        for record in records:
            record.revoked_at = now
            session.add(record)
            count += 1
        session.flush()
        return count


def session_cookie(session_id: str, *, secure: bool) -> Cookie:
    """No max-age: the browser forgets it when closed; the server ends it anyway."""
    return Cookie(
        key=COOKIE, value=session_id, httponly=True, secure=secure, samesite="lax", path="/"
    )


def expired_session_cookie(*, secure: bool) -> Cookie:
    return Cookie(
        key=COOKIE, value="", httponly=True, secure=secure, samesite="lax", path="/", max_age=0
    )
