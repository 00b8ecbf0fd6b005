"""Civic-service simulator (``gip_mds``), after the GIP-MDS, which receives the employers'
nominative social declarations (DSN): the civic-service contracts declared for a person.

Wire format (a JSON search, POST: the identity travels in the body, never in a URL)::

    POST /dsn/v1/service-civique/contrats
    {"nomFamille": "LAMBERT", "prenoms": ["Inès", "Clara"], "dateNaissance": "2006-04-12"}
    200 {"contrats": [{"accueil": {"siret": "42229566900026", "raisonSociale": "UNIS CITE"},
                       "dateDebut": "2026-10-05", "dateFin": "2027-06-04",
                       "motifRupture": "99"}]}
    GET /dsn/v1/sante

The identity is the birth name, the given names and the complete birth date: no sex, no
birthplace (the DSN search of API Particulier takes nothing else). ``dateFin`` is the declared
or planned end (null when not declared); ``motifRupture`` is the end reason as the DSN carries
it, null while none is declared: ``99`` a contract not broken off, ``100`` an end not declared
yet (both: the contract is still running), any other code a contract that has ended. A person
known to the DSN without a civic-service contract gets ``{"contrats": []}``; anyone outside
:data:`CONTRACTS` is a 404.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from litestar import Litestar, Request, Router, post
from litestar.response import Response

from broker.demo.citizens import DemoCitizen
from broker.demo.simulators import common
from broker.demo.simulators.common import InvalidField, SimulatorOptions
from broker.demo.simulators.matching import IdentityQuery, find

HEALTH = "/dsn/v1/sante"
MISSING = "aucune déclaration sociale nominative ne correspond à cette identité"


@dataclass(frozen=True)
class Contract:
    siret: str  # the host organisation's
    company_name: str
    start: str
    end: str | None
    end_reason: str | None


# The demo's civic-service contracts, by demo login (an empty list: known to the DSN, never in
# civic service). The host organisations and their SIRETs are real (those of API Particulier's
# staging data); the contracts are fictitious.
CONTRACTS: dict[str, tuple[Contract, ...]] = {
    "etudiant_boursier": (
        Contract("42229566900026", "UNIS CITE", "2026-10-05", "2027-06-04", "99"),
    ),
    "naissance_La_Réunion": (
        Contract("77567227221138", "CROIX ROUGE FRANCAISE", "2015-09-14", "2016-05-13", "31"),
    ),
    "test": (),
    "beneficiaire_rsa": (),
}


def _given_names(body: dict) -> tuple[str, ...]:
    given = body.get("prenoms")
    if (
        not isinstance(given, list)
        or not given
        or not all(isinstance(name, str) and name.strip() for name in given)
    ):
        raise InvalidField("prenoms", "prenoms doit être une liste de prénoms non vides")
    return tuple(given)


def parse_identity(raw: bytes) -> IdentityQuery:
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise InvalidField("nomFamille", "le corps doit être un objet JSON")
    family_name = body.get("nomFamille")
    if not isinstance(family_name, str) or not family_name.strip():
        raise InvalidField("nomFamille", "nomFamille est obligatoire (texte)")
    given = _given_names(body)
    raw_date = body.get("dateNaissance")
    try:
        born = date.fromisoformat(raw_date) if isinstance(raw_date, str) else None
    except ValueError:
        born = None
    if born is None or len(raw_date or "") != 10:
        raise InvalidField("dateNaissance", "dateNaissance doit être une date complète AAAA-MM-JJ")
    return IdentityQuery(family_name, given, born.year, born.month, born.day)


def contracts(citizen: DemoCitizen) -> dict | None:
    known = CONTRACTS.get(citizen.login)
    if known is None:
        return None
    return {
        "contrats": [
            {
                "accueil": {"siret": c.siret, "raisonSociale": c.company_name},
                "dateDebut": c.start,
                "dateFin": c.end,
                "motifRupture": c.end_reason,
            }
            for c in known
        ]
    }


def router(options: SimulatorOptions, path: str = "") -> Router:
    @post("/dsn/v1/service-civique/contrats", status_code=200)
    async def civic_service(request: Request) -> Response:
        query = parse_identity(await request.body())
        return await common.respond(find(query), options, contracts, MISSING)

    return common.provider_router(path, options, HEALTH, [civic_service])


def create_app(options: SimulatorOptions | None = None) -> Litestar:
    return common.standalone_app(router(options or SimulatorOptions()))
