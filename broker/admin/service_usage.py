"""The per-service roll-up (``usage_service_day``): the data API's calls per UTC day, product
and calling service, with the count of each journal outcome. broker.admin.usage fills it in
the same pass, transaction and cursor as ``usage_day``; only the data providers (for their own
products) and the administrators read it, never the public statistics."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlmodel import Session

from broker.core.db import table_of
from broker.store.portal_models import UsageServiceDay

SERVICE_USAGE = table_of(UsageServiceDay)
UNKNOWN_CALLER = ""  # a call refused before its caller was known (no valid credential)


@dataclass
class ServiceDayUsage:
    provider: str
    calls: int = 0
    errors: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str, error: bool) -> None:
        self.calls += 1
        self.errors += int(error)
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def merged(stored: dict | None, added: dict[str, int]) -> dict[str, int]:
    outcomes = {str(key): int(count) for key, count in (stored or {}).items()}
    for outcome, count in added.items():
        outcomes[outcome] = outcomes.get(outcome, 0) + count
    return outcomes


def add_service_usage(
    session: Session, services: dict[tuple[str, str, str], ServiceDayUsage]
) -> None:
    """Read, add, write (as broker.admin.usage.add_usage): under the roll-up's lock."""
    for (day, product, service_id), usage in services.items():
        where = (
            SERVICE_USAGE.c.day == day,
            SERVICE_USAGE.c.product == product,
            SERVICE_USAGE.c.service_id == service_id,
        )
        stored = session.execute(
            select(SERVICE_USAGE.c.calls, SERVICE_USAGE.c.errors, SERVICE_USAGE.c.outcomes).where(
                *where
            )
        ).first()
        if stored is None:
            session.execute(
                insert(SERVICE_USAGE).values(
                    day=day, product=product, service_id=service_id, provider=usage.provider,
                    calls=usage.calls, errors=usage.errors, outcomes=usage.outcomes,
                )
            )  # fmt: skip
            continue
        session.execute(
            update(SERVICE_USAGE)
            .where(*where)
            .values(
                calls=stored.calls + usage.calls,
                errors=stored.errors + usage.errors,
                outcomes=merged(stored.outcomes, usage.outcomes),
            )
        )
