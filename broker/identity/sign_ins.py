"""The citizen's side of the federation: the journal of their sign-ins, and the providers they
blocked for their own account (FranceConnect lets citizens do this)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, delete, insert, select

from broker.core.db import table_of
from broker.store.federation_models import CitizenIdpBlock, IdentityProviderRecord, SignInEvent
from broker.store.models import OAuthClient, Service

EVENT = table_of(SignInEvent)
BLOCK = table_of(CitizenIdpBlock)
PROVIDER = table_of(IdentityProviderRecord)
CLIENT = table_of(OAuthClient)
SERVICE = table_of(Service)
RECORD = insert(EVENT)
IS_BLOCKED = select(BLOCK.c.idp_id).where(
    BLOCK.c.citizen_id == bindparam("citizen_id"), BLOCK.c.idp_id == bindparam("idp")
)
HISTORY_LENGTH = 50


class ProviderBlocked(Exception):
    """The citizen blocked this provider for their account: nobody is signed in."""


@dataclass(frozen=True)
class SignInView:
    at: int
    provider: str
    service: str | None  # None: the citizen space
    acr: str


def record_sign_in(
    conn: Connection, citizen_id: str, idp: str, client_id: str | None, acr: str, now: int
) -> None:
    conn.execute(
        RECORD,
        {"citizen_id": citizen_id, "at": now, "idp": idp, "client_id": client_id, "acr": acr},
    )


def is_blocked(conn: Connection, citizen_id: str, idp: str) -> bool:
    return conn.execute(IS_BLOCKED, {"citizen_id": citizen_id, "idp": idp}).first() is not None


def blocked_providers(conn: Connection, citizen_id: str) -> set[str]:
    rows = conn.execute(select(BLOCK.c.idp_id).where(BLOCK.c.citizen_id == citizen_id))
    return {row.idp_id for row in rows}


def block(conn: Connection, citizen_id: str, idp: str, now: int) -> None:
    if not is_blocked(conn, citizen_id, idp):
        conn.execute(insert(BLOCK).values(citizen_id=citizen_id, idp_id=idp, blocked_at=now))


def unblock(conn: Connection, citizen_id: str, idp: str) -> None:
    conn.execute(delete(BLOCK).where(BLOCK.c.citizen_id == citizen_id, BLOCK.c.idp_id == idp))


def history(
    conn: Connection, citizen_id: str, limit: int | None = HISTORY_LENGTH
) -> list[SignInView]:
    """The latest sign-ins, newest first, with the names the citizen knows; every one of them
    with ``limit=None`` (the export: everything held)."""
    query = (
        select(EVENT.c.at, EVENT.c.idp, EVENT.c.acr, PROVIDER.c.name, SERVICE.c.name.label("svc"))
        .select_from(
            EVENT.outerjoin(PROVIDER, PROVIDER.c.id == EVENT.c.idp)
            .outerjoin(CLIENT, CLIENT.c.client_id == EVENT.c.client_id)
            .outerjoin(SERVICE, SERVICE.c.id == CLIENT.c.service_id)
        )
        .where(EVENT.c.citizen_id == citizen_id)
        .order_by(EVENT.c.at.desc(), EVENT.c.id.desc())
    )
    rows = conn.execute(query if limit is None else query.limit(limit))
    return [SignInView(row.at, row.name or row.idp, row.svc, row.acr) for row in rows]
