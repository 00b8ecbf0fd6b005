"""The single sign-on session's idle timeout and expiry, on each flow-state backend (memory,
database, Redis): a session unused for ``idle_ttl`` no longer signs in, a use is written at
most once a minute, and the expiry sweep ends idle and expired sessions and queues a logout
notice for each service that received an ID token in them, once."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from broker.core.security import digest
from broker.identity.base import IdentityPivot, VerifiedIdentity
from broker.interaction.sessions import BrowserSessions
from broker.oidc.logout_token import client_sid
from broker.store.clients import load_client
from broker.store.logout_outbox import NOTICE, PARTICIPANT, add_participant
from tests.helpers import register_client

IDENTITY = VerifiedIdentity(
    idp="demo",
    subject="test",
    acr="eidas1",
    amr=("pwd",),
    pivot=IdentityPivot("Angela", "DUBOIS", "1962-08-24", "female", "75107", "99100"),
)
IDLE = 1800
TTL = 8 * 3600
BROWSER = "browser-1"


@pytest.fixture
def sessions(state, flow_state) -> BrowserSessions:
    return BrowserSessions(
        state.db, b"pivot-key", TTL, flow_state, sid_key=state.config.pairwise_key, idle_ttl=IDLE
    )


def open_session(sessions: BrowserSessions, now: int, *listening: str) -> tuple[str, str]:
    """A session opened at ``now`` (its id and sid), in which ``listening`` got a code."""
    with sessions.db.begin() as conn:
        auth = sessions.authentication(conn, IDENTITY, now)
        session_id = sessions.open(conn, BROWSER, auth, now)
        for client_id in listening:
            add_participant(conn, sid=auth.sid, client_id=client_id, sub="sub", now=now)
    return session_id, auth.sid


def live(sessions: BrowserSessions, session_id: str, at: int) -> bool:
    with sessions.db.connect() as conn:
        return sessions.live(conn, session_id, BROWSER, at) is not None


def use(sessions: BrowserSessions, session_id: str, at: int) -> bool:
    """A request of the browser at ``at`` (as /authorize makes one)."""
    with sessions.db.begin() as conn:
        return sessions.find(conn, session_id, BROWSER, at) is not None


def last_seen(sessions: BrowserSessions, session_id: str) -> int | None:
    with sessions.db.connect() as conn:
        stored = sessions.flow_state.on(conn).get_session(digest(session_id))
    assert stored is not None
    return stored.last_seen


def queued(sessions: BrowserSessions) -> list:
    with sessions.db.connect() as conn:
        return conn.execute(select(NOTICE)).all()


def participants(sessions: BrowserSessions) -> list:
    with sessions.db.connect() as conn:
        return conn.execute(select(PARTICIPANT)).all()


def seen_sid(state, client_id: str, sid: str) -> str:
    """The sid ``client_id``'s logout notices carry for session ``sid`` (its sector's)."""
    with state.db.connect() as conn:
        client = load_client(conn, client_id)
    assert client is not None
    return client_sid(state.config.pairwise_key, client.sector_identifier, sid)


def listening_client(state) -> str:
    return register_client(
        state, name=f"Service {time.monotonic_ns()}", backchannel_logout_uri="https://s.example/l"
    ).client_id


def test_a_session_unused_for_the_idle_timeout_no_longer_signs_in(sessions):
    now = int(time.time())
    session_id, sid = open_session(sessions, now)
    assert sid and len(sid) >= 32 and sid != session_id
    assert last_seen(sessions, session_id) == now
    assert live(sessions, session_id, now + IDLE - 1)
    assert not live(sessions, session_id, now + IDLE)
    assert not use(sessions, session_id, now + IDLE)  # and a use does not bring it back
    assert last_seen(sessions, session_id) == now


def test_a_use_is_written_at_most_once_a_minute_and_moves_the_deadline(sessions):
    now = int(time.time())
    session_id, _ = open_session(sessions, now)
    for second in (1, 30, 59):
        assert use(sessions, session_id, now + second)
        assert last_seen(sessions, session_id) == now  # nothing written
    assert use(sessions, session_id, now + 60)
    assert last_seen(sessions, session_id) == now + 60
    assert live(sessions, session_id, now + 60 + IDLE - 1)
    assert not live(sessions, session_id, now + 60 + IDLE)


def test_a_session_never_outlives_its_expiry(sessions):
    now = int(time.time())
    session_id, _ = open_session(sessions, now)
    at = now
    while at + 600 < now + TTL:  # used every ten minutes
        at += 600
        assert use(sessions, session_id, at)
    assert not live(sessions, session_id, now + TTL)


def test_the_sweep_ends_an_idle_session_and_tells_its_services_once(state, sessions):
    now = int(time.time())
    client_id = listening_client(state)
    session_id, sid = open_session(sessions, now, client_id)
    assert sessions.end_expired(now + 10) == 0  # live: looked at again at its deadline
    [row] = participants(sessions)
    assert row.check_at == now + IDLE
    assert sessions.end_expired(now + IDLE - 1) == 0  # not due: not even looked at
    assert sessions.end_expired(now + IDLE) == 1
    [notice] = queued(sessions)
    assert (notice.client_id, notice.sid, notice.sub) == (
        client_id,
        seen_sid(state, client_id, sid),
        "sub",
    )
    assert participants(sessions) == []
    assert sessions.end_expired(now + IDLE + 60) == 0  # told once
    with sessions.db.connect() as conn:
        assert sessions.flow_state.on(conn).get_session(digest(session_id)) is None


def test_a_used_session_is_not_swept(state, sessions):
    now = int(time.time())
    session_id, _ = open_session(sessions, now, listening_client(state))
    sessions.end_expired(now + 10)
    assert use(sessions, session_id, now + 600)
    assert sessions.end_expired(now + IDLE) == 0  # its deadline moved: looked at, kept
    [row] = participants(sessions)
    assert row.check_at == now + 600 + IDLE
    assert sessions.end_expired(now + 600 + IDLE) == 1


def test_the_sweep_ends_an_expired_session(state):
    from broker.store.sql_flowstate import SqlFlowState

    sessions = BrowserSessions(
        state.db, b"pivot-key", 60, SqlFlowState(), sid_key=state.config.pairwise_key
    )
    now = int(time.time())
    client_id = listening_client(state)
    _, sid = open_session(sessions, now, client_id)
    assert sessions.end_expired(now + 59) == 0
    assert sessions.end_expired(now + 60) == 1
    assert [n.sid for n in queued(sessions)] == [seen_sid(state, client_id, sid)]


def test_a_session_gone_from_the_flow_state_tells_its_services(state, sessions):
    """Ended without its notices (a crash between the two stores), or lost with a process's
    memory: the sweep finds it gone, and its services are told all the same."""
    now = int(time.time())
    client_id = listening_client(state)
    session_id, sid = open_session(sessions, now, client_id)
    with sessions.db.begin() as conn:
        sessions.flow_state.on(conn).end_session(digest(session_id), now)
    assert sessions.end_expired(now + 1) == 1
    assert [n.sid for n in queued(sessions)] == [seen_sid(state, client_id, sid)]


def test_signing_out_ends_the_session_and_queues_its_notices_together(state, sessions):
    now = int(time.time())
    clients = listening_client(state), listening_client(state)
    session_id, sid = open_session(sessions, now, *clients)
    with sessions.db.begin() as conn:
        session = sessions.live(conn, session_id, BROWSER, now)
        assert session is not None
        assert sessions.end(conn, session_id, session, now) == 2
    assert not live(sessions, session_id, now)
    assert {n.sid for n in queued(sessions)} == {seen_sid(state, c, sid) for c in clients}
    assert participants(sessions) == []
    assert sessions.end_expired(now + IDLE) == 0


def test_sign_out_queues_the_notices_before_ending_the_session(state, sessions):
    """``sign_out`` commits the notices first: run again (a dropped connection), it still
    finds the session, queues nothing twice, and ends it."""
    now = int(time.time())
    client_id = listening_client(state)
    session_id, sid = open_session(sessions, now, client_id)
    with sessions.db.connect() as conn:
        session = sessions.live(conn, session_id, BROWSER, now)
    assert session is not None
    with sessions.db.begin() as conn:  # a first pass that only got this far
        assert sessions.tell_participants(conn, session, now) == 1
    assert live(sessions, session_id, now)
    assert sessions.sign_out(session_id, session, now) == 0  # the retry: told once
    assert not live(sessions, session_id, now)
    assert [n.sid for n in queued(sessions)] == [seen_sid(state, client_id, sid)]


def test_a_new_sign_in_ends_the_browsers_live_session_and_tells_its_services(state, sessions):
    now = int(time.time())
    client_id = listening_client(state)
    old_id, old_sid = open_session(sessions, now, client_id)
    with sessions.db.begin() as conn:
        auth = sessions.authentication(conn, IDENTITY, now + 5)
        new_id = sessions.open(conn, BROWSER, auth, now + 5, replacing=old_id)
    assert not live(sessions, old_id, now + 5) and live(sessions, new_id, now + 5)
    assert [n.sid for n in queued(sessions)] == [seen_sid(state, client_id, old_sid)]
    assert participants(sessions) == []


def test_attack_another_browsers_session_is_not_ended_by_presenting_its_id(state, sessions):
    now = int(time.time())
    victim_id, _ = open_session(sessions, now, listening_client(state))
    with sessions.db.begin() as conn:
        auth = sessions.authentication(conn, IDENTITY, now)
        sessions.open(conn, "another-browser", auth, now, replacing=victim_id)
    assert live(sessions, victim_id, now) and queued(sessions) == []


def test_one_failing_session_does_not_stop_the_sweep(state, sessions, caplog):
    """A session that cannot be settled is logged and looked at again a minute later; the
    others are ended and their services told."""
    now = int(time.time())
    broken_client, good_client = listening_client(state), listening_client(state)
    _, broken_sid = open_session(sessions, now, broken_client)
    _, good_sid = open_session(sessions, now + 1, good_client)
    original = sessions.settle

    def settle(conn, sid, at):
        if sid == broken_sid:
            raise RuntimeError("an unreadable session record")
        return original(conn, sid, at)

    sessions.settle = settle  # type: ignore[method-assign]
    at = now + TTL
    assert sessions.end_expired(at) == 1
    assert [n.sid for n in queued(sessions)] == [seen_sid(state, good_client, good_sid)]
    [row] = participants(sessions)
    assert (row.sid, row.check_at) == (broken_sid, at + 60)
    assert "session expiry sweep of one session failed" in caplog.text
    sessions.settle = original  # type: ignore[method-assign]
    assert sessions.end_expired(at + 60) == 1


def test_without_an_idle_limit_no_use_is_written(state, flow_state):
    sessions = BrowserSessions(
        state.db, b"pivot-key", TTL, flow_state, sid_key=state.config.pairwise_key
    )
    now = int(time.time())
    session_id, _ = open_session(sessions, now)
    for later in (60, 600, 3600):
        assert use(sessions, session_id, now + later)
    assert sessions.signed_in_citizen(session_id, BROWSER) is not None
    assert last_seen(sessions, session_id) == now  # written when opened, never since
