"""Rate limits per credential (token or API key), on a Litestar store.

Fixed one-second windows: the limit is a number of requests per second, the unit API
Particulier uses. The store is Litestar's (memory by default, Redis when configured), so that
several processes share the counts. The count is read then written under a per-process lock;
across processes on Redis two simultaneous requests may both be counted once, which can
admit a few requests over the limit in one window but never blocks a legitimate one.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from litestar.stores.base import Store

DEFAULT_RATE_LIMIT = 20


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window ends (at least 1)

    def headers(self) -> dict[str, str]:
        headers = {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
                   "RateLimit-Reset": str(self.reset)}
        if not self.allowed:
            headers["Retry-After"] = str(self.reset)
        return headers


class RateLimiter:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self._lock = asyncio.Lock()

    async def hit(self, credential_id: str, limit: int) -> RateDecision:
        now = self.clock()
        window = math.floor(now)
        reset = max(1, math.ceil(window + 1 - now))
        key = f"rl:{credential_id}:{window}"
        async with self._lock:
            raw = await self.store.get(key)
            count = int(raw) + 1 if raw else 1
            if count <= limit:
                await self.store.set(key, str(count), expires_in=2)
        allowed = count <= limit
        return RateDecision(allowed=allowed, limit=limit, remaining=max(0, limit - count),
                            reset=reset)
