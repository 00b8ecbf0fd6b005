"""Who may see a request and act on it. A requester acts for their organisation only; the
instructors and administrators see every request once submitted (never an organisation's
draft) and decide, except on a request they filed or wrote themselves, or one of their own
organisation (the SIRET they act for)."""

from __future__ import annotations

from collections.abc import Collection

from broker.admin.principal import Agent, Role
from broker.admin.requests.errors import Refusal, RequestError
from broker.admin.requests.states import (
    BY_REQUESTER,
    BY_STAFF,
    DECISIONS,
    Action,
    Status,
    next_status,
)
from broker.admin.requests.words import N_, problem
from broker.store.portal_models import HabilitationRequestRecord

NOT_FOUND = N_("Cette demande n'existe pas, ou vous n'avez pas accès à ses informations.")
NOT_YOUR_ROLE = N_("Votre rôle ne vous permet pas cette action sur cette demande.")
OWN_REQUEST = N_(
    "Vous avez déposé ou rédigé cette demande : un autre instructeur doit l'approuver ou la "
    "refuser."
)
OWN_ORGANISATION = N_(
    "Cette demande vient de votre propre organisation : un instructeur d'une autre "
    "organisation doit l'approuver ou la refuser."
)
WRONG_STATUS = N_("Cette action n'est pas possible sur une demande dans cet état (%(status)s).")


def is_staff(agent: Agent) -> bool:
    return agent.has(Role.INSTRUCTOR) or agent.has(Role.ADMINISTRATOR)


def of_organisation(agent: Agent, organisation_siret: str) -> bool:
    return agent.has(Role.REQUESTER) and bool(agent.siret) and agent.siret == organisation_siret


def may_read(agent: Agent, request: HabilitationRequestRecord) -> bool:
    if of_organisation(agent, request.organisation_siret):
        return True
    return is_staff(agent) and request.status != Status.DRAFT


def sees_drafts(agent: Agent, request: HabilitationRequestRecord) -> bool:
    """Whether the version being written is shown: to the organisation only."""
    return of_organisation(agent, request.organisation_siret)


def acting_role(agent: Agent, request: HabilitationRequestRecord) -> str:
    """The role a message or decision is signed with on this request."""
    if of_organisation(agent, request.organisation_siret):
        return Role.REQUESTER.value
    return (Role.INSTRUCTOR if agent.has(Role.INSTRUCTOR) else Role.ADMINISTRATOR).value


def checked_action(
    agent: Agent, request: HabilitationRequestRecord, action: Action, authors: Collection[str]
) -> Status:
    """The status ``action`` leads to, if ``agent`` may do it now; ``RequestError`` otherwise.
    ``authors``: the agents who wrote the request's versions."""
    if not may_read(agent, request):
        raise RequestError(Refusal.NOT_FOUND, problem(NOT_FOUND))
    by_requester = action in BY_REQUESTER and of_organisation(agent, request.organisation_siret)
    if not by_requester and not (action in BY_STAFF and is_staff(agent)):
        raise RequestError(Refusal.FORBIDDEN, problem(NOT_YOUR_ROLE))
    if action in DECISIONS and (request.filed_by == agent.id or agent.id in authors):
        raise RequestError(Refusal.FORBIDDEN, problem(OWN_REQUEST))
    if action in DECISIONS and agent.siret and agent.siret == request.organisation_siret:
        # Whatever roles they hold: no one decides on their own organisation's rights.
        raise RequestError(Refusal.FORBIDDEN, problem(OWN_ORGANISATION))
    status = next_status(request.status, action)
    if status is None:
        raise RequestError(Refusal.CONFLICT, problem(WRONG_STATUS, status=request.status))
    return status


def allowed_actions(
    agent: Agent, request: HabilitationRequestRecord, authors: Collection[str]
) -> frozenset[Action]:
    """What the request's page offers ``agent``."""
    allowed = set()
    for action in Action:
        try:
            checked_action(agent, request, action, authors)
        except RequestError:
            continue
        allowed.add(action)
    return frozenset(allowed)
