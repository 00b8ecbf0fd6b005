"""How the commands find the service an operator names: by its id, by its exact name, or by its
name written loosely (case, accents, spaces, dashes and other punctuation aside: "mairie de
saint-etienne" finds "Mairie de Saint-Étienne"). A loose name that fits several services is
refused with their names and ids, never guessed: rights must not land on the wrong service.

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


def find_service(session: Session, wanted: str, *, by_id: bool = True) -> ServiceRef | None:
    """The service ``wanted`` names (its id when ``by_id``, its exact name, then its loose
    name), None when none does; AdminError listing the candidates when several do."""
    wanted = wanted.strip()
    services = [
        ServiceRef(id, name) for id, name in session.exec(select(Service.id, Service.name)).all()
    ]
    for service in services:
        if (by_id and service.id == wanted) or service.name == wanted:
            return service
    key = loose(wanted)
    found = [service for service in services if key and loose(service.name) == key]
    if len(found) > 1:
        candidates = "; ".join(f"{s.name!r} (id {s.id})" for s in sorted(found, key=by_name))
        raise AdminError(
            f"{wanted!r} could be several services: {candidates}. Name one exactly, or by its id"
        )
    return found[0] if found else None


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
