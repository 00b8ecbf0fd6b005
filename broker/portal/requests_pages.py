"""Portal pages: habilitation requests, filed by an organisation's agents, reviewed and
decided by the instructors.

- ``GET /demandes``: the requests the agent may see (``?etat=`` one status).
- ``GET /demandes/nouvelle``: the form; ``POST /demandes/nouvelle``: a new draft.
- ``GET /demandes/{id}``: the request (version, status, exchange, what changed since the
  previous version, the actions the agent may take).
- ``GET|POST /demandes/{id}/modifier``: the version being written.
- ``POST /demandes/{id}/soumettre|modifications|approuver|refuser|messages``: one move each.
- ``POST /habilitations/{id}/reouvrir``: a request changing (or renewing) a habilitation.

The rules live in ``broker.admin.requests``; this module reads forms, runs one transaction
per change and picks the page: a refused form comes back with its errors beside the fields.
A move's email (``broker.admin.requests.notify`` says to whom) goes once it is committed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from broker.admin.requests import lifecycle
from broker.admin.requests.access import of_organisation
from broker.admin.requests.errors import Refusal, RequestError
from broker.admin.requests.form import blank_content, content_from_form
from broker.admin.requests.notify import notice_of, send_notice
from broker.admin.requests.reopening import reopen
from broker.admin.requests.states import Action, Status
from broker.admin.requests.views import (
    RequestFile,
    file_to_edit,
    request_file,
    visible_requests,
)
from broker.portal import requests_words as words
from broker.portal.context import PortalContext
from broker.portal.guards import NOT_ALLOWED, refuse, requires
from broker.portal.pages import portal_page
from broker.portal.principal import Agent, Role
from broker.web.http import redirect
from broker.web.i18n import N_

BASE = "/demandes"
T = TypeVar("T")
CSS = "/static/requests.css"
REFUSAL_PAGES = {
    Refusal.NOT_FOUND: (404, N_("Demande introuvable")),
    Refusal.FORBIDDEN: (403, N_("Action refusée")),
    Refusal.CONFLICT: (409, N_("Action impossible")),
    Refusal.INVALID: (400, N_("Demande non valable")),
}
# The action each form posts to, and what it does.
MOVES = {
    "soumettre": Action.SUBMIT,
    "modifications": Action.ASK_CHANGES,
    "approuver": Action.APPROVE,
    "refuser": Action.REFUSE,
    "messages": Action.MESSAGE,
}


def form_values(form: Any) -> dict[str, list[str]]:
    return {key: [str(v) for v in form.getall(key)] for key in form}


async def in_transaction(portal: PortalContext, change: Callable[[Any], T]) -> T:
    def step() -> T:
        with portal.db.transaction() as session:
            return change(session)

    return await portal.db.run(step)


async def reading(portal: PortalContext, read: Callable[[Any], T]) -> T:
    def step() -> T:
        with portal.db.reader() as session:
            return read(session)

    return await portal.db.run(step)


def refused_page(error: RequestError) -> Template:
    status, title = REFUSAL_PAGES[error.refusal]
    return portal_page(
        "portal_error.html",
        status_code=status,
        title=title,
        message=words.said(error.problem),
        error_code=f"request_{error.refusal.value}",
    )


def form_page(
    *,
    content: Mapping[str, Any],
    action: str,
    title: str,
    reopening: bool = False,
    request_id: str | None = None,
    error: RequestError | None = None,
) -> Template:
    errors = error.errors if error else {}
    return portal_page(
        "requests_form.html",
        status_code=400 if error else 200,
        content=content,
        contacts=content.get("contacts") or {},
        groups=words.catalogue_groups(content),
        action=action,
        title=title,
        reopening=reopening,
        request_id=request_id,
        summary=words.field_errors(errors),
        error_for={field: words.said(problem) for field, problem in errors.items()},
        labels=words.label_of,
        contact_legends=words.CONTACT_LABELS,
        css=CSS,
    )


def detail_page(
    file: RequestFile,
    agent: Agent,
    *,
    done: str | None = None,
    error: RequestError | None = None,
    failed: Action | None = None,
) -> Template:
    diff = file.diff
    content_problems = {f: p for f, p in (error.errors if error else {}).items() if f != "body"}
    return portal_page(
        "requests_detail.html",
        status_code=400 if error else 200,
        file=file,
        record=file.request,
        content=file.content,
        asked=words.asked_groups(file.content),
        diff=diff,
        added=words.labels(diff.added) if diff else [],
        removed=words.labels(diff.removed) if diff else [],
        made_optional=words.labels(diff.made_optional) if diff else [],
        made_required=words.labels(diff.made_required) if diff else [],
        scope_label=words.scope_label,
        actions=file.actions,
        Action=Action,
        Status=Status,
        is_organisation=of_organisation(agent, file.request.organisation_siret),
        status_words=words.STATUS_WORDS,
        event_words=words.EVENT_WORDS,
        role_words=words.ROLE_WORDS,
        done=words.DONE.get(done or ""),
        failed=failed,
        # The content's problems (a submission refused) are listed; a reason missing is shown
        # beside its form's field.
        summary=words.field_errors(content_problems) if content_problems else [],
        error_message=words.said(error.problem) if error else None,
        contact_labels=words.CONTACT_LABELS,
        css=CSS,
    )


class RequestsController(Controller):
    path = BASE
    guards = (requires(Role.REQUESTER, Role.INSTRUCTOR, Role.ADMINISTRATOR),)

    @get("/", name="requests_list")
    async def list_page(
        self,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
        etat: FromQuery[str | None] = None,
    ) -> Template:
        status = etat if etat in words.STATUS_WORDS else None
        rows = await reading(portal, lambda s: visible_requests(s, agent, status))
        return portal_page(
            "requests_list.html",
            rows=rows,
            status=status,
            status_words=words.STATUS_WORDS,
            may_file=bool(agent.siret) and agent.has(Role.REQUESTER),
            css=CSS,
        )

    @get("/nouvelle", name="requests_new")
    async def new_form(self, agent: NamedDependency[Agent]) -> Template:
        if not agent.siret or not agent.has(Role.REQUESTER):
            raise refuse(NOT_ALLOWED)
        return form_page(
            content=blank_content(agent.siret, agent.organisation),
            action=f"{BASE}/nouvelle",
            title=N_("Nouvelle demande d'habilitation"),
        )

    @post("/nouvelle", name="requests_create")
    async def create(
        self,
        request: Request,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
    ) -> Template | Redirect:
        raw = content_from_form(form_values(await request.form()))
        try:
            made = await in_transaction(portal, lambda s: lifecycle.create_request(s, agent, raw))
        except RequestError as error:
            if error.refusal != Refusal.INVALID:
                return refused_page(error)
            return form_page(
                content=raw,
                action=f"{BASE}/nouvelle",
                title=N_("Nouvelle demande d'habilitation"),
                error=error,
            )
        return redirect(f"{BASE}/{made.id}?fait=creee")

    @get("/{request_id:str}", name="requests_detail")
    async def detail(
        self,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
        request_id: FromPath[str],
        fait: FromQuery[str | None] = None,
    ) -> Template:
        try:
            file = await reading(portal, lambda s: request_file(s, agent, request_id))
        except RequestError as error:
            return refused_page(error)
        return detail_page(file, agent, done=fait)

    @get("/{request_id:str}/modifier", name="requests_edit")
    async def edit_form(
        self,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
        request_id: FromPath[str],
    ) -> Template:
        try:
            file = await reading(portal, lambda s: file_to_edit(s, agent, request_id))
        except RequestError as error:
            return refused_page(error)
        return self.edit_page(file, file.content)

    @post("/{request_id:str}/modifier", name="requests_save")
    async def save(
        self,
        request: Request,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
        request_id: FromPath[str],
    ) -> Template | Redirect:
        raw = content_from_form(form_values(await request.form()))
        try:
            await in_transaction(
                portal, lambda s: lifecycle.edit_request(s, agent, request_id, raw)
            )
        except RequestError as error:
            if error.refusal != Refusal.INVALID:
                return refused_page(error)
            file = await reading(portal, lambda s: request_file(s, agent, request_id))
            return self.edit_page(file, raw, error)
        return redirect(f"{BASE}/{request_id}?fait=enregistree")

    def edit_page(
        self, file: RequestFile, content: Mapping[str, Any], error: RequestError | None = None
    ) -> Template:
        return form_page(
            content=content,
            action=f"{BASE}/{file.request.id}/modifier",
            title=N_("Modifier la demande"),
            reopening=file.reopening,
            request_id=file.request.id,
            error=error,
        )

    @post("/{request_id:str}/{move:str}", name="requests_move")
    async def move(
        self,
        request: Request,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
        request_id: FromPath[str],
        move: FromPath[str],
    ) -> Template | Redirect:
        action = MOVES.get(move)
        if action is None:
            raise refuse(NOT_ALLOWED)
        form = await request.form()
        text = str(form.get("body") or "")
        try:
            notice = await in_transaction(portal, lambda s: do(s, agent, request_id, action, text))
        except RequestError as error:
            if error.refusal != Refusal.INVALID:
                return refused_page(error)
            file = await reading(portal, lambda s: request_file(s, agent, request_id))
            return detail_page(file, agent, error=error, failed=action)
        await send_notice(portal.mailer, notice, portal.portal_url)  # committed: best effort
        return redirect(f"{BASE}/{request_id}?fait={action.value}")


def do(session: Any, agent: Agent, request_id: str, action: Action, text: str) -> Any:
    """Makes the move; returns the email it calls for, read in the same transaction."""
    make(session, agent, request_id, action, text)
    return notice_of(session, agent, request_id, action)


def make(session: Any, agent: Agent, request_id: str, action: Action, text: str) -> object:
    if action == Action.SUBMIT:
        return lifecycle.submit(session, agent, request_id)
    if action == Action.ASK_CHANGES:
        return lifecycle.ask_changes(session, agent, request_id, text)
    if action == Action.APPROVE:
        return lifecycle.approve(session, agent, request_id, text)
    if action == Action.REFUSE:
        return lifecycle.refuse(session, agent, request_id, text)
    return lifecycle.post_message(session, agent, request_id, text)


class ReopeningController(Controller):
    path = "/habilitations"
    guards = (requires(Role.REQUESTER),)

    @post("/{habilitation_id:str}/reouvrir", name="habilitations_reopen")
    async def reopen(
        self,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
        habilitation_id: FromPath[str],
    ) -> Template | Redirect:
        try:
            request_id, _ = await in_transaction(
                portal, lambda s: reopen(s, agent, habilitation_id)
            )
            file = await reading(portal, lambda s: request_file(s, agent, request_id))
        except RequestError as error:
            return refused_page(error)
        if file.editable:
            return redirect(f"{BASE}/{request_id}/modifier")
        return redirect(f"{BASE}/{request_id}")


CONTROLLERS: list[type[Controller]] = [RequestsController, ReopeningController]
