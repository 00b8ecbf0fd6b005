"""The usage figures the statistics pages show, read from the roll-ups (broker.admin.usage):
per product and per provider, per UTC day (the last 30) or per ISO week (the last 12), with
the error share, the latency percentiles read from the buckets, and the consents.

Consents: "withdrawn" is a whole consent taken back (event ``revoked``: by the citizen, or
ended by the broker on a refresh token replay); a consent narrowed (optional items taken back,
the rest kept) and a consent come to its end (``expired``) are counted apart, under their own
names."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlmodel import Session

from broker.admin.usage import BUCKET_COUNT, CONSENTS, LATENCY_BUCKETS_MS, USAGE, padded

DAYS_SHOWN = 30
WEEKS_SHOWN = 12


class Granularity(StrEnum):
    DAY = "day"
    WEEK = "week"


class ConsentKind(StrEnum):
    """The consent ledger's event kinds (consent.models.EventKind), as the statistics read
    them from the table."""

    GRANTED = "granted"
    REFUSED = "refused"
    REVOKED = "revoked"  # shown as "withdrawn"
    NARROWED = "narrowed"
    EXPIRED = "expired"


KINDS = {kind.value: kind for kind in ConsentKind}


@dataclass(frozen=True)
class Latency:
    """A percentile read from the buckets: at most ``bound_ms``, or more than it when
    ``beyond`` (it fell past the last bucket)."""

    bound_ms: int
    beyond: bool = False


@dataclass(frozen=True)
class Figures:
    calls: int = 0
    errors: int = 0
    buckets: tuple[int, ...] = (0,) * BUCKET_COUNT

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.calls + other.calls,
            self.errors + other.errors,
            tuple(a + b for a, b in zip(self.buckets, other.buckets, strict=True)),
        )

    @property
    def error_share(self) -> float | None:
        return self.errors / self.calls if self.calls else None

    @property
    def p50(self) -> Latency | None:
        return percentile(self.buckets, 0.50)

    @property
    def p95(self) -> Latency | None:
        return percentile(self.buckets, 0.95)


def percentile(buckets: Iterable[int], q: float) -> Latency | None:
    """The bucket holding the nearest-rank ``q`` percentile, as its upper bound."""
    counts = list(buckets)
    total = sum(counts)
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for index, count in enumerate(counts):
        seen += count
        if seen >= rank and index < len(LATENCY_BUCKETS_MS):
            return Latency(LATENCY_BUCKETS_MS[index])
    return Latency(LATENCY_BUCKETS_MS[-1], beyond=True)


@dataclass(frozen=True)
class Period:
    key: str  # "2026-12-06" or "2026-W49"
    start: date
    end: date  # inclusive


@dataclass(frozen=True)
class Line:
    """One product's or provider's figures over the whole range shown."""

    key: str
    provider: str
    figures: Figures


@dataclass
class UsageReport:
    granularity: Granularity
    periods: list[Period]
    per_period: list[Figures]
    products: list[Line]
    providers: list[Line]
    consents: list[dict[ConsentKind, int]] = field(default_factory=list)  # per period

    @property
    def total(self) -> Figures:
        return sum(self.per_period, Figures())

    @property
    def consent_totals(self) -> dict[ConsentKind, int]:
        return {kind: sum(c.get(kind, 0) for c in self.consents) for kind in ConsentKind}


def periods_until(today: date, granularity: Granularity) -> list[Period]:
    if granularity == Granularity.DAY:
        days = [today - timedelta(days=n) for n in range(DAYS_SHOWN - 1, -1, -1)]
        return [Period(d.isoformat(), d, d) for d in days]
    monday = today - timedelta(days=today.weekday())
    weeks = [monday - timedelta(weeks=n) for n in range(WEEKS_SHOWN - 1, -1, -1)]
    return [Period(week_key(m), m, m + timedelta(days=6)) for m in weeks]


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def period_key(day: str, granularity: Granularity) -> str:
    return day if granularity == Granularity.DAY else week_key(date.fromisoformat(day))


def usage_report(
    session: Session,
    *,
    now: int,
    granularity: Granularity,
    providers: frozenset[str] | None = None,
) -> UsageReport:
    """The figures up to the UTC day of ``now``; ``providers`` given: only their products
    (a data provider's own view), and no consent figures (they are not per provider)."""
    today = datetime.fromtimestamp(now, UTC).date()
    periods = periods_until(today, granularity)
    first, last = periods[0].start.isoformat(), periods[-1].end.isoformat()
    query = select(
        USAGE.c.day, USAGE.c.product, USAGE.c.provider, USAGE.c.calls, USAGE.c.errors,
        USAGE.c.latency_buckets,
    ).where(USAGE.c.day >= first, USAGE.c.day <= last)  # fmt: skip
    if providers is not None:
        query = query.where(USAGE.c.provider.in_(sorted(providers)))
    per_period = {p.key: Figures() for p in periods}
    per_product: dict[str, Line] = {}
    per_provider: dict[str, Figures] = {}
    for row in session.execute(query):
        figures = Figures(row.calls, row.errors, tuple(padded(row.latency_buckets)))
        key = period_key(row.day, granularity)
        per_period[key] = per_period[key] + figures
        line = per_product.get(row.product)
        per_product[row.product] = Line(
            row.product, row.provider, figures if line is None else line.figures + figures
        )
        per_provider[row.provider] = per_provider.get(row.provider, Figures()) + figures
    report = UsageReport(
        granularity,
        periods,
        [per_period[p.key] for p in periods],
        ranked(per_product.values()),
        ranked(Line(key, key, figures) for key, figures in per_provider.items()),
    )
    if providers is None:
        report.consents = consent_counts(session, periods, granularity)
    return report


def ranked(lines: Iterable[Line]) -> list[Line]:
    """Most called first; ties in name order, so that the page is stable."""
    return sorted(lines, key=lambda line: (-line.figures.calls, line.key))


def consent_counts(
    session: Session, periods: list[Period], granularity: Granularity
) -> list[dict[ConsentKind, int]]:
    counts = {p.key: dict.fromkeys(ConsentKind, 0) for p in periods}
    rows = session.execute(
        # Labelled: a row's ``count`` would be the tuple's method.
        select(CONSENTS.c.day, CONSENTS.c.kind, CONSENTS.c.count.label("events")).where(
            CONSENTS.c.day >= periods[0].start.isoformat(),
            CONSENTS.c.day <= periods[-1].end.isoformat(),
        )
    )
    for row in rows:
        kind = KINDS.get(row.kind)
        if kind is not None:
            counts[period_key(row.day, granularity)][kind] += row.events
    return [counts[p.key] for p in periods]
