"""Habilitations held by organisations, and the agents who act on them, for the tests of the
keys and habilitation pages."""

from __future__ import annotations

import secrets
import time

from sqlalchemy import update

from broker.admin.habilitations import HabilitationRequest, add_habilitation
from broker.admin.principal import Agent, Role
from broker.core.db import Database
from broker.store.data_access_models import Habilitation

VILLEBOURG = "21730001500013"  # Mairie de Villebourg
VAL_FLEURI = "20005478900017"  # Communauté d'agglomération du Val Fleuri
OPERATOR = "13000252600015"  # the platform operator (instructors, administrators)
DINUM = "13002526500013"
SCOPES = "cnaf_quotient_familial cnaf_enfants"


def agent(
    *roles: Role, siret: str | None = VILLEBOURG, email: str | None = None, name: str = "Alice"
) -> Agent:
    return Agent(
        id="agt_" + secrets.token_hex(6),
        email=email or f"{name.lower()}.{secrets.token_hex(3)}@example.gouv.fr",
        given_name=name,
        family_name="Martin",
        siret=siret,
        organisation=None,
        roles=frozenset(roles),
    )


def requester(siret: str = VILLEBOURG) -> Agent:
    return agent(Role.REQUESTER, siret=siret)


def instructor() -> Agent:
    return agent(Role.INSTRUCTOR, siret=OPERATOR, name="Ines")


def administrator() -> Agent:
    return agent(Role.ADMINISTRATOR, siret=OPERATOR, name="Adam")


def organisation_habilitation(
    db: Database,
    siret: str = VILLEBOURG,
    scopes: str = SCOPES,
    *,
    service: str | None = None,
    recipients: list[str] | None = None,
    rate_limit: int | None = None,
) -> str:
    """A new habilitation held by ``siret``, of a new service; its id."""
    with db.transaction() as session:
        created = add_habilitation(
            session,
            HabilitationRequest(
                service=service or f"Cantine {secrets.token_hex(3)}",
                scopes=scopes,
                purpose="Tarification sociale de la cantine scolaire",
                legal_basis="Code de l'éducation, article L. 131-13",
                rate_limit=rate_limit,
                create_service=True,
            ),
        )
        session.exec(
            update(Habilitation)
            .where(Habilitation.id == created["id"])  # type: ignore[arg-type]
            .values(organisation_siret=siret, recipients=recipients or [DINUM])
        )
    return created["id"]


def end_habilitation(db: Database, habilitation_id: str, *, revoked: bool) -> None:
    """Revoked now, or expired a second ago (straight in the database, as time would)."""
    now = int(time.time())
    values = {"revoked_at": now} if revoked else {"expires_at": now - 1}
    with db.transaction() as session:
        session.exec(
            update(Habilitation)
            .where(Habilitation.id == habilitation_id)  # type: ignore[arg-type]
            .values(**values)
        )
