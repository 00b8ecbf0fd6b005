"""Slowing down guessing: failed sign-ins and failed client authentications are counted per
account, per browser and per source address, on a Litestar store (Redis when configured, so
that every process and host shares the counts; this process's memory otherwise).

Nothing is ever locked: past a few free failures, each further attempt under the same key must
wait a little longer after the previous failure (1 s, 2 s, 4 s… up to a ceiling), and is
answered 429 with ``Retry-After`` until then. The counts fade ``window`` seconds after the last
failure. Where counting per account would let anyone slow a victim down by failing on
purpose, the callers exempt the victim's own way in (see ``broker.demo.idp.app`` and the token
endpoint in ``broker.web.oidc_controller``).

On Redis a count is read then written: two failures at the same instant may count once. The
waits still grow, a few attempts later; no lock makes a request wait for another's round trip.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from litestar import Request
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

SWEEP_EVERY = 60.0  # seconds between sweeps of faded counts from a memory store


@dataclass(frozen=True)
class Limit:
    free: int  # failures tolerated within the window before any wait
    window: int  # seconds a failure is remembered after the last one
    max_wait: int  # the longest wait asked between two attempts, in seconds

    def wait_after(self, failures: int) -> int:
        """Seconds to wait after the last failure, once ``failures`` failures are counted."""
        if failures < self.free:
            return 0
        return min(self.max_wait, 2 ** min(failures - self.free, 30))


@dataclass(frozen=True)
class Counter:
    """One thing failures are counted against: an account, a browser, an address…"""

    key: str
    limit: Limit


@dataclass(frozen=True)
class Count:
    counter: Counter
    failures: int
    last: float  # when the last failure was counted


def counter(scope: str, kind: str, value: str, limit: Limit) -> Counter:
    """Identifiers (logins, addresses) are personal data: the store sees their digests only."""
    digest = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]
    return Counter(f"throttle:{scope}:{kind}:{digest}", limit)


class Throttle:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self.lock = asyncio.Lock()
        self.swept_at = clock()

    async def retry_after(self, counters: Iterable[Counter]) -> int:
        """Seconds before the next attempt may be tried; 0 when it may be tried now."""
        return self.wait(await self.counts(counters))

    async def counts(self, counters: Iterable[Counter]) -> list[Count]:
        return [Count(each, *await self.read(each.key)) for each in counters]

    def wait(self, counts: Iterable[Count]) -> int:
        """Seconds before the next attempt, from counts already read."""
        now = self.clock()
        wait = 0.0
        for count in counts:
            if count.failures:
                wait = max(
                    wait, count.counter.limit.wait_after(count.failures) - (now - count.last)
                )
        return math.ceil(wait) if wait > 0 else 0

    async def failed(self, counters: Iterable[Counter]) -> None:
        """Counts one failure against each counter."""
        now = self.clock()
        if isinstance(self.store, MemoryStore):
            async with self.lock:
                await self.count_failures(counters, now)
                if now - self.swept_at > SWEEP_EVERY:
                    self.swept_at = now
                    await self.store.delete_expired()
        else:
            await self.count_failures(counters, now)

    async def forget(self, counters: Iterable[Counter]) -> None:
        """A success: these counts start again from zero."""
        for each in counters:
            await self.store.delete(each.key)

    async def count_failures(self, counters: Iterable[Counter], now: float) -> None:
        for each in counters:
            failures, _ = await self.read(each.key)
            value = f"{failures + 1}:{now:.3f}"
            await self.store.set(each.key, value, expires_in=each.limit.window)

    async def read(self, key: str) -> tuple[int, float]:
        raw = await self.store.get(key)
        if not raw:
            return 0, 0.0
        try:
            count, _, last = raw.decode().partition(":")
            return int(count), float(last)
        except ValueError:
            return 0, 0.0

    async def close(self) -> None:
        await self.store.__aexit__(None, None, None)  # closes a Redis client; no-op in memory


def source_address(request: Request) -> str:
    """The client's address as the server saw it (the reverse proxy's forwarded address when
    the server trusts that proxy: see ``BROKER_FORWARDED_ALLOW_IPS``)."""
    client = request.client
    return client.host if client and client.host else "unknown"


def per_address(free: int) -> Limit:
    """The limit on one source address, from ``BROKER_THROTTLE_FAILURES_PER_ADDRESS``."""
    return Limit(free=free, window=900, max_wait=300)


BROWSER = Limit(free=10, window=900, max_wait=300)


class SignInThrottle:
    """Returns from identity providers that fail (an unknown or replayed ``state``, a refused
    answer), per browser and per source address: nobody gets to try ``state`` values or
    replay answers at full speed."""

    scope = "sign-in"

    def __init__(self, throttle: Throttle, per_address_limit: Limit) -> None:
        self.throttle = throttle
        self.per_address_limit = per_address_limit

    def counters(self, browser_id: str | None, address: str) -> list[Counter]:
        found = [counter(self.scope, "address", address, self.per_address_limit)]
        if browser_id:
            found.append(counter(self.scope, "browser", browser_id[:100], BROWSER))
        return found

    async def retry_after(self, browser_id: str | None, address: str) -> int:
        return await self.throttle.retry_after(self.counters(browser_id, address))

    async def failed(self, browser_id: str | None, address: str) -> None:
        await self.throttle.failed(self.counters(browser_id, address))
