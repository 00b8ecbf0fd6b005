"""Usage roll-ups: the access journal per UTC day and product (``usage_day``, the public
statistics) and per UTC day, product and calling service with each outcome's count
(``usage_service_day``, for the data providers and administrators only), in the same pass;
consent events per UTC day and kind (``consent_day``).

Each roll-up reads its source table from where it stopped (its cursor in ``rollup_cursor``, the
last id rolled up) a chunk at a time, and adds what it read to the day rows in the same
transaction as it moves its cursor: run twice, it adds nothing twice; interrupted, it adds
nothing at all. One roll-up runs at a time (a lock taken first, see :func:`take_lock`).

What counts as an error: the calls the platform or the data provider failed to answer
(HTTP status 500 and above: provider timeout, maintenance, unavailability or unusable answer,
the platform's own outages). A 404 "no record for this person", a refused credential or scope,
invalid parameters or a rate limit are answers the API gave as designed, to the caller: they
are calls, not errors.

Latency: every call's ``latency_ms`` falls in one of fixed, log-spaced buckets
(:data:`LATENCY_BUCKETS_MS`, plus one beyond the last bound); a percentile is read as the
upper bound of the bucket it falls in ("p95 ≤ 250 ms"): exact enough for a public page, and
buckets add up across days and products where exact percentiles would not.

The citizen's identity released at userinfo is journaled too (product ``identity``): it is not
a call of the data API, so it is not counted. Nothing personal is read: product, calling
service, outcome, status, latency and time only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Row, TableClause, column, func, insert, select, table, text, update
from sqlmodel import Session

from broker.admin.service_usage import UNKNOWN_CALLER, ServiceDayUsage, add_service_usage
from broker.catalogue.products import product as catalogue_product
from broker.core.db import table_of
from broker.store.data_access_models import AccessJournal
from broker.store.identity_releases import PRODUCT as IDENTITY_PRODUCT
from broker.store.portal_models import ConsentDay, RollupCursor, UsageDay

# Upper bounds (milliseconds, inclusive) of the latency buckets; one more bucket holds the rest.
LATENCY_BUCKETS_MS: tuple[int, ...] = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
BUCKET_COUNT = len(LATENCY_BUCKETS_MS) + 1
ERROR_STATUS = 500  # this status and above: the platform or the provider failed
CHUNK_ROWS = 5000
# Rows younger than this are left for the next run. On PostgreSQL an id is taken when a row
# is inserted but seen when its transaction commits: a row committed late, under an id lower
# than one already rolled up, would be skipped forever. The journal writes one row per short
# transaction, so waiting until rows have settled is enough.
SETTLE_SECONDS = 120
JOURNAL_CURSOR = "access_journal"
CONSENT_CURSOR = "consent_event"
LOCK_KEY = 0x726F6C6C  # "roll": pg_advisory_xact_lock's key for the roll-ups

JOURNAL = table_of(AccessJournal)
USAGE = table_of(UsageDay)
CONSENTS = table_of(ConsentDay)
JOURNAL_COLUMNS = tuple(
    JOURNAL.c[name] for name in ("at", "product", "service_id", "outcome", "status", "latency_ms")
)
CURSORS = table_of(RollupCursor)
# The consent ledger's events, read as plain SQL: broker code does not import consent.
CONSENT_EVENTS = table("consent_event", column("id"), column("kind"), column("at"))


def bucket_of(latency_ms: int) -> int:
    for index, bound in enumerate(LATENCY_BUCKETS_MS):
        if latency_ms <= bound:
            return index
    return len(LATENCY_BUCKETS_MS)


def provider_of(product_key: str) -> str:
    """The data provider serving a product (``dss/quotient_familial`` is the CNAF's); a
    product since removed from the catalogue keeps the first part of its path."""
    known = catalogue_product(product_key)
    return known.provider if known is not None else product_key.split("/", 1)[0][:40]


def day_of(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).date().isoformat()


@dataclass
class DayUsage:
    provider: str
    calls: int = 0
    errors: int = 0
    buckets: list[int] = field(default_factory=lambda: [0] * BUCKET_COUNT)

    def add(self, calls: int, errors: int, buckets: Sequence[int]) -> None:
        self.calls += calls
        self.errors += errors
        self.buckets = [a + b for a, b in zip(self.buckets, padded(buckets), strict=True)]


def padded(buckets: Sequence[int]) -> list[int]:
    """A stored histogram at the current bucket count (never shorter, whatever was stored)."""
    values = [int(v) for v in buckets][:BUCKET_COUNT]
    return values + [0] * (BUCKET_COUNT - len(values))


def roll_up(session: Session, now: int) -> int:
    """Rolls up what was journaled and consented since the last run; returns the source rows
    read. Call it first in its transaction (its lock must come before any read)."""
    take_lock(session, now)
    return roll_up_journal(session, now) + roll_up_consents(session, now)


def take_lock(session: Session, now: int) -> None:
    """One roll-up at a time. PostgreSQL: a transaction-scoped advisory lock. SQLite: the
    database's write lock, taken by this first write (a later reader-turned-writer could find
    its snapshot stale)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    session.execute(
        update(CURSORS)
        .where(CURSORS.c.name.in_([JOURNAL_CURSOR, CONSENT_CURSOR]))
        .values(updated_at=now)
    )


