"""What the public status page shows, read in one go: each target's last state, the current
maintenance notices and the incidents of the last days. Public data only: states, times and
technical details, never a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, or_, select

from broker.admin.status import PROVIDER_PREFIX, UP
from broker.admin.status_notices import PLATFORM, current_notices
from broker.catalogue.scopes import REGISTRY
from broker.store.portal_models import StatusCheck, StatusIncident

INCIDENT_DAYS = 30
INCIDENTS_SHOWN = 100
ALL_UP, DISRUPTED, UNKNOWN = "all_up", "disrupted", "unknown"
PROVIDER_ORDER = {PROVIDER_PREFIX + p.key: n for n, p in enumerate(REGISTRY.providers())}


@dataclass(frozen=True)
class TargetState:
    target: str
    label: str
    state: str
    detail: str
    since: int
    checked_at: int
    latency_ms: int | None

    @property
    def is_provider(self) -> bool:
        return self.target.startswith(PROVIDER_PREFIX)


@dataclass(frozen=True)
class Incident:
    target: str
    label: str
    state: str
    detail: str
    started_at: int
    ended_at: int | None
    duration: int  # seconds, up to now while it lasts


@dataclass(frozen=True)
class Notice:
    id: int
    target: str
    label: str  # "" for the whole platform
    message: str
    starts_at: int
    ends_at: int


@dataclass(frozen=True)
class StatusReport:
    now: int
    targets: list[TargetState]
    incidents: list[Incident]
    notices: list[Notice]

    @property
    def overall(self) -> str:
        if not self.targets:
            return UNKNOWN
        return ALL_UP if all(t.state == UP for t in self.targets) else DISRUPTED

    @property
    def checked_at(self) -> int | None:
        return max((t.checked_at for t in self.targets), default=None)


def board_order(check: StatusCheck) -> tuple[int, str]:
    return (PROVIDER_ORDER.get(check.target, len(PROVIDER_ORDER)), check.label.casefold())


def status_report(session: Session, now: int, days: int = INCIDENT_DAYS) -> StatusReport:
    checks = sorted(session.exec(select(StatusCheck)).all(), key=board_order)
    labels = {check.target: check.label for check in checks}
    since = now - days * 86400
    incidents = session.exec(
        select(StatusIncident)
        .where(
            or_(
                col(StatusIncident.ended_at).is_(None),
                col(StatusIncident.ended_at) >= since,
            )
        )
        .order_by(col(StatusIncident.started_at).desc(), col(StatusIncident.id).desc())
        .limit(INCIDENTS_SHOWN)
    ).all()
    return StatusReport(
        now=now,
        targets=[
            TargetState(c.target, c.label, c.state, c.detail, c.since, c.checked_at, c.latency_ms)
            for c in checks
        ],
        incidents=[
            Incident(
                i.target,
                labels.get(i.target, i.target),
                i.state,
                i.detail,
                i.started_at,
                i.ended_at,
                (i.ended_at if i.ended_at is not None else now) - i.started_at,
            )
            for i in incidents
        ],
        notices=[
            Notice(
                n.id or 0,
                n.target,
                "" if n.target == PLATFORM else labels.get(n.target, n.target),
                n.message,
                n.starts_at,
                n.ends_at,
            )
            for n in current_notices(session, now)
        ],
    )


def iso(moment: int | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def report_json(report: StatusReport) -> dict[str, Any]:
    """Machine-readable, the same data: times in UTC (ISO 8601), French labels."""
    return {
        "status": report.overall,
        "checked_at": iso(report.checked_at),
        "services": [
            {
                "id": t.target,
                "name": t.label,
                "kind": "data_provider" if t.is_provider else "identity_provider",
                "state": t.state,
                "since": iso(t.since),
                "checked_at": iso(t.checked_at),
                "latency_ms": t.latency_ms,
                "detail": t.detail,
            }
            for t in report.targets
        ],
        "notices": [
            {
                "about": n.target or None,
                "message": n.message,
                "starts_at": iso(n.starts_at),
                "ends_at": iso(n.ends_at),
            }
            for n in report.notices
        ],
        "incidents": [
            {
                "id": i.target,
                "name": i.label,
                "state": i.state,
                "started_at": iso(i.started_at),
                "ended_at": iso(i.ended_at),
                "duration_seconds": i.duration,
            }
            for i in report.incidents
        ],
    }
