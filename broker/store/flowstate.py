"""Short-lived flow state: parked authorization requests (interactions), single sign-on
sessions and authorization codes. They live minutes, are read and written on every step of a
flow, and need no history, so they need not live in SQL:

- ``MemoryFlowState``: in this process, for the single-process embedded default;
- ``RedisFlowState`` (``broker.store.redis_flowstate``): shared by every process and host;
- ``SqlFlowState``: in the step's own database transaction, for several processes without
  Redis.

Every backend keeps the same promises: a move of an interaction and the use of a code are
compare-and-set (they happen once, whatever runs concurrently); an interaction stays readable
an hour past its expiry (its page says "expired" rather than "unknown"), and a used code as long
(a replay is recognised and revokes what the code produced).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sqlalchemy import Connection

from broker.oidc.models import Authentication, AuthorizationCode

# How long an interaction or a code is kept past its expiry: a late or replayed request is
# told apart from an unknown one.
EXPIRED_KEPT = 3600
SWEEP_EVERY = 1000  # writes between two sweeps of the expired entries (memory backend)


@dataclass(frozen=True)
class StoredInteraction:
    id: str
    state: str
    browser_digest: str
    client_id: str
    params: dict[str, str]
    authentication: Authentication | None
    created_at: int
    expires_at: int


@dataclass(frozen=True)
class StoredSession:
    browser_digest: str
    authentication: Authentication  # its ``sid`` is the session's public id
    expires_at: int
    upstream_id_token: str | None = None  # the provider's, for its end_session_endpoint
    # When the session was last used, written at most once a minute (the idle timeout);
    # None: a session opened before the broker kept it.
    last_seen: int | None = None


@dataclass(frozen=True)
class UpstreamSignIn:
    """A sign-in sent to an upstream identity provider, waiting for its callback under its
    ``state``: what the callback needs to check the answer (RFC 9700 §4.7 and §4.4)."""

    idp_id: str
    browser_digest: str
    nonce: str
    code_verifier: str
    interaction_id: str | None  # None: the citizen space's sign-in
    expires_at: int
    # prompt=login or max_age: the provider must have authenticated the citizen since then.
    fresh_since: int | None = None


class FlowStateView(Protocol):
    """The flow state as one step sees it."""

    def create_interaction(self, interaction: StoredInteraction) -> None: ...

    def get_interaction(self, interaction_id: str) -> StoredInteraction | None: ...

    def move_interaction(
        self,
        interaction_id: str,
        from_state: str,
        to_state: str,
        authentication: Authentication | None,
    ) -> bool:
        """Compare-and-set on the state: False if the interaction is not at ``from_state``."""

    def create_session(self, id_digest: str, session: StoredSession) -> None: ...

    def get_session(self, id_digest: str) -> StoredSession | None:
        """The session if it was not ended (its expiry is the caller's to check)."""

    def end_session(self, id_digest: str, now: int) -> None: ...

    def session_by_sid(self, sid: str) -> tuple[str, StoredSession] | None:
        """The session whose public id is ``sid`` and its id digest, if it was not ended (the
        expiry sweep's question; its expiry is the caller's to check)."""

    def touch_session(self, id_digest: str, now: int) -> None:
        """Records a use of the session (``last_seen``); never brings an ended one back."""

    def save_code(self, code: AuthorizationCode, created_at: int) -> None: ...

    def get_code(self, code_digest: str) -> AuthorizationCode | None: ...

    def consume_code(self, code_digest: str, now: int) -> bool:
        """Mark the code used; False if it already was, or is gone (compare-and-set)."""

    def save_upstream(self, state_digest: str, sign_in: UpstreamSignIn) -> None: ...

    def take_upstream(self, state_digest: str) -> UpstreamSignIn | None:
        """The sign-in, removed in the same step: a second take finds nothing."""


class FlowState(Protocol):
    kind: str  # "memory", "redis" or "database"
    networked: bool  # each operation is a round trip: steps run off the event loop

    def on(self, conn: Connection) -> FlowStateView:
        """The view of one step; the database backend works in that step's transaction."""

    def close(self) -> None: ...


class MemoryFlowState:
    """The flow state in this process's memory: for one process only (the embedded default).
    Compare-and-set under a lock, since steps may run in worker threads."""

    kind = "memory"
    networked = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # key -> (entry, kept until): entries are dropped once past their keeping time.
        self._interactions: dict[str, tuple[StoredInteraction, int]] = {}
        self._sessions: dict[str, tuple[StoredSession, int]] = {}
        self._sids: dict[str, tuple[str, int]] = {}  # sid -> (id digest, kept until)
        self._codes: dict[str, tuple[AuthorizationCode, int]] = {}
        self._upstream: dict[str, tuple[UpstreamSignIn, int]] = {}
        self._writes = 0

    def on(self, conn: Connection) -> MemoryFlowState:
        return self

    def close(self) -> None:
        """Nothing to release."""

    def create_interaction(self, interaction: StoredInteraction) -> None:
        self._put(
            self._interactions, interaction.id, interaction, interaction.expires_at + EXPIRED_KEPT
        )

    def get_interaction(self, interaction_id: str) -> StoredInteraction | None:
        return self._get(self._interactions, interaction_id)

    def move_interaction(
        self,
        interaction_id: str,
        from_state: str,
        to_state: str,
        authentication: Authentication | None,
    ) -> bool:
        with self._lock:
            found = self._interactions.get(interaction_id)
            if found is None or found[0].state != from_state:
                return False
            moved = replace(
                found[0], state=to_state, authentication=authentication or found[0].authentication
            )
            self._interactions[interaction_id] = (moved, found[1])
            return True

    def create_session(self, id_digest: str, session: StoredSession) -> None:
        self._put(self._sessions, id_digest, session, session.expires_at)
        if session.authentication.sid:
            self._put(self._sids, session.authentication.sid, id_digest, session.expires_at)

    def get_session(self, id_digest: str) -> StoredSession | None:
        return self._get(self._sessions, id_digest)

    def end_session(self, id_digest: str, now: int) -> None:
        with self._lock:
            self._sessions.pop(id_digest, None)

    def session_by_sid(self, sid: str) -> tuple[str, StoredSession] | None:
        id_digest = self._get(self._sids, sid)
        session = self.get_session(id_digest) if id_digest is not None else None
        return (id_digest, session) if id_digest is not None and session is not None else None

    def touch_session(self, id_digest: str, now: int) -> None:
        with self._lock:
            found = self._sessions.get(id_digest)
            if found is not None:
                self._sessions[id_digest] = (replace(found[0], last_seen=now), found[1])

    def save_code(self, code: AuthorizationCode, created_at: int) -> None:
        self._put(self._codes, code.code_digest, code, code.expires_at + EXPIRED_KEPT)

    def get_code(self, code_digest: str) -> AuthorizationCode | None:
        code = self._get(self._codes, code_digest)
        return replace(code) if code is not None else None  # a copy: authlib mutates it

    def consume_code(self, code_digest: str, now: int) -> bool:
        with self._lock:
            found = self._codes.get(code_digest)
            if found is None or found[0].consumed_at is not None:
                return False
            self._codes[code_digest] = (replace(found[0], consumed_at=now), found[1])
            return True

    def save_upstream(self, state_digest: str, sign_in: UpstreamSignIn) -> None:
        self._put(self._upstream, state_digest, sign_in, sign_in.expires_at)

    def take_upstream(self, state_digest: str) -> UpstreamSignIn | None:
        with self._lock:
            found = self._upstream.pop(state_digest, None)
        return found[0] if found is not None and found[1] > now() else None

    def _put(self, entries: dict[str, Any], key: str, entry: Any, kept_until: int) -> None:
        with self._lock:
            entries[key] = (entry, kept_until)
            self._writes += 1
            if self._writes % SWEEP_EVERY == 0:
                self._sweep()

    def _get(self, entries: dict[str, tuple[Any, int]], key: str) -> Any:
        found = entries.get(key)
        if found is None or found[1] <= now():
            return None
        return found[0]

    def _sweep(self) -> None:
        """Drops what is past its keeping time (called under the lock)."""
        moment = now()
        stores = (self._interactions, self._sessions, self._sids, self._codes, self._upstream)
        for entries in stores:
            for key in [k for k, (_, until) in entries.items() if until <= moment]:
                del entries[key]


def now() -> int:
    return int(time.time())
