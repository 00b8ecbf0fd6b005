"""What the data API reads of a habilitation beyond what authorization loads with the
credential (``broker.oidc.models.HabilitationGrant``): the whole record with its service's name,
for ``/v3/introspect``.

Core statements built once, run on the caller's connection, like the stores'.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select

from broker.core.db import table_of
from broker.store.data_access_models import ApiKey, Habilitation
from broker.store.models import Service

HABILITATION = table_of(Habilitation)
SERVICE = table_of(Service)
KEY = table_of(ApiKey)

GET_HABILITATION = (
    select(HABILITATION, SERVICE.c.name.label("service_name"))
    .join(SERVICE, SERVICE.c.id == HABILITATION.c.service_id)
    .where(HABILITATION.c.id == bindparam("id"))
)
GET_KEY_NAME = select(KEY.c.name).where(KEY.c.id == bindparam("id"))


@dataclass(frozen=True)
class HabilitationDetails:
    id: str
    service_id: str
    service_name: str
    scopes: frozenset[str]
    purpose: str
    legal_basis: str
    legal_basis_url: str | None
    expires_at: int | None
    revoked_at: int | None
    rate_limit: int | None  # None: the platform's default
    recipients: tuple[str, ...]  # empty: none listed


def read_habilitation(conn: Connection, habilitation_id: str) -> HabilitationDetails | None:
    """The record, revoked or not (revoked_at says)."""
    row = conn.execute(GET_HABILITATION, {"id": habilitation_id}).first()
    if row is None:
        return None
    return HabilitationDetails(
        id=row.id,
        service_id=row.service_id,
        service_name=row.service_name,
        scopes=frozenset(row.scopes),
        purpose=row.purpose,
        legal_basis=row.legal_basis,
        legal_basis_url=row.legal_basis_url,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        rate_limit=row.rate_limit,
        recipients=tuple(row.recipients or ()),
    )


def read_key_name(conn: Connection, key_id: str) -> str | None:
    row = conn.execute(GET_KEY_NAME, {"id": key_id}).first()
    return row.name if row is not None else None
