"""The portal's periodic work, run inside the portal process while it serves:

- every minute, the usage roll-up (access journal and consent events -> daily counts) and the
  status pings of the data and identity providers;
- every hour, the habilitations' expiry reminders by email.

Each run is guarded: a failure is logged and the loop goes on at its next turn. Several portal
processes may run them at once: the roll-up takes a lock, reminders are claimed one by one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import httpx

from broker.admin import reminders, status, usage
from broker.core.db import Database
from broker.core.mail import Mailer
from broker.core.settings import Settings
from broker.providers.transport import tls_context

log = logging.getLogger("broker.portal.jobs")
MINUTE = 60
HOUR = 3600


class PortalJobs:
    def __init__(self, settings: Settings, db: Database, mailer: Mailer, portal_url: str) -> None:
        self.settings = settings
        self.db = db
        self.mailer = mailer
        self.portal_url = portal_url
        self.tasks: list[asyncio.Task[None]] = []
        self.client: httpx.AsyncClient | None = None

    async def roll_up_usage(self) -> None:
        def step() -> int:
            with self.db.transaction() as session:
                return usage.roll_up(session, int(time.time()))

        read = await self.db.run(step)
        if read:
            log.info("usage rolled up", extra={"rows": read})

    async def check_status(self) -> None:
        assert self.client is not None
        await status.check_all(self.db, self.client, self.settings, int(time.time()))

    async def send_reminders(self) -> None:
        sent = await reminders.send_due(self.db, self.mailer, self.portal_url, int(time.time()))
        if sent:
            log.info("expiry reminders sent", extra={"emails": sent})

    def start(self) -> None:
        if self.tasks:
            return
        self.client = httpx.AsyncClient(
            follow_redirects=False, verify=tls_context(), trust_env=False
        )
        self.tasks = [
            asyncio.create_task(every(MINUTE, "usage roll-up", self.roll_up_usage)),
            asyncio.create_task(every(MINUTE, "status checks", self.check_status)),
            asyncio.create_task(every(HOUR, "expiry reminders", self.send_reminders)),
        ]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks = []
        if self.client is not None:
            await self.client.aclose()
            self.client = None


async def every(seconds: float, name: str, job: Callable[[], Awaitable[None]]) -> None:
    """Runs ``job`` now, then every ``seconds``, whatever happens to one run."""
    while True:
        await run_guarded(name, job)
        await asyncio.sleep(seconds)


async def run_guarded(name: str, job: Callable[[], Awaitable[None]]) -> bool:
    """One run of ``job``; False (and a log line) if it failed."""
    try:
        await job()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("portal job failed", extra={"job": name})
        return False
    return True
