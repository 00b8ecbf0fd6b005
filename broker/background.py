"""The broker's background work, started with the application: delivering consent events to
services' back-channels (retried with backoff), ending grants that reach their expiry, and the
HTTP client the consent screen's data preview uses."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import httpx

from broker.notifications import NotificationDispatcher
from broker.providers.http import tls_context
from broker.settings import Settings

log = logging.getLogger("broker.background")
EXPIRY_SWEEP_SECONDS = 60


class BackgroundWork:
    def __init__(self, state, settings: Settings) -> None:
        self.state = state
        self.settings = settings
        self.client: httpx.AsyncClient | None = None
        self.dispatcher: NotificationDispatcher | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        self._stop = asyncio.Event()
        # Never follows redirects: events go to the registered URL only.
        self.client = httpx.AsyncClient(follow_redirects=False, verify=tls_context())
        self.dispatcher = NotificationDispatcher(self.state.db, self.client)
        self.state.flow.changes.on_enqueued = self.dispatcher.wake
        self.state.space.on_change = self.dispatcher.wake
        self.state.consent.preview_source = self._preview(self.client)
        self._tasks = [asyncio.create_task(self.dispatcher.run(self._stop)),
                       asyncio.create_task(self._expire_grants())]

    def _preview(self, client: httpx.AsyncClient):
        from broker.preview import DataPreview

        return DataPreview.from_settings(self.settings, client)

    async def _expire_grants(self) -> None:
        """Grants past their expiry become ``expired`` (an event each, and the service told)."""
        while not self._stop.is_set():
            try:
                with self.state.db.begin() as conn:
                    ended = self.state.flow.changes.expire_due(conn, int(time.time()))
                if ended and self.dispatcher is not None:
                    self.dispatcher.wake()
            except Exception:
                log.exception("grant expiry sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), EXPIRY_SWEEP_SECONDS)

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)
        self._tasks = []
        if self.client is not None:
            await self.client.aclose()
            self.client = None
