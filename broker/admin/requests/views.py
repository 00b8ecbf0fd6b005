"""What the request pages show an agent: the requests they may see, and one request with the
versions, messages and actions that are theirs to see and do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from broker.admin.principal import Agent
from broker.admin.requests.access import (
    NOT_FOUND,
    WRONG_STATUS,
    allowed_actions,
    is_staff,
    may_read,
    of_organisation,
    sees_drafts,
)
from broker.admin.requests.diff import VersionDiff, compare
from broker.admin.requests.errors import Refusal, RequestError
from broker.admin.requests.records import frozen, load_request, messages_of, versions_of
from broker.admin.requests.states import Action, Status
from broker.admin.requests.words import problem
from broker.store.data_access_models import Habilitation
from broker.store.portal_models import (
    HabilitationRequestMessage,
    HabilitationRequestRecord,
    HabilitationRequestVersion,
    PortalAgent,
)


@dataclass(frozen=True)
class RequestSummary:
    id: str
    organisation_siret: str
    organisation: str
    service: str
    status: str
    reopening: bool
    updated_at: int


@dataclass(frozen=True)
class RequestFile:
    request: HabilitationRequestRecord
    versions: list[HabilitationRequestVersion]  # those the agent may see
    shown: HabilitationRequestVersion  # the last of them
    previous: HabilitationRequestVersion | None  # the frozen version before it
    diff: VersionDiff | None  # from ``previous`` to ``shown``
    messages: list[HabilitationRequestMessage]
    actions: frozenset[Action]
    names: dict[str, str]  # agent id: their name, for the messages and versions
    habilitation_id: str | None  # the habilitation it changes, or the one it created

    @property
    def reopening(self) -> bool:
        return self.request.habilitation_id is not None

    @property
    def editable(self) -> bool:
        return Action.EDIT in self.actions

    @property
    def content(self) -> dict[str, Any]:
        return dict(self.shown.content)


def visible_versions(
    agent: Agent, request: HabilitationRequestRecord, versions: list[HabilitationRequestVersion]
) -> list[HabilitationRequestVersion]:
    """An organisation sees the version it is writing; the instructors see frozen ones."""
    return versions if sees_drafts(agent, request) else frozen(versions)


def request_file(session: Session, agent: Agent, request_id: str) -> RequestFile:
    request = load_request(session, request_id)
    if request is None or not may_read(agent, request):
        raise RequestError(Refusal.NOT_FOUND, problem(NOT_FOUND))
    every_version = versions_of(session, request.id)
    versions = visible_versions(agent, request, every_version)
    shown = versions[-1]
    earlier = [v for v in frozen(versions) if v.number < shown.number]
    previous = earlier[-1] if earlier else None
    messages = messages_of(session, request.id)
    people = {m.author for m in messages} | {v.author for v in versions} | {request.filed_by}
    return RequestFile(
        request=request,
        versions=versions,
        shown=shown,
        previous=previous,
        diff=compare(previous.content, shown.content) if previous else None,
        messages=messages,
        actions=allowed_actions(agent, request, {v.author for v in every_version}),
        names=names_of(session, people),
        habilitation_id=request.habilitation_id or created_habilitation(session, request),
    )


def file_to_edit(session: Session, agent: Agent, request_id: str) -> RequestFile:
    """The request for its edit form: refused (CONFLICT) when its state allows no editing."""
    file = request_file(session, agent, request_id)
    if not file.editable:
        raise RequestError(Refusal.CONFLICT, problem(WRONG_STATUS, status=file.request.status))
    return file


def created_habilitation(session: Session, request: HabilitationRequestRecord) -> str | None:
    if request.status != Status.APPROVED:
        return None
    return session.exec(
        select(Habilitation.id).where(Habilitation.request_id == request.id)
    ).first()


def names_of(session: Session, agent_ids: set[str]) -> dict[str, str]:
    rows = session.exec(select(PortalAgent).where(col(PortalAgent.id).in_(agent_ids))).all()
    return {a.id: f"{a.given_name} {a.family_name}".strip() or a.email for a in rows}


def visible_requests(
    session: Session, agent: Agent, status: str | None = None
) -> list[RequestSummary]:
    """The requests ``agent`` may see, the latest changed first; ``status``: only those."""
    query = select(HabilitationRequestRecord).order_by(
        col(HabilitationRequestRecord.updated_at).desc(), col(HabilitationRequestRecord.id)
    )
    own = col(HabilitationRequestRecord.organisation_siret) == (agent.siret or "")
    mine = of_organisation(agent, agent.siret or "")
    if is_staff(agent):
        submitted = col(HabilitationRequestRecord.status) != Status.DRAFT.value
        query = query.where(or_(submitted, own) if mine else submitted)
    elif mine:
        query = query.where(own)
    else:
        return []
    if status:
        query = query.where(HabilitationRequestRecord.status == status)
    requests = list(session.exec(query).all())
    if not requests:
        return []
    versions: dict[str, list[HabilitationRequestVersion]] = {}
    for version in session.exec(
        select(HabilitationRequestVersion)
        .where(col(HabilitationRequestVersion.request_id).in_([r.id for r in requests]))
        .order_by(col(HabilitationRequestVersion.number))
    ).all():
        versions.setdefault(version.request_id, []).append(version)
    summaries = []
    for request in requests:
        seen = visible_versions(agent, request, versions.get(request.id, []))
        content = seen[-1].content if seen else {}
        summaries.append(
            RequestSummary(
                id=request.id,
                organisation_siret=request.organisation_siret,
                organisation=(content.get("organisation") or {}).get("name") or "",
                service=content.get("service") or "",
                status=request.status,
                reopening=request.habilitation_id is not None,
                updated_at=request.updated_at,
            )
        )
    return summaries
