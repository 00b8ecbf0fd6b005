"""The database: errors never carry bound values (personal data, secrets) into messages or logs;
steps run off the event loop on a networked database, and survive a dropped connection."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from broker.core.db import Database


def test_database_errors_hide_bound_values(database_url):
    db = Database(database_url)
    try:
        with pytest.raises(SQLAlchemyError) as caught, db.begin() as conn:
            conn.execute(
                text("INSERT INTO no_such_table (x) VALUES (:x)"), {"x": "DUBOIS Angela 1962-08-24"}
            )
    finally:
        db.dispose()
    assert "DUBOIS" not in str(caught.value)
    assert "hidden due to hide_parameters" in str(caught.value)


def test_steps_run_in_place_on_sqlite_and_off_the_event_loop_on_postgresql(database_url):
    db = Database(database_url)

    async def where() -> tuple[int, int]:
        return threading.get_ident(), await db.run(threading.get_ident)

    try:
        loop_thread, step_thread = asyncio.run(where())
    finally:
        db.dispose()
    assert (loop_thread == step_thread) is (not db.networked)


def test_a_step_off_the_event_loop_sees_the_request_context(database_url):
    """The locale and the request id are context variables: a step run in a worker thread
    must see the request's (the consent wording records the locale it was shown in)."""
    db = Database(database_url, offload=True)
    locale: contextvars.ContextVar[str] = contextvars.ContextVar("locale", default="fr")

    async def request() -> tuple[str, bool]:
        locale.set("en")
        return await db.run(lambda: (locale.get(), threading.current_thread().name))

    try:
        seen, thread_name = asyncio.run(request())
    finally:
        db.dispose()
    assert thread_name.startswith("db-step") and seen == "en"


def test_a_dropped_connection_is_retried_once_on_a_fresh_one(database_url):
    """No pre-ping at checkout: a pooled connection the server dropped (a restart, a proxy's
    idle timeout) fails its step once, which then runs again on a fresh connection."""
    db = Database(database_url)
    if not db.networked:
        db.dispose()
        pytest.skip("PostgreSQL only: SQLite has no connection to drop")
    attempts = []

    def step() -> int:
        attempts.append(1)
        with db.connect() as conn:
            return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()

    try:
        first = db.run_retrying(step)
        other = create_engine(db.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        with other.connect() as admin:  # not from the pool: the server drops the pooled one
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        other.dispose()
        attempts.clear()
        second = asyncio.run(db.run(step))
        assert second != first and len(attempts) == 2
        attempts.clear()

        def failing() -> None:
            attempts.append(1)
            with db.connect() as conn:
                conn.execute(text("SELECT * FROM no_such_table"))

        with pytest.raises(SQLAlchemyError):
            db.run_retrying(failing)
        assert len(attempts) == 1  # any other error is not retried
    finally:
        db.dispose()
