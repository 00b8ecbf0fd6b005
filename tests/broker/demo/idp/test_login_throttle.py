"""Password guessing at the demo identity providers, with the limits they ship: slowed down per
account, per browser and per source address, answered 429 with Retry-After; never a lock a
stranger can put on someone else's account."""

from __future__ import annotations

import asyncio
import re

import pytest
from litestar.stores.redis import RedisStore
from litestar.testing import TestClient
from redis.asyncio import Redis

from broker.demo.accounts import DEMO_ACCOUNTS
from broker.demo.idp import DemoIdpClient, DemoIdpOptions, create_demo_idp_app
from broker.demo.idp.accounts import DemoAccounts, HashingBusy
from broker.demo.idp.app import BROWSER_COOKIE
from broker.demo.idp.guard import ACCOUNT, ADDRESS, BROWSER, DEVICE_COOKIE
from broker.demo.idp.hashing import HASH_QUEUE
from tests.helpers import pkce_pair
from tests.redis_support import REDIS_URL, needs_redis

BASE = "http://testserver.local"
REDIRECT = "https://broker.example/federation/identite-demo/callback"
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
ACCOUNTS = DemoAccounts(DEMO_ACCOUNTS, "benchmark")


def demo_idp(**options_kwargs) -> TestClient:
    options = DemoIdpOptions(base_url=BASE, **options_kwargs)
    options.register(DemoIdpClient("rp", "rp-secret", frozenset({REDIRECT})))
    return TestClient(create_demo_idp_app(options, ACCOUNTS), base_url=BASE)


@pytest.fixture
def idp():
    with demo_idp() as client:
        yield client


def attempt(idp: TestClient, login: str, password: str, browser: str | None = None):
    """One login in a fresh authorization request; ``browser`` names the browser's cookie
    (a new browser each time unless given)."""
    idp.cookies.clear()
    if browser:
        idp.cookies.set(BROWSER_COOKIE, browser)
    return log_in(idp, login, password)


