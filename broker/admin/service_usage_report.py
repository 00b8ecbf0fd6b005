"""Who calls a data provider's products: the per-service roll-up (``usage_service_day``,
broker.admin.service_usage) read over the same periods as the public figures (the last 30 UTC
days or the last 12 ISO weeks), per calling service and product, with the error share and
each outcome's count.

For the data providers (their own products only) and the administrators (every provider): it
names the services calling, so it never feeds the public statistics."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import Session

from broker.admin.service_usage import SERVICE_USAGE, UNKNOWN_CALLER
from broker.admin.usage_report import Granularity, Period, periods_until
from broker.core.db import table_of
from broker.store.models import Service

SERVICES = table_of(Service)


@dataclass(frozen=True)
class ServiceLine:
    """One calling service's use of one product over the whole range shown.
    ``service_name``: None for calls refused before their caller was known (``service_id``
    "") and for a service since removed."""

    service_id: str
    service_name: str | None
    product: str
    provider: str
    calls: int
    errors: int
    outcomes: dict[str, int]  # most frequent first

    @property
    def error_share(self) -> float | None:
        return self.errors / self.calls if self.calls else None

    @property
    def identified(self) -> bool:
        return self.service_id != UNKNOWN_CALLER


@dataclass(frozen=True)
class ServiceReport:
    granularity: Granularity
    periods: list[Period]
    lines: list[ServiceLine]  # most called first
    outcomes: dict[str, int]  # every line's outcomes added up, most frequent first

    @property
    def calls(self) -> int:
        return sum(line.calls for line in self.lines)


@dataclass
class Tally:
    provider: str
    calls: int = 0
    errors: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, calls: int, errors: int, outcomes: dict) -> None:
        self.calls += calls
        self.errors += errors
        self.outcomes = added(self.outcomes, outcomes)


def added(total: dict[str, int], more: dict) -> dict[str, int]:
    result = dict(total)
    for outcome, count in more.items():
        result[str(outcome)] = result.get(str(outcome), 0) + int(count)
    return result


def by_frequency(outcomes: dict[str, int]) -> dict[str, int]:
    return dict(sorted(outcomes.items(), key=lambda item: (-item[1], item[0])))


def service_report(
    session: Session,
    *,
    now: int,
    granularity: Granularity,
    providers: frozenset[str] | None = None,
) -> ServiceReport:
    """The calls up to the UTC day of ``now`` per calling service and product; ``providers``
    given: only their products (a data provider's own view), None: every provider's."""
    periods = periods_until(datetime.fromtimestamp(now, UTC).date(), granularity)
    query = select(
        SERVICE_USAGE.c.product, SERVICE_USAGE.c.service_id, SERVICE_USAGE.c.provider,
        SERVICE_USAGE.c.calls, SERVICE_USAGE.c.errors, SERVICE_USAGE.c.outcomes,
    ).where(
        SERVICE_USAGE.c.day >= periods[0].start.isoformat(),
        SERVICE_USAGE.c.day <= periods[-1].end.isoformat(),
    )  # fmt: skip
    if providers is not None:
        query = query.where(SERVICE_USAGE.c.provider.in_(sorted(providers)))
    tallies: dict[tuple[str, str], Tally] = {}
    for row in session.execute(query):
        tally = tallies.setdefault((row.service_id, row.product), Tally(row.provider))
        tally.add(row.calls, row.errors, row.outcomes or {})
    names = service_names(session, {service_id for service_id, _ in tallies})
    lines = [
        ServiceLine(
            service_id, names.get(service_id), product, tally.provider, tally.calls,
            tally.errors, by_frequency(tally.outcomes),
        )
        for (service_id, product), tally in tallies.items()
    ]  # fmt: skip
    total: dict[str, int] = {}
    for line in lines:
        total = added(total, line.outcomes)
    return ServiceReport(granularity, periods, ranked(lines), by_frequency(total))


def service_names(session: Session, service_ids: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(service_ids) - {UNKNOWN_CALLER})
    if not wanted:
        return {}
    rows = session.execute(select(SERVICES.c.id, SERVICES.c.name).where(SERVICES.c.id.in_(wanted)))
    return {row.id: row.name for row in rows}


def ranked(lines: Iterable[ServiceLine]) -> list[ServiceLine]:
    """Most called first; among equals, named services, then removed ones, then the calls
    whose caller was not known; then by name and product, so that the page is stable."""
    return sorted(
        lines,
        key=lambda line: (
            -line.calls, not line.identified, line.service_name is None,
            line.service_name or line.service_id, line.product,
        ),
    )  # fmt: skip
