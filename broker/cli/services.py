"""How the commands find the service an operator names: by its id, by its exact name, or by its
name written loosely (case, accents, spaces, dashes and other punctuation aside: "mairie de
saint-etienne" finds "Mairie de Saint-Étienne"). A loose name that fits several services is
refused with their names and ids, never guessed: rights must not land on the wrong service.

A command that creates the service when none exists (``clients add`` without --service,
``habilitations add --create-service``) joins only the service named exactly (or by its id):
one whose name is only close is refused with its name and id, neither joined silently (two
services may differ by a dash) nor doubled by a near-duplicate.

And which data scopes a service's clients would ask for in vain: those no running habilitation
of the service holds (``broker clients add`` warns about them)."""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass

from sqlmodel import Session, col, select

from broker.admin.clients import AdminError
from broker.admin.habilitation_views import is_running
from broker.oidc.authorize_rules import requested_data_scopes
from broker.store.data_access_models import Habilitation
from broker.store.models import Service


@dataclass(frozen=True)
class ServiceRef:
    id: str
    name: str


def loose(name: str) -> str:
    """The letters and digits of ``name``, without accents, case-folded."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if c.isalnum()).casefold()


def all_services(session: Session) -> list[ServiceRef]:
    return [
        ServiceRef(id, name) for id, name in session.exec(select(Service.id, Service.name)).all()
    ]


def exactly_named(services: list[ServiceRef], wanted: str, *, by_id: bool) -> ServiceRef | None:
    for service in services:
        if (by_id and service.id == wanted) or service.name == wanted:
            return service
    return None


def loosely_named(services: list[ServiceRef], wanted: str) -> list[ServiceRef]:
    key = loose(wanted)
    return sorted((s for s in services if key and loose(s.name) == key), key=by_name)


def listed(services: list[ServiceRef]) -> str:
    return "; ".join(f"{s.name!r} (id {s.id})" for s in services)


def find_service(session: Session, wanted: str) -> ServiceRef | None:
    """The service ``wanted`` names (its id, its exact name, then its loose name), None when
    none does; AdminError listing the candidates when several do."""
    wanted = wanted.strip()
    services = all_services(session)
    exact = exactly_named(services, wanted, by_id=True)
    if exact is not None:
        return exact
    found = loosely_named(services, wanted)
    if len(found) > 1:
        raise AdminError(
            f"{wanted!r} could be several services: {listed(found)}. Name one exactly, or by its id"
        )
    return found[0] if found else None


def service_to_join(session: Session, wanted: str, *, by_id: bool) -> ServiceRef | None:
    """The service a command that would otherwise create one joins: the one ``wanted`` names
    exactly (or by its id when ``by_id``), None when no service does nor comes close;
    AdminError naming those whose names are only close."""
    wanted = wanted.strip()
    services = all_services(session)
    exact = exactly_named(services, wanted, by_id=by_id)
    if exact is not None:
        return exact
    close = loosely_named(services, wanted)
    if close:
        one = close[0].id if len(close) == 1 else "<id>"
        raise AdminError(
            f"{wanted!r} is not the exact name of a service, but close to {listed(close)}: "
            f"pass --service {one} to use it, or choose a name no service is close to"
        )
    return None


def existing_service(session: Session, wanted: str) -> ServiceRef:
    """The service ``wanted`` names; AdminError when there is none."""
    if not wanted.strip():
        raise AdminError("--service must not be blank")
    found = find_service(session, wanted)
    if found is None:
        raise AdminError(
            f"no service {wanted.strip()!r} (by id or name): `broker clients list` lists "
            "the services of the clients"
        )
    return found


def by_name(service: ServiceRef) -> str:
    return service.name


def uncovered_data_scopes(session: Session, service_id: str, scopes: list[str]) -> list[str]:
    """The data scopes among ``scopes`` that no running habilitation of the service holds: an
    authorization request asking for them is refused (``invalid_scope``)."""
    now = int(time.time())
    habilitations = session.exec(
        select(Habilitation).where(col(Habilitation.service_id) == service_id)
    ).all()
    covered = {
        scope
        for habilitation in habilitations
        if is_running(habilitation, now)
        for scope in habilitation.scopes
    }
    data_scopes = requested_data_scopes(scopes)
    return [scope for scope in scopes if scope in data_scopes and scope not in covered]
