"""Back-channel consent notifications: signed Security Event Tokens (RFC 8417) pushed to the
service's registered ``notification_uri`` (RFC 8935), from an outbox table retried with backoff.

The revocation path signs the event and ``enqueue``s it inside its own transaction, so the
event is recorded if and only if the revocation is. ``NotificationDispatcher`` then delivers the
due rows: each attempt is first claimed with a compare-and-set on ``(attempts,
next_attempt_at)``, so two broker processes never post the same attempt; the claim also moves
``next_attempt_at`` a lease ahead, so an attempt interrupted by a crash is retried later."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

import httpx

from broker.core import metrics
from broker.core.db import Database
from broker.core.outages import log_failure
from consent.events import MEDIA_TYPE
from consent.outbox import ABANDONED, BACKLOG, CLAIM, DELIVERED, DUE, GIVE_UP, RETRY

log = logging.getLogger("broker.notifications")

DEFAULT_BACKOFF = (10, 60, 300, 1800, 7200)
MAX_ERROR_BODY = 512  # bytes of a refusal kept for the operator; the rest is never read
BATCH = 100  # rows claimed per round
CONCURRENCY = 10  # posts in flight at once


class NotificationDispatcher:
    """Posts due events; ``backoff[i]`` is the wait after failed attempt ``i + 1``, and the row
    is given up after ``len(backoff) + 1`` failed attempts."""

    def __init__(
        self,
        db: Database,
        client: httpx.AsyncClient,
        *,
        backoff: tuple[int, ...] = DEFAULT_BACKOFF,
        timeout: float = 5.0,
    ) -> None:
        self.db = db
        self.client = client
        self.backoff = tuple(backoff)
        self.timeout = timeout
        self.max_attempts = len(self.backoff) + 1
        # A claimed row waits its turn among BATCH / CONCURRENCY rounds: no attempt outlives it.
        self.lease = max(60, int(timeout * (BATCH // CONCURRENCY + 2)) + 1)
        self._wakeup: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def deliver_due(self, now: int | None = None) -> int:
        """Claims and posts the due rows (at most ``BATCH``); returns how many were attempted."""
        moment = int(time.time()) if now is None else now
        claimed = await self.db.run(lambda: self._claim_due(moment))
        if not claimed:
            return 0
        limit = asyncio.Semaphore(CONCURRENCY)

        async def attempt(row) -> None:
            async with limit:
                await self._attempt(row, moment)

        outcomes = await asyncio.gather(*(attempt(row) for row in claimed), return_exceptions=True)
        for row, outcome in zip(claimed, outcomes, strict=True):
            if isinstance(outcome, Exception):  # its lease runs out; retried then
                log.error(
                    "consent event attempt failed",
                    extra={**_about(row, row.attempts + 1), "error": type(outcome).__name__},
                )
        return len(claimed)

    def _claim_due(self, now: int) -> list[Any]:
        """The due rows this process claimed (each by compare-and-set)."""
        with self.db.begin() as conn:
            conn.execute(ABANDONED, {"now": now, "max_attempts": self.max_attempts})
            rows = conn.execute(
                DUE, {"now": now, "max_attempts": self.max_attempts, "limit": BATCH}
            ).all()
        return [row for row in rows if self._claim(row, now)]

    def _claim(self, row, now: int) -> bool:
        with self.db.begin() as conn:
            return (
                conn.execute(
                    CLAIM,
                    {
                        "row_id": row.id,
                        "seen_attempts": row.attempts,
                        "seen_next": row.next_attempt_at,
                        "lease_until": now + self.lease,
                    },
                ).rowcount
                == 1
            )

    async def _attempt(self, row, now: int) -> None:
        attempt = row.attempts + 1
        if row.disabled_at is not None or row.notification_uri != row.url:
            # Only ever post to the URL the client has registered, and only while it is.
            await self.db.run(
                lambda: self._record(
                    row, attempt, now, "url no longer registered for the client", final=True
                )
            )
            return
        error = await self._post(row.url, row.event)
        if error is None:
            await self.db.run(lambda: self._delivered(row, attempt, now))
            log.info("consent event delivered", extra=_about(row, attempt))
        else:
            await self.db.run(
                lambda: self._record(row, attempt, now, error, final=attempt >= self.max_attempts)
            )

    def measure_backlog(self) -> None:
        """How many events wait for delivery, and the oldest one's age, for the metrics."""
        with self.db.connect() as conn:
            pending, oldest = conn.execute(BACKLOG).one()
        metrics.outbox_backlog(pending, time.time() - oldest if oldest is not None else 0.0)

    def _delivered(self, row, attempt: int, now: int) -> None:
        with self.db.begin() as conn:
            conn.execute(DELIVERED, {"row_id": row.id, "attempt": attempt, "now": now})

    async def _post(self, url: str, event: str) -> str | None:
        """None on any 2xx; otherwise what went wrong, short and without the token."""
        headers = {
            "Content-Type": MEDIA_TYPE,
            "Accept": "application/json",
            "Accept-Encoding": "identity",
        }
        try:
            async with (
                asyncio.timeout(self.timeout),
                self.client.stream(
                    "POST",
                    url,
                    content=event.encode(),
                    headers=headers,
                    timeout=self.timeout,
                    follow_redirects=False,
                ) as response,
            ):
                if 200 <= response.status_code < 300:
                    return None
                if 300 <= response.status_code < 400:
                    return f"HTTP {response.status_code}: redirect not followed"
                # Only RFC 8935's error code is kept: a receiver echoing what it got would
                # otherwise put the event's content into the logs.
                code = _err_code(await _head(response, MAX_ERROR_BODY))
                return f"HTTP {response.status_code}" + (f": {code}" if code else "")
        except TimeoutError:
            return f"no answer within {self.timeout:g} s"
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {str(exc)[:200]}".rstrip(": ")

    def _record(self, row, attempt: int, now: int, error: str, *, final: bool) -> None:
        error = error[:500]
        with self.db.begin() as conn:
            if final:
                conn.execute(
                    GIVE_UP, {"row_id": row.id, "attempt": attempt, "now": now, "error": error}
                )
            else:
                conn.execute(
                    RETRY,
                    {
                        "row_id": row.id,
                        "attempt": attempt,
                        "error": error,
                        "next_at": now + self.backoff[attempt - 1],
                    },
                )
        extra = {**_about(row, attempt), "error": error}
        if final:
            log.error("consent event given up", extra=extra)
        else:
            log.warning(
                "consent event delivery failed, will retry",
                extra={**extra, "retry_in": self.backoff[attempt - 1]},
            )

    async def run(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        """Delivers until ``stop`` is set; an error is logged and the loop goes on."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        while not stop.is_set():
            attempted = 0
            try:
                attempted = await self.deliver_due()
            except Exception as exc:
                log_failure(log, exc, "consent event dispatcher round")
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


async def _head(response: httpx.Response, limit: int) -> bytes:
    body = b""
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) >= limit:
            break
    return body[:limit]


def _about(row, attempt: int) -> dict[str, Any]:
    return {
        "notification_id": row.id,
        "client_id": row.client_id,
        "grant_id": row.grant_id,
        "attempt": attempt,
    }


def _err_code(body: bytes) -> str | None:
    """The ``err`` of an RFC 8935 error answer, if it looks like one."""
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    code = answer.get("err") if isinstance(answer, dict) else None
    return code if isinstance(code, str) and re.fullmatch(r"[a-z_]{1,64}", code) else None
