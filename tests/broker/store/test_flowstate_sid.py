"""The session's public id (``sid``) travels through every flow-state backend (memory,
database, Redis): in sessions, in the authentication interactions carry, in codes; a session
is found by its sid for the expiry sweep, and a use of it is recorded without reviving it."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from broker.core.db import Database
from broker.identity.base import IdentityPivot, VerifiedIdentity
from broker.oidc.models import Authentication, AuthorizationCode
from broker.store.flowstate import StoredInteraction, StoredSession
from tests.helpers import register_client
from tests.redis_support import REDIS_URL, needs_redis

IDENTITY = VerifiedIdentity(
    idp="demo",
    subject="test",
    acr="eidas2",
    amr=("pwd",),
    pivot=IdentityPivot("Angela", "DUBOIS", "1962-08-24", "female", "75107", "99100"),
)


@pytest.fixture
def auth(state) -> Authentication:
    with state.db.begin() as conn:
        made = state.flow.sessions.authentication(conn, IDENTITY, int(time.time()))
    assert made.sid
    return made


def in_step(database_url, flow_state, action):
    db = Database(database_url)
    try:
        with db.begin() as conn:
            return action(flow_state.on(conn))
    finally:
        db.dispose()


def test_a_session_keeps_its_sid_and_is_found_by_it(database_url, flow_state, auth):
    now = int(time.time())
    session = StoredSession("browser", auth, now + 600, last_seen=now)
    in_step(database_url, flow_state, lambda view: view.create_session("digest-1", session))
    found = in_step(database_url, flow_state, lambda view: view.get_session("digest-1"))
    assert found == session and found.authentication.sid == auth.sid
    by_sid = in_step(database_url, flow_state, lambda view: view.session_by_sid(auth.sid))
    assert by_sid == ("digest-1", session)
    assert in_step(database_url, flow_state, lambda view: view.session_by_sid("other")) is None


def test_a_touch_records_the_use_and_never_revives(database_url, flow_state, auth):
    now = int(time.time())
    session = StoredSession("browser", auth, now + 600, last_seen=now)
    in_step(database_url, flow_state, lambda view: view.create_session("digest-2", session))
    in_step(database_url, flow_state, lambda view: view.touch_session("digest-2", now + 60))
    found = in_step(database_url, flow_state, lambda view: view.get_session("digest-2"))
    assert found == replace(session, last_seen=now + 60)
    in_step(database_url, flow_state, lambda view: view.end_session("digest-2", now + 61))
    in_step(database_url, flow_state, lambda view: view.touch_session("digest-2", now + 120))
    assert in_step(database_url, flow_state, lambda view: view.get_session("digest-2")) is None
    assert in_step(database_url, flow_state, lambda view: view.session_by_sid(auth.sid)) is None


def test_an_interaction_carries_the_sid(database_url, flow_state, state, auth):
    client_id = register_client(state).client_id
    now = int(time.time())
    parked = StoredInteraction("i-1", "login", "b", client_id, {"a": "b"}, None, now, now + 600)
    in_step(database_url, flow_state, lambda view: view.create_interaction(parked))
    in_step(
        database_url,
        flow_state,
        lambda view: view.move_interaction("i-1", "login", "consent", auth),
    )
    moved = in_step(database_url, flow_state, lambda view: view.get_interaction("i-1"))
    assert moved.authentication == auth
    reused = replace(parked, id="i-2", state="consent", authentication=auth)
    in_step(database_url, flow_state, lambda view: view.create_interaction(reused))
    again = in_step(database_url, flow_state, lambda view: view.get_interaction("i-2"))
    assert again.authentication.sid == auth.sid


def test_a_code_carries_the_sid(database_url, flow_state, state, auth):
    client_id = register_client(state).client_id
    now = int(time.time())
    code = AuthorizationCode(
        code_digest="c-1",
        client_id=client_id,
        citizen_id=auth.citizen_id,
        redirect_uri="https://service.example/cb",
        scope="openid",
        nonce=None,
        code_challenge="c",
        code_challenge_method="S256",
        auth_time=now,
        acr="eidas2",
        amr=["pwd"],
        expires_at=now + 60,
        idp="demo",
        sid=auth.sid,
    )
    in_step(database_url, flow_state, lambda view: view.save_code(code, now))
    assert in_step(database_url, flow_state, lambda view: view.get_code("c-1")) == code


@needs_redis
def test_redis_writes_a_session_and_its_sid_key_in_one_transaction(auth):
    """Both keys in one MULTI/EXEC: never a session the expiry sweep cannot find by its sid."""
    import uuid

    from broker.store.redis_flowstate import RedisFlowState

    store = RedisFlowState(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
    marker = f"done-{uuid.uuid4().hex}"
    session = StoredSession("browser", auth, int(time.time()) + 60, last_seen=None)
    try:
        with store.redis.monitor() as monitor:
            store.create_session("digest-1", session)
            store.redis.echo(marker)
            seen = []
            while True:
                command = monitor.next_command()
                seen.append(command)
                if marker in command["command"]:
                    break
        ours = {c["client_port"] for c in seen if store.prefix in c["command"]}
        verbs = [c["command"].split()[0].upper() for c in seen if c["client_port"] in ours]
        writes = verbs[verbs.index("MULTI") : verbs.index("EXEC") + 1] if "MULTI" in verbs else []
        assert writes == ["MULTI", "SET", "SET", "EXEC"], verbs
        assert verbs.count("SET") == 2  # no write outside the transaction
        assert store.session_by_sid(auth.sid) == ("digest-1", session)
    finally:
        keys = list(store.redis.scan_iter(match=f"{store.prefix}*"))
        if keys:
            store.redis.delete(*keys)
        store.close()
