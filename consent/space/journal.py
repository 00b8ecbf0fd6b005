"""The journal of accesses to the citizen's data, as their space reads it: paged, newest
first, optionally for one service; the services that appear in it; and each consent's last
access.

Rows about the citizen are those naming them (calls with an access token, and the identity
the broker handed to a service) and those carrying the keyed digest of their identity pivot
(calls by API key, which name nobody). A citizen never reads another citizen's rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from broker.core.db import table_of
from broker.store.data_access_models import AccessJournal
from broker.store.models import Service

JOURNAL = table_of(AccessJournal)
SERVICE = table_of(Service)
PER_PAGE = 20
MAX_SERVICE_ID = 64


@dataclass(frozen=True)
class JournalPage:
    rows: list[dict[str, Any]]
    page: int
    pages: int
    total: int
    per_page: int = PER_PAGE

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.rows)


@dataclass(frozen=True)
class ServiceChoice:
    id: str
    name: str


def about(citizen_id: str, identity_digest: str | None) -> ColumnElement[bool]:
    # Calls with an access token and identity releases name the citizen; calls by API key are
    # found by the keyed digest of the identity pivot, the one the data API computes.
    named = JOURNAL.c.citizen_id == citizen_id
    return or_(named, JOURNAL.c.identity_digest == identity_digest) if identity_digest else named


def page_of(
    conn: Connection,
    citizen_id: str,
    identity_digest: str | None,
    page: int,
    service_id: str | None = None,
) -> JournalPage:
    where = about(citizen_id, identity_digest)
    if service_id is not None:
        where = and_(where, JOURNAL.c.service_id == service_id)
    total = conn.execute(select(func.count()).select_from(JOURNAL).where(where)).scalar() or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    rows = conn.execute(rows_where(where).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return JournalPage([row_of(r) for r in rows], page, pages, total)


def every_row(conn: Connection, citizen_id: str, identity_digest: str | None) -> list[dict]:
    """The whole journal about the citizen, newest first (the export)."""
    return [row_of(r) for r in conn.execute(rows_where(about(citizen_id, identity_digest)))]


def rows_where(where: ColumnElement[bool]):
    return (
        select(JOURNAL, SERVICE.c.name.label("service_name"))
        .outerjoin(SERVICE, SERVICE.c.id == JOURNAL.c.service_id)
        .where(where)
        .order_by(JOURNAL.c.at.desc(), JOURNAL.c.id.desc())
    )


def row_of(row) -> dict[str, Any]:
    return {
        "at": row.at,
        "service_id": row.service_id,
        "service_name": row.service_name,
        "product": row.product,
        "mode": row.mode,
        "scopes": list(row.scopes),
        "outcome": row.outcome,
        "status": row.status,
        "credential": row.credential,
        "request_id": row.request_id,
    }


def services(conn: Connection, citizen_id: str, identity_digest: str | None) -> list[ServiceChoice]:
    """The services that appear in the citizen's journal, by name."""
    rows = conn.execute(
        select(SERVICE.c.id, SERVICE.c.name)
        .where(
            SERVICE.c.id.in_(
                select(JOURNAL.c.service_id).where(about(citizen_id, identity_digest)).distinct()
            )
        )
        .order_by(SERVICE.c.name)
    )
    return [ServiceChoice(r.id, r.name) for r in rows]


def chosen_service(choices: list[ServiceChoice], raw: str | None) -> ServiceChoice | None:
    """The service a filter names, if it is one of the citizen's."""
    if not raw or len(raw) > MAX_SERVICE_ID:
        return None
    return next((choice for choice in choices if choice.id == raw), None)


def last_accesses(conn: Connection, citizen_id: str, client_ids: Iterable[str]) -> dict[str, int]:
    """When each client last reached the citizen's data or identity under a consent: the
    newest successful row naming both the citizen and the client (data read with an access
    token the consent allowed, or the identity handed over at sign-in or read at userinfo).
    Calls by API key are made under no consent and are not counted here; the journal shows
    them. One indexed look-up per client: ``ix_access_journal_citizen_at`` walks the citizen's
    rows newest first and stops at the client's first success."""
    found = {}
    for client_id in dict.fromkeys(client_ids):
        at = conn.execute(
            select(JOURNAL.c.at)
            .where(
                JOURNAL.c.citizen_id == citizen_id,
                JOURNAL.c.client_id == client_id,
                JOURNAL.c.status == 200,
            )
            .order_by(JOURNAL.c.at.desc())
            .limit(1)
        ).scalar()
        if at is not None:
            found[client_id] = at
    return found
