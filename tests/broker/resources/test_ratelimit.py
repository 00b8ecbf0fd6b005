"""The rate limiter: fixed one-minute windows on a Litestar store, with the ``RateLimit-*``
headers API Particulier v3 sends (recorded in tests/fixtures/siade/)."""

from __future__ import annotations

import asyncio
import email.utils
import uuid

import pytest
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

from broker.core.settings import Settings
from broker.resources.ratelimit import DEFAULT_RATE_LIMIT, SWEEP_EVERY, WINDOW, RateLimiter
from broker.resources.stores import shared_store
from tests.broker.resources.siade_recorded import http_answers, rate_limit_headers
from tests.redis_support import REDIS_URL, needs_redis

MINUTE = 1_795_000_020  # a Unix time at the start of a minute


def test_counts_per_minute_and_headers():
    now = [MINUTE + 45.25]
    limiter = RateLimiter(MemoryStore(), clock=lambda: now[0])

    async def scenario():
        decisions = [await limiter.hit("key:hab", 2) for _ in range(3)]
        assert [d.allowed for d in decisions] == [True, True, False]
        assert [d.remaining for d in decisions] == [1, 0, 0]
        refused = decisions[2].headers()
        assert refused == {
            "RateLimit-Limit": "2",
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(MINUTE + WINDOW),  # when the window ends, a Unix time
            "Retry-After": "15",  # seconds until then, rounded up
        }
        assert "Retry-After" not in decisions[0].headers()
        now[0] = MINUTE + 59.9  # still the same minute
        assert not (await limiter.hit("key:hab", 2)).allowed
        now[0] = MINUTE + WINDOW  # the next one
        fresh = await limiter.hit("key:hab", 2)
        assert (fresh.allowed, fresh.remaining, fresh.reset_at) == (True, 1, MINUTE + 2 * WINDOW)
        assert (await limiter.hit("other:hab", 2)).remaining == 1

    asyncio.run(scenario())


def test_headers_have_the_recorded_shape():
    """API Particulier's OpenAPI: RateLimit-Limit per minute, RateLimit-Remaining in the current
    minute, RateLimit-Reset the end of the period as a timestamp; siade's recorded per-minute
    answers (API Entreprise's, same backend) end their windows on a minute."""
    documented = rate_limit_headers()
    assert "minute" in documented["RateLimit-Limit"]["description"]
    assert "timestamp" in documented["RateLimit-Reset"]["description"]
    per_minute = [a for a in http_answers() if int(a["headers"]["ratelimit-limit"]) > 20]
    assert per_minute
    for answer in per_minute:
        sent_at = email.utils.parsedate_to_datetime(answer["headers"]["date"]).timestamp()
        reset = int(answer["headers"]["ratelimit-reset"])
        assert reset % WINDOW == 0 and 0 < reset - sent_at <= WINDOW

    limiter = RateLimiter(MemoryStore(), clock=lambda: MINUTE + 12.5)
    decision = asyncio.run(limiter.hit("key:hab", 50))
    headers = decision.headers()
    assert set(headers) == {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}
    assert all(value.isdigit() for value in headers.values())
    reset = int(headers["RateLimit-Reset"])
    assert reset % WINDOW == 0 and 0 < reset - (MINUTE + 12.5) <= WINDOW


def test_default_is_api_particuliers_rate_per_minute():
    """API Particulier's recorded answers allow 20 requests a second: 1,200 a minute."""
    particulier = {
        int(a["headers"]["ratelimit-limit"]) for a in http_answers() if "particulier" in a["url"]
    }
    assert particulier == {20}
    assert DEFAULT_RATE_LIMIT == 20 * WINDOW


def test_memory_store_does_not_grow_without_bound():
    import time

    store = MemoryStore()
    start = time.time()
    now = [start]
    limiter = RateLimiter(store, clock=lambda: now[0])

    async def scenario():
        for minute in range(30):
            now[0] = start + minute * WINDOW
            await limiter.hit("key:hab", 5)
        # Entries expire a little after their window (the store's own clock); a sweep runs
        # every SWEEP_EVERY seconds and drops them.
        for entry in store._store.values():
            entry.expires_at = entry.expires_at.replace(year=2000)
        now[0] = start + 30 * WINDOW + SWEEP_EVERY
        await limiter.hit("key:hab", 5)
        assert len(store._store) <= 2

    asyncio.run(scenario())


# -- parallel requests ------------------------------------------------------------------------

BURST, LIMIT = 60, 7


async def admitted_of_a_burst(limiter: RateLimiter) -> int:
    decisions = await asyncio.gather(*(limiter.hit("key:hab", LIMIT) for _ in range(BURST)))
    return sum(decision.allowed for decision in decisions)


def test_attack_a_parallel_burst_is_counted_exactly_in_memory():
    limiter = RateLimiter(MemoryStore(), clock=lambda: MINUTE + 1)
    assert asyncio.run(admitted_of_a_burst(limiter)) == LIMIT


@needs_redis
def test_attack_a_parallel_burst_is_counted_exactly_on_redis(tmp_path):
    """Read then written back, a count let most of a burst through; Redis counts atomically.
    The count sits under the store's namespace, where Litestar's own ``get`` finds it."""
    namespace = f"test-rate-limits-{uuid.uuid4().hex}"
    settings = Settings(var_dir=tmp_path, redis_url=REDIS_URL)

    async def scenario() -> None:
        store = shared_store(settings, namespace)
        try:
            limiter = RateLimiter(store, clock=lambda: MINUTE + 1)
            assert await admitted_of_a_burst(limiter) == LIMIT
            key = f"rl:key:hab:{MINUTE}"
            assert await store.get(key) == str(BURST).encode()
            assert 0 < (await store.expires_in(key) or 0) <= WINDOW + 2
            other = RateLimiter(shared_store(settings, f"{namespace}-other"), clock=limiter.clock)
            assert (await other.hit("key:hab", LIMIT)).remaining == LIMIT - 1
            await other.store.delete_all()
        finally:
            await store.delete_all()
            await store.__aexit__(None, None, None)

    asyncio.run(scenario())


@needs_redis
def test_attack_a_store_that_would_read_then_write_is_refused():
    with pytest.raises(TypeError, match="atomically"):
        RateLimiter(RedisStore(Redis.from_url(REDIS_URL), namespace="never-used"))
