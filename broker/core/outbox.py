"""Outboxes of signed messages to services' registered URLs (consent events, back-channel
logout notices): rows written in the transaction of the change they tell of, then delivered by
a dispatcher in every broker process, retried with backoff, given up after a bounded time.

Each attempt is first claimed with a compare-and-set on ``(attempts, next_attempt_at)``, so
two processes never post the same attempt; the claim moves ``next_attempt_at`` a lease ahead,
so an attempt cut off by a crash is retried once the lease runs out. Outcomes are written only
by the process holding the claim (same attempt number)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Select, Table, bindparam, func, select, update
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import ColumnElement

from broker.core.db import Database
from broker.core.outages import log_failure

DEFAULT_BACKOFF = (10, 60, 300, 1800, 7200)  # about two and a half hours in all
BATCH = 100  # rows claimed per round
CONCURRENCY = 10  # posts in flight at once


@dataclass(frozen=True)
class OutboxStatements:
    """The compare-and-set statements of one outbox table (``id``, ``attempts``,
    ``next_attempt_at``, ``delivered_at``, ``failed_at``, ``last_error``, ``created_at``)."""

    table: Table
    pending: ColumnElement[bool]
    claim: Update
    delivered: Update
    retry: Update
    give_up: Update
    abandoned: Update  # a last attempt cut off after its claim: nothing is left to try
    backlog: Select  # how many rows wait, since when (for the metrics)

    @classmethod
    def for_table(cls, table: Table) -> OutboxStatements:
        c = table.c
        pending = c.delivered_at.is_(None) & c.failed_at.is_(None)
        owned = (c.id == bindparam("row_id")) & pending & (c.attempts == bindparam("attempt"))
        return cls(
            table=table,
            pending=pending,
            claim=update(table)
            .where(
                c.id == bindparam("row_id"),
                pending,
                c.attempts == bindparam("seen_attempts"),
                c.next_attempt_at == bindparam("seen_next"),
            )
            .values(attempts=c.attempts + 1, next_attempt_at=bindparam("lease_until")),
            delivered=update(table)
            .where(owned)
            .values(delivered_at=bindparam("now"), next_attempt_at=None, last_error=None),
            retry=update(table)
            .where(owned)
            .values(next_attempt_at=bindparam("next_at"), last_error=bindparam("error")),
            give_up=update(table)
            .where(owned)
            .values(
                failed_at=bindparam("now"), next_attempt_at=None, last_error=bindparam("error")
            ),
            abandoned=update(table)
            .where(
                pending,
                c.next_attempt_at <= bindparam("now"),
                c.attempts >= bindparam("max_attempts"),
            )
            .values(
                failed_at=bindparam("now"),
                next_attempt_at=None,
                last_error="last attempt interrupted",
            ),
            backlog=select(func.count(), func.min(c.created_at)).where(pending),
        )

    def due(self, query: Select) -> Select:
        """``query`` (the columns an attempt needs) narrowed to the rows due now, oldest
        first, at most ``limit``."""
        c = self.table.c
        return (
            query.where(
                self.pending,
                c.next_attempt_at <= bindparam("now"),
                c.attempts < bindparam("max_attempts"),
            )
            .order_by(c.next_attempt_at, c.id)
            .limit(bindparam("limit"))
        )


class OutboxDispatcher:
    """Delivers an outbox's due rows; ``backoff[i]`` is the wait after failed attempt
    ``i + 1``, and a row is given up after ``len(backoff) + 1`` failed attempts. Subclasses
    say what one attempt is (``attempt``, ending in ``settle``) and how a row is logged."""

    what = "message"  # how the logs name a row: "consent event", "logout notice"

    def __init__(
        self,
        db: Database,
        client: httpx.AsyncClient,
        statements: OutboxStatements,
        due: Select,
        log: logging.Logger,
        *,
        backoff: tuple[int, ...] = DEFAULT_BACKOFF,
        timeout: float = 5.0,
    ) -> None:
        self.db = db
        self.client = client  # the outbound guard's: no internal address, no redirect
        self.statements = statements
        self.due = due
        self.log = log
        self.backoff = tuple(backoff)
        self.timeout = timeout
        self.max_attempts = len(self.backoff) + 1
        # A claimed row waits its turn among BATCH / CONCURRENCY rounds: no attempt outlives it.
        self.lease = max(60, int(timeout * (BATCH // CONCURRENCY + 2)) + 1)
        self._wakeup: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def attempt(self, row: Any, now: int) -> None:
        raise NotImplementedError

    def about(self, row: Any, attempt: int) -> dict[str, Any]:
        """What the logs say of a row: never its token or subject."""
        raise NotImplementedError

    async def deliver_due(self, now: int | None = None) -> int:
        """Claims and posts the due rows (at most ``BATCH``); how many were attempted."""
        moment = int(time.time()) if now is None else now
        claimed = await self.db.run(lambda: self.claim_due(moment))
        if not claimed:
            return 0
        limit = asyncio.Semaphore(CONCURRENCY)

        async def attempt(row) -> None:
            async with limit:
                await self.attempt(row, moment)

        outcomes = await asyncio.gather(*(attempt(row) for row in claimed), return_exceptions=True)
        for row, outcome in zip(claimed, outcomes, strict=True):
            if isinstance(outcome, Exception):  # its lease runs out; retried then
                self.log.error(
                    f"{self.what} attempt failed",
                    extra={**self.about(row, row.attempts + 1), "error": type(outcome).__name__},
                )
        return len(claimed)

    def claim_due(self, now: int) -> list[Any]:
        """The due rows this process claimed (each by compare-and-set)."""
        limits = {"now": now, "max_attempts": self.max_attempts}
        with self.db.begin() as conn:
            conn.execute(self.statements.abandoned, limits)
            rows = conn.execute(self.due, {**limits, "limit": BATCH}).all()
        return [row for row in rows if self.claim(row, now)]

    def claim(self, row: Any, now: int) -> bool:
        with self.db.begin() as conn:
            claimed = conn.execute(
                self.statements.claim,
                {
                    "row_id": row.id,
                    "seen_attempts": row.attempts,
                    "seen_next": row.next_attempt_at,
                    "lease_until": now + self.lease,
                },
            )
            return claimed.rowcount == 1

    async def settle(self, row: Any, now: int, error: str | None, *, final: bool = False) -> None:
        """Records an attempt's outcome: delivered (``error`` None), to retry, or given up
        (``final``, or the last attempt)."""
        attempt = row.attempts + 1
        if error is None:
            await self.db.run(lambda: self.delivered(row, attempt, now))
            self.log.info(f"{self.what} delivered", extra=self.about(row, attempt))
            return
        final = final or attempt >= self.max_attempts
        await self.db.run(lambda: self.record(row, attempt, now, error, final=final))

    def delivered(self, row: Any, attempt: int, now: int) -> None:
        with self.db.begin() as conn:
            conn.execute(
                self.statements.delivered, {"row_id": row.id, "attempt": attempt, "now": now}
            )

    def record(self, row: Any, attempt: int, now: int, error: str, *, final: bool) -> None:
        error = error[:500]
        with self.db.begin() as conn:
            if final:
                conn.execute(
                    self.statements.give_up,
                    {"row_id": row.id, "attempt": attempt, "now": now, "error": error},
                )
            else:
                conn.execute(
                    self.statements.retry,
                    {
                        "row_id": row.id,
                        "attempt": attempt,
                        "error": error,
                        "next_at": now + self.backoff[attempt - 1],
                    },
                )
        extra = {**self.about(row, attempt), "error": error}
        if final:
            self.log.error(f"{self.what} given up", extra=extra)
        else:
            self.log.warning(
                f"{self.what} delivery failed, will retry",
                extra={**extra, "retry_in": self.backoff[attempt - 1]},
            )

    def backlog(self) -> tuple[int, float]:
        """How many rows wait for delivery, and the oldest one's age (0 when none waits)."""
        with self.db.connect() as conn:
            pending, oldest = conn.execute(self.statements.backlog).one()
        return pending, time.time() - oldest if oldest is not None else 0.0

    async def run(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        """Delivers until ``stop`` is set; an error is logged and the loop goes on."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        while not stop.is_set():
            attempted = 0
            try:
                attempted = await self.deliver_due()
            except Exception as exc:
                log_failure(self.log, exc, f"{self.what} dispatcher round")
            if attempted >= BATCH:
                continue  # more may be due at once
            self._wakeup.clear()
            stopping = asyncio.ensure_future(stop.wait())
            woken = asyncio.ensure_future(self._wakeup.wait())
            await asyncio.wait(
                {stopping, woken}, timeout=interval, return_when=asyncio.FIRST_COMPLETED
            )
            stopping.cancel()
            woken.cancel()

    def wake(self) -> None:
        """Delivers now rather than at the next tick; safe from any thread."""
        loop, wakeup = self._loop, self._wakeup
        if loop is None or wakeup is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wakeup.set()
        else:
            loop.call_soon_threadsafe(wakeup.set)
