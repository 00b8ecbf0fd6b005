"""Rate limits per credential (token or API key), on a Litestar store.

Fixed one-second windows: the limit is a number of requests per second, the unit API
Particulier uses. The store is Litestar's (memory by default, Redis when configured), so that
several processes share the counts. The count is read then written: exact in memory (under a
lock), while on Redis two simultaneous requests may both be counted once, which can admit a
few requests over the limit in one window but never blocks a legitimate one (and no request
waits for another's Redis round trip).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

DEFAULT_RATE_LIMIT = 20
SWEEP_EVERY = 10.0  # seconds between sweeps of expired windows from a memory store


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window ends (at least 1)

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset)
        return headers


class RateLimiter:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self._lock = asyncio.Lock()
        self._swept_at = clock()

    async def hit(self, counter: str, limit: int) -> RateDecision:
        """Count one request against ``counter`` (a credential, per habilitation)."""
        now = self.clock()
        window = math.floor(now)
        reset = max(1, math.ceil(window + 1 - now))
        key = f"rl:{counter}:{window}"
        store = self.store
        if isinstance(store, MemoryStore):
            async with self._lock:
                count = await self._count(key, limit)
                if now - self._swept_at > SWEEP_EVERY:
                    self._swept_at = now
                    await store.delete_expired()  # past windows are never read again
        else:
            count = await self._count(key, limit)
        allowed = count <= limit
        return RateDecision(
            allowed=allowed, limit=limit, remaining=max(0, limit - count), reset=reset
        )

    async def _count(self, key: str, limit: int) -> int:
        raw = await self.store.get(key)
        count = int(raw) + 1 if raw else 1
        if count <= limit:
            await self.store.set(key, str(count), expires_in=2)
        return count
