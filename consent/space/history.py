"""What the citizen's space reads: their consents with items and events, the journal of
accesses to their data, receipts, and the export of everything the broker holds about them.

Every query is bound to one citizen: a citizen never reads another citizen's records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select

from broker.catalogue.scopes import REGISTRY
from broker.core.db import table_of
from broker.store.data_access_models import AccessJournal, Habilitation
from broker.store.models import Citizen, Service
from consent.models import ConsentEvent, ConsentGrant, ConsentGrantScope, GrantStatus

GRANT = table_of(ConsentGrant)
GRANT_SCOPE = table_of(ConsentGrantScope)
EVENT = table_of(ConsentEvent)
SERVICE = table_of(Service)
JOURNAL = table_of(AccessJournal)
HABILITATION = table_of(Habilitation)
CITIZEN = table_of(Citizen)

GRANTS_OF = (
    select(
        GRANT,
        SERVICE.c.name.label("service_name"),
        HABILITATION.c.purpose,
        HABILITATION.c.legal_basis,
        HABILITATION.c.legal_basis_url,
    )
    .join(SERVICE, SERVICE.c.id == GRANT.c.service_id)
    .outerjoin(HABILITATION, HABILITATION.c.id == GRANT.c.habilitation_id)
    .where(GRANT.c.citizen_id == bindparam("citizen_id"))
    .order_by(GRANT.c.created_at.desc(), GRANT.c.id)
)
SCOPES_OF_GRANTS = select(GRANT_SCOPE).where(
    GRANT_SCOPE.c.grant_id.in_(bindparam("ids", expanding=True))
)
EVENTS_OF_GRANTS = (
    select(EVENT)
    .where(EVENT.c.grant_id.in_(bindparam("ids", expanding=True)))
    .order_by(EVENT.c.at, EVENT.c.id)
)


@dataclass
class ConsentView:
    id: str
    service_name: str
    client_id: str
    status: str  # active, expired, revoked, refused
    mode: str
    created_at: int
    expires_at: int | None
    ended_at: int | None
    purpose: str | None
    legal_basis: str | None
    legal_basis_url: str | None
    has_receipt: bool
    items: list[dict[str, Any]] = field(default_factory=list)  # scope, optional, withdrawn_at
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.status == GrantStatus.ACTIVE

    @property
    def withdrawable(self) -> list[str]:
        return [i["scope"] for i in self.items if i["optional"] and not i["withdrawn_at"]]


def effective_status(status: str, expires_at: int | None, now: int) -> str:
    if status == GrantStatus.ACTIVE and expires_at is not None and expires_at <= now:
        return GrantStatus.EXPIRED
    return status


def consents(
    conn: Connection, citizen_id: str, now: int, grant_id: str | None = None
) -> list[ConsentView]:
    """The citizen's consents, newest first; only ``grant_id`` when given."""
    query = GRANTS_OF if grant_id is None else GRANTS_OF.where(GRANT.c.id == grant_id)
    views = {}
    for row in conn.execute(query, {"citizen_id": citizen_id}):
        views[row.id] = ConsentView(
            id=row.id,
            service_name=row.service_name,
            client_id=row.client_id,
            status=effective_status(row.status, row.expires_at, now),
            mode=row.mode,
            created_at=row.created_at,
            expires_at=row.expires_at,
            ended_at=row.revoked_at,
            purpose=row.purpose,
            legal_basis=row.legal_basis,
            legal_basis_url=row.legal_basis_url,
            has_receipt=row.receipt is not None,
        )
    if not views:
        return []
    ids = list(views)
    for row in conn.execute(SCOPES_OF_GRANTS, {"ids": ids}):
        views[row.grant_id].items.append(
            {"scope": row.scope, "optional": row.optional, "withdrawn_at": row.withdrawn_at}
        )
    order = {name: index for index, name in enumerate(REGISTRY.names())}
    for view in views.values():  # in the registry's order, as the consent screen shows them
        view.items.sort(key=lambda item: order.get(item["scope"], len(order)))
    for row in conn.execute(EVENTS_OF_GRANTS, {"ids": ids}):
        views[row.grant_id].events.append(
            {"kind": row.kind, "at": row.at, "scopes": list(row.scopes), "wording": row.wording}
        )
    return list(views.values())


