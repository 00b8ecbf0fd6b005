"""National Education simulator (``men``): a pupil's enrolment in one school, or in any school
of a perimeter, for one school year.

Wire format::

    GET /scolarite/v1/eleves?nom=CHAMPION&prenom=Alice&sexe=F&dateNaissance=2010-11-02
        &uai=0440021J&anneeScolaire=2026-2027
    GET /scolarite/v1/eleves?nom=...&anneeScolaire=2026&departements=044,085[&degre=2D]
    GET /scolarite/v1/eleves?nom=...&anneeScolaire=2026&regions=52[&degre=2D]
    200 {"eleve": {"nom", "prenom", "sexe", "dateNaissance"}, "anneeScolaire": "2026-2027",
         "scolarise": true, "statut": {"code": "ST", "libelle": "SCOLAIRE"},
         "etablissement": {"uai", "ministereTutelle": "06", "nom"},
         "formation": {"codeMefStat11", "libelle"},
         "bourse": {"boursier": false, "echelon": null}}
    GET /scolarite/v1/sante

The identity and ``anneeScolaire`` are required, with exactly one of ``uai`` (a school),
``departements`` or ``regions`` (a perimeter: comma-separated BCN codes, see
``men_perimeter``); ``degre`` (1D or 2D, the school's degree) narrows a search. ``anneeScolaire``
is ``AAAA`` (the year the school year starts) or ``AAAA-AAAA``; ``uai`` is 7 digits and a
letter. A pupil is found only in the school year of their enrolment (``situation["men"]``) and
in its school or a perimeter holding it (degree ``etablissement.degre``, default 2D): anything
else is a 404.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from litestar import Litestar, Request, Router, get
from litestar.response import Response

from broker.demo.citizens import DemoCitizen
from broker.demo.simulators import common, men_perimeter, reference
from broker.demo.simulators.common import InvalidField, SimulatorOptions
from broker.demo.simulators.matching import IdentityQuery, find, gender_code

HEALTH = "/scolarite/v1/sante"
UAI = re.compile(r"\d{7}[A-Z]")
MISSING = "aucun élève ne correspond à ces critères dans ce lieu cette année scolaire"


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


@dataclass(frozen=True)
class Where:
    """Where to look: one school (``uai``) or a perimeter (departments or regions)."""

    uai: str | None = None
    departments: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    degree: str | None = None

    def holds(self, uai: str, degree: str) -> bool:
        if self.degree is not None and degree != self.degree:
            return False
        if self.uai is not None:
            return uai == self.uai
        if self.departments:
            return men_perimeter.bcn_department(uai) in self.departments
        return men_perimeter.academic_region(uai) in self.regions


def _codes(request: Request, name: str, pattern: str) -> frozenset[str]:
    raw = common.optional(request.query_params.get(name))
    codes = [code.strip().upper() for code in raw.split(",")] if raw else []
    if not all(re.fullmatch(pattern, code) for code in codes):
        raise InvalidField(name, f"{name} : des codes BCN séparés par des virgules")
    return frozenset(codes)


def parse_where(request: Request) -> Where:
    q = request.query_params
    raw_uai = common.optional(q.get("uai"))
    departments = _codes(request, "departements", r"\d{2}[\dAB]")
    regions = _codes(request, "regions", r"\d{2}")
    if sum(map(bool, (raw_uai, departments, regions))) != 1:
        raise InvalidField("uai", "uai, departements ou regions : un seul, et un est obligatoire")
    degree = common.optional(q.get("degre"))
    if degree is not None and degree.upper() not in men_perimeter.DEGREES:
        raise InvalidField("degre", "degre doit valoir 1D ou 2D")
    uai = raw_uai.upper() if raw_uai else None
    if uai is not None and not UAI.fullmatch(uai):
        raise InvalidField("uai", "uai doit compter 7 chiffres suivis d'une lettre")
    return Where(uai, departments, regions, degree.upper() if degree else None)


def parse_year(request: Request) -> int:
    year = common.required(
        request.query_params.get("anneeScolaire"), "anneeScolaire", "AAAA ou AAAA-AAAA"
    )
    match = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", year)
    if not match or (match.group(2) and int(match.group(2)) != int(match.group(1)) + 1):
        raise InvalidField(
            "anneeScolaire", "anneeScolaire doit être AAAA ou AAAA-AAAA (deux années consécutives)"
        )
    return int(match.group(1))


def enrolment(citizen: DemoCitizen, where: Where, start_year: int) -> dict | None:
    facts = citizen.situation.get("men")
    if not facts:
        return None
    school = facts.get("etablissement") or {}
    school_year = facts.get("annee_scolaire", "")
    degree = school.get("degre", "2D")
    if not where.holds(school.get("uai", "").upper(), degree) or not school_year.startswith(
        f"{start_year}-"
    ):
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
        where, start_year = parse_where(request), parse_year(request)
        return await common.respond(
            find(query), options, lambda c: enrolment(c, where, start_year), MISSING
        )

    return common.provider_router(path, options, HEALTH, [pupil])


def create_app(options: SimulatorOptions | None = None) -> Litestar:
    return common.standalone_app(router(options or SimulatorOptions()))
