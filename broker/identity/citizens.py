"""Citizens as received from identity providers."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import Connection, bindparam, insert, select, update

from broker.core.db import table_of
from broker.identity.base import VerifiedIdentity
from broker.store.models import Citizen

CITIZEN = table_of(Citizen)
FIND = select(CITIZEN).where(
    CITIZEN.c.idp == bindparam("idp"), CITIZEN.c.idp_subject == bindparam("subject")
)
INSERT = insert(CITIZEN)
PIVOT_FIELDS = (
    "given_name",
    "family_name",
    "birthdate",
    "gender",
    "birthplace",
    "birthcountry",
    "preferred_username",
    "email",
)


def upsert_citizen(conn: Connection, identity: VerifiedIdentity, now: int | None = None) -> str:
    """Keep the identity as last received; the citizen's id stays stable across logins."""
    now = int(time.time()) if now is None else now
    fields = {name: getattr(identity.pivot, name) for name in PIVOT_FIELDS}
    row = conn.execute(FIND, {"idp": identity.idp, "subject": identity.subject}).first()
    if row is None:
        citizen_id = str(uuid.uuid4())
        conn.execute(
            INSERT,
            {
                "id": citizen_id,
                "idp": identity.idp,
                "idp_subject": identity.subject,
                "created_at": now,
                "updated_at": now,
                **fields,
            },
        )
        return citizen_id
    if any(getattr(row, name) != value for name, value in fields.items()):
        conn.execute(update(CITIZEN).where(CITIZEN.c.id == row.id).values(updated_at=now, **fields))
    return row.id
