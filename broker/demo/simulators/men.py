"""National Education simulator (``men``): a pupil's enrolment in one school, one school year.

Wire format::

    GET /scolarite/v1/eleves?nom=CHAMPION&prenom=Alice&sexe=F&dateNaissance=2010-11-02
        &uai=0440021J&anneeScolaire=2026-2027
    200 {"eleve": {"nom", "prenom", "sexe", "dateNaissance"}, "anneeScolaire": "2026-2027",
         "scolarise": true, "statut": {"code": "ST", "libelle": "SCOLAIRE"},
         "etablissement": {"uai", "ministereTutelle": "06", "nom"},
         "formation": {"codeMefStat11", "libelle"},
         "bourse": {"boursier": false, "echelon": null}}
    GET /scolarite/v1/sante

Every parameter is required. ``anneeScolaire`` is ``AAAA`` (the year the school year starts)
or ``AAAA-AAAA``; ``uai`` is 7 digits and a letter. A pupil is found only in the school and the
school year of their enrolment (``situation["men"]``): any other school or year is a 404.
"""

from __future__ import annotations

import re
from datetime import date

from litestar import Litestar, Request, Router, get
from litestar.response import Response

from broker.demo.citizens import DemoCitizen
from broker.demo.simulators import common, reference
from broker.demo.simulators.common import InvalidField, SimulatorOptions
from broker.demo.simulators.matching import IdentityQuery, find, gender_code

HEALTH = "/scolarite/v1/sante"
UAI = re.compile(r"\d{7}[A-Z]")
MISSING = "aucun élève ne correspond à ces critères dans cet établissement cette année"


def parse_identity(request: Request) -> IdentityQuery:
    q = request.query_params
    family_name = common.required(q.get("nom"), "nom", "nom de naissance")
    first = common.required(q.get("prenom"), "prenom", "premier prénom")
    gender = common.sex(q.get("sexe"), "sexe", {"M": "M", "F": "F"})
    raw_date = common.required(q.get("dateNaissance"), "dateNaissance", "AAAA-MM-JJ")
    try:
        born = date.fromisoformat(raw_date) if len(raw_date) == 10 else None
    except ValueError:
        born = None
    if born is None:
        raise InvalidField("dateNaissance", "dateNaissance doit être une date AAAA-MM-JJ")
    return IdentityQuery(family_name, (first,), born.year, born.month, born.day, gender)


def parse_school(request: Request) -> tuple[str, int]:
    uai = common.required(request.query_params.get("uai"), "uai", "code UAI").upper()
    if not UAI.fullmatch(uai):
        raise InvalidField("uai", "uai doit compter 7 chiffres suivis d'une lettre")
    year = common.required(
        request.query_params.get("anneeScolaire"), "anneeScolaire", "AAAA ou AAAA-AAAA"
    )
    match = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", year)
    if not match or (match.group(2) and int(match.group(2)) != int(match.group(1)) + 1):
        raise InvalidField(
            "anneeScolaire", "anneeScolaire doit être AAAA ou AAAA-AAAA (deux années consécutives)"
        )
    return uai, int(match.group(1))


def enrolment(citizen: DemoCitizen, uai: str, start_year: int) -> dict | None:
    facts = citizen.situation.get("men")
    if not facts:
        return None
    school = facts.get("etablissement") or {}
    school_year = facts.get("annee_scolaire", "")
    if school.get("uai", "").upper() != uai or not school_year.startswith(f"{start_year}-"):
        return None
    level = facts.get("niveau") or ""
    mef_code, mef_label = reference.CLASS_LEVELS.get(level, (None, level.upper() or None))
    status = reference.SCHOOL_STATUSES.get(facts.get("statut", ""), reference.UNKNOWN_SCHOOL_STATUS)
    grant = bool(facts.get("boursier"))
    return {
        "eleve": {
            "nom": citizen.family_name,
            "prenom": citizen.given_name.split()[0],
            "sexe": gender_code(citizen.gender),
            "dateNaissance": citizen.birthdate,
        },
        "anneeScolaire": school_year,
        "scolarise": bool(facts.get("scolarise")),
        "statut": {"code": status[0], "libelle": status[1]},
        "etablissement": {
            "uai": school["uai"],
            "ministereTutelle": school.get("ministere_tutelle", reference.MINISTRY_OF_EDUCATION),
            "nom": school.get("nom"),
        },
        "formation": {"codeMefStat11": mef_code, "libelle": mef_label},
        "bourse": {"boursier": grant, "echelon": facts.get("echelon_bourse") if grant else None},
    }


def router(options: SimulatorOptions, path: str = "") -> Router:
    @get("/scolarite/v1/eleves")
    async def pupil(request: Request) -> Response:
        query = parse_identity(request)
        uai, start_year = parse_school(request)
        return await common.respond(
            find(query), options, lambda c: enrolment(c, uai, start_year), MISSING
        )

    return common.provider_router(path, options, HEALTH, [pupil])


def create_app(options: SimulatorOptions | None = None) -> Litestar:
    return common.standalone_app(router(options or SimulatorOptions()))
