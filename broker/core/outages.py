"""Outages of the stores the services lean on (the database, Redis): how they show up as
exceptions, and how they are logged: one line per kind of failure every few seconds, with the
number of failures since the last line, instead of a traceback per request."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Literal

from redis import exceptions as redis_errors
from sqlalchemy import exc as sql_errors

log = logging.getLogger("broker.outages")

OutageKind = Literal["database", "redis"]
# Seconds a client is asked to wait before trying again (the Retry-After of the 503s). A
# restarted database or Redis is usually back within that; clients that retry sooner only
# add load to a recovering service.
RETRY_AFTER = 5
LOG_EVERY = 10.0  # seconds between two log lines about the same kind of failure

REDIS_OUTAGES = (redis_errors.ConnectionError, redis_errors.TimeoutError)
# SQLite's OperationalError also reports a missing table or a syntax error: those are bugs, not
# outages, and keep their traceback. Its outages are a locked or unreadable file.
SQLITE_OUTAGE_WORDS = ("locked", "unable to open", "disk i/o", "readonly")


def outage_kind(exc: BaseException) -> OutageKind | None:
    """``database`` or ``redis`` when ``exc`` (or what caused it) says that store cannot be
    reached or did not answer in time; None for every other error."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = direct_outage_kind(current)
        if kind is not None:
            return kind
        current = current.__cause__ or current.__context__
    return None


def direct_outage_kind(exc: BaseException) -> OutageKind | None:
    if isinstance(exc, REDIS_OUTAGES):
        return "redis"
    if isinstance(exc, sql_errors.TimeoutError):  # no pooled connection came free in time
        return "database"
    if isinstance(exc, sql_errors.DBAPIError):
        if exc.connection_invalidated:
            return "database"
        if isinstance(exc, sql_errors.InterfaceError):
            return "database"
        if isinstance(exc, sql_errors.OperationalError):
            if type(exc.orig).__module__.startswith("sqlite3"):
                message = str(exc.orig).lower()
                return "database" if any(w in message for w in SQLITE_OUTAGE_WORDS) else None
            return "database"
    return None


class OutageLog:
    """Logs an outage once per kind every ``every`` seconds; the failures in between are
    counted and reported with the next line."""

    def __init__(self, every: float = LOG_EVERY, clock: Callable[[], float] = time.monotonic):
        self.every = every
        self.clock = clock
        self.lock = threading.Lock()
        self.last_logged: dict[str, float] = {}
        self.unlogged: dict[str, int] = {}

    def report(self, kind: str, exc: BaseException, where: str) -> bool:
        """Counts one failure; returns whether a line was written for it."""
        now = self.clock()
        with self.lock:
            last = self.last_logged.get(kind)
            if last is not None and now - last < self.every:
                self.unlogged[kind] = self.unlogged.get(kind, 0) + 1
                return False
            self.last_logged[kind] = now
            since = self.unlogged.pop(kind, 0)
        # The exception's type and first line only: statements and bound values stay out.
        first_line = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        log.error(
            f"{kind} unavailable",
            extra={
                "kind": kind,
                "where": where,
                "error": type(exc).__name__,
                "detail": first_line,
                "failures_not_logged": since,
            },
        )
        return True


OUTAGES = OutageLog()


def log_failure(logger: logging.Logger, exc: BaseException, task: str) -> None:
    """A background task's failure: an outage as one line once in a while, any other error
    with its traceback ("<task> failed")."""
    kind = outage_kind(exc)
    if kind is None:
        logger.error(f"{task} failed", exc_info=exc)
    else:
        OUTAGES.report(kind, exc, task)
