"""Single sign-on sessions of a browser: opened when the identity provider authenticates the
citizen (during an authorization request, or at the citizen space's sign-in), bound to the
browser that signed in, ended at sign-out, at their expiry, or after ``idle_ttl`` seconds
unused.

Each session has a public id, ``sid`` (random, never the cookie's value): ID tokens carry it,
and the services that received one in the session are told when it ends (OpenID Connect
Back-Channel Logout 1.0: ``broker.store.logout_outbox`` queues the notices,
``broker.interaction.logout_notices`` posts them). A session ended by sign-out tells them in
the same transaction; one that expired or sat idle is found by ``end_expired``, which the
background work runs every minute.

A use is written at most once a minute (``last_seen``), not at every request: a session may
be taken for idle up to that long before its exact idle deadline."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy import Connection

from broker.core.db import Database
from broker.core.outages import log_failure
from broker.core.security import digest, random_token
from broker.identity.base import VerifiedIdentity
from broker.identity.citizens import find_citizen, upsert_citizen
from broker.identity.pivot import pivot_digest
from broker.identity.sign_ins import ProviderBlocked, is_blocked, record_sign_in
from broker.oidc.models import Authentication
from broker.store.flowstate import FlowState, StoredSession
from broker.store.logout_outbox import check_later, due_sessions, take_participants

log = logging.getLogger("broker.sessions")
MAX_SESSION_ID = 128
TOUCH_EVERY = 60  # seconds: a session's use is written at most this often
SWEEP_BATCH = 100  # sessions looked at per transaction of the expiry sweep
SWEEP_ROUNDS = 50  # batches per sweep at most: the rest waits for the next minute
SWEEP_RETRY = 60  # seconds before a session whose settling failed is looked at again


def new_sid() -> str:
    return random_token(24)


class BrowserSessions:
    def __init__(
        self,
        db: Database,
        pivot_key: bytes,
        ttl: int,
        flow_state: FlowState,
        *,
        sid_key: bytes,
        idle_ttl: int | None = None,
        on_ended: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.pivot_key = pivot_key
        self.ttl = ttl
        self.flow_state = flow_state
        # The pairwise key: each service sees a session under a sid of its sector's.
        self.sid_key = sid_key
        self.idle_ttl = idle_ttl  # seconds without use that end the session; None: no limit
        # Called once an ending that queued logout notices is committed: wakes their dispatcher.
        self.on_ended = on_ended

    @property
    def touch_every(self) -> int:
        return min(TOUCH_EVERY, self.idle_ttl // 10) if self.idle_ttl else TOUCH_EVERY

    def authentication(
        self, conn: Connection, identity: VerifiedIdentity, now: int
    ) -> Authentication:
        """What the identity provider established, for the citizen it names (one citizen per
        person, whichever provider: found by the keyed digest of the pivot), in the caller's
        transaction; with the ``sid`` of the session ``open`` then opens for it."""
        digest_of_pivot = pivot_digest(self.pivot_key, identity.pivot)
        known = find_citizen(conn, digest_of_pivot)
        if known is not None and is_blocked(conn, known.id, identity.idp):
            raise ProviderBlocked(identity.idp)
        return Authentication(
            citizen_id=upsert_citizen(conn, identity, digest_of_pivot, now, known),
            acr=identity.acr,
            amr=list(identity.amr),
            auth_time=identity.auth_time or now,
            idp=identity.idp,
            sid=new_sid(),
        )

    def open(
        self,
        conn: Connection,
        browser_id: str,
        auth: Authentication,
        now: int,
        upstream_id_token: str | None = None,
        client_id: str | None = None,
        replacing: str | None = None,
    ) -> str:
        """A new session of this browser for ``auth``, in the caller's transaction; its id is
        for the cookie, and the sign-in in the citizen's journal (``client_id``: the service
        it was for; None: the citizen space). ``upstream_id_token``: the provider's, to end its
        session too. ``replacing``: the session id the browser presented; if it is still live
        (a new sign-in for prompt=login or max_age, another citizen on a shared computer), it
        ends in this transaction and its services are told (call ``on_ended`` once
        committed), rather than living on, unreachable, until its deadline."""
        if replacing:
            previous = self.live(conn, replacing, browser_id, now)
            if previous is not None:
                self.end(conn, replacing, previous, now)
        session_id = random_token(32)
        if not auth.sid:
            auth = replace(auth, sid=new_sid())
        record_sign_in(conn, auth.citizen_id, auth.idp, client_id, auth.acr, now)
        self.flow_state.on(conn).create_session(
            digest(session_id),
            StoredSession(
                browser_digest=digest(browser_id),
                authentication=auth,
                expires_at=now + self.ttl,
                upstream_id_token=upstream_id_token,
                last_seen=now,
            ),
        )
        return session_id

    def idle(self, session: StoredSession, now: int) -> bool:
        if not self.idle_ttl or session.last_seen is None:
            return False
        return session.last_seen + self.idle_ttl <= now

    def deadline(self, session: StoredSession) -> int:
        """When the session ends unless it is used before (its expiry, or its idle deadline
        as last written)."""
        if not self.idle_ttl or session.last_seen is None:
            return session.expires_at
        return min(session.expires_at, session.last_seen + self.idle_ttl)

    def live(
        self, conn: Connection, session_id: str | None, browser_id: str | None, now: int
    ) -> StoredSession | None:
        """The whole session record if it is live (neither expired nor idle) and this
        browser's. Writes nothing."""
        if not session_id or not browser_id or len(session_id) > MAX_SESSION_ID:
            return None
        session = self.flow_state.on(conn).get_session(digest(session_id))
        if (
            session is None
            or session.expires_at <= now
            or self.idle(session, now)
            or not hmac.compare_digest(session.browser_digest, digest(browser_id))
        ):
            return None
        return session

    def find(
        self, conn: Connection, session_id: str | None, browser_id: str, now: int
    ) -> Authentication | None:
        """The session's authentication if it is live and this browser's; a use of it, written
        in the caller's transaction when the last one is a minute old."""
        session = self.live(conn, session_id, browser_id, now)
        if session is None or session_id is None:
            return None
        if self.touch_due(session, now):
            self.flow_state.on(conn).touch_session(digest(session_id), now)
        return session.authentication

    def touch_due(self, session: StoredSession, now: int) -> bool:
        """Without an idle limit, nothing reads ``last_seen``: it is not written."""
        if not self.idle_ttl:
            return False
        return session.last_seen is None or now - session.last_seen >= self.touch_every

    async def citizen(self, session_id: str | None, browser_id: str | None) -> str | None:
        """The citizen signed in with this session in this browser, if any."""
        if not session_id or not browser_id:
            return None
        return await self.db.run(lambda: self.signed_in_citizen(session_id, browser_id))

    def signed_in_citizen(self, session_id: str, browser_id: str) -> str | None:
        now = int(time.time())
        with self.db.connect() as conn:
            session = self.live(conn, session_id, browser_id, now)
        if session is None:
            return None
        if self.touch_due(session, now):  # a write, in a transaction of its own
            with self.db.begin() as conn:
                self.flow_state.on(conn).touch_session(digest(session_id), now)
        return session.authentication.citizen_id

    def end(self, conn: Connection, session_id: str, session: StoredSession, now: int) -> int:
        """The session stops working at once, in every tab, and the services that received an
        ID token in it are queued a logout notice, in the caller's transaction (call
        ``on_ended`` once committed). Returns how many notices were queued."""
        queued = self.tell_participants(conn, session, now)
        self.flow_state.on(conn).end_session(digest(session_id), now)
        return queued

    def sign_out(self, session_id: str, session: StoredSession, now: int) -> int:
        """Sign-out, safe to run again if a database connection drops midway: the notices are
        queued and committed first, then the session ends in the flow state (which, in Redis or
        memory, no rollback would bring back). A code issued in between leaves a participant
        that the expiry sweep tells once it finds the session gone. Wakes the dispatcher."""
        with self.db.begin() as conn:
            queued = self.tell_participants(conn, session, now)
        with self.db.begin() as conn:
            self.flow_state.on(conn).end_session(digest(session_id), now)
        if queued:
            self.on_ended()
        return queued

    def tell_participants(self, conn: Connection, session: StoredSession, now: int) -> int:
        sid = session.authentication.sid
        return take_participants(conn, sid, now, self.sid_key) if sid else 0

    # -- the expiry sweep --------------------------------------------------------------------
    def end_expired(self, now: int | None = None) -> int:
        """Ends the sessions with services to tell that expired or sat idle, and queues their
        notices (a session found live is looked at again at its deadline); also those that
        are gone from the flow state (ended without notices, or lost with a process's memory).
        Returns how many notices were queued."""
        moment = int(time.time()) if now is None else now
        queued = 0
        for _ in range(SWEEP_ROUNDS):
            with self.db.connect() as conn:
                sids = due_sessions(conn, moment, SWEEP_BATCH)
            for sid in sids:
                queued += self.settle_one(sid, moment)
            if len(sids) < SWEEP_BATCH:
                break
        if queued:
            log.info("expired sessions ended", extra={"logout_notices": queued})
            self.on_ended()
        return queued

    def settle_one(self, sid: str, now: int) -> int:
        """One session of the sweep, in its own transaction: a failure (a flow state record
        that cannot be read, a database error) is logged and the session looked at again a
        minute later, and the sweep goes on with the others."""
        try:
            with self.db.begin() as conn:
                return self.settle(conn, sid, now)
        except Exception as exc:
            log_failure(log, exc, "session expiry sweep of one session")
        # If even this fails, the database is down: the sweep stops, and runs again later.
        with self.db.begin() as conn:
            check_later(conn, sid, now + SWEEP_RETRY)
        return 0

    def settle(self, conn: Connection, sid: str, now: int) -> int:
        view = self.flow_state.on(conn)
        found = view.session_by_sid(sid)
        if found is not None:
            id_digest, session = found
            if session.expires_at > now and not self.idle(session, now):
                check_later(conn, sid, self.deadline(session))
                return 0
            view.end_session(id_digest, now)
        return take_participants(conn, sid, now, self.sid_key)
