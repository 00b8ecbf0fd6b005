"""The status of what the platform depends on: every data provider, pinged through the data
API's own ping routes (so the answer covers the data API's path to the provider, as callers
see it), and every identity provider, through its discovery document.

``check_all`` pings them all at once, records each state in ``status_check`` (``since``: when
that state began) and keeps one incident per period a target is not up (``status_incident``):
opened when it leaves ``up``, closed when it comes back. States, from best to worst: up,
degraded (answered, but slowly), maintenance (announced unavailability), down.

Details stay technical and language-neutral ("HTTP 502", "timeout"): the public page words
the states itself, and nothing here carries personal data.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx
from sqlalchemy import text
from sqlmodel import Session, col, select

from broker.catalogue.scopes import REGISTRY
from broker.core.db import Database
from broker.core.settings import Settings
from broker.store.identity_providers import list_providers
from broker.store.portal_models import StatusCheck, StatusIncident

UP, DEGRADED, MAINTENANCE, DOWN = "up", "degraded", "maintenance", "down"
STATES = (UP, DEGRADED, MAINTENANCE, DOWN)  # best to worst
SLOW_MS = 2000  # an answer slower than this is "degraded"
PING_TIMEOUT = 8.0  # seconds: above the data API's own provider timeout, so that it answers
PROVIDER_PREFIX, IDP_PREFIX = "provider:", "idp:"
DETAIL_MAX = 500
RECORD_LOCK_KEY = 0x7374_6174_7573_0001  # any fixed 64-bit number: "status" 1


@dataclass(frozen=True)
class Target:
    """Something the platform depends on: ``key`` is ``provider:<key>`` or ``idp:<id>``;
    ``url`` None when it is not pinged (a disabled identity provider: in maintenance)."""

    key: str
    label: str
    url: str | None
    disabled_message: str = ""


@dataclass(frozen=True)
class Probe:
    target: Target
    state: str
    detail: str = ""
    latency_ms: int | None = None


def provider_targets(settings: Settings) -> list[Target]:
    base = settings.data_api_url.rstrip("/")
    return [
        Target(PROVIDER_PREFIX + p.key, p.name_fr, f"{base}/v3/{p.key}/ping")
        for p in REGISTRY.providers()
    ]


def identity_provider_targets(db: Database) -> list[Target]:
    with db.connect() as conn:
        registered = list_providers(conn)
    return [
        Target(
            IDP_PREFIX + idp.id,
            idp.name,
            f"{idp.issuer.rstrip('/')}/.well-known/openid-configuration" if idp.enabled else None,
            disabled_message=idp.message,
        )
        for idp in registered
    ]


def worst(first: str, second: str) -> str:
    return max(first, second, key=STATES.index)


def answered(target: Target, latency_ms: int, slow_ms: int) -> Probe:
    return Probe(target, DEGRADED if latency_ms > slow_ms else UP, "", latency_ms)


def first_error(response: httpx.Response) -> dict:
    """The first item of a JSON:API error answer ({} when the body is not one)."""
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return {}
    return errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}


def read_provider_ping(
    target: Target, response: httpx.Response, latency_ms: int, slow_ms: int
) -> Probe:
    """The data API answers 200 when the provider is up, else its JSON:API error: a
    maintenance one (siade's ``XX001``, 504) names the provider and says when to retry."""
    if response.status_code == 200:
        return answered(target, latency_ms, slow_ms)
    error = first_error(response)
    meta = error.get("meta")
    meta = meta if isinstance(meta, dict) else {}
    code = str(error.get("code", ""))
    if "provider" in meta and "retry_in" in meta:
        retry_in = meta.get("retry_in")
        detail = f"retry in {retry_in} s" if isinstance(retry_in, int) else "maintenance"
        return Probe(target, MAINTENANCE, detail, latency_ms)
    return Probe(target, DOWN, f"HTTP {response.status_code} {code}".strip(), latency_ms)


def read_discovery(
    target: Target, response: httpx.Response, latency_ms: int, slow_ms: int
) -> Probe:
    """Up when the provider publishes a discovery document naming its endpoints."""
    if response.status_code == 503 and "retry-after" in response.headers:
        detail = f"retry in {response.headers['retry-after'][:20]} s"
        return Probe(target, MAINTENANCE, detail, latency_ms)
    if response.status_code != 200:
        return Probe(target, DOWN, f"HTTP {response.status_code}", latency_ms)
    try:
        document = response.json()
    except ValueError:
        return Probe(target, DOWN, "discovery document is not JSON", latency_ms)
    if not isinstance(document, dict) or not document.get("authorization_endpoint"):
        return Probe(target, DOWN, "discovery document without endpoints", latency_ms)
    return answered(target, latency_ms, slow_ms)


async def probe(client: httpx.AsyncClient, target: Target, timeout: float, slow_ms: int) -> Probe:
    if target.url is None:
        return Probe(target, MAINTENANCE, target.disabled_message or "disabled")
    started = time.perf_counter()
    try:
        response = await client.get(
            target.url, timeout=timeout, headers={"Accept": "application/json"}
        )
    except httpx.TimeoutException:
        return Probe(target, DOWN, f"no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        return Probe(target, DOWN, f"unreachable ({type(exc).__name__})")
    latency_ms = round((time.perf_counter() - started) * 1000)
    read = read_provider_ping if target.key.startswith(PROVIDER_PREFIX) else read_discovery
    return read(target, response, latency_ms, slow_ms)


async def check_all(
    db: Database,
    client: httpx.AsyncClient,
    settings: Settings,
    now: int,
    *,
    timeout: float = PING_TIMEOUT,
    slow_ms: int = SLOW_MS,
) -> None:
    """Pings every target at once (each within ``timeout``), then records the results in one
    transaction, off the event loop."""
    idps = await db.run(lambda: identity_provider_targets(db))
    targets = provider_targets(settings) + idps
    probes = await asyncio.gather(*(probe(client, t, timeout, slow_ms) for t in targets))

    def store() -> None:
        with db.transaction() as session:
            record_probes(session, list(probes), now)

    await db.run(store)


def record_probes(session: Session, probes: list[Probe], now: int) -> None:
    """The new states, ``since`` moved only when a state changed; incidents opened and
    closed; a target no longer checked (a provider removed) leaves the board and its incident
    is closed."""
    if session.get_bind().dialect.name == "postgresql":
        # Several portal processes check at once: each records in turn, reading what the
        # previous one committed, so that no target gets two open incidents. (SQLite
        # serialises writers itself.)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RECORD_LOCK_KEY})
    checks = {row.target: row for row in session.exec(select(StatusCheck)).all()}
    open_incidents = {
        row.target: row
        for row in session.exec(
            select(StatusIncident).where(col(StatusIncident.ended_at).is_(None))
        )
    }
    for found in probes:
        key, detail = found.target.key, found.detail[:DETAIL_MAX]
        row = checks.pop(key, None)
        since = now if row is None or row.state != found.state else row.since
        row = row or StatusCheck(target=key, label="", state=found.state, checked_at=now, since=now)
        row.label, row.state, row.detail = found.target.label[:200], found.state, detail
        row.latency_ms, row.checked_at, row.since = found.latency_ms, now, since
        session.add(row)
        follow_incident(session, open_incidents.get(key), key, found.state, detail, now)
    for gone in checks.values():
        session.delete(gone)
        follow_incident(session, open_incidents.get(gone.target), gone.target, UP, "", now)


def follow_incident(
    session: Session,
    incident: StatusIncident | None,
    target: str,
    state: str,
    detail: str,
    now: int,
) -> None:
    """At most one open incident per target: it keeps the worst state seen and its detail."""
    if state == UP:
        if incident is not None:
            incident.ended_at = now
            session.add(incident)
        return
    if incident is None:
        session.add(StatusIncident(target=target, state=state, detail=detail, started_at=now))
    elif worst(incident.state, state) != incident.state:
        incident.state, incident.detail = state, detail
        session.add(incident)
