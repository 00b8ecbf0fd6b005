"""An administrator ends a habilitation from the portal: with a reason, in the audit trail. Its
keys and its service's tokens stop at their next call (the data API reads the habilitation on
every call)."""

from __future__ import annotations

from sqlmodel import Session

from broker.admin import audit
from broker.admin.habilitation_views import (
    N_,
    REVOKE_ACTION,
    HabilitationRefused,
    visible_habilitation,
)
from broker.admin.habilitations import revoke_habilitation
from broker.admin.principal import Agent, Role
from broker.store.data_access_models import Habilitation

MAX_REASON = 2000
REASON_FIELD = "reason"


def checked_reason(text: str) -> str:
    reason = text.strip()
    if not reason:
        raise HabilitationRefused(
            N_("Indiquez pourquoi l'habilitation est révoquée."), field=REASON_FIELD
        )
    if len(reason) > MAX_REASON:
        raise HabilitationRefused(
            N_("Le motif ne doit pas dépasser 2000 caractères."), field=REASON_FIELD
        )
    return reason


def revocable(session: Session, agent: Agent, habilitation_id: str) -> Habilitation:
    """The habilitation, if ``agent`` (an administrator) may revoke it now."""
    habilitation = visible_habilitation(session, agent, habilitation_id)
    if not agent.has(Role.ADMINISTRATOR):
        raise HabilitationRefused(
            N_("Seuls les administrateurs révoquent une habilitation."), status=403
        )
    if habilitation.revoked_at is not None:
        raise HabilitationRefused(N_("Cette habilitation est déjà révoquée."), status=409)
    return habilitation


def revoke_as_administrator(
    session: Session, agent: Agent, habilitation_id: str, reason: str
) -> Habilitation:
    habilitation = revocable(session, agent, habilitation_id)
    stated = checked_reason(reason)
    revoked = revoke_habilitation(session, habilitation.id)
    audit.record(
        session,
        actor=agent.actor,
        action=REVOKE_ACTION,
        target_type="habilitation",
        target_id=habilitation.id,
        before={"revoked_at": None},
        after={"revoked_at": revoked["revoked_at"], "reason": stated},
    )
    return habilitation
