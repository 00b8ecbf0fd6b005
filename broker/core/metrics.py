"""Prometheus metrics of every server process, and their exposition at ``/metrics``.

Labels are bounded on purpose: a route is its template (``/interaction/{id}/login``), never the
requested path, so that neither an identifier nor personal data becomes a label, and a scan of
random URLs cannot create series (they are all ``unmatched``). Label children are looked up
once and kept: an update on the request path is a dict lookup and an increment.

With several uvicorn workers, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory before
the processes start: every process then writes its values there and ``/metrics``, whichever
worker answers, adds them up (``prometheus_client.multiprocess``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.exposition import choose_encoder

MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED_ROUTE = "unmatched"
OTHER = "other"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Error codes and reasons are short snake_case words; anything else is folded into "other".
REASON = re.compile(r"[a-z][a-z0-9_]{0,47}")
# Seconds: the broker's pages answer in milliseconds, provider calls take up to connect + read
# timeout (6 s by default).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by application, route template, method and status.",
    ["app", "route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from the request's arrival to the end of its response, by application and route.",
    ["app", "route", "method"],
    buckets=LATENCY_BUCKETS,
)
FLOWS_COMPLETED = Counter(
    "broker_flows_completed",
    "Authorization flows that ended with a code issued to the service.",
)
FLOWS_FAILED = Counter(
    "broker_flows_failed",
    "Authorization flows that ended with an error for the service (redirect or error page), "
    "by OAuth error code.",
    ["reason"],
)
FLOW_STEP_ERRORS = Counter(
    "broker_flow_step_errors",
    "Error pages shown to a citizen during a flow (expired, replayed or unknown step, "
    "identity provider failure), by reason.",
    ["reason"],
)
CONSENTS = Counter(
    "broker_consents",
    "Consent decisions and changes: granted, refused, withdrawn, narrowed, revoked, expired.",
    ["event"],
)
PROVIDER_CALLS = Counter(
    "broker_provider_calls",
    "Calls to data providers, by provider and final outcome (retries included in one call).",
    ["provider", "outcome"],
)
PROVIDER_DURATION = Histogram(
    "broker_provider_call_duration_seconds",
    "Duration of a call to a data provider, retries and back-off included.",
    ["provider"],
    buckets=LATENCY_BUCKETS,
)
# Every broker process reads the same outbox: the freshest reading of a live process counts.
OUTBOX_PENDING = Gauge(
    "broker_consent_events_pending",
    "Consent events waiting for delivery to the services (read every minute).",
    multiprocess_mode="livemax",
)
OUTBOX_OLDEST_AGE = Gauge(
    "broker_consent_events_oldest_pending_age_seconds",
    "Age of the oldest consent event waiting for delivery; 0 when none waits.",
    multiprocess_mode="livemax",
)
LOGOUT_PENDING = Gauge(
    "broker_logout_notices_pending",
    "Back-channel logout notices waiting for delivery to the services (read every minute).",
    multiprocess_mode="livemax",
)
LOGOUT_OLDEST_AGE = Gauge(
    "broker_logout_notices_oldest_pending_age_seconds",
    "Age of the oldest logout notice waiting for delivery; 0 when none waits.",
    multiprocess_mode="livemax",
)

M = TypeVar("M", Counter, Histogram)


class Children(Generic[M]):
    """A metric's label children by label values, looked up once then kept (``labels()``
    takes a lock and checks its arguments at every call)."""

    def __init__(self, metric: M) -> None:
        self.metric: M = metric
        self.by_labels: dict[tuple[str, ...], M] = {}

    def __call__(self, *labels: str) -> M:
        child = self.by_labels.get(labels)
        if child is None:
            child = self.by_labels[labels] = self.metric.labels(*labels)
        return child


def bounded_reason(reason: str | None) -> str:
    return reason if reason and REASON.fullmatch(reason) else OTHER


class RequestMetrics:
    """One application's request counts and latencies."""

    def __init__(self, app: str) -> None:
        self.app = app
        self.counts = Children(HTTP_REQUESTS)
        self.durations = Children(HTTP_DURATION)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        if method not in KNOWN_METHODS:
            method = OTHER
        self.counts(self.app, route, method, str(status)).inc()
        self.durations(self.app, route, method).observe(seconds)


flows_failed = Children(FLOWS_FAILED)
step_errors = Children(FLOW_STEP_ERRORS)
consents = Children(CONSENTS)
provider_calls = Children(PROVIDER_CALLS)
provider_durations = Children(PROVIDER_DURATION)


def flow_completed() -> None:
    FLOWS_COMPLETED.inc()


def flow_failed(reason: str | None) -> None:
    flows_failed(bounded_reason(reason)).inc()


def flow_step_error(reason: str | None) -> None:
    step_errors(bounded_reason(reason)).inc()


def consent_event(event: str, count: int = 1) -> None:
    """``event``: granted, refused, withdrawn, narrowed, revoked or expired."""
    if count:
        consents(event).inc(count)


def provider_call(provider: str, outcome: str, seconds: float) -> None:
    provider_calls(provider, outcome).inc()
    provider_durations(provider).observe(seconds)


def outbox_backlog(pending: int, oldest_age: float) -> None:
    OUTBOX_PENDING.set(pending)
    OUTBOX_OLDEST_AGE.set(max(0.0, oldest_age))


def logout_backlog(pending: int, oldest_age: float) -> None:
    LOGOUT_PENDING.set(pending)
    LOGOUT_OLDEST_AGE.set(max(0.0, oldest_age))


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_DIR_ENV) or None


def exposition(accept: str) -> tuple[bytes, str]:
    """The metrics in the format the scraper accepts (Prometheus text or OpenMetrics)."""
    registry: Any = REGISTRY
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    encode: Callable[[Any], bytes]
    encode, content_type = choose_encoder(accept)
    return encode(registry), content_type


def process_stopped() -> None:
    """Drops this process's live gauges from the multiprocess directory (worker shutdown)."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(os.getpid())