def log_in(idp: TestClient, login: str, password: str):
    """A fresh authorization request and its login, with the cookies ``idp`` holds."""
    _, challenge = pkce_pair()
    page = idp.get(
        "/identite-demo/authorize",
        params={
            "response_type": "code",
            "client_id": "rp",
            "redirect_uri": REDIRECT,
            "scope": "openid",
            "state": "st",
            "nonce": "no",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert page.status_code == 200, page.text
    return idp.post(
        "/identite-demo/login",
        data={"csrf_token": CSRF.search(page.text).group(1), "login": login, "password": password},
        follow_redirects=False,
    )


def browser_name(n: int) -> str:
    return f"browser-{n:04d}-0123456789abcdef"


def test_attack_password_guessing_slowed_per_account(idp):
    """Each guess from a new browser: the account's count alone slows the guesser down, and
    the right password is then refused too (429, never 'wrong password')."""
    for n in range(ACCOUNT.free):
        assert attempt(idp, "test", f"guess-{n}", browser_name(n)).status_code == 401
    slowed = attempt(idp, "test", "123", browser_name(99))
    assert slowed.status_code == 429
    assert int(slowed.headers["retry-after"]) >= 1
    assert "Trop de tentatives" in slowed.text and "location" not in slowed.headers


def test_attack_one_interaction_tries_many_passwords(idp):
    """The issue's case: thirty wrong passwords, then the right one, in one browser."""
    answers = [attempt(idp, "test", f"guess-{n}", browser_name(1)).status_code for n in range(30)]
    assert answers[: ACCOUNT.free] == [401] * ACCOUNT.free
    assert set(answers[ACCOUNT.free :]) == {429}
    assert attempt(idp, "test", "123", browser_name(1)).status_code == 429


def test_attack_slowing_a_victim_down_spares_the_victims_own_browser(idp):
    """A stranger failing on purpose on the victim's account does not lock the victim out:
    the browser the victim signed in with before carries a device cookie and is not slowed."""
    assert attempt(idp, "test", "123", browser_name(1)).status_code == 303
    device = idp.cookies.get(DEVICE_COOKIE)
    assert device
    for n in range(ACCOUNT.free + 3):
        attempt(idp, "test", f"guess-{n}", browser_name(100 + n))
    assert attempt(idp, "test", "123", browser_name(200)).status_code == 429  # a stranger
    idp.cookies.clear()
    idp.cookies.set(BROWSER_COOKIE, browser_name(1))
    idp.cookies.set(DEVICE_COOKIE, device)
    victim = log_in(idp, "test", "123")
    assert victim.status_code == 303 and victim.headers["location"].startswith(REDIRECT)


def test_a_forged_device_cookie_does_not_exempt(idp):
    for n in range(ACCOUNT.free):
        attempt(idp, "test", f"guess-{n}", browser_name(n))
    idp.cookies.clear()
    forged = "0" * 32 + "." + "0" * 64
    idp.cookies.set(DEVICE_COOKIE, forged)
    refused = log_in(idp, "test", "123")
    assert refused.status_code == 429


def test_attack_one_browser_tries_many_accounts(idp):
    """Spraying one password over many accounts from one browser: the browser's count."""
    for n in range(BROWSER.free):
        assert attempt(idp, f"someone-{n}", "123456", browser_name(7)).status_code == 401
    assert attempt(idp, "someone-else", "123456", browser_name(7)).status_code == 429
    # Another browser (same address, well under the address's limit) is not affected.
    assert attempt(idp, "test", "123", browser_name(8)).status_code == 303


def test_attack_one_address_rotates_browsers_and_accounts(idp):
    """New browser, new account at each guess: the source address's count."""
    for n in range(ADDRESS.free):
        assert attempt(idp, f"someone-{n}", "123456", browser_name(n)).status_code == 401
    slowed = attempt(idp, "test", "123", browser_name(9999))
    assert slowed.status_code == 429 and int(slowed.headers["retry-after"]) >= 1


def test_waits_grow_after_each_failure_and_a_success_resets_the_browser():
    clock = [1000.0]
    with demo_idp() as idp:
        guard = idp.app.state.idp.guard
        guard.throttle.clock = lambda: clock[0]
        for n in range(BROWSER.free):
            attempt(idp, f"someone-{n}", "x", browser_name(3))
        first = attempt(idp, "nobody", "x", browser_name(3))
        assert first.status_code == 429 and first.headers["retry-after"] == "1"
        clock[0] += 1.5  # the wait is over: one more try, which fails
        assert attempt(idp, "nobody", "x", browser_name(3)).status_code == 401
        assert attempt(idp, "nobody", "x", browser_name(3)).headers["retry-after"] == "2"
        clock[0] += 2.5
        assert attempt(idp, "test", "123", browser_name(3)).status_code == 303
        assert attempt(idp, "someone", "x", browser_name(3)).status_code == 401  # counts anew


@needs_redis
def test_counts_are_shared_through_redis():
    """Two processes of the provider on one Redis: failures at one slow the other down."""
    namespace = f"test-throttle-{id(object())}"

    def store() -> RedisStore:
        return RedisStore(Redis.from_url(REDIS_URL), namespace=namespace)

    with demo_idp(throttle_store=store()) as first, demo_idp(throttle_store=store()) as second:
        for n in range(ACCOUNT.free):
            assert attempt(first, "test", f"guess-{n}", browser_name(n)).status_code == 401
        assert attempt(second, "test", "123", browser_name(50)).status_code == 429
        asyncio.run(RedisStore(Redis.from_url(REDIS_URL), namespace=namespace).delete_all())


def test_logins_beyond_the_hash_queue_are_told_to_come_back():
    """More logins waiting for a hash than the queue holds: the extra ones are refused at
    once (no hash, no memory), the others are checked."""

    async def flood() -> list[object]:
        accounts = DemoAccounts(DEMO_ACCOUNTS, "benchmark")
        logins = [accounts.verify("test", "wrong") for _ in range(HASH_QUEUE + 8)]
        return await asyncio.gather(*logins, return_exceptions=True)

    results = asyncio.run(flood())
    assert sum(isinstance(r, HashingBusy) for r in results) == 8
    assert sum(r is None for r in results) == HASH_QUEUE
