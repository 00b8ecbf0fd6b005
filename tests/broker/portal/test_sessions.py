"""The portal's server-side sessions: only a digest stored, ended by sign-out, revocation,
lifetime or idleness; the CSRF token bound to the session."""

from __future__ import annotations

import asyncio
import time

from sqlmodel import select

from broker.admin.agents import Identity, upsert_agent
from broker.portal.sessions import (
    COOKIE,
    TOUCH_EVERY,
    expired_session_cookie,
    session_cookie,
)
from broker.store.portal_models import PortalSession
from tests.broker.portal.conftest import TEST_AGENTS_ISSUER, VILLEBOURG


def new_agent(portal, email: str = "anne@villebourg.example") -> str:
    with portal.db.transaction() as session:
        record = upsert_agent(
            session,
            Identity(TEST_AGENTS_ISSUER, f"sub-{email}", email, "Anne", "Roy", VILLEBOURG),
            int(time.time()),
        )
        return record.id


def open_session(portal, agent_id: str, now: int) -> str:
    with portal.db.transaction() as session:
        return portal.sessions.open_in(session, agent_id, now, "id-token")


def read(portal, session_id: str, now: int):
    with portal.db.transaction() as session:
        return portal.sessions.read_in(session, session_id, now)


def stored(portal, agent_id: str) -> list[PortalSession]:
    with portal.db.transaction() as session:
        return list(
            session.exec(select(PortalSession).where(PortalSession.agent_id == agent_id)).all()
        )


def test_a_session_reads_back_its_agent_and_only_its_digest_is_stored(portal):
    agent_id = new_agent(portal)
    now = int(time.time())
    session_id = open_session(portal, agent_id, now)
    current = read(portal, session_id, now + 1)
    assert current is not None
    assert current.agent.id == agent_id and current.agent.siret == VILLEBOURG
    assert current.upstream_id_token == "id-token"
    [row] = stored(portal, agent_id)
    assert row.id_digest != session_id and session_id not in row.id_digest
    assert row.expires_at == now + portal.settings.portal_session_ttl
    assert len(session_id) >= 43  # 32 random bytes


def test_attack_unknown_or_malformed_session_ids_read_as_nobody(portal):
    now = int(time.time())
    open_session(portal, new_agent(portal), now)
    for forged in ("", "x", "a" * 43, "a" * 5000):
        assert read(portal, forged, now) is None


def test_attack_closed_session_reads_as_nobody(portal):
    agent_id = new_agent(portal)
    now = int(time.time())
    session_id = open_session(portal, agent_id, now)
    with portal.db.transaction() as session:
        assert portal.sessions.close_in(session, session_id, now) is not None
        assert portal.sessions.close_in(session, session_id, now) is None  # once
    assert read(portal, session_id, now) is None
    [row] = stored(portal, agent_id)
    assert row.revoked_at == now  # kept, marked


def test_attack_session_past_its_lifetime_reads_as_nobody(portal):
    now = int(time.time())
    session_id = open_session(portal, new_agent(portal), now)
    ttl = portal.settings.portal_session_ttl
    # Kept in use (never idle), it still ends at its lifetime.
    for moment in range(now, now + ttl, portal.settings.portal_session_idle_ttl // 2):
        assert read(portal, session_id, moment) is not None
    assert read(portal, session_id, now + ttl) is None


def test_attack_idle_session_reads_as_nobody(portal):
    now = int(time.time())
    session_id = open_session(portal, new_agent(portal), now)
    idle = portal.settings.portal_session_idle_ttl
    assert read(portal, session_id, now + idle) is not None  # used: idle again from here
    assert read(portal, session_id, now + 2 * idle) is not None
    assert read(portal, session_id, now + 3 * idle + 1) is None


def test_last_seen_is_written_at_most_every_minute(portal):
    agent_id = new_agent(portal)
    now = int(time.time())
    session_id = open_session(portal, agent_id, now)
    read(portal, session_id, now + TOUCH_EVERY - 1)
    assert stored(portal, agent_id)[0].last_seen == now
    read(portal, session_id, now + TOUCH_EVERY)
    assert stored(portal, agent_id)[0].last_seen == now + TOUCH_EVERY


def test_revoking_an_agent_ends_all_their_sessions(portal):
    agent_id = new_agent(portal)
    other = new_agent(portal, "other@villebourg.example")
    now = int(time.time())
    first, second = open_session(portal, agent_id, now), open_session(portal, agent_id, now)
    kept = open_session(portal, other, now)
    with portal.db.transaction() as session:
        assert portal.sessions.revoke_agent_in(session, agent_id, now) == 2
    assert read(portal, first, now) is None and read(portal, second, now) is None
    assert read(portal, kept, now) is not None


def test_csrf_tokens_are_bound_to_their_session(portal):
    agent_id = new_agent(portal)
    now = int(time.time())
    one, two = open_session(portal, agent_id, now), open_session(portal, agent_id, now)
    token = read(portal, one, now).csrf
    assert portal.sessions.csrf_matches(one, token)
    assert not portal.sessions.csrf_matches(two, token)
    assert token != read(portal, two, now).csrf


def test_the_async_steps_open_read_and_close(portal):
    agent_id = new_agent(portal)

    async def steps() -> None:
        session_id = await portal.sessions.open(agent_id)
        assert (await portal.sessions.read(session_id)).agent.id == agent_id
        assert (await portal.sessions.close(session_id)) is not None
        assert await portal.sessions.read(session_id) is None

    asyncio.run(steps())


def test_the_cookie_is_http_only_same_site_lax_and_secure_on_https():
    cookie = session_cookie("value", secure=True)
    assert (cookie.key, cookie.httponly, cookie.samesite, cookie.secure) == (
        COOKIE,
        True,
        "lax",
        True,
    )
    assert cookie.max_age is None  # gone when the browser closes
    assert not session_cookie("value", secure=False).secure
    assert expired_session_cookie(secure=False).max_age == 0
