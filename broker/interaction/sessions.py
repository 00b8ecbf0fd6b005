"""Single sign-on sessions of a browser: opened when the identity provider authenticates the
citizen (during an authorization request, or at the citizen space's sign-in), bound to the
browser that signed in, ended at sign-out."""

from __future__ import annotations

import hmac
import time

from sqlalchemy import Connection

from broker.core.db import Database
from broker.core.security import digest, random_token
from broker.identity.base import VerifiedIdentity
from broker.identity.citizens import find_citizen, upsert_citizen
from broker.identity.pivot import pivot_digest
from broker.identity.sign_ins import ProviderBlocked, is_blocked, record_sign_in
from broker.oidc.models import Authentication
from broker.store.flowstate import FlowState, StoredSession

MAX_SESSION_ID = 128


class BrowserSessions:
    def __init__(
        self,
        db: Database,
        pivot_key: bytes,
        ttl: int,
        flow_state: FlowState,
        idle_ttl: int | None = None,
    ) -> None:
        self.db = db
        self.pivot_key = pivot_key
        self.ttl = ttl
        self.flow_state = flow_state
        self.idle_ttl = idle_ttl  # seconds without use that end the session; None: no limit

    def authentication(
        self, conn: Connection, identity: VerifiedIdentity, now: int
    ) -> Authentication:
        """What the identity provider established, for the citizen it names (one citizen per
        person, whichever provider: found by the keyed digest of the pivot), in the caller's
        transaction."""
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
        )

    def open(
        self,
        conn: Connection,
        browser_id: str,
        auth: Authentication,
        now: int,
        upstream_id_token: str | None = None,
        client_id: str | None = None,
    ) -> str:
        """A new session of this browser for ``auth``, in the caller's transaction; its id is
        for the cookie, and the sign-in in the citizen's journal (``client_id``: the service
        it was for; None: the citizen space). ``upstream_id_token``: the provider's, to end its
        session too."""
        session_id = random_token(32)
        record_sign_in(conn, auth.citizen_id, auth.idp, client_id, auth.acr, now)
        self.flow_state.on(conn).create_session(
            digest(session_id),
            StoredSession(
                browser_digest=digest(browser_id),
                authentication=auth,
                expires_at=now + self.ttl,
                upstream_id_token=upstream_id_token,
            ),
        )
        return session_id

    def live(
        self, conn: Connection, session_id: str | None, browser_id: str | None, now: int
    ) -> StoredSession | None:
        """The whole session record if it is live and this browser's."""
        if not session_id or not browser_id or len(session_id) > MAX_SESSION_ID:
            return None
        session = self.flow_state.on(conn).get_session(digest(session_id))
        if (
            session is None
            or session.expires_at <= now
            or not hmac.compare_digest(session.browser_digest, digest(browser_id))
        ):
            return None
        return session

    def find(
        self, conn: Connection, session_id: str | None, browser_id: str, now: int
    ) -> Authentication | None:
        """The session's authentication if it is live and this browser's."""
        session = self.live(conn, session_id, browser_id, now)
        return session.authentication if session else None

    async def citizen(self, session_id: str | None, browser_id: str | None) -> str | None:
        """The citizen signed in with this session in this browser, if any."""
        if not session_id or not browser_id:
            return None
        return await self.db.run(lambda: self.signed_in_citizen(session_id, browser_id))

    def signed_in_citizen(self, session_id: str, browser_id: str) -> str | None:
        with self.db.connect() as conn:
            auth = self.find(conn, session_id, browser_id, int(time.time()))
        return auth.citizen_id if auth else None

    def end_now(self, session_id: str) -> None:
        """Sign-out: the session stops working at once, in every tab."""
        with self.db.begin() as conn:
            if session_id and len(session_id) <= MAX_SESSION_ID:
                self.flow_state.on(conn).end_session(digest(session_id), int(time.time()))
