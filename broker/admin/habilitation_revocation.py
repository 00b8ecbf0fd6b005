"""An administrator ends a habilitation from the portal, or an operator from the command line:
with a reason, in the audit trail (the portal's page shows it). Its keys and its service's
tokens stop at their next call (the data API reads the habilitation on every call)."""

from __future__ import annotations

import time
from typing import Any

from sqlmodel import Session

from broker.admin import audit
from broker.admin.client_profile import AdminError
from broker.admin.habilitation_views import (
    N_,
    REVOKE_ACTION,
    HabilitationRefused,
    visible_habilitation,
)
from broker.admin.habilitations import described, revoke_habilitation
from broker.admin.principal import Agent, Role
from broker.admin.requests.text import has_control_characters, typed_text
from broker.store.data_access_models import Habilitation

MAX_REASON = 2000
REASON_FIELD = "reason"


def checked_reason(text: str) -> str:
    reason = typed_text(text)
    if not reason:
        raise HabilitationRefused(
            N_("Indiquez pourquoi l'habilitation est révoquée."), field=REASON_FIELD
        )
    if len(reason) > MAX_REASON:
        raise HabilitationRefused(
            N_("Le motif ne doit pas dépasser 2000 caractères."), field=REASON_FIELD
        )
    if has_control_characters(reason):
        raise HabilitationRefused(
            N_("Le motif ne doit pas contenir de caractères de contrôle (invisibles)."),
            field=REASON_FIELD,
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
    revoke_with_reason(session, agent.actor, habilitation, checked_reason(reason))
    return habilitation


def revoke_as_operator(
    session: Session, actor: str, habilitation_id: str, reason: str
) -> dict[str, Any]:
    """From the command line: any habilitation, the reason required as on the portal (whose
    page shows it). One already revoked is left as it is, and not audited again."""
    habilitation = session.get(Habilitation, habilitation_id)
    if habilitation is None:
        raise AdminError(f"no habilitation {habilitation_id!r}")
    stated = checked_reason(reason)
    if habilitation.revoked_at is not None:
        return described(session, habilitation, int(time.time()))
    return revoke_with_reason(session, actor, habilitation, stated)


def revoke_with_reason(
    session: Session, actor: str, habilitation: Habilitation, reason: str
) -> dict[str, Any]:
    revoked = revoke_habilitation(session, habilitation.id)
    audit.record(
        session,
        actor=actor,
        action=REVOKE_ACTION,
        target_type="habilitation",
        target_id=habilitation.id,
        before={"revoked_at": None},
        after={"revoked_at": revoked["revoked_at"], "reason": reason},
    )
    return revoked
