"""What the citizen's space reads of their consents: each grant with its items, its events
and what the habilitation told the citizen (purpose, legal basis, who is responsible, how
long the service keeps the data, why each item), and the signed receipts.

Every query is bound to one citizen: a citizen never reads another citizen's records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, select

from broker.catalogue.scopes import REGISTRY
from broker.core.db import table_of
from broker.store.data_access_models import Habilitation
from broker.store.models import OAuthClient, Service
from consent.links import Contact, contact, https_link
from consent.models import ConsentEvent, ConsentGrant, ConsentGrantScope, GrantStatus

GRANT = table_of(ConsentGrant)
GRANT_SCOPE = table_of(ConsentGrantScope)
EVENT = table_of(ConsentEvent)
SERVICE = table_of(Service)
CLIENT = table_of(OAuthClient)
HABILITATION = table_of(Habilitation)

MAX_ID = 64  # ids are at most 64 characters: a longer one is no consent's

GRANTS_OF = (
    select(
        GRANT,
        SERVICE.c.name.label("service_name"),
        CLIENT.c.notification_uri.is_not(None).label("service_notified"),
        HABILITATION.c.purpose,
        HABILITATION.c.legal_basis,
        HABILITATION.c.legal_basis_url,
        HABILITATION.c.controller,
        HABILITATION.c.contact,
        HABILITATION.c.dpo,
        HABILITATION.c.retention,
        HABILITATION.c.reasons,
    )
    .join(SERVICE, SERVICE.c.id == GRANT.c.service_id)
    .outerjoin(CLIENT, CLIENT.c.client_id == GRANT.c.client_id)
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
    service_id: str
    service_name: str
    client_id: str
    habilitation_id: str | None
    status: str  # active, expired, revoked, refused
    mode: str
    created_at: int
    expires_at: int | None
    ended_at: int | None
    purpose: str | None
    legal_basis: str | None
    legal_basis_url: str | None
    receipt: str | None = field(default=None, repr=False)  # the signed receipt (JWS)
    service_notified: bool = False  # the service gets the consent's events on its back-channel
    controller: str | None = None  # who is responsible for the data at the service
    contact: str | None = None  # email address or https URL
    dpo: str | None = None  # the data protection officer, likewise
    retention: str | None = None  # how long the service keeps the data
    items: list[dict[str, Any]] = field(default_factory=list)  # scope, optional, withdrawn_at
    events: list[dict[str, Any]] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)  # why the service needs an item

    @property
    def active(self) -> bool:
        return self.status == GrantStatus.ACTIVE

    @property
    def has_receipt(self) -> bool:
        return self.receipt is not None

    @property
    def contact_link(self) -> Contact | None:
        return contact(self.contact)

    @property
    def dpo_link(self) -> Contact | None:
        return contact(self.dpo)

    @property
    def legal_basis_link(self) -> str | None:
        """The legal basis's address, to link to only when it is an https URL."""
        return https_link(self.legal_basis_url)

    @property
    def withdrawable(self) -> list[str]:
        return [i["scope"] for i in self.items if i["optional"] and not i["withdrawn_at"]]

    @property
    def shown_items(self) -> list[dict[str, Any]]:
        """The items a citizen reads about: ``openid`` (a technical identifier) left out."""
        return [i for i in self.items if i["scope"] != "openid"]

    @property
    def ended_on(self) -> int | None:
        """When it stopped: revoked or expired (its expiry, when no sweep has recorded it),
        or the day it was refused."""
        if self.status == GrantStatus.REFUSED:
            return self.ended_at or self.created_at
        if self.status == GrantStatus.EXPIRED:
            return self.ended_at or self.expires_at
        return self.ended_at


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
            service_id=row.service_id,
            service_name=row.service_name,
            client_id=row.client_id,
            habilitation_id=row.habilitation_id,
            status=effective_status(row.status, row.expires_at, now),
            mode=row.mode,
            created_at=row.created_at,
            expires_at=row.expires_at,
            ended_at=row.revoked_at,
            purpose=row.purpose,
            legal_basis=row.legal_basis,
            legal_basis_url=row.legal_basis_url,
            receipt=row.receipt,
            service_notified=bool(row.service_notified),
            controller=row.controller,
            contact=row.contact,
            dpo=row.dpo,
            retention=row.retention,
            reasons=dict(row.reasons or {}),
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


def consent(conn: Connection, citizen_id: str, grant_id: str, now: int) -> ConsentView | None:
    """One of the citizen's consents; None when it is unknown or someone else's."""
    if len(grant_id) > MAX_ID:
        return None
    found = consents(conn, citizen_id, now, grant_id)
    return found[0] if found else None


def owns(conn: Connection, citizen_id: str, grant_id: str) -> bool:
    if len(grant_id) > MAX_ID:
        return False
    found = conn.execute(
        select(GRANT.c.id).where(GRANT.c.id == grant_id, GRANT.c.citizen_id == citizen_id)
    ).first()
    return found is not None
