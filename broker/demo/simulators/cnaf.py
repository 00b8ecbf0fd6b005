"""CNAF / MSA family-quotient simulator (``cnaf``).

Wire format (CNAF style: camelCase French names, INSEE sex codes, ``AAAAMMJJ`` dates)::

    GET /qf/v1/allocataires/quotient
        ?nomNaissance=DUBOIS&prenoms=Angela Claire Louise&sexe=2&dateNaissance=19620824
        &codePaysNaissance=99100&codeInseeLieuNaissance=75107[&nomUsuel=...][&annee=2026&mois=10]
    200 {"regime": "CNAF", "quotientFamilial": 2550,
         "periode": {"annee": 2026, "mois": 10}, "calcul": {"annee": 2026, "mois": 10},
         "allocataires": [{"nomNaissance", "nomUsuel", "prenoms", "dateNaissance": "24081962",
                           "sexe": "F"}], "enfants": [...],
         "adresse": {"identite", "complementInformation", "complementInformationGeo",
                     "numeroLibelleVoie", "lieuDit", "codePostalVille", "pays"}}
    GET /qf/v1/sante

``sexe`` is 1 (male) or 2 (female); ``dateNaissance`` may carry ``00`` for an unknown month or
day; ``codeInseeLieuNaissance`` is required when ``codePaysNaissance`` is 99100. ``annee`` and
``mois`` go together; without them the latest computed quotient is returned. The quotient of a
month after the latest computation does not exist yet: 404.
"""

from __future__ import annotations

import re

from litestar import Litestar, Request, Router, get
from litestar.response import Response

from broker.demo.citizens import DemoCitizen
from broker.demo.simulators import common
from broker.demo.simulators.common import InvalidField, SimulatorOptions
from broker.demo.simulators.matching import IdentityQuery, find, gender_code

HEALTH = "/qf/v1/sante"
QUOTIENT = "/qf/v1/allocataires/quotient"
SEXES = {"1": "M", "2": "F"}


def parse_identity(request: Request) -> IdentityQuery:
    q = request.query_params
    family_name = common.required(q.get("nomNaissance"), "nomNaissance", "nom de naissance")
    given = common.required(
        common.joined(request, "prenoms"), "prenoms", "prénoms séparés par des espaces"
    )
    gender = common.sex(q.get("sexe"), "sexe", SEXES)
    raw_date = common.required(q.get("dateNaissance"), "dateNaissance", "AAAAMMJJ")
    match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", raw_date)
    year, month, day = (int(part) for part in match.groups()) if match else (0, 0, 0)
    if year < 1850 or month > 12 or day > 31 or (month == 0 and day):
        raise InvalidField(
            "dateNaissance",
            "dateNaissance doit être au format AAAAMMJJ (00 pour un mois ou un jour inconnu)",
        )
    country = common.cog(q.get("codePaysNaissance"), "codePaysNaissance", r"99\d{3}")
    if country is None:
        raise InvalidField("codePaysNaissance", "codePaysNaissance est obligatoire")
    place = common.cog(q.get("codeInseeLieuNaissance"), "codeInseeLieuNaissance")
    if country == "99100" and place is None:
        raise InvalidField(
            "codeInseeLieuNaissance",
            "codeInseeLieuNaissance est obligatoire pour une naissance en France",
        )
    return IdentityQuery(
        family_name, (given,), year, month or None, day or None, gender, country, place
    )


def parse_period(request: Request) -> tuple[int, int] | None:
    year = common.integer(request.query_params.get("annee"), "annee", 1990, 2100)
    month = common.integer(request.query_params.get("mois"), "mois", 1, 12)
    if (year is None) != (month is None):
        missing = "mois" if month is None else "annee"
        raise InvalidField(missing, "annee et mois vont ensemble")
    if year is None or month is None:
        return None
    return year, month


def _date(birthdate: str) -> str:
    year, month, day = birthdate.split("-")
    return f"{day}{month}{year}"


def _person(person: dict) -> dict:
    return {
        "nomNaissance": person["family_name"],
        "nomUsuel": person.get("usage_name"),
        "prenoms": person["given_name"],
        "dateNaissance": _date(person["birthdate"]),
        "sexe": gender_code(person["gender"]),
    }


def quotient(citizen: DemoCitizen, period: tuple[int, int] | None) -> object:
    facts = citizen.situation.get("cnaf")
    if facts is None:
        return None
    computed = tuple(int(part) for part in facts["qf_periode"].split("-"))
    if period is not None and period > computed:
        return common.not_found("aucun quotient familial calculé pour ce mois")
    year, month = period or computed
    address = facts.get("adresse") or {}
    return {
        "regime": facts.get("regime", "CNAF"),
        "quotientFamilial": facts["quotient_familial"],
        "periode": {"annee": year, "mois": month},
        "calcul": {"annee": computed[0], "mois": computed[1]},
        "allocataires": [_person(p) for p in facts.get("allocataires", [])],
        "enfants": [_person(p) for p in facts.get("enfants", [])],
        "adresse": {
            "identite": address.get("destinataire"),
            "complementInformation": address.get("complement_information"),
            "complementInformationGeo": address.get("complement_information_geographique"),
            "numeroLibelleVoie": address.get("numero_libelle_voie"),
            "lieuDit": address.get("lieu_dit"),
            "codePostalVille": address.get("code_postal_ville"),
            "pays": address.get("pays"),
        },
    }


def router(options: SimulatorOptions, path: str = "") -> Router:
    @get(QUOTIENT)
    async def family_quotient(request: Request) -> Response:
        query = parse_identity(request)
        period = parse_period(request)
        return await common.respond(
            find(query),
            options,
            lambda c: quotient(c, period),
            "aucun dossier allocataire ne correspond à cette identité",
        )

    return common.provider_router(path, options, HEALTH, [family_quotient])


def create_app(options: SimulatorOptions | None = None) -> Litestar:
    return common.standalone_app(router(options or SimulatorOptions()))
