"""The consent side's background work, started with the broker application in every broker
process: delivering consent events to services' back-channels (retried with backoff) and
ending grants that reach their expiry; and, next to them, the broker's back-channel logout:
delivering logout notices, and ending the single sign-on sessions that expired or sat idle
(their services are told)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import httpx

from broker.core.db import Database
from broker.core.outages import log_failure
from broker.interaction.logout_notices import LogoutDispatcher
from broker.interaction.sessions import BrowserSessions
from consent.changes import ConsentChanges
from consent.notifications import NotificationDispatcher

log = logging.getLogger("broker.background")
EXPIRY_SWEEP_SECONDS = 60
SESSION_SWEEP_SECONDS = 60
STOP_TIMEOUT = 5


class BackgroundWork:
    """``client``: the process's outbound HTTP client (the dispatcher's and the consent
    screen's preview's), closed when the work stops: the application starts and stops once
    per process (uvicorn's lifespan)."""

    def __init__(
        self,
        db: Database,
        changes: ConsentChanges,
        dispatcher: NotificationDispatcher,
        client: httpx.AsyncClient,
        sessions: BrowserSessions | None = None,
        logout_dispatcher: LogoutDispatcher | None = None,
    ) -> None:
        self.db = db
        self.changes = changes
        self.dispatcher = dispatcher
        self.client = client
        self.sessions = sessions
        self.logout_dispatcher = logout_dispatcher
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        self._stop = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self.dispatcher.run(self._stop)),
            asyncio.create_task(self._expire_grants()),
        ]
        if self.logout_dispatcher is not None:
            self._tasks.append(asyncio.create_task(self.logout_dispatcher.run(self._stop)))
        if self.sessions is not None:
            self._tasks.append(asyncio.create_task(self._end_expired_sessions(self.sessions)))

    async def _expire_grants(self) -> None:
        """Grants past their expiry become ``expired`` (an event each, and the service told)."""
        while not self._stop.is_set():
            try:
                ended = await self.db.run(self.expire_due)
                if ended:
                    self.dispatcher.wake()
                await self.db.run(self.dispatcher.measure_backlog)
            except Exception as exc:
                log_failure(log, exc, "grant expiry sweep")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), EXPIRY_SWEEP_SECONDS)

    async def _end_expired_sessions(self, sessions: BrowserSessions) -> None:
        """Sessions past their expiry or idle deadline end; their services are told."""
        while not self._stop.is_set():
            try:
                await self.db.run(lambda: self.sweep_sessions(sessions))
            except Exception as exc:
                log_failure(log, exc, "session expiry sweep")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), SESSION_SWEEP_SECONDS)

    def sweep_sessions(self, sessions: BrowserSessions) -> int:
        """One round of the session sweep, then the logout outbox's backlog for the metrics."""
        queued = sessions.end_expired()
        if self.logout_dispatcher is not None:
            self.logout_dispatcher.measure_backlog()
        return queued

    def expire_due(self) -> int:
        with self.db.begin() as conn:
            return self.changes.expire_due(conn, int(time.time()))

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, STOP_TIMEOUT)
        self._tasks = []
        await self.client.aclose()
