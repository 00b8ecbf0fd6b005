"""SQL for the data API: API keys with their habilitation, and the access journal.

Core statements built once, run on a plain connection, like the OIDC store."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select

from broker.core.db import table_of
from broker.oidc.introspection import IntrospectingProvider
from broker.oidc.models import HabilitationGrant
from broker.store.clients import habilitation_from_row
from broker.store.data_access_models import (
    AccessJournal,
    ApiKey,
    Habilitation,
    IntrospectionClient,
)
from broker.store.models import Service

KEY = table_of(ApiKey)
HABILITATION = table_of(Habilitation)
SERVICE = table_of(Service)
JOURNAL = table_of(AccessJournal)

GET_KEY = (
    select(
        KEY.c.id.label("key_id"),
        KEY.c.revoked_at.label("key_revoked_at"),
        HABILITATION.c.id,
        HABILITATION.c.scopes,
        HABILITATION.c.purpose,
        HABILITATION.c.legal_basis,
        HABILITATION.c.expires_at,
        HABILITATION.c.rate_limit,
        HABILITATION.c.optional_scopes,
        HABILITATION.c.consent_mode,
        HABILITATION.c.consent_days,
        HABILITATION.c.legal_basis_url,
        HABILITATION.c.recipients,
        HABILITATION.c.revoked_at.label("habilitation_revoked_at"),
        SERVICE.c.id.label("service_id"),
    )
    .join(HABILITATION, HABILITATION.c.id == KEY.c.habilitation_id)
    .join(SERVICE, SERVICE.c.id == HABILITATION.c.service_id)
    .where(KEY.c.digest == bindparam("digest"))
)
INSERT_JOURNAL = insert(JOURNAL)
INTROSPECTION = table_of(IntrospectionClient)
GET_INTROSPECTION_CLIENT = select(INTROSPECTION).where(
    INTROSPECTION.c.client_id == bindparam("client_id"), INTROSPECTION.c.revoked_at.is_(None)
)


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    revoked_at: int | None
    habilitation: HabilitationGrant
    habilitation_revoked_at: int | None
    service_id: str


class SqlDataAccessStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get_api_key(self, key_digest: str) -> ApiKeyRecord | None:
        row = self.conn.execute(GET_KEY, {"digest": key_digest}).first()
        if row is None:
            return None
        return ApiKeyRecord(
            id=row.key_id,
            revoked_at=row.key_revoked_at,
            habilitation=habilitation_from_row(row),
            habilitation_revoked_at=row.habilitation_revoked_at,
            service_id=row.service_id,
        )

    def journal(self, entry: dict) -> None:
        self.conn.execute(INSERT_JOURNAL, entry)

    def get_introspection_client(self, client_id: str) -> IntrospectingProvider | None:
        if not isinstance(client_id, str) or len(client_id) > 64:
            return None
        row = self.conn.execute(GET_INTROSPECTION_CLIENT, {"client_id": client_id}).first()
        if row is None:
            return None
        return IntrospectingProvider(
            client_id=row.client_id, provider=row.provider, secret_digest=row.secret_digest
        )
