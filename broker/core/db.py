"""Database engine and sessions. The schema itself comes only from Alembic migrations.

On a networked database (PostgreSQL) every round trip is a wait: ``Database.run`` takes a
step's database work off the event loop, so that no request waits on another's round trips,
reads run outside a transaction (no BEGIN and ROLLBACK), and pooled connections are not
pinged at each checkout: they are recycled before servers or proxies drop them, and a step that
meets a connection dropped anyway runs again once, on a fresh one.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Concatenate, ParamSpec, Protocol, TypeVar, cast

from sqlalchemy import Table, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

log = logging.getLogger("broker.db")
T = TypeVar("T")
P = ParamSpec("P")
POOL_RECYCLE = 1800  # seconds: well below the usual idle timeouts of servers and proxies
# Steps running at once off the event loop, each on its own pooled connection: as many
# connections stay open, so that none is opened and closed per step under load.
POOL_SIZE = 10
CONNECT_TIMEOUT = 3  # seconds to open a connection to a networked database
POOL_TIMEOUT = 5  # seconds to wait for a pooled connection to come free


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a SQLModel table model, for Core statements (SQLModel sets
    ``__table__`` when the class is created but does not declare it to type checkers)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_db_engine(url: str) -> Engine:
    """``hide_parameters``: database errors must never carry personal data or secrets into the
    logs (SQLAlchemy otherwise prints the bound values in the exception text)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        in_memory = ":memory:" in url or url in ("sqlite://", "sqlite:///")
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if in_memory else None,
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        # A database that stops answering fails a request in seconds (a 503), instead of
        # holding it, and its thread, until the client gives up.
        connect_args={"connect_timeout": CONNECT_TIMEOUT},
        pool_timeout=POOL_TIMEOUT,
        pool_size=POOL_SIZE,
        max_overflow=POOL_SIZE,  # for work outside the steps (background tasks, the CLI)
        pool_recycle=POOL_RECYCLE,
        hide_parameters=True,
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Database:
    """Owns the engine; hands out short transactions."""

    def __init__(self, url: str, offload: bool | None = None) -> None:
        """``offload``: run steps off the event loop (default: on a networked database; also
        wanted when steps talk to another networked store, such as Redis)."""
        self.url = normalise_url(url)
        self.engine = create_db_engine(url)
        self.networked = not self.url.startswith("sqlite")
        self.offload = self.networked if offload is None else offload
        # A plain executor rather than anyio's worker threads: half the CPU per hand-off.
        self.executor = ThreadPoolExecutor(max_workers=POOL_SIZE, thread_name_prefix="db-step")
        # Reads need no transaction: on a networked database, autocommit spares BEGIN and
        # ROLLBACK, two round trips per read (SQLite has no wire).
        self.read_engine: Engine = (
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.networked
            else self.engine
        )

    async def run(self, step: Callable[[], T]) -> T:
        """Runs ``step``, synchronous database work, off the event loop when ``offload`` (a
        networked database, or a flow state in Redis; in place otherwise: SQLite is in-process
        and fast, a thread would cost more than it saves). ``step`` must only work on the
        stores: it runs again, once, if its connection was found dropped."""
        if not self.offload:
            return step()
        # The step sees the request's context (its locale, its request id for the logs).
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, context.run, self.run_retrying, step
        )

    def run_retrying(self, step: Callable[[], T]) -> T:
        """``step``, and once more if its connection turned out to be dropped (a server
        restart, a proxy's idle timeout): nothing it did was committed then."""
        try:
            return step()
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            log.warning("database connection dropped, step retried on a fresh connection")
            return step()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A Core connection in a transaction: committed on success, rolled back on error."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A Core connection for reads (autocommit on a networked database)."""
        with self.read_engine.connect() as conn:
            yield conn

    @contextmanager
    def reader(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def dispose(self) -> None:
        self.executor.shutdown(wait=False)
        self.engine.dispose()


class WithDatabase(Protocol):
    db: Database


S = TypeVar("S", bound=WithDatabase)


def database_step(
    method: Callable[Concatenate[S, P], T],
) -> Callable[Concatenate[S, P], Awaitable[T]]:
    """Makes a method that does synchronous database work an awaitable step, run by its
    object's ``db.run`` (off the event loop on a networked database)."""

    @functools.wraps(method)
    async def step(self: S, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.db.run(lambda: method(self, *args, **kwargs))

    return step
