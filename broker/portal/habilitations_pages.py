"""Portal pages: approved habilitations and their API keys.

- ``GET /habilitations``: the habilitations the agent may see (requesters: their
  organisation's; instructors and administrators: all).
- ``GET /habilitations/{id}``: its terms, where it stands, the requests behind it, its keys and
  what they may do; the forms to issue, rename and revoke keys (requesters of its organisation,
  administrators), to reopen it (its requesters: answered by the requests' pages), to revoke it
  (administrators, after a confirmation page).
- ``POST /habilitations/{id}/cles``: issues a key and shows its secret, once, on a page no
  cache keeps.

The rules live in ``broker.admin`` (api_keys, habilitation_views, habilitation_revocation);
this module reads forms, runs one transaction per change and picks the page."""

from __future__ import annotations

import time
from typing import Any, TypeVar

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from broker.admin.api_keys import (
    NAME_FIELD,
    IssuedKey,
    KeyLine,
    issue_key,
    key_of,
    list_keys,
    rename_key,
    revoke_key,
)
from broker.admin.habilitation_actions import habilitation_actions
from broker.admin.habilitation_revocation import REASON_FIELD, revocable, revoke_as_administrator
from broker.admin.habilitation_views import (
    HabilitationRefused,
    Standing,
    habilitation_lines,
    open_change_request,
    organisation_names,
    request_history,
    revocation_of,
    sees_all,
    standing,
    visible_habilitation,
)
from broker.admin.key_rights import key_rights
from broker.portal.context import PortalContext
from broker.portal.guards import requires
from broker.portal.pages import in_transaction, portal_error, portal_page, reading
from broker.portal.principal import Agent, Role
from broker.store.models import Service
from broker.web.http import redirect
from broker.web.i18n import N_

BASE = "/habilitations"
VIEWERS = (Role.REQUESTER, Role.INSTRUCTOR, Role.ADMINISTRATOR)
MAX_FIELD = 4000  # longer than any field accepts: the rules say why it is refused
T = TypeVar("T")

REFUSAL_TITLES = {
    400: N_("Demande non valable"),
    403: N_("Accès refusé"),
    404: N_("Habilitation introuvable"),
    409: N_("Action impossible"),
}
# What a redirect after a change says on the habilitation's page (``?fait=…``).
DONE = {
    "cle-renommee": N_("La clé a été renommée."),
    "cle-revoquee": N_("La clé a été révoquée : elle ne donne plus accès à l'API dès maintenant."),
    # The data API keeps clients, and the habilitations read with them, up to 10 s per
    # process (broker.store.clients.ClientCache).
    "habilitation-revoquee": N_(
        "L'habilitation a été révoquée : ses clés et les jetons de son service ne donnent plus "
        "accès aux données dans les secondes qui suivent (au plus 10 s)."
    ),
}


def detail_path(habilitation_id: str, done: str | None = None) -> str:
    return f"{BASE}/{habilitation_id}" + (f"?fait={done}" if done else "")


def form_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def refusal_page(refusal: HabilitationRefused) -> Template:
    title = REFUSAL_TITLES.get(refusal.status, REFUSAL_TITLES[400])
    return portal_error(
        refusal.status, title, refusal.message, code=f"habilitation_{refusal.status}"
    )


def detail_context(
    session: Any, portal: PortalContext, agent: Agent, habilitation_id: str, now: int
) -> dict[str, Any]:
    """Everything the habilitation's page shows."""
    habilitation = visible_habilitation(session, agent, habilitation_id)
    service = session.get(Service, habilitation.service_id)
    history = request_history(session, habilitation)
    actions = habilitation_actions(session, agent, habilitation, history, now)
    return {
        "habilitation": habilitation,
        "service": service.name if service is not None else "",
        "organisation": organisation_names(session, [habilitation]).get(habilitation.id, ""),
        "standing": standing(habilitation, now),
        "history": history,
        "open_change": open_change_request(history),
        "revocation": revocation_of(session, habilitation),
        "keys": list_keys(session, agent, habilitation.id),
        "rights": key_rights(habilitation, portal.settings.rate_limit),
        "data_api_url": portal.data_api_url,
        "may_issue": actions.may_issue,
        "may_manage_keys": actions.may_manage_keys,
        "may_reopen": actions.may_reopen,
        "may_revoke": actions.may_revoke,
        "Standing": Standing,
    }


async def detail_page(
    portal: PortalContext,
    agent: Agent,
    habilitation_id: str,
    *,
    status_code: int = 200,
    done: str | None = None,
    **form_state: Any,
) -> Template:
    """The habilitation's page; ``form_state``: a form shown again with its error
    (``issue_error``/``issue_name``, ``rename_key``/``rename_error``/``rename_name``)."""
    now = int(time.time())
    context = await reading(
        portal, lambda session: detail_context(session, portal, agent, habilitation_id, now)
    )
    return portal_page(
        "habilitations_detail.html",
        status_code=status_code,
        done=DONE.get(done or ""),
        **context,
        **form_state,
    )