def read_cursor(session: Session, name: str, now: int) -> int:
    last = session.execute(select(CURSORS.c.last_id).where(CURSORS.c.name == name)).scalar()
    if last is None:
        session.execute(insert(CURSORS).values(name=name, last_id=0, updated_at=now))
        return 0
    return int(last)


def move_cursor(session: Session, name: str, last_id: int, now: int) -> None:
    session.execute(
        update(CURSORS).where(CURSORS.c.name == name).values(last_id=last_id, updated_at=now)
    )


def settled_chunk(
    session: Session, source: TableClause, columns: Iterable, after: int, now: int
) -> tuple[list[Row], bool]:
    """The next rows after id ``after``, in id order, up to the first one not settled yet;
    and whether more may follow in this run."""
    rows = session.execute(
        select(source.c.id, *columns)
        .where(source.c.id > after)
        .order_by(source.c.id)
        .limit(CHUNK_ROWS)
    ).all()
    settled: list[Row] = []
    for row in rows:
        if row.at > now - SETTLE_SECONDS:
            return settled, False
        settled.append(row)
    return settled, len(rows) == CHUNK_ROWS


def roll_up_journal(session: Session, now: int) -> int:
    last = read_cursor(session, JOURNAL_CURSOR, now)
    read = 0
    more = True
    while more:
        rows, more = settled_chunk(
            session,
            JOURNAL,
            JOURNAL_COLUMNS,
            last,
            now,
        )
        if not rows:
            break
        days: dict[tuple[str, str], DayUsage] = {}
        services: dict[tuple[str, str, str], ServiceDayUsage] = {}
        for row in rows:
            if row.product == IDENTITY_PRODUCT:
                continue  # an identity release, not a data API call
            key = (day_of(row.at), row.product[:100])
            provider = provider_of(row.product)
            usage = days.get(key) or days.setdefault(key, DayUsage(provider))
            usage.calls += 1
            usage.errors += int(row.status >= ERROR_STATUS)
            usage.buckets[bucket_of(row.latency_ms)] += 1
            caller = (*key, row.service_id or UNKNOWN_CALLER)
            by_service = services.get(caller) or services.setdefault(
                caller, ServiceDayUsage(provider)
            )
            by_service.count(row.outcome[:30], row.status >= ERROR_STATUS)
        add_usage(session, days)
        add_service_usage(session, services)
        last = rows[-1].id
        read += len(rows)
        move_cursor(session, JOURNAL_CURSOR, last, now)
    return read


def add_usage(session: Session, days: dict[tuple[str, str], DayUsage]) -> None:
    """Read, add, write: portable, and safe under the roll-up's lock."""
    for (day, product), usage in days.items():
        stored = session.execute(
            select(USAGE.c.calls, USAGE.c.errors, USAGE.c.latency_buckets).where(
                USAGE.c.day == day, USAGE.c.product == product
            )
        ).first()
        if stored is None:
            session.execute(
                insert(USAGE).values(
                    day=day,
                    product=product,
                    provider=usage.provider,
                    calls=usage.calls,
                    errors=usage.errors,
                    latency_buckets=usage.buckets,
                )
            )
            continue
        usage.add(stored.calls, stored.errors, stored.latency_buckets)
        session.execute(
            update(USAGE)
            .where(USAGE.c.day == day, USAGE.c.product == product)
            .values(calls=usage.calls, errors=usage.errors, latency_buckets=usage.buckets)
        )


def roll_up_consents(session: Session, now: int) -> int:
    last = read_cursor(session, CONSENT_CURSOR, now)
    read = 0
    more = True
    while more:
        rows, more = settled_chunk(
            session, CONSENT_EVENTS, (CONSENT_EVENTS.c.kind, CONSENT_EVENTS.c.at), last, now
        )
        if not rows:
            break
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for row in rows:
            counts[(day_of(row.at), str(row.kind)[:20])] += 1
        add_consents(session, counts)
        last = rows[-1].id
        read += len(rows)
        move_cursor(session, CONSENT_CURSOR, last, now)
    return read


def add_consents(session: Session, counts: dict[tuple[str, str], int]) -> None:
    for (day, kind), count in counts.items():
        where = (CONSENTS.c.day == day, CONSENTS.c.kind == kind)
        stored = session.execute(select(CONSENTS.c.count).where(*where)).scalar()
        if stored is None:
            session.execute(insert(CONSENTS).values(day=day, kind=kind, count=count))
        else:
            session.execute(update(CONSENTS).where(*where).values(count=stored + count))


def last_rolled_up(session: Session) -> int | None:
    """When the roll-ups last ran (epoch seconds), or None if never."""
    value = session.execute(select(func.max(CURSORS.c.updated_at))).scalar()
    return int(value) if value is not None else None
