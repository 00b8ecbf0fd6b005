"""The rate limiter: fixed one-second windows on a Litestar store."""

from __future__ import annotations

import asyncio

from litestar.stores.memory import MemoryStore

from broker.resources.ratelimit import SWEEP_EVERY, RateLimiter


def test_counts_per_window_and_headers():
    now = [1000.25]
    limiter = RateLimiter(MemoryStore(), clock=lambda: now[0])

    async def scenario():
        decisions = [await limiter.hit("key:hab", 2) for _ in range(3)]
        assert [d.allowed for d in decisions] == [True, True, False]
        assert [d.remaining for d in decisions] == [1, 0, 0]
        assert decisions[2].headers()["Retry-After"] == "1"
        assert "Retry-After" not in decisions[0].headers()
        now[0] = 1001.0  # next window
        assert (await limiter.hit("key:hab", 2)).allowed
        assert (await limiter.hit("other:hab", 2)).remaining == 1

    asyncio.run(scenario())


def test_memory_store_does_not_grow_without_bound():
    import time

    store = MemoryStore()
    start = time.time()
    now = [start]
    limiter = RateLimiter(store, clock=lambda: now[0])

    async def scenario():
        for second in range(30):
            now[0] = start + second
            await limiter.hit("key:hab", 5)
        # Entries live 2 s (the store's own clock); a sweep runs every SWEEP_EVERY seconds.
        await asyncio.sleep(2.1)
        now[0] = start + 30 + SWEEP_EVERY
        await limiter.hit("key:hab", 5)
        assert len(store._store) <= 3

    asyncio.run(scenario())
