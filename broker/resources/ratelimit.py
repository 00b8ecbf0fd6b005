"""Rate limits per credential (token or API key), on a Litestar store.

Fixed one-minute windows aligned on the clock's minutes: the limit is a number of requests per
minute, and ``RateLimit-Reset`` is the Unix time the window ends, as API Particulier v3
documents its headers ("nombre de requête/minute", "la fin de la période courante (en format
timestamp)"); ``Retry-After`` (RFC 9110 §10.2.3) is the seconds left until then.

The store is Litestar's (memory by default, Redis when configured), so that several processes
share the counts. Every count is exact: in memory under a lock, on Redis by one atomic
increment (a read then a write would let a burst of parallel requests count as one).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, cast, runtime_checkable

from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

WINDOW = 60  # seconds: the limits are requests per minute
# Per minute (WINDOW), as API Particulier's OpenAPI describes RateLimit-Limit: 1200 a minute
# is its recorded rate of 20 requests a second (run.txt's RateLimit-Limit: 20).
DEFAULT_RATE_LIMIT = 1200
SWEEP_EVERY = 10.0  # seconds between sweeps of expired windows from a memory store


@runtime_checkable
class AtomicCounter(Protocol):
    """A store that counts in one step, whoever else counts at the same time."""

    async def increment(self, key: str, expires_in: int) -> int: ...


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window ends (at least 1)
    reset_at: int  # the Unix time the window ends

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_at),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset)
        return headers


# A window's count is kept a little past its end, for a clock slightly behind another process's.
KEPT_FOR = WINDOW + 2


def window_of(now: float) -> int:
    """The Unix time the window holding ``now`` starts."""
    return math.floor(now / WINDOW) * WINDOW


class RateLimiter:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        if not isinstance(store, (MemoryStore, AtomicCounter)):
            # Read then written back, its counts would miss parallel requests.
            raise TypeError(f"{type(store).__name__} cannot count requests atomically")
        self.store: Store = store
        self.clock = clock
        self._lock = asyncio.Lock()
        self._swept_at = clock()

    async def hit(self, counter: str, limit: int) -> RateDecision:
        """Count one request against ``counter`` (a credential, per habilitation)."""
        now = self.clock()
        window = window_of(now)
        reset_at = window + WINDOW
        key = f"rl:{counter}:{window}"
        store = self.store
        if isinstance(store, MemoryStore):
            async with self._lock:
                count = await self._count_in_memory(store, key, limit)
                if now - self._swept_at > SWEEP_EVERY:
                    self._swept_at = now
                    await store.delete_expired()  # past windows are never read again
        else:  # the only other kind __init__ accepts
            count = await cast(AtomicCounter, store).increment(key, expires_in=KEPT_FOR)
        return RateDecision(
            allowed=count <= limit,
            limit=limit,
            remaining=max(0, limit - count),
            reset=max(1, math.ceil(reset_at - now)),
            reset_at=reset_at,
        )

    @staticmethod
    async def _count_in_memory(store: MemoryStore, key: str, limit: int) -> int:
        raw = await store.get(key)
        count = int(raw) + 1 if raw else 1
        if count <= limit:
            await store.set(key, str(count), expires_in=KEPT_FOR)
        return count
