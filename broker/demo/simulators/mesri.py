"""Higher-education student-status simulator (``mesri``), after the MESRI enrolment API.

Wire format::

    GET /etudiants/v1/inscriptions?nomFamille=LAMBERT&prenom=Inès&dateNaissance=2006-04-12
        &sexe=2
    GET /etudiants/v1/inscriptions?ine=2406012345K
    200 {"ine", "nomFamille", "prenom", "dateNaissance": "2006-04-12",
         "inscriptions": [{"dateDebutInscription": "2026-09-01",
                           "dateFinInscription": "2027-08-31", "statut": "inscrit",
                           "regime": "formation initiale", "codeCommune": "69123",
                           "etablissement": {"uai": "0691774D", "nomEtablissement": "..."}}]}
    GET /etudiants/v1/statut

Either ``ine`` or the identity (``nomFamille``, ``prenom``, a complete ``dateNaissance``,
``sexe`` 1 or 2), never both.

The demo data has no MESRI facts of its own: a student known to the Crous
(``situation["cnous"]``) is by definition enrolled in higher education, so the enrolment is
derived from the Crous facts (town and institution of study, start of the academic year); the
commune and UAI codes come from ``reference``. Anyone else is a 404.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from litestar import Litestar, Request, Router, get
from litestar.response import Response

from broker.demo import scenarios
from broker.demo.citizens import DemoCitizen
from broker.demo.simulators import common, reference
from broker.demo.simulators.cnous import by_ine, parse_ine
from broker.demo.simulators.common import InvalidField, SimulatorOptions
from broker.demo.simulators.matching import IdentityQuery, find

HEALTH = "/etudiants/v1/statut"
ENROLMENTS = "/etudiants/v1/inscriptions"
IDENTITY_FIELDS = ("nomFamille", "prenom", "dateNaissance", "sexe")
MISSING = "aucun étudiant ne correspond à ces critères"


def parse_identity(request: Request) -> IdentityQuery:
    q = request.query_params
    family_name = common.required(q.get("nomFamille"), "nomFamille", "nom de naissance")
    first = common.required(q.get("prenom"), "prenom", "premier prénom")
    raw_date = common.required(q.get("dateNaissance"), "dateNaissance", "AAAA-MM-JJ")
    try:
        born = (
            date.fromisoformat(raw_date) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw_date) else None
        )
    except ValueError:
        born = None
    if born is None:
        raise InvalidField("dateNaissance", "dateNaissance doit être une date AAAA-MM-JJ")
    gender = common.sex(q.get("sexe"), "sexe", {"1": "M", "2": "F"})
    return IdentityQuery(family_name, (first,), born.year, born.month, born.day, gender)


def enrolment(citizen: DemoCitizen) -> dict | None:
    facts = citizen.situation.get("cnous")
    if not facts or not facts.get("ine"):
        return None
    start = facts.get("date_rentree")
    end = None
    if start:
        first_day = date.fromisoformat(start)
        end = (first_day.replace(year=first_day.year + 1) - timedelta(days=1)).isoformat()
    institution = facts.get("etablissement")
    return {
        "ine": facts["ine"],
        "nomFamille": citizen.family_name,
        "prenom": citizen.given_name.split()[0],
        "dateNaissance": citizen.birthdate,
        "inscriptions": [
            {
                "dateDebutInscription": start,
                "dateFinInscription": end,
                "statut": "inscrit",
                "regime": "formation initiale",
                "codeCommune": reference.STUDY_TOWNS.get(facts.get("ville_etudes", "")),
                "etablissement": {
                    "uai": reference.INSTITUTIONS.get(institution or ""),
                    "nomEtablissement": institution,
                },
            }
        ],
    }


def router(options: SimulatorOptions, path: str = "") -> Router:
    @get(ENROLMENTS)
    async def enrolments(request: Request) -> Response:
        ine = request.query_params.get("ine")
        if ine is not None:
            if any(request.query_params.get(name) for name in IDENTITY_FIELDS):
                raise InvalidField("ine", "ine ou identité, pas les deux")
            ine = parse_ine(ine)
            return await common.respond(
                by_ine(ine), options, enrolment, MISSING, scenarios.scenario_by_ine(ine)
            )
        return await common.respond(find(parse_identity(request)), options, enrolment, MISSING)

    return common.provider_router(path, options, HEALTH, [enrolments])


def create_app(options: SimulatorOptions | None = None) -> Litestar:
    return common.standalone_app(router(options or SimulatorOptions()))
