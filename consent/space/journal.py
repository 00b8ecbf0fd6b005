"""The journal of accesses to the citizen's data, as their space reads it: paged, newest
first, optionally for one service; the latest rows and the whole journal in chunks (the
export); the services that appear in it; and each consent's last access.

Rows about the citizen are those naming them (calls with an access token, and the identity
the broker handed to a service) and those carrying the keyed digest of their identity pivot
(calls by API key, which name nobody). A citizen never reads another citizen's rows.

Every read starts from one of the journal's two indexes by person, service and time
(``ix_access_journal_citizen_service_at``, ``ix_access_journal_identity_service_at``): the
citizen (or digest) alone is their prefix, the citizen and a service a longer one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, Subquery, and_, func, or_, select, union_all

from broker.core.db import table_of
from broker.store import identity_releases
from broker.store.data_access_models import AccessJournal
from broker.store.models import Service

JOURNAL = table_of(AccessJournal)
SERVICE = table_of(Service)
PER_PAGE = 20
MAX_SERVICE_ID = 64
EXPORT_CHUNK = 500  # rows read at a time for the export file

RowKey = tuple[int, int]  # (at, id): where a newest-first walk of the journal stopped


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


@dataclass(frozen=True)
class ConsentUse:
    """What counts as an access under a consent (its grants for one service and purpose):
    a successful row naming the citizen, for the consent's service and client, since its
    first grant, and either under its habilitation (data read with a token the consent
    allowed) or an identity release (the identity is given on the consent, under no
    habilitation)."""

    service_id: str
    client_id: str
    habilitation_id: str | None
    since: int  # when the first of its grants was given

    def covers(self, client_id: str | None, habilitation_id: str | None, product: str) -> bool:
        if client_id != self.client_id:
            return False
        if product == identity_releases.PRODUCT:
            return True
        return habilitation_id is not None and habilitation_id == self.habilitation_id


def matching(
    citizen_id: str,
    identity_digest: str | None,
    service_id: str | None = None,
    before: RowKey | None = None,
) -> Subquery:
    """The citizen's rows (for one service, older than ``before``, when given). Calls with an
    access token and identity releases name the citizen; calls by API key are found by the
    keyed digest of the identity pivot, the one the data API computes.

    Two look-ups, one per index, joined by UNION ALL rather than OR: with a service, the
    databases' planners would otherwise factor the service out of the OR and walk every
    citizen's rows for that service. The second look-up takes only rows that name no citizen
    (calls by API key): a row naming a citizen is that citizen's alone, even when another
    account's identity folds to the same digest, and none comes twice."""
    named = [JOURNAL.c.citizen_id == citizen_id]
    keyed = [JOURNAL.c.identity_digest == identity_digest, JOURNAL.c.citizen_id.is_(None)]
    for conditions in (named, keyed):
        if service_id is not None:
            conditions.append(JOURNAL.c.service_id == service_id)
        if before is not None:
            at, row_id = before
            conditions.append(
                or_(JOURNAL.c.at < at, and_(JOURNAL.c.at == at, JOURNAL.c.id < row_id))
            )
    found = select(JOURNAL).where(*named)
    if identity_digest:
        return union_all(found, select(JOURNAL).where(*keyed)).subquery("about")
    return found.subquery("about")


