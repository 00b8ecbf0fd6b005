"""The demo service's sessions (``broker.demo.online_service.sessions``): kept across pages,
ended after their time or idleness, forgotten once ended, never made up by a cookie."""

from __future__ import annotations

import time

import httpx

from broker.demo.online_service.sessions import IDLE, MAX_AGE
from tests.broker.demo.helpers import service_with_a_session, set_cookies


def test_the_home_page_keeps_the_session_and_reads_the_data_once():
    calls: list[int] = []
    with service_with_a_session(calls) as (service, _rp):
        pages = [service.get("/") for _ in range(3)]
        assert len(calls) == 1  # read once, then kept in the session
        assert all(
            "Bonjour Angela DUBOIS" in p.text and "data-quotient>2550<" in p.text for p in pages
        )
        assert "data-refreshed" not in pages[0].text
        refreshed = service.get("/refresh")
        assert len(calls) == 2 and "data-refreshed" in refreshed.text
        assert "data-refreshed" in service.get("/").text  # the home page says when, too
        assert "mars 2026" in pages[0].text  # the quotient's month, in words


def test_attack_an_invented_session_cookie_signs_nobody_in():
    with service_with_a_session([]) as (service, _rp):
        forged_cookie = {"cantine_session": "s2"}
        forged = httpx.get(f"{service.base_url}/", cookies=forged_cookie)
        assert 'href="/login"' in forged.text and "Bonjour" not in forged.text
        # The dead cookie is cleared.
        assert "cantine_session=" in forged.headers["set-cookie"]
        assert "max-age=0" in forged.headers["set-cookie"].lower()
        assert httpx.get(f"{service.base_url}/refresh", cookies=forged_cookie).status_code == 401


def test_an_expired_session_is_forgotten():
    """A session ends MAX_AGE after the sign-in, or IDLE after its last page; an ended one
    is dropped from the table at the next look-up, whoever makes it."""
    with service_with_a_session([]) as (service, rp):
        now = time.time()
        assert "Bonjour" in service.get("/").text
        session = rp.sessions[service.session_id]
        assert now <= session["seen"] <= time.time()  # each page counts as activity
        # Other citizens' sessions: one signed in too long ago, one left idle, one alive.
        rp.sessions["old"] = {"at": int(now) - MAX_AGE - 1, "seen": now}
        rp.sessions["idle"] = {"at": int(now) - IDLE - 60, "seen": now - IDLE - 1}
        rp.sessions["alive"] = {"at": int(now) - IDLE - 60, "seen": now - IDLE + 60}

        session["at"] = int(now) - MAX_AGE - 1  # this one, busy but signed in too long ago
        page = service.get("/")
        assert 'href="/login"' in page.text and "Bonjour" not in page.text
        assert "max-age=0" in set_cookies(page)["cantine_session"]  # its cookie is cleared
        assert set(rp.sessions) == {"alive"}  # every ended session is forgotten

        rp.sessions["alive"]["seen"] = now - IDLE - 1
        url = str(service.base_url).rstrip("/")
        late = httpx.get(url + "/refresh", cookies={"cantine_session": "alive"})
        assert late.status_code == 401  # idle too long
        assert rp.sessions == {}


def test_a_session_ended_by_the_broker_is_forgotten_by_the_home_page():
    with service_with_a_session([]) as (service, rp):
        assert "Bonjour" in service.get("/").text
        rp.sessions.clear()  # what the back-channel logout receiver does
        assert 'href="/login"' in service.get("/").text
