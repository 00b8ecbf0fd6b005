"""Registering a new OpenID Connect client on the portal: a requester adds one to a service of
their organisation that holds a running habilitation (an administrator: to any such service).

The client is made by ``broker.admin.clients.add_client``, the very function behind
``broker clients add``, so its rules are the command line's; on top of them the portal allows
only what an owner may choose alone: a secret (client_secret_basic) or keys (private_key_jwt),
and the scopes ``openid``, identity scopes, and the data scopes its service's habilitations
grant, never more (more would be a data access no instructor approved)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from broker.admin import audit
from broker.admin.client_access import ClientManager
from broker.admin.client_jwks import check_client_jwks
from broker.admin.client_profile import AdminError
from broker.admin.client_settings import (
    JWKS,
    JWKS_URI,
    NOTIFICATION_URI,
    POST_LOGOUT_REDIRECT_URIS,
    REDIRECT_URIS,
    WHOLE,
    ClientChangeRefused,
    check_uris,
    fetched_url_check,
    field_error,
)
from broker.admin.clients import (
    ClientRegistration,
    add_client,
    check_https_url,
    check_redirect_uri,
)
from broker.admin.habilitation_views import is_running
from broker.catalogue.scopes import REGISTRY
from broker.core.outbound.policy import DEVELOPMENT, OutboundPolicy
from broker.store.data_access_models import Habilitation
from broker.store.models import Service

NAME = "name"
SERVICE = "service"
AUTH_METHOD = "auth_method"
SCOPES = "scopes"

# What an owner may choose alone; the other methods and profiles are the platform team's.
PORTAL_AUTH_METHODS = ("client_secret_basic", "private_key_jwt")
IDENTITY_SCOPES = tuple(scope.name for scope in REGISTRY.identity_scopes())
MAX_NAME = 200  # the column's size


@dataclass(frozen=True)
class RegistrableService:
    service_id: str
    name: str
    organisation_siret: str | None
    data_scopes: tuple[str, ...]  # granted by its running habilitations, in catalogue order

    @property
    def allowed_scopes(self) -> frozenset[str]:
        return frozenset((*IDENTITY_SCOPES, *self.data_scopes))


@dataclass(frozen=True)
class NewClient:
    service_id: str
    name: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()
    auth_method: str = "client_secret_basic"
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None
    notification_uri: str | None = None
    scopes: tuple[str, ...] = ("openid",)


def registrable_services(
    session: Session, manager: ClientManager, now: int
) -> list[RegistrableService]:
    """The services ``manager`` may add a client to: theirs, with a running habilitation."""
    query: Any = (
        select(Habilitation, Service)
        .join(Service, col(Service.id) == col(Habilitation.service_id))
        .where(col(Habilitation.revoked_at).is_(None))
        .order_by(col(Service.name))
    )
    if not manager.every_organisation:
        query = query.where(col(Service.organisation_siret) == manager.siret)
    granted: dict[str, set[str]] = {}
    services: dict[str, Service] = {}
    for habilitation, service in session.exec(query).all():
        if is_running(habilitation, now) and manager.may_manage(service):
            services[service.id] = service
            granted.setdefault(service.id, set()).update(habilitation.scopes)
    catalogue = [scope.name for scope in REGISTRY.data_scopes()]
    return [
        RegistrableService(
            service_id=service.id,
            name=service.name,
            organisation_siret=service.organisation_siret,
            data_scopes=tuple(name for name in catalogue if name in granted[service.id]),
        )
        for service in services.values()
    ]


def register_client(
    session: Session,
    manager: ClientManager,
    new: NewClient,
    outbound: OutboundPolicy = DEVELOPMENT,
    now: int | None = None,
) -> dict[str, Any]:
    """The client, created and recorded in the audit trail (``client.create``, without its
    secret); the secret, if any, is in the result only. ``ClientChangeRefused`` names each
    field refused (nothing written)."""
    now = int(time.time()) if now is None else now
    services = {s.service_id: s for s in registrable_services(session, manager, now)}
    service = services.get(new.service_id)
    errors = field_errors(new, service, outbound)
    if errors or service is None:  # field_errors names a service not offered
        raise ClientChangeRefused(errors)
    registration = ClientRegistration(
        name=new.name.strip(),
        redirect_uris=list(dict.fromkeys(new.redirect_uris)),
        scope=" ".join(dict.fromkeys(new.scopes)),
        auth_method=new.auth_method,
        jwks=new.jwks,
        jwks_uri=new.jwks_uri or None,
        notification_uri=new.notification_uri or None,
        post_logout_redirect_uris=tuple(dict.fromkeys(new.post_logout_redirect_uris)),
        service=service.name,
    )
    try:
        created = add_client(session, registration, outbound)
    except AdminError as exc:  # a rule across fields, worded by the command line's check
        raise ClientChangeRefused({WHOLE: str(exc)}) from exc
    described = {key: value for key, value in created.items() if key != "client_secret"}
    audit.record(
        session,
        actor=manager.actor,
        action="client.create",
        target_type="client",
        target_id=created["client_id"],
        before=None,
        after=described,
    )
    return created


def field_errors(
    new: NewClient, service: RegistrableService | None, outbound: OutboundPolicy
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not new.name.strip():
        errors[NAME] = "a client needs a name"
    elif len(new.name.strip()) > MAX_NAME:
        errors[NAME] = f"the name must be at most {MAX_NAME} characters"
    if service is None:
        errors[SERVICE] = "not a service of your organisation with an active habilitation"
    if not new.redirect_uris:
        errors[REDIRECT_URIS] = "at least one redirect URI is required"
    field_error(errors, REDIRECT_URIS, check_uris(new.redirect_uris, check_redirect_uri))
    field_error(
        errors,
        POST_LOGOUT_REDIRECT_URIS,
        check_uris(
            new.post_logout_redirect_uris,
            lambda uri: check_https_url(uri, "post-logout redirect URI"),
        ),
    )
    if new.notification_uri:
        field_error(
            errors,
            NOTIFICATION_URI,
            fetched_url_check(new.notification_uri, "notification URI", outbound),
        )
    key_errors(errors, new, outbound)
    if service is not None:
        scope_errors(errors, new.scopes, service)
    return errors


def key_errors(errors: dict[str, str], new: NewClient, outbound: OutboundPolicy) -> None:
    if new.auth_method not in PORTAL_AUTH_METHODS:
        errors[AUTH_METHOD] = f"must be one of {', '.join(PORTAL_AUTH_METHODS)}"
        return
    if new.jwks is not None and new.jwks_uri:
        errors[JWKS] = "register the keys either inline (a JWKS) or by their address, not both"
    elif new.auth_method == "private_key_jwt" and new.jwks is None and not new.jwks_uri:
        errors[JWKS] = "private_key_jwt needs the client's public keys, inline or by address"
    if new.jwks is not None:
        field_error(errors, JWKS, lambda: check_client_jwks(new.jwks))
    if new.jwks_uri:
        field_error(errors, JWKS_URI, fetched_url_check(new.jwks_uri, "jwks_uri", outbound))


def scope_errors(
    errors: dict[str, str], scopes: tuple[str, ...], service: RegistrableService
) -> None:
    if "openid" not in scopes:
        errors[SCOPES] = "the openid scope is required"
    elif beyond := [scope for scope in scopes if scope not in service.allowed_scopes]:
        errors[SCOPES] = "not granted by the service's active habilitations: " + " ".join(
            sorted(beyond)
        )
