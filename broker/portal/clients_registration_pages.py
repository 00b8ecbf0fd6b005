"""Portal pages: a new OpenID Connect client, registered by its owner.

- ``GET /clients/nouveau``: the form, offering the services of the agent's organisation that
  hold a running habilitation, and the scopes it may ask for.
- ``POST /clients/nouveau``: the client made by ``broker.admin.client_registration`` (the same
  function and checks as ``broker clients add``), recorded in the audit trail, its secret
  shown once on a page no cache keeps; refused: the form again, errors beside the fields."""

from __future__ import annotations

import time
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Template

from broker.admin.client_registration import (
    IDENTITY_SCOPES,
    PORTAL_AUTH_METHODS,
    SCOPES,
    RegistrableService,
    register_client,
    registrable_services,
)
from broker.admin.client_settings import ClientChangeRefused
from broker.catalogue.scopes import REGISTRY
from broker.core.outbound.policy import OutboundPolicy
from broker.portal import clients_forms as forms
from broker.portal.clients_views import BASE, MANAGERS, manager_of
from broker.portal.context import PortalContext
from broker.portal.guards import requires
from broker.portal.pages import in_transaction, portal_page, reading
from broker.portal.principal import Agent

NEW_PATH = f"{BASE}/{forms.NEW_FORM}"


def new_client_page(
    services: list[RegistrableService],
    *,
    values: dict[str, str] | None = None,
    scopes: set[str] | None = None,
    errors: list[forms.FieldError] | None = None,
) -> Template:
    """The registration form; with what was typed and its errors (status 400) once refused."""
    errors = errors or []
    data_scopes = list(dict.fromkeys(name for s in services for name in s.data_scopes))
    values = values or {}
    if len(services) == 1:
        values.setdefault(forms.SERVICE, services[0].service_id)
    return portal_page(
        "clients_new.html",
        status_code=400 if errors else 200,
        services=services,
        identity_scopes=[REGISTRY.get(name) for name in IDENTITY_SCOPES],
        data_scopes=[REGISTRY.get(name) for name in data_scopes],
        # Nothing posted yet: openid and every data scope granted, the usual request.
        checked=scopes if scopes is not None else {"openid", *data_scopes},
        auth_methods=PORTAL_AUTH_METHODS,
        values={forms.AUTH_METHOD: PORTAL_AUTH_METHODS[0], **values},
        errors=errors,
        error_for={error.field: error for error in errors},
        labels=forms.LABELS,
        F=forms,
    )


class ClientRegistrationController(Controller):
    path = NEW_PATH
    guards = (requires(*MANAGERS),)

    @get("/", name="client_new")
    async def form(
        self, portal: NamedDependency[PortalContext], agent: NamedDependency[Agent]
    ) -> Template:
        manager = manager_of(agent)
        now = int(time.time())
        services = await reading(
            portal, lambda session: registrable_services(session, manager, now)
        )
        return new_client_page(services)

    @post("/", name="client_create")
    async def create(
        self,
        request: Request,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
    ) -> Template:
        manager = manager_of(agent)
        form = await request.form()
        outbound = OutboundPolicy.from_settings(portal.settings)
        new, unread = forms.new_client_from(form)

        def create(session: Any) -> dict[str, Any]:
            try:
                created = register_client(session, manager, new, outbound)
            except ClientChangeRefused as refusal:
                raise ClientChangeRefused({**refusal.errors, **unread}) from refusal
            if unread:  # the rest was fine: the transaction is rolled back all the same
                raise ClientChangeRefused(unread)
            return created

        try:
            created = await in_transaction(portal, create)
        except ClientChangeRefused as refusal:
            now = int(time.time())
            services = await reading(
                portal, lambda session: registrable_services(session, manager, now)
            )
            submitted = forms.submitted_values(form)
            return new_client_page(
                services,
                values=submitted,
                scopes={s for s in form.getall(SCOPES, []) if isinstance(s, str)},
                errors=forms.refused_fields(forms.NEW_FORM, refusal, submitted),
            )
        return portal_page("clients_created.html", created=created)
