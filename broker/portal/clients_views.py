"""What the clients' pages share: who manages clients, the refusals they show, and a client's
page rendered, after a change or with a refused form's errors."""

from __future__ import annotations

import json
import time
from typing import Any

from litestar.response import Template

from broker.admin.client_access import ClientDetails, ClientManager, ClientNotFound, client_details
from broker.admin.client_settings import ClientChangeRefused
from broker.portal import clients_forms as forms
from broker.portal.context import PortalContext
from broker.portal.guards import NOT_ALLOWED, refuse
from broker.portal.pages import portal_error, portal_page, reading
from broker.portal.principal import Agent, Role
from broker.web.i18n import N_

BASE = "/clients"
MANAGERS = (Role.REQUESTER, Role.ADMINISTRATOR)

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
# What a redirect after a change says on the client's page (``?fait=…``). Each process of the
# broker keeps a client at most 10 s (broker.store.clients.ClientCache): addresses, keys and
# secrets alike reach it within that time.
DONE = {
    forms.ADDRESSES_FORM: N_(
        "Les adresses ont été enregistrées. La plateforme les applique dans les secondes qui "
        "suivent (au plus 10 s)."
    ),
    forms.KEYS_FORM: N_(
        "Les clés ont été enregistrées. La plateforme les applique dans les secondes qui "
        "suivent (au plus 10 s)."
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


async def refused_page(
    portal: PortalContext,
    manager: ClientManager,
    client_id: str,
    form_name: str,
    form: Any,
    refusal: ClientChangeRefused,
) -> Template:
    submitted = forms.submitted_values(form)
    return await detail_page(
        portal,
        manager,
        client_id,
        failed_form=form_name,
        errors=forms.refused_fields(form_name, refusal, submitted),
        submitted=submitted,
    )