class HabilitationsController(Controller):
    path = BASE
    guards = (requires(*VIEWERS),)

    @get("/", name="habilitations_list")
    async def list_page(
        self, portal: NamedDependency[PortalContext], agent: NamedDependency[Agent]
    ) -> Template:
        now = int(time.time())
        lines = await reading(portal, lambda session: habilitation_lines(session, agent, now))
        return portal_page(
            "habilitations_list.html",
            lines=lines,
            everyone=sees_all(agent),
            Standing=Standing,
        )

    @get("/{habilitation_id:str}", name="habilitation_detail")
    async def detail(
        self,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
        habilitation_id: FromPath[str],
        fait: FromQuery[str | None] = None,
    ) -> Template:
        try:
            return await detail_page(portal, agent, habilitation_id, done=fait)
        except HabilitationRefused as refusal:
            return refusal_page(refusal)

    @post("/{habilitation_id:str}/cles", name="api_key_issue")
    async def issue(
        self,
        request: Request,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
        habilitation_id: FromPath[str],
    ) -> Template:
        name = form_text(await request.form(), NAME_FIELD)
        now = int(time.time())
        try:
            issued: IssuedKey = await in_transaction(
                portal, lambda session: issue_key(session, agent, habilitation_id, name, now)
            )
        except HabilitationRefused as refusal:
            if refusal.field != NAME_FIELD:
                return refusal_page(refusal)
            return await detail_page(
                portal,
                agent,
                habilitation_id,
                status_code=400,
                issue_error=refusal.message,
                issue_name=name,
            )
        return portal_page(
            "habilitations_key_issued.html",
            issued=issued,
            habilitation_id=habilitation_id,
            data_api_url=portal.data_api_url,
        )

    @post("/{habilitation_id:str}/cles/{key_id:str}/nom", name="api_key_rename")
    async def rename(
        self,
        request: Request,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
        habilitation_id: FromPath[str],
        key_id: FromPath[str],
    ) -> Template | Redirect:
        name = form_text(await request.form(), NAME_FIELD)
        try:
            await in_transaction(
                portal, lambda session: rename_key(session, agent, habilitation_id, key_id, name)
            )
        except HabilitationRefused as refusal:
            if refusal.field != NAME_FIELD:
                return refusal_page(refusal)
            return await detail_page(
                portal,
                agent,
                habilitation_id,
                status_code=400,
                rename_key=key_id,
                rename_error=refusal.message,
                rename_name=name,
            )
        return redirect(detail_path(habilitation_id, "cle-renommee"))

    @get("/{habilitation_id:str}/cles/{key_id:str}/revocation", name="api_key_revoke_confirm")
    async def confirm_key_revocation(
        self,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
        habilitation_id: FromPath[str],
        key_id: FromPath[str],
    ) -> Template:
        try:
            key: KeyLine = await reading(
                portal, lambda session: key_of(session, agent, habilitation_id, key_id)
            )
        except HabilitationRefused as refusal:
            return refusal_page(refusal)
        if not key.active:
            return refusal_page(HabilitationRefused(N_("Cette clé est déjà révoquée."), 409))
        return portal_page(
            "habilitations_key_revoke.html", key=key, habilitation_id=habilitation_id
        )

    @post("/{habilitation_id:str}/cles/{key_id:str}/revocation", name="api_key_revoke")
    async def revoke_key(
        self,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
        habilitation_id: FromPath[str],
        key_id: FromPath[str],
    ) -> Template | Redirect:
        now = int(time.time())
        try:
            await in_transaction(
                portal, lambda session: revoke_key(session, agent, habilitation_id, key_id, now)
            )
        except HabilitationRefused as refusal:
            return refusal_page(refusal)
        return redirect(detail_path(habilitation_id, "cle-revoquee"))

    @get("/{habilitation_id:str}/revocation", name="habilitation_revoke_confirm")
    async def confirm_revocation(
        self,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
        habilitation_id: FromPath[str],
    ) -> Template:
        return await revocation_page(portal, agent, habilitation_id)

    @post("/{habilitation_id:str}/revocation", name="habilitation_revoke")
    async def revoke(
        self,
        request: Request,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
        habilitation_id: FromPath[str],
    ) -> Template | Redirect:
        reason = form_text(await request.form(), REASON_FIELD)
        try:
            await in_transaction(
                portal,
                lambda session: revoke_as_administrator(session, agent, habilitation_id, reason),
            )
        except HabilitationRefused as refusal:
            if refusal.field != REASON_FIELD:
                return refusal_page(refusal)
            return await revocation_page(
                portal, agent, habilitation_id, reason=reason, error=refusal.message
            )
        return redirect(detail_path(habilitation_id, "habilitation-revoquee"))


async def revocation_page(
    portal: PortalContext,
    agent: Agent,
    habilitation_id: str,
    *,
    reason: str = "",
    error: str | None = None,
) -> Template:
    """The administrators' confirmation page, with the reason to give (shown again, with its
    error, when it was refused)."""

    def read(session: Any) -> dict[str, Any]:
        habilitation = revocable(session, agent, habilitation_id)
        service = session.get(Service, habilitation.service_id)
        return {
            "habilitation": habilitation,
            "service": service.name if service is not None else "",
            "active_keys": sum(1 for k in list_keys(session, agent, habilitation.id) if k.active),
        }

    try:
        context = await reading(portal, read)
    except HabilitationRefused as refusal:
        return refusal_page(refusal)
    return portal_page(
        "habilitations_revoke.html",
        status_code=400 if error else 200,
        reason=reason,
        error=error,
        **context,
    )


CONTROLLERS: list[type[Controller]] = [HabilitationsController]
