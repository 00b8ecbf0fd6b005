"""Portal pages: the OpenID Connect clients of an organisation's services, managed by their
owners (requesters of that organisation; administrators: every client).

- ``GET /clients``: the clients the agent manages.
- ``GET|POST /clients/nouveau``: a new client (broker.portal.clients_registration_pages).
- ``GET /clients/{id}``: its registration, and the forms to change its addresses, its keys,
  its service's logo, and to rotate its secret.
- ``POST /clients/{id}/adresses|cles|logo``: one change each, re-rendered with the errors
  beside the fields when refused; ``POST /clients/{id}/secret``: a new secret, shown once on
  a page no cache keeps.
- ``GET /clients/{id}/logo``: the logo, for the signed-in agent only.

The rules live in ``broker.admin`` (client_access, client_settings, client_secrets), the same
as ``broker clients``; this module reads forms, runs one transaction per change and picks
the page."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from broker.admin.client_access import ClientManager, ClientNotFound, client_logo, managed_clients
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
from broker.portal.clients_registration_pages import ClientRegistrationController
from broker.portal.clients_views import (
    BASE,
    MANAGERS,
    NO_SECRET,
    detail_page,
    detail_path,
    manager_of,
    not_found,
    refused_page,
)
from broker.portal.context import PortalContext
from broker.portal.guards import requires
from broker.portal.pages import in_transaction, portal_error, portal_page, reading
from broker.portal.principal import Agent
from broker.web.http import redirect

Portal = NamedDependency[PortalContext]
SignedIn = NamedDependency[Agent]
# A change of the client's settings: (session, manager, client id, what was typed, policy).
SettingsChange = Callable[[Any, ClientManager, str, Any, OutboundPolicy], object]


class ClientsController(Controller):
    path = BASE
    guards = (requires(*MANAGERS),)

    @get("/", name="clients_list")
    async def list_page(self, portal: Portal, agent: SignedIn) -> Template:
        manager = manager_of(agent)
        now = int(time.time())
        lines = await reading(portal, lambda session: managed_clients(session, manager, now))
        return portal_page(
            "clients_list.html", lines=lines, everyone=manager.every_organisation, now=now
        )

    @get("/{client_id:str}", name="client_detail")
    async def detail(
        self,
        portal: Portal,
        agent: SignedIn,
        client_id: FromPath[str],
        fait: FromQuery[str | None] = None,
    ) -> Template:
        return await detail_page(portal, manager_of(agent), client_id, done=fait)

    @get("/{client_id:str}/logo", name="client_logo")
    async def logo(
        self, portal: Portal, agent: SignedIn, client_id: FromPath[str]
    ) -> Response | Template:
        manager = manager_of(agent)
        try:
            found = await reading(portal, lambda session: client_logo(session, manager, client_id))
        except ClientNotFound:
            return not_found()
        if found is None:
            return not_found()
        image, media_type = found
        # Behind the sign-in: only this browser may keep it (the URL carries the image's
        # version, so a new logo is fetched at once).
        return Response(
            image,
            media_type=media_type,
            headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    @post("/{client_id:str}/adresses", name="client_addresses")
    async def addresses(
        self, request: Request, portal: Portal, agent: SignedIn, client_id: FromPath[str]
    ) -> Template | Redirect:
        return await self.settings_change(
            request,
            portal,
            agent,
            client_id,
            forms.ADDRESSES_FORM,
            forms.addresses_from,
            update_addresses,
        )

    @post("/{client_id:str}/cles", name="client_keys")
    async def keys(
        self, request: Request, portal: Portal, agent: SignedIn, client_id: FromPath[str]
    ) -> Template | Redirect:
        return await self.settings_change(
            request, portal, agent, client_id, forms.KEYS_FORM, forms.keys_from, update_keys
        )

    @post("/{client_id:str}/logo", name="client_logo_upload")
    async def upload_logo(
        self, request: Request, portal: Portal, agent: SignedIn, client_id: FromPath[str]
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
        self, request: Request, portal: Portal, agent: SignedIn, client_id: FromPath[str]
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
            return await refused_page(portal, manager, client_id, forms.SECRET_FORM, form, refusal)
        except AdminError:  # the page offers no rotation to a client without a secret
            return portal_error(409, *NO_SECRET, code="client_without_secret")
        return portal_page("clients_secret.html", rotated=rotated, overlap_hours=overlap)

    async def settings_change(
        self,
        request: Request,
        portal: PortalContext,
        agent: Agent,
        client_id: str,
        form_name: str,
        read: Callable[[Any], Any],
        apply: SettingsChange,
    ) -> Template | Redirect:
        """A form of the client's settings: read as typed, then applied by the domain under
        the deployment's rule for the URLs the broker calls."""
        form = await request.form()
        outbound = OutboundPolicy.from_settings(portal.settings)
        return await self.change(
            portal,
            agent,
            client_id,
            form_name,
            form,
            lambda s, m: apply(s, m, client_id, read(form), outbound),
        )

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
            return await refused_page(portal, manager, client_id, form_name, form, refusal)
        return redirect(detail_path(client_id, form_name))


CONTROLLERS: list[type[Controller]] = [ClientRegistrationController, ClientsController]
