"""Citizens as received from identity providers: one row per person, found by the keyed
digest of their identity pivot, whichever provider they sign in through."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from broker.core.db import table_of
from broker.identity.base import VerifiedIdentity
from broker.store.models import Citizen

CITIZEN = table_of(Citizen)
BY_DIGEST = select(CITIZEN).where(CITIZEN.c.pivot_digest == bindparam("digest"))
# Rows from before the federation have no digest yet: found once by provider and subject.
BY_SUBJECT = select(CITIZEN).where(
    CITIZEN.c.idp == bindparam("idp"),
    CITIZEN.c.idp_subject == bindparam("subject"),
    CITIZEN.c.pivot_digest.is_(None),
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


def find_citizen(conn: Connection, digest: str) -> Row[Any] | None:
    return conn.execute(BY_DIGEST, {"digest": digest}).first()


def upsert_citizen(
    conn: Connection,
    identity: VerifiedIdentity,
    digest: str,
    now: int | None = None,
    found: Row[Any] | None = None,
) -> str:
    """The citizen's id, stable across sign-ins and providers; the identity and the provider
    used are kept as last received. ``found``: the row ``find_citizen`` read, if any."""
    now = int(time.time()) if now is None else now
    fields = {name: getattr(identity.pivot, name) for name in PIVOT_FIELDS}
    fields.update(idp=identity.idp, idp_subject=identity.subject[:255])
    row = found
    if row is None:
        row = conn.execute(BY_SUBJECT, {"idp": identity.idp, "subject": identity.subject}).first()
    if row is None:
        citizen_id = str(uuid.uuid4())
        try:
            # A savepoint: if the same person's first sign-in elsewhere wins the race for the
            # unique digest, this transaction goes on with their row.
            with conn.begin_nested():
                conn.execute(
                    INSERT,
                    {
                        "id": citizen_id,
                        "pivot_digest": digest,
                        "created_at": now,
                        "updated_at": now,
                        **fields,
                    },
                )
            return citizen_id
        except IntegrityError:
            row = conn.execute(BY_DIGEST, {"digest": digest}).first()
            if row is None:  # not a race on the digest: a real error
                raise
    if row.pivot_digest != digest or any(getattr(row, k) != v for k, v in fields.items()):
        conn.execute(
            update(CITIZEN)
            .where(CITIZEN.c.id == row.id)
            .values(pivot_digest=digest, updated_at=now, **fields)
        )
    return row.id
