"""Roles taken away from the portal: never the last administrator's, or nobody could grant a
role again (but through the database)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from broker.admin.agents import revoke_role
from broker.admin.client_profile import AdminError
from broker.admin.principal import Role
from broker.store.portal_models import PortalRole


class LastAdministrator(AdminError):
    """The revocation would leave the portal without any administrator."""


def administrators(session: Session) -> int:
    query = (
        select(func.count()).select_from(PortalRole).where(PortalRole.role == Role.ADMINISTRATOR)
    )
    return session.exec(query).one()


def revoke_keeping_an_administrator(
    session: Session, *, email: str, role: str, provider: str = "", actor: str
) -> bool:
    """As :func:`broker.admin.agents.revoke_role`, refused if no administrator would be left.
    Counted after the revocation, once its audit entry was written: on PostgreSQL that entry
    waits for any other revocation under way to commit (the trail's lock), so two
    administrators revoking each other at once cannot both pass."""
    revoked = revoke_role(session, email=email, role=role, provider=provider, actor=actor)
    if revoked and role == Role.ADMINISTRATOR and administrators(session) == 0:
        raise LastAdministrator("the portal's last administrator role cannot be revoked")
    return revoked