def page_of(
    conn: Connection,
    citizen_id: str,
    identity_digest: str | None,
    page: int,
    service_id: str | None = None,
) -> JournalPage:
    about = matching(citizen_id, identity_digest, service_id)
    total = count(conn, about)
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    rows = conn.execute(rows_of(about).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return JournalPage([row_of(r) for r in rows], page, pages, total)


def count(conn: Connection, about: Subquery) -> int:
    return conn.execute(select(func.count()).select_from(about)).scalar() or 0


def latest(
    conn: Connection, citizen_id: str, identity_digest: str | None, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The ``limit`` newest rows about the citizen, and how many there are in all."""
    about = matching(citizen_id, identity_digest)
    rows = conn.execute(rows_of(about).limit(limit)).all()
    return [row_of(r) for r in rows], count(conn, about)


def chunk(
    conn: Connection,
    citizen_id: str,
    identity_digest: str | None,
    before: RowKey | None,
    size: int = EXPORT_CHUNK,
) -> tuple[list[dict[str, Any]], RowKey | None]:
    """Up to ``size`` rows about the citizen, newest first, older than ``before`` (from the
    newest when None), and where the next chunk starts (None: this was the last). A walk by
    key, not by offset: a row written meanwhile shifts none. Each chunk reads the citizen's
    older rows through the (citizen, service, time) index and sorts them: linear in the
    citizen's rows per chunk, which a citizen's journal (hundreds, thousands) affords."""
    about = matching(citizen_id, identity_digest, before=before)
    rows = conn.execute(rows_of(about).limit(size)).all()
    following = (rows[-1].at, rows[-1].id) if len(rows) == size else None
    return [row_of(r) for r in rows], following


def rows_of(about: Subquery) -> Select:
    """``about``'s rows with their service's name, newest first."""
    return (
        select(about, SERVICE.c.name.label("service_name"))
        .outerjoin(SERVICE, SERVICE.c.id == about.c.service_id)
        .order_by(about.c.at.desc(), about.c.id.desc())
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
        "recipient": row.recipient,  # the SIRET of the organisation the data went to
        "subject": row.subject,  # the pseudonymous identifier the service knows the citizen by
    }


def services(conn: Connection, citizen_id: str, identity_digest: str | None) -> list[ServiceChoice]:
    """The services that appear in the citizen's journal, by name."""
    about = matching(citizen_id, identity_digest)
    rows = conn.execute(
        select(SERVICE.c.id, SERVICE.c.name)
        .where(SERVICE.c.id.in_(select(about.c.service_id).distinct()))
        .order_by(SERVICE.c.name)
    )
    return [ServiceChoice(r.id, r.name) for r in rows]


def chosen_service(choices: list[ServiceChoice], raw: str | None) -> ServiceChoice | None:
    """The service a filter names, if it is one of the citizen's."""
    if not raw or len(raw) > MAX_SERVICE_ID:
        return None
    return next((choice for choice in choices if choice.id == raw), None)


def last_accesses(
    conn: Connection, citizen_id: str, uses: list[ConsentUse]
) -> dict[ConsentUse, int]:
    """When each consent was last used (see ``ConsentUse``); a consent never used is left out.
    Calls by API key are made under no consent and are not counted here; the journal shows
    them.

    One query for every consent: the citizen's successful rows for their services since the
    oldest of them (``ix_access_journal_citizen_service_at`` narrows to exactly those), each
    kind's newest by client, habilitation and product. A consent's last access is the newest
    of the kinds it covers, when it is not older than the consent itself: every row of a kind
    the consent covers is an access under it once it is that recent."""
    if not uses:
        return {}
    kinds = conn.execute(last_access_query(citizen_id, uses)).all()
    found: dict[ConsentUse, int] = {}
    for use in uses:
        times = [
            kind.newest
            for kind in kinds
            if kind.service_id == use.service_id
            and use.covers(kind.client_id, kind.habilitation_id, kind.product)
        ]
        if times and max(times) >= use.since:
            found[use] = max(times)
    return found


def last_access_query(citizen_id: str, uses: list[ConsentUse]) -> Select:
    """The newest successful row of each kind (client, habilitation, product) about the
    citizen, for the consents' services, since the oldest of them."""
    return (
        select(
            JOURNAL.c.service_id,
            JOURNAL.c.client_id,
            JOURNAL.c.habilitation_id,
            JOURNAL.c.product,
            func.max(JOURNAL.c.at).label("newest"),
        )
        .where(
            JOURNAL.c.citizen_id == citizen_id,
            JOURNAL.c.service_id.in_(sorted({use.service_id for use in uses})),
            JOURNAL.c.at >= min(use.since for use in uses),
            JOURNAL.c.status == 200,
        )
        .group_by(
            JOURNAL.c.service_id, JOURNAL.c.client_id, JOURNAL.c.habilitation_id, JOURNAL.c.product
        )
    )
