"""Crous student-grant simulator (``cnous``), after the Cnous scholarship API.

Wire format (English field names, an array of files, ``DD/MM/YYYY`` birth dates)::

    GET /api/v1/students/scholarship?lastName=LAMBERT&firstName=Inès&firstName2=Clara
        &birthDate=12/04/2006&civility=F[&birthPlace=69383]
    GET /api/v1/students/scholarship?ine=2406012345K
    200 [{"ine", "lastName", "firstName", "firstName2", "birthDate": "2006-04-12T00:00:00",
          "birthPlaceLibelle", "civility": "F", "email", "grantEchelon": "5",
          "grantStatus": 0, "backToSchoolDate": "2026-09-01", "paymentDuration": 10,
          "studyTown": "Lyon", "schoolName": "...", "removed": false, "removalDate": null}]
    GET /api/v1/health

Either ``ine`` or the identity (``lastName``, ``firstName``, a complete ``birthDate`` and
``civility``), never both. ``grantStatus`` is 0 when the grant level is final, 1 when it is
provisional. ``removed`` says the student was struck off the grant ("radié", on
``removalDate``): the file stays, with its last level. The Crous only knows grant holders and
struck-off students: anyone else is a 404.
"""

from __future__ import annotations

import re

from litestar import Litestar, Request, Router, get
from litestar.response import Response

from broker.demo import scenarios
from broker.demo.citizens import DemoCitizen
from broker.demo.simulators import common
from broker.demo.simulators.common import InvalidField, SimulatorOptions
from broker.demo.simulators.matching import POPULATION, IdentityQuery, find, gender_code

HEALTH = "/api/v1/health"
SCHOLARSHIP = "/api/v1/students/scholarship"
INE = re.compile(r"[0-9A-Z]{10}[A-Z]")
IDENTITY_FIELDS = ("lastName", "firstName", "firstName2", "birthDate", "civility", "birthPlace")
MISSING = "aucun étudiant boursier ne correspond à ces critères"


def parse_ine(value: str) -> str:
    ine = value.strip().upper()
    if not INE.fullmatch(ine):
        raise InvalidField("ine", "ine doit compter 10 chiffres ou lettres suivis d'une lettre")
    return ine


def parse_identity(request: Request) -> IdentityQuery:
    q = request.query_params
    last_name = common.required(q.get("lastName"), "lastName", "nom de naissance")
    first = common.required(q.get("firstName"), "firstName", "premier prénom")
    second = common.optional(q.get("firstName2"))
    raw_date = common.required(q.get("birthDate"), "birthDate", "JJ/MM/AAAA")
    match = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", raw_date)
    day, month, year = (int(part) for part in match.groups()) if match else (0, 0, 0)
    if not (1 <= day <= 31 and 1 <= month <= 12 and year >= 1850):
        raise InvalidField("birthDate", "birthDate doit être une date complète JJ/MM/AAAA")
    civility = common.sex(q.get("civility"), "civility", {"M": "M", "F": "F"})
    place = common.cog(q.get("birthPlace"), "birthPlace")
    names = (first, second) if second else (first,)
    return IdentityQuery(last_name, names, year, month, day, civility, None, place)


def scholarship(citizen: DemoCitizen) -> list | None:
    facts = citizen.situation.get("cnous")
    if not facts or not (facts.get("boursier") or facts.get("radie")):
        return None
    names = citizen.given_name.split()
    status = 0 if facts.get("statut", "definitif") == "definitif" else 1
    return [
        {
            "ine": facts.get("ine"),
            "lastName": citizen.family_name,
            "firstName": names[0],
            "firstName2": names[1] if len(names) > 1 else None,
            "birthDate": f"{citizen.birthdate}T00:00:00",
            "birthPlaceLibelle": citizen.birth_commune_name or None,
            "civility": gender_code(citizen.gender),
            "email": citizen.email,
            "grantEchelon": str(facts["echelon"]),
            "grantStatus": status,
            "backToSchoolDate": facts.get("date_rentree"),
            "paymentDuration": facts.get("duree_versement_mois"),
            "studyTown": facts.get("ville_etudes"),
            "schoolName": facts.get("etablissement"),
            "removed": bool(facts.get("radie")),
            "removalDate": facts.get("date_radiation") if facts.get("radie") else None,
        }
    ]


def by_ine(ine: str) -> DemoCitizen | None:
    return next(
        (c for c in POPULATION if (c.situation.get("cnous") or {}).get("ine", "").upper() == ine),
        None,
    )


def router(options: SimulatorOptions, path: str = "") -> Router:
    @get(SCHOLARSHIP)
    async def student_scholarship(request: Request) -> Response:
        ine = request.query_params.get("ine")
        if ine is not None:
            if any(request.query_params.get(name) for name in IDENTITY_FIELDS):
                raise InvalidField("ine", "ine ou identité, pas les deux")
            ine = parse_ine(ine)
            return await common.respond(
                by_ine(ine), options, scholarship, MISSING, scenarios.scenario_by_ine(ine)
            )
        return await common.respond(find(parse_identity(request)), options, scholarship, MISSING)

    return common.provider_router(path, options, HEALTH, [student_scholarship])


def create_app(options: SimulatorOptions | None = None) -> Litestar:
    return common.standalone_app(router(options or SimulatorOptions()))
