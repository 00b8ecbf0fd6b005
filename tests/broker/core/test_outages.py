"""What counts as an outage of the database or Redis, and the log that stays readable during
one."""

from __future__ import annotations

import logging
import sqlite3

import psycopg
from redis import exceptions as redis_errors
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from broker.core.outages import OutageLog, outage_kind


def sqlalchemy_error(orig: Exception, cls=OperationalError) -> Exception:
    return cls("SELECT 1", {}, orig)


def test_a_refused_postgresql_connection_is_a_database_outage():
    engine = create_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
    )
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        assert outage_kind(exc) == "database"
    else:  # pragma: no cover - nothing listens on port 1
        raise AssertionError("port 1 answered")


def test_a_pool_that_stays_full_is_a_database_outage():
    assert outage_kind(PoolTimeout("QueuePool limit reached")) == "database"


def test_a_locked_sqlite_file_is_an_outage_but_a_missing_table_is_a_bug():
    locked = sqlalchemy_error(sqlite3.OperationalError("database is locked"))
    missing = sqlalchemy_error(sqlite3.OperationalError("no such table: grant"))
    assert outage_kind(locked) == "database"
    assert outage_kind(missing) is None


def test_redis_unreachable_or_slow_is_a_redis_outage():
    assert outage_kind(redis_errors.ConnectionError("refused")) == "redis"
    assert outage_kind(redis_errors.TimeoutError("timed out")) == "redis"
    assert outage_kind(redis_errors.ResponseError("WRONGTYPE")) is None


def test_an_outage_behind_another_error_is_found():
    try:
        try:
            raise redis_errors.ConnectionError("refused")
        except redis_errors.ConnectionError as cause:
            raise RuntimeError("flow state step failed") from cause
    except RuntimeError as exc:
        assert outage_kind(exc) == "redis"


def test_programming_errors_are_not_outages():
    assert (
        outage_kind(sqlalchemy_error(psycopg.ProgrammingError("syntax"), ProgrammingError)) is None
    )
    assert outage_kind(ValueError("bad")) is None


def test_one_line_per_kind_every_few_seconds_counting_the_rest(caplog):
    now = [0.0]
    outages = OutageLog(every=10, clock=lambda: now[0])
    error = redis_errors.ConnectionError("Connection refused\nsecond line")
    with caplog.at_level(logging.ERROR, logger="broker.outages"):
        written = [outages.report("redis", error, "/token") for _ in range(500)]
        outages.report("database", error, "/token")  # another kind: its own line
        now[0] = 10.5
        outages.report("redis", error, "/token")
    assert written.count(True) == 1
    lines = [r for r in caplog.records if r.name == "broker.outages"]
    assert [r.getMessage() for r in lines] == [
        "redis unavailable",
        "database unavailable",
        "redis unavailable",
    ]
    assert lines[2].failures_not_logged == 499
    assert lines[0].detail == "Connection refused" and not lines[0].exc_info
