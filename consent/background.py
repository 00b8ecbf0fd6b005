"""The consent side's background work, started with the broker application in every broker
process: delivering consent events to services' back-channels (retried with backoff) and
ending grants that reach their expiry."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import httpx

from broker.core.db import Database
from broker.core.outages import log_failure
from consent.changes import ConsentChanges
from consent.notifications import NotificationDispatcher

log = logging.getLogger("broker.background")
EXPIRY_SWEEP_SECONDS = 60
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
    ) -> None:
        self.db = db
        self.changes = changes
        self.dispatcher = dispatcher
        self.client = client
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        self._stop = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self.dispatcher.run(self._stop)),
            asyncio.create_task(self._expire_grants()),
        ]

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
