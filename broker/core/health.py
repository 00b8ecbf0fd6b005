"""Readiness: can this process serve? Each check is a named coroutine that raises when its
dependency is not usable; ``Readiness`` runs them together, each bounded by a timeout.

Probes arrive every few seconds from every load balancer and orchestrator, and anyone can call
the endpoint: one round of checks runs at a time (callers meanwhile share it) and its verdict
is reused for a second, so probes cannot pile database connections or threads up, even while
the database hangs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import text

from broker.core.db import Database

log = logging.getLogger("broker.health")
ReadinessCheck = Callable[[], Awaitable[object]]
REUSE_SECONDS = 1.0
OK, FAILED, TIMED_OUT = "ok", "failed", "timeout"


class Readiness:
    def __init__(self, checks: Mapping[str, ReadinessCheck], timeout: float = 2.0) -> None:
        self.checks = dict(checks)
        self.timeout = timeout
        self.round: asyncio.Task[dict[str, str]] | None = None
        self.verdict: dict[str, str] = {}
        self.verdict_at = float("-inf")

    async def report(self) -> tuple[bool, dict[str, str]]:
        """Whether every check passed, and each check's result (ok, failed or timeout)."""
        if time.monotonic() - self.verdict_at >= REUSE_SECONDS:
            if self.round is None or self.round.done():
                self.round = asyncio.ensure_future(self.run_checks())
            # A caller giving up (its client went away) must not cancel the others' round.
            self.verdict = await asyncio.shield(self.round)
            self.verdict_at = time.monotonic()
        return all(result == OK for result in self.verdict.values()), self.verdict

    async def run_checks(self) -> dict[str, str]:
        names = list(self.checks)
        results = await asyncio.gather(*(self.run_one(name) for name in names))
        return dict(zip(names, results, strict=True))

    async def run_one(self, name: str) -> str:
        try:
            async with asyncio.timeout(self.timeout):
                await self.checks[name]()
        except TimeoutError:
            log.warning("readiness check timed out", extra={"check": name})
            return TIMED_OUT
        except Exception as exc:
            # The type only: a driver's message can name hosts, users or files.
            log.warning(
                "readiness check failed", extra={"check": name, "error": type(exc).__name__}
            )
            return FAILED
        return OK


def in_thread(check: Callable[[], object]) -> ReadinessCheck:
    """A blocking check, run off the event loop on a thread of its own. While a run hangs (a
    database that does not answer), later rounds wait for that same run instead of starting
    more: stuck threads cannot pile up."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readiness")
    running: list[Future[object]] = []

    async def run() -> object:
        if not running or running[0].done():
            running[:] = [executor.submit(check)]
        return await asyncio.wrap_future(running[0])

    return run


def database_check(db: Database) -> ReadinessCheck:
    """``SELECT 1`` on a pooled connection, off the event loop (a networked database may not
    answer at all; the caller's timeout then gives up waiting, and the thread ends with the
    driver's own timeout)."""

    def select_one() -> None:
        with db.connect() as conn:
            conn.execute(text("SELECT 1")).scalar_one()

    return in_thread(select_one)


def redis_check(url: str, timeout: float = 0.5) -> ReadinessCheck:
    """PING on a connection of its own, closed after: the probe never waits behind, or
    takes, a connection the requests need."""

    async def ping() -> None:
        from redis.asyncio import Redis

        client = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        try:
            await client.ping()
        finally:
            await client.aclose()

    return ping


def standard_checks(db: Database, redis_url: str = "") -> dict[str, ReadinessCheck]:
    """The database, and Redis when the process uses it."""
    checks = {"database": database_check(db)}
    if redis_url:
        checks["redis"] = redis_check(redis_url)
    return checks
