"""Portal pages: the OpenID Connect clients of an organisation's services, managed by their
owners (requesters of that organisation; administrators: every client).

- ``GET /clients``: the clients the agent manages.
- ``GET /clients/{id}``: its registration, and the forms to change its addresses, its keys,
  its service's logo, and to rotate its secret.
- ``POST /clients/{id}/adresses|cles|logo``: one change each, re-rendered with the errors
  beside the fields when refused; ``POST /clients/{id}/secret``: a new secret, shown once on
  a page no cache keeps.
- ``GET /clients/{id}/logo``: the logo, served as the broker serves it to citizens.

The rules live in ``broker.admin`` (client_access, client_settings, client_secrets), the same
as ``broker clients``; this module reads forms, runs one transaction per change and picks
the page."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Template

from broker.admin.client_access import (
    ClientDetails,
    ClientManager,
    ClientNotFound,
    client_details,
    client_logo,
    managed_clients,
)
from broker.admin.client_profile import AdminError
from broker.admin.client_secrets import RotatedSecret, rotate_secret
from broker.admin.client_settings import (
    ClientChangeRefused,
    set_client_logo,
    update_addresses,
    update_keys,
)
from broker.admin.clients import MAX_LOGO_BYTES
from broker.core.outbound.policy import OutboundPolicy
from broker.portal import clients_forms as forms
from broker.portal.context import PortalContext
from broker.portal.guards import NOT_ALLOWED, refuse, requires
from broker.portal.pages import portal_error, portal_page
from broker.portal.principal import Agent, Role
from broker.web.http import redirect
from broker.web.i18n import N_

BASE = "/clients"
MANAGERS = (Role.REQUESTER, Role.ADMINISTRATOR)
T = TypeVar("T")

NOT_FOUND = (
    N_("Client introuvable"),
    N_("Ce client n'existe pas, ou il n'appartient pas à un service de votre organisation."),
)
NO_SECRET = (
    N_("Action impossible"),
    N_(
        "Ce client s'authentifie avec ses clés (private_key_jwt) : il n'a pas de secret à "
        "renouveler. Rien n'a été modifié."
    ),
)
# What a redirect after a change says on the client's page (``?fait=…``).
DONE = {
    forms.ADDRESSES_FORM: N_(
        "Les adresses ont été enregistrées. La plateforme les applique sous quelques secondes."
    ),
    forms.KEYS_FORM: N_(
        "Les clés ont été enregistrées. La plateforme les applique sous quelques secondes."
    ),
    forms.LOGO_FORM: N_("Le logo a été enregistré : l'écran de consentement l'affiche désormais."),
}


def manager_of(agent: Agent) -> ClientManager:
    manager = ClientManager.of_agent(agent)
    if manager is None:  # a requester's role without a SIRET: nothing to manage
        raise refuse(NOT_ALLOWED)
    return manager


def not_found() -> Template:
    return portal_error(404, *NOT_FOUND, code="client_not_found")


def detail_path(client_id: str, done: str | None = None) -> str:
    return f"{BASE}/{client_id}" + (f"?fait={done}" if done else "")


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


def stored_values(details: ClientDetails) -> dict[str, str]:
    return {
        forms.REDIRECT_URIS: "\n".join(details.redirect_uris),
        forms.POST_LOGOUT_REDIRECT_URIS: "\n".join(details.post_logout_redirect_uris),
        forms.NOTIFICATION_URI: details.notification_uri or "",
        forms.BACKCHANNEL_LOGOUT_URI: details.backchannel_logout_uri or "",
        forms.JWKS: json.dumps(details.jwks, indent=2) if details.jwks else "",
        forms.JWKS_URI: details.jwks_uri or "",
        forms.OVERLAP: str(forms.DEFAULT_OVERLAP),
    }


async def detail_page(
    portal: PortalContext,
    manager: ClientManager,
    client_id: str,
    *,
    done: str | None = None,
    failed_form: str | None = None,
    errors: list[forms.FieldError] | None = None,
    submitted: dict[str, str] | None = None,
) -> Template:
    """The client's page; after a refused change, that form with what was typed and its
    errors (status 400)."""
    now = int(time.time())
    try:
        details = await reading(
            portal, lambda session: client_details(session, manager, client_id, now)
        )
    except ClientNotFound:
        return not_found()
    errors = errors or []
    return portal_page(
        "clients_detail.html",
        status_code=400 if errors else 200,
        client=details,
        values={**stored_values(details), **(submitted or {})},
        failed_form=failed_form,
        errors=errors,
        error_for={error.field: error for error in errors},
        labels=forms.LABELS,
        overlap_choices=forms.OVERLAP_CHOICES,
        done=DONE.get(done or ""),
        F=forms,
    )


class ClientsController(Controller):
    path = BASE
    guards = (requires(*MANAGERS),)

    @get("/", name="clients_list")
    async def list_page(self, portal: PortalContext, agent: Agent) -> Template:
        manager = manager_of(agent)
        now = int(time.time())
        lines = await reading(portal, lambda session: managed_clients(session, manager, now))
        return portal_page(
            "clients_list.html", lines=lines, everyone=manager.every_organisation, now=now
        )

    @get("/{client_id:str}", name="client_detail")
    async def detail(
        self, portal: PortalContext, agent: Agent, client_id: FromPath[str], fait: str | None = None
    ) -> Template:
        return await detail_page(portal, manager_of(agent), client_id, done=fait)

    @get("/{client_id:str}/logo", name="client_logo")
    async def logo(
        self, portal: PortalContext, agent: Agent, client_id: FromPath[str]
    ) -> Response | Template:
        manager = manager_of(agent)
        try:
            found = await reading(portal, lambda session: client_logo(session, manager, client_id))
        except ClientNotFound:
            return not_found()
        if found is None:
            return not_found()
        image, media_type = found
        # As the broker serves it to citizens; the page's URL carries a version of the image.
        return Response(
            image,
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    @post("/{client_id:str}/adresses", name="client_addresses")
    async def addresses(
        self, request: Request, portal: PortalContext, agent: Agent, client_id: FromPath[str]
    ) -> Template | Redirect:
        form = await request.form()
        outbound = OutboundPolicy.from_settings(portal.settings)
        return await self.change(
            portal,
            agent,
            client_id,
            forms.ADDRESSES_FORM,
            form,
            lambda s, m: update_addresses(s, m, client_id, forms.addresses_from(form), outbound),
        )

    @post("/{client_id:str}/cles", name="client_keys")
    async def keys(
        self, request: Request, portal: PortalContext, agent: Agent, client_id: FromPath[str]
    ) -> Template | Redirect:
        form = await request.form()
        outbound = OutboundPolicy.from_settings(portal.settings)
        return await self.change(
            portal,
            agent,
            client_id,
            forms.KEYS_FORM,
            form,
            lambda s, m: update_keys(s, m, client_id, forms.keys_from(form), outbound),
        )

    @post("/{client_id:str}/logo", name="client_logo_upload")
    async def upload_logo(
        self, request: Request, portal: PortalContext, agent: Agent, client_id: FromPath[str]
    ) -> Template | Redirect:
        form = await request.form()
        upload = form.get(forms.LOGO)
        # One byte over the limit is enough to refuse it: never more is kept in memory.
        image = await upload.read(MAX_LOGO_BYTES + 1) if isinstance(upload, UploadFile) else b""
        return await self.change(
            portal,
            agent,
            client_id,
            forms.LOGO_FORM,
            form,
            lambda s, m: set_client_logo(s, m, client_id, image),
        )

    @post("/{client_id:str}/secret", name="client_rotate_secret")
    async def rotate(
        self, request: Request, portal: PortalContext, agent: Agent, client_id: FromPath[str]
    ) -> Template:
        manager = manager_of(agent)
        form = await request.form()
        try:
            overlap = forms.overlap_from(form)
            rotated: RotatedSecret = await in_transaction(
                portal,
                lambda session: rotate_secret(session, manager, client_id, overlap_hours=overlap),
            )
        except ClientNotFound:
            return not_found()
        except ClientChangeRefused as refusal:
            return await self.refused(portal, manager, client_id, forms.SECRET_FORM, form, refusal)
        except AdminError:  # the page offers no rotation to a client without a secret
            return portal_error(409, *NO_SECRET, code="client_without_secret")
        return portal_page("clients_secret.html", rotated=rotated, overlap_hours=overlap)

    async def change(
        self,
        portal: PortalContext,
        agent: Agent,
        client_id: str,
        form_name: str,
        form: Any,
        apply: Callable[[Any, ClientManager], object],
    ) -> Template | Redirect:
        manager = manager_of(agent)
        try:
            await in_transaction(portal, lambda session: apply(session, manager))
        except ClientNotFound:
            return not_found()
        except ClientChangeRefused as refusal:
            return await self.refused(portal, manager, client_id, form_name, form, refusal)
        return redirect(detail_path(client_id, form_name))

    async def refused(
        self,
        portal: PortalContext,
        manager: ClientManager,
        client_id: str,
        form_name: str,
        form: Any,
        refusal: ClientChangeRefused,
    ) -> Template:
        return await detail_page(
            portal,
            manager,
            client_id,
            failed_form=form_name,
            errors=forms.refused_fields(form_name, refusal),
            submitted=forms.submitted_values(form),
        )


CONTROLLERS: list[type[Controller]] = [ClientsController]