def receipt_of(conn: Connection, citizen_id: str, grant_id: str) -> str | None:
    return conn.execute(
        select(GRANT.c.receipt).where(GRANT.c.id == grant_id, GRANT.c.citizen_id == citizen_id)
    ).scalar()


@dataclass(frozen=True)
class JournalPage:
    rows: list[dict[str, Any]]
    page: int
    pages: int
    total: int


def _journal_filter(citizen_id: str, identity_digest: str | None):
    # France Connect calls name the citizen; calls by API key are found by the keyed digest of
    # the identity pivot, the one the data API computes from the full pivot.
    about = JOURNAL.c.citizen_id == citizen_id
    if identity_digest:
        about = or_(about, JOURNAL.c.identity_digest == identity_digest)
    return about


def journal(
    conn: Connection, citizen_id: str, identity_digest: str | None, page: int, per_page: int = 20
) -> JournalPage:
    about = _journal_filter(citizen_id, identity_digest)
    total = conn.execute(select(func.count()).select_from(JOURNAL).where(about)).scalar() or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = conn.execute(
        select(JOURNAL, SERVICE.c.name.label("service_name"))
        .outerjoin(SERVICE, SERVICE.c.id == JOURNAL.c.service_id)
        .where(about)
        .order_by(JOURNAL.c.at.desc(), JOURNAL.c.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return JournalPage(rows=[_journal_row(r) for r in rows], page=page, pages=pages, total=total)


def _journal_row(row) -> dict[str, Any]:
    return {
        "at": row.at,
        "service_name": row.service_name,
        "product": row.product,
        "mode": row.mode,
        "scopes": list(row.scopes),
        "outcome": row.outcome,
        "status": row.status,
        "credential": row.credential,
        "request_id": row.request_id,
    }


# What the export shows of the identity the identity provider sent, and when it was received.
IDENTITY_FIELDS = (
    "idp",
    "idp_subject",
    "given_name",
    "family_name",
    "preferred_username",
    "birthdate",
    "gender",
    "birthplace",
    "birthcountry",
    "email",
    "created_at",
    "updated_at",
)


def export(
    conn: Connection, citizen_id: str, identity_digest: str | None, now: int
) -> dict[str, Any]:
    """GDPR article 15: everything held about the citizen, as JSON."""
    citizen = conn.execute(select(CITIZEN).where(CITIZEN.c.id == citizen_id)).first()
    identity = {key: getattr(citizen, key) for key in IDENTITY_FIELDS} if citizen else None
    receipts = {
        row.id: row.receipt
        for row in conn.execute(
            select(GRANT.c.id, GRANT.c.receipt).where(GRANT.c.citizen_id == citizen_id)
        )
    }
    rows = conn.execute(
        select(JOURNAL, SERVICE.c.name.label("service_name"))
        .outerjoin(SERVICE, SERVICE.c.id == JOURNAL.c.service_id)
        .where(_journal_filter(citizen_id, identity_digest))
        .order_by(JOURNAL.c.at.desc(), JOURNAL.c.id.desc())
    ).all()
    return {
        "generated_at": now,
        "identity": identity,
        "consents": [
            {
                "id": c.id,
                "service": c.service_name,
                "client_id": c.client_id,
                "status": c.status,
                "mode": c.mode,
                "created_at": c.created_at,
                "expires_at": c.expires_at,
                "ended_at": c.ended_at,
                "purpose": c.purpose,
                "legal_basis": c.legal_basis,
                "items": c.items,
                "events": c.events,
                "receipt": receipts.get(c.id),
            }
            for c in consents(conn, citizen_id, now)
        ],
        "journal": [_journal_row(r) for r in rows],
    }
