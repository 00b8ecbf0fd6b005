"""Back-channel consent notifications: signed Security Event Tokens (RFC 8417) pushed to the
service's registered ``notification_uri`` (RFC 8935), from an outbox table retried with backoff.

The revocation path signs the event and ``enqueue``s it inside its own transaction, so the
event is recorded if and only if the revocation is. ``NotificationDispatcher`` then delivers the
due rows with the claim, lease and retries of ``broker.core.outbox``."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

import httpx

from broker.core import metrics
from broker.core.db import Database
from broker.core.outbox import DEFAULT_BACKOFF, OutboxDispatcher
from consent.events import MEDIA_TYPE
from consent.outbox import DUE, STATEMENTS

log = logging.getLogger("broker.notifications")

MAX_ERROR_BODY = 512  # bytes of a refusal kept for the operator; the rest is never read


class NotificationDispatcher(OutboxDispatcher):
    """Posts due events; ``backoff[i]`` is the wait after failed attempt ``i + 1``, and the row
    is given up after ``len(backoff) + 1`` failed attempts."""

    what = "consent event"

    def __init__(
        self,
        db: Database,
        client: httpx.AsyncClient,
        *,
        backoff: tuple[int, ...] = DEFAULT_BACKOFF,
        timeout: float = 5.0,
    ) -> None:
        super().__init__(db, client, STATEMENTS, DUE, log, backoff=backoff, timeout=timeout)

    async def attempt(self, row, now: int) -> None:
        if row.disabled_at is not None or row.notification_uri != row.url:
            # Only ever post to the URL the client has registered, and only while it is.
            await self.settle(row, now, "url no longer registered for the client", final=True)
            return
        await self.settle(row, now, await self.post(row.url, row.event))

    def about(self, row, attempt: int) -> dict[str, Any]:
        return {
            "notification_id": row.id,
            "client_id": row.client_id,
            "grant_id": row.grant_id,
            "attempt": attempt,
        }

    def measure_backlog(self) -> None:
        """How many events wait for delivery, and the oldest one's age, for the metrics."""
        metrics.outbox_backlog(*self.backlog())

    async def post(self, url: str, event: str) -> str | None:
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


async def _head(response: httpx.Response, limit: int) -> bytes:
    body = b""
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) >= limit:
            break
    return body[:limit]


def _err_code(body: bytes) -> str | None:
    """The ``err`` of an RFC 8935 error answer, if it looks like one."""
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    code = answer.get("err") if isinstance(answer, dict) else None
    return code if isinstance(code, str) and re.fullmatch(r"[a-z_]{1,64}", code) else None
