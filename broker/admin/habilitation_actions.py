"""What an agent may do on a habilitation's page, decided here rather than in the page: issue
and manage its keys, reopen it (a change or a renewal), revoke it. Each answer follows the
rule the action itself enforces (``revocable``, ``reopen``, ``may_manage_keys``), so a button
shown is an action allowed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from broker.admin.habilitation_revocation import revocable
from broker.admin.habilitation_views import (
    HabilitationRefused,
    RequestLine,
    is_running,
    may_manage_keys,
    open_change_request,
    requests_for,
)
from broker.admin.principal import Agent
from broker.store.data_access_models import Habilitation


@dataclass(frozen=True)
class HabilitationActions:
    may_issue: bool
    may_manage_keys: bool
    may_reopen: bool
    may_revoke: bool


def may_reopen(agent: Agent, habilitation: Habilitation, history: list[RequestLine]) -> bool:
    """Its organisation's requesters, while it is not revoked and no change is already open
    (``reopen`` would answer with that open one)."""
    return (
        requests_for(agent, habilitation)
        and habilitation.revoked_at is None
        and open_change_request(history) is None
    )


def may_revoke(session: Session, agent: Agent, habilitation: Habilitation) -> bool:
    try:
        revocable(session, agent, habilitation.id)
    except HabilitationRefused:
        return False
    return True


def habilitation_actions(
    session: Session,
    agent: Agent,
    habilitation: Habilitation,
    history: list[RequestLine],
    now: int,
) -> HabilitationActions:
    managing = may_manage_keys(agent, habilitation)
    return HabilitationActions(
        may_issue=managing and is_running(habilitation, now),
        may_manage_keys=managing,
        may_reopen=may_reopen(agent, habilitation, history),
        may_revoke=may_revoke(session, agent, habilitation),
    )
