"""Back-channel logout delivery (OpenID Connect Back-Channel Logout 1.0 §2.5): the notices
queued when sessions end (``broker.store.logout_outbox``) are posted to each service's
registered ``backchannel_logout_uri`` as a ``logout_token`` form parameter, retried with
backoff, given up after a bounded time.

Mirrors the consent events' dispatcher: each attempt is first claimed with a compare-and-set on
``(attempts, next_attempt_at)``, so two broker processes never post the same attempt, and the
claim moves ``next_attempt_at`` a lease ahead, so an attempt interrupted by a crash is retried.
The token is signed at each attempt (it lives two minutes) with the keys and algorithm of the
service's ID tokens, and encrypted to the service's key when its ID tokens are (§2.4): a
service whose key cannot be found is retried, never sent a token in the clear. Only 200 and
204 are a delivery (§2.8); a redirect is never followed; the URL must still be the one the
client registers, and the client enabled."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx

from broker.core import metrics
from broker.core.db import Database
from broker.core.outages import log_failure
from broker.keys.keystore import KeyStore
from broker.oidc.client_auth import JwksCache
from broker.oidc.client_keys import prefetch_encryption_keys
from broker.oidc.encryption import ResponseProtectionError, id_token_encryption
from broker.oidc.logout_token import logout_token
from broker.oidc.models import Client
from broker.store.clients import load_client
from broker.store.logout_outbox import (
    ABANDONED,
    CLAIM,
    DELIVERED,
    DUE,
    GIVE_UP,
    RETRY,
    backlog,
)

log = logging.getLogger("broker.logout_notices")

DEFAULT_BACKOFF = (10, 60, 300, 1800, 7200)  # about two and a half hours in all
DELIVERED_STATUSES = (200, 204)
BATCH = 100  # rows claimed per round
CONCURRENCY = 10  # posts in flight at once


class LogoutDispatcher:
    """Posts due logout notices; ``backoff[i]`` is the wait after failed attempt ``i + 1``,
    and a notice is given up after ``len(backoff) + 1`` failed attempts."""

    def __init__(
        self,
        db: Database,
        client: httpx.AsyncClient,
        keys: KeyStore,
        issuer: str,
        jwks_cache: JwksCache,
        *,
        backoff: tuple[int, ...] = DEFAULT_BACKOFF,
        timeout: float = 5.0,
    ) -> None:
        self.db = db
        self.client = client  # the outbound guard's: no internal address, no redirect
        self.keys = keys
        self.issuer = issuer
        self.jwks_cache = jwks_cache  # the flows' own: clients' encryption keys
        self.backoff = tuple(backoff)
        self.timeout = timeout
        self.max_attempts = len(self.backoff) + 1
        # A claimed row waits its turn among BATCH / CONCURRENCY rounds: no attempt outlives it.
        self.lease = max(60, int(timeout * (BATCH // CONCURRENCY + 2)) + 1)
        self._wakeup: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def deliver_due(self, now: int | None = None) -> int:
        """Claims and posts the due notices (at most ``BATCH``); how many were attempted."""
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
                log.error(
                    "logout notice attempt failed",
                    extra={**about(row, row.attempts + 1), "error": type(outcome).__name__},
                )
        return len(claimed)

    def claim_due(self, now: int) -> list[Any]:
        with self.db.begin() as conn:
            conn.execute(ABANDONED, {"now": now, "max_attempts": self.max_attempts})
            rows = conn.execute(
                DUE, {"now": now, "max_attempts": self.max_attempts, "limit": BATCH}
            ).all()
        return [row for row in rows if self.claim(row, now)]

    def claim(self, row, now: int) -> bool:
        with self.db.begin() as conn:
            claimed = conn.execute(
                CLAIM,
                {
                    "row_id": row.id,
                    "seen_attempts": row.attempts,
                    "seen_next": row.next_attempt_at,
                    "lease_until": now + self.lease,
                },
            )
            return claimed.rowcount == 1

    async def attempt(self, row, now: int) -> None:
        attempt = row.attempts + 1
        client = await self.db.run(lambda: self.client_of(row.client_id))
        if client is None or client.backchannel_logout_uri != row.url:
            # Only ever post to the URL the client registers, and only while it is enabled.
            await self.db.run(
                lambda: self.record(
                    row, attempt, now, "url no longer registered for the client", final=True
                )
            )
            return
        await prefetch_encryption_keys(self.jwks_cache, client)
        error: str | None
        try:
            # Off the event loop: the key store may read the database.
            token = await self.db.run(lambda: self.token_for(row, client))
        except ResponseProtectionError as exc:
            error = f"logout token not encrypted: {exc.description}"
        else:
            error = await self.post(row.url, token)
        if error is None:
            await self.db.run(lambda: self.delivered(row, attempt, now))
            log.info("logout notice delivered", extra=about(row, attempt))
        else:
            await self.db.run(
                lambda: self.record(row, attempt, now, error, final=attempt >= self.max_attempts)
            )

    def client_of(self, client_id: str) -> Client | None:
        with self.db.connect() as conn:
            return load_client(conn, client_id)

    def token_for(self, row, client: Client) -> str:
        """The logout token for the notice's service: signed like its ID tokens, and encrypted
        like them when it registered so (raises ResponseProtectionError when it cannot be)."""
        encryption = id_token_encryption(client, self.jwks_cache)  # before signing: fail fast
        token = logout_token(
            self.keys.signing_key(client.id_token_signed_response_alg),
            issuer=self.issuer,
            client_id=row.client_id,
            sub=row.sub,
            sid=row.sid,
            now=int(time.time()),
        )
        return encryption.seal(token) if encryption is not None else token

    def measure_backlog(self) -> None:
        """How many notices wait for delivery, and the oldest one's age, for the metrics."""
        with self.db.connect() as conn:
            pending, oldest = backlog(conn)
        metrics.logout_backlog(pending, time.time() - oldest if oldest is not None else 0.0)

    async def post(self, url: str, token: str) -> str | None:
        """None when the service answered 200 or 204; otherwise what went wrong, short (never
        the service's body, which may echo the token)."""
        try:
            async with (
                asyncio.timeout(self.timeout),
                # Streamed and never read: only the status matters, whatever the body's size.
                self.client.stream(
                    "POST",
                    url,
                    data={"logout_token": token},
                    headers={"Accept": "application/json", "Accept-Encoding": "identity"},
                    timeout=self.timeout,
                    follow_redirects=False,
                ) as response,
            ):
                status = response.status_code
        except TimeoutError:
            return f"no answer within {self.timeout:g} s"
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {str(exc)[:200]}".rstrip(": ")
        if status in DELIVERED_STATUSES:
            return None
        if 300 <= status < 400:
            return f"HTTP {status}: redirect not followed"
        return f"HTTP {status}"

    def delivered(self, row, attempt: int, now: int) -> None:
        with self.db.begin() as conn:
            conn.execute(DELIVERED, {"row_id": row.id, "attempt": attempt, "now": now})

    def record(self, row, attempt: int, now: int, error: str, *, final: bool) -> None:
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
        extra = {**about(row, attempt), "error": error}
        if final:
            log.error("logout notice given up", extra=extra)
        else:
            log.warning(
                "logout notice delivery failed, will retry",
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
                log_failure(log, exc, "logout notice dispatcher round")
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


def about(row, attempt: int) -> dict[str, Any]:
    """What the logs say of a notice: never its subject or the token."""
    return {"notice_id": row.id, "client_id": row.client_id, "attempt": attempt}
