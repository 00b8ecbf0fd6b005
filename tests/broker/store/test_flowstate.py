"""The flow state's promises, on each backend (memory, database, Redis): codes used once, and
kept for replays; sessions ended at once; concurrency settled by compare-and-set."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import replace

import pytest

from broker.core.db import Database
from broker.identity.base import IdentityPivot, VerifiedIdentity
from broker.oidc.models import Authentication, AuthorizationCode
from broker.store.flowstate import EXPIRED_KEPT, StoredSession, UpstreamSignIn
from broker.store.redis_flowstate import RedisFlowState
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
def citizen(state) -> Authentication:
    """A citizen that exists (the database backend checks its foreign keys)."""
    with state.db.begin() as conn:
        return state.flow.sessions.authentication(conn, IDENTITY, int(time.time()))


@pytest.fixture
def client_id(state) -> str:
    return register_client(state).client_id


def code(digest: str, client_id: str, citizen_id: str, expires_in: int = 60) -> AuthorizationCode:
    return AuthorizationCode(
        code_digest=digest,
        client_id=client_id,
        citizen_id=citizen_id,
        redirect_uri="https://service.example/cb",
        scope="openid",
        nonce="n",
        code_challenge="c",
        code_challenge_method="S256",
        auth_time=1,
        acr="eidas2",
        amr=["pwd"],
        grant_id=None,
        expires_at=int(time.time()) + expires_in,
    )


def in_step(database_url, flow_state, action):
    """``action(view)`` in one transaction, as a step runs it."""
    db = Database(database_url)
    try:
        with db.begin() as conn:
            return action(flow_state.on(conn))
    finally:
        db.dispose()


def test_a_code_is_used_once_and_kept_for_replays(database_url, flow_state, citizen, client_id):
    now = int(time.time())
    issued = code("d1", client_id, citizen.citizen_id)
    in_step(database_url, flow_state, lambda view: view.save_code(issued, now))
    first = in_step(database_url, flow_state, lambda view: view.consume_code("d1", now))
    again = in_step(database_url, flow_state, lambda view: view.consume_code("d1", now))
    kept = in_step(database_url, flow_state, lambda view: view.get_code("d1"))
    assert (first, again) == (True, False)
    assert kept == replace(issued, consumed_at=now)  # a replay is recognised
    assert in_step(database_url, flow_state, lambda view: view.consume_code("nope", now)) is False
    assert in_step(database_url, flow_state, lambda view: view.get_code("nope")) is None


def test_attack_concurrent_uses_of_one_code(database_url, flow_state, citizen, client_id):
    now = int(time.time())
    issued = code("race", client_id, citizen.citizen_id)
    in_step(database_url, flow_state, lambda view: view.save_code(issued, now))
    start, outcomes = threading.Barrier(8, timeout=10), []

    def redeem() -> None:
        start.wait()
        outcomes.append(
            in_step(database_url, flow_state, lambda view: view.consume_code("race", now))
        )

    threads = [threading.Thread(target=redeem) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False] * 7 + [True]


def test_a_session_ends_at_once(database_url, flow_state, citizen):
    session = StoredSession(
        browser_digest="b", authentication=citizen, expires_at=int(time.time()) + 60
    )
    in_step(database_url, flow_state, lambda view: view.create_session("s1", session))
    assert in_step(database_url, flow_state, lambda view: view.get_session("s1")) == session
    in_step(database_url, flow_state, lambda view: view.end_session("s1", int(time.time())))
    assert in_step(database_url, flow_state, lambda view: view.get_session("s1")) is None


@needs_redis
def test_redis_keys_expire_on_their_own():
    """Nothing to purge in Redis: a code is kept an hour past its expiry, then dropped."""
    store = RedisFlowState(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        store.save_code(code("ttl", "client", "c1", expires_in=60), int(time.time()))
        remaining = store.redis.ttl(store.key("code", "ttl"))
        assert 60 < remaining <= 60 + EXPIRED_KEPT
    finally:
        store.redis.delete(store.key("code", "ttl"))
        store.close()


def upstream(expires_in: int = 600) -> UpstreamSignIn:
    return UpstreamSignIn(
        idp_id="identite-demo",
        browser_digest="b",
        nonce="n",
        code_verifier="v",
        interaction_id="i",
        expires_at=int(time.time()) + expires_in,
    )


def test_an_upstream_sign_in_is_taken_once(database_url, flow_state):
    saved = upstream()
    in_step(database_url, flow_state, lambda view: view.save_upstream("st", saved))
    assert in_step(database_url, flow_state, lambda view: view.take_upstream("st")) == saved
    assert in_step(database_url, flow_state, lambda view: view.take_upstream("st")) is None
    assert in_step(database_url, flow_state, lambda view: view.take_upstream("nope")) is None


def test_attack_concurrent_callbacks_with_one_state(database_url, flow_state):
    in_step(database_url, flow_state, lambda view: view.save_upstream("race", upstream()))
    start, outcomes = threading.Barrier(8, timeout=10), []

    def callback() -> None:
        start.wait()
        taken = in_step(database_url, flow_state, lambda view: view.take_upstream("race"))
        outcomes.append(taken is not None)

    threads = [threading.Thread(target=callback) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False] * 7 + [True]
