"""Citizens as received from identity providers, and the demo provider's accounts."""

from __future__ import annotations

import time
import uuid

from sqlmodel import Session, select

from broker.identity.base import VerifiedIdentity
from broker.store.models import Citizen


def upsert_citizen(session: Session, identity: VerifiedIdentity, now: int | None = None) -> str:
    """Keep the identity as last received; the citizen's id stays stable across logins."""
    now = int(time.time()) if now is None else now
    row = session.exec(
        select(Citizen).where(Citizen.idp == identity.idp, Citizen.idp_subject == identity.subject)
    ).first()
    pivot = identity.pivot
    fields = dict(
        given_name=pivot.given_name, family_name=pivot.family_name, birthdate=pivot.birthdate,
        gender=pivot.gender, birthplace=pivot.birthplace, birthcountry=pivot.birthcountry,
        preferred_username=pivot.preferred_username, email=pivot.email,
    )
    if row is None:
        row = Citizen(id=str(uuid.uuid4()), idp=identity.idp, idp_subject=identity.subject,
                      created_at=now, updated_at=now, **fields)
        session.add(row)
    elif any(getattr(row, k) != v for k, v in fields.items()):
        for key, value in fields.items():
            setattr(row, key, value)
        row.updated_at = now
        session.add(row)
    session.flush()
    return row.id
