"""Who manages which clients: a requester those of their organisation's services (the
service's SIRET is theirs), an administrator all of them, an operator at the command line all
of them; instructors and data providers none. A client someone may not manage is, to them,
a client that does not exist (the same answer either way: nothing to learn by guessing ids)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from broker.admin.client_profile import AdminError
from broker.admin.principal import Agent, Role
from broker.oidc.models import SECRET_METHODS
from broker.store.models import OAuthClient, Service


class ClientNotFound(AdminError):
    """No such client, or not one this manager may see."""


@dataclass(frozen=True)
class ClientManager:
    actor: str  # as the audit trail names them
    siret: str | None  # the organisation whose clients they manage; None with every_organisation
    every_organisation: bool = False

    @classmethod
    def of_agent(cls, agent: Agent) -> ClientManager | None:
        """The agent as a manager of clients, or None when their roles give them none."""
        if agent.has(Role.ADMINISTRATOR):
            return cls(actor=agent.actor, siret=None, every_organisation=True)
        if agent.has(Role.REQUESTER) and agent.siret:
            return cls(actor=agent.actor, siret=agent.siret)
        return None

    @classmethod
    def operator(cls, actor: str) -> ClientManager:
        """Someone with the server's command line: every client."""
        return cls(actor=actor, siret=None, every_organisation=True)

    def may_manage(self, service: Service) -> bool:
        if self.every_organisation:
            return True
        return self.siret is not None and service.organisation_siret == self.siret


@dataclass(frozen=True)
class ClientSummary:
    client_id: str
    name: str
    service: str
    organisation_siret: str | None
    auth_method: str
    redirect_uri_count: int
    has_logo: bool
    disabled: bool
    in_overlap_until: int | None  # the previous secret's end, during a rotation overlap


def managed_clients(session: Session, manager: ClientManager, now: int) -> list[ClientSummary]:
    query: Any = (
        select(OAuthClient, Service)
        .join(Service, col(Service.id) == col(OAuthClient.service_id))
        .order_by(col(Service.name), col(OAuthClient.name), col(OAuthClient.client_id))
    )
    if not manager.every_organisation:
        query = query.where(col(Service.organisation_siret) == manager.siret)
    return [summary(client, service, now) for client, service in session.exec(query).all()]


def summary(client: OAuthClient, service: Service, now: int) -> ClientSummary:
    expires = client.previous_secret_expires_at
    return ClientSummary(
        client_id=client.client_id,
        name=client.name,
        service=service.name,
        organisation_siret=service.organisation_siret,
        auth_method=client.auth_method,
        redirect_uri_count=len(client.redirect_uris),
        has_logo=service.logo_type is not None,
        disabled=client.disabled_at is not None,
        in_overlap_until=expires if expires is not None and expires > now else None,
    )


def managed_client(
    session: Session, manager: ClientManager, client_id: str, *, for_update: bool = False
) -> tuple[OAuthClient, Service]:
    """The client and its service, if ``manager`` may manage it (ClientNotFound otherwise).
    ``for_update``: the row is locked until the transaction ends (PostgreSQL), so that two
    changes made at once are applied one after the other, each on the other's result."""
    query: Any = select(OAuthClient).where(col(OAuthClient.client_id) == client_id)
    if for_update:
        query = query.with_for_update()
    client = session.exec(query).first()
    service = session.get(Service, client.service_id) if client is not None else None
    if client is None or service is None or not manager.may_manage(service):
        raise ClientNotFound(f"no client {client_id!r}")
    return client, service


@dataclass(frozen=True)
class ClientDetails:
    """What a client's page shows: its registration, never its secret nor a digest."""

    client_id: str
    name: str
    service: str
    service_id: str
    organisation_siret: str | None
    auth_method: str
    scope: str
    profile: str | None
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    notification_uri: str | None
    backchannel_logout_uri: str | None
    jwks: dict[str, Any] | None
    jwks_uri: str | None
    uses_secret: bool
    in_overlap_until: int | None
    logo_type: str | None
    logo_version: str | None  # changes with the image: browsers fetch a new logo at once
    created_at: int
    disabled: bool


def client_details(
    session: Session, manager: ClientManager, client_id: str, now: int
) -> ClientDetails:
    client, service = managed_client(session, manager, client_id)
    line = summary(client, service, now)
    return ClientDetails(
        client_id=client.client_id,
        name=client.name,
        service=service.name,
        service_id=service.id,
        organisation_siret=service.organisation_siret,
        auth_method=client.auth_method,
        scope=client.scope,
        profile=client.profile,
        redirect_uris=tuple(client.redirect_uris),
        post_logout_redirect_uris=tuple(client.post_logout_redirect_uris or ()),
        notification_uri=client.notification_uri,
        backchannel_logout_uri=client.backchannel_logout_uri,
        jwks=client.jwks,
        jwks_uri=client.jwks_uri,
        uses_secret=client.auth_method in SECRET_METHODS,
        in_overlap_until=line.in_overlap_until,
        logo_type=service.logo_type if service.logo else None,
        logo_version=hashlib.sha256(service.logo).hexdigest()[:16] if service.logo else None,
        created_at=client.created_at,
        disabled=line.disabled,
    )


def client_logo(
    session: Session, manager: ClientManager, client_id: str
) -> tuple[bytes, str] | None:
    """The logo of the client's service and its media type, if it has one."""
    _, service = managed_client(session, manager, client_id)
    if not service.logo or not service.logo_type:
        return None
    return service.logo, service.logo_type
