"""DGFiP income-tax simulator (``dgfip``): the tax household of a person, for one income year.

Wire format (long French names, ``JJ/MM/AAAA`` dates with ``00`` for unknown parts)::

    GET /impotparticulier/v1/foyers-fiscaux?nomNaissance=DUBOIS&prenoms=Angela Claire Louise
        &sexe=F&dateNaissance=24/08/1962&codePaysNaissance=99100&codeCommuneNaissance=75107
        [&anneeRevenus=2025]
    200 {"anneeRevenus": 2025, "revenuFiscalDeReference": 30600, "nombreDeParts": 1.0,
         "situationDeFamille": "C", "nombreDePersonnesACharge": 0, "parentIsole": false,
         "adresseFiscaleDeTaxation": null,
         "declarant1": {"nomDeNaissance", "nomDUsage", "prenoms", "dateDeNaissance"},
         "declarant2": null}
    GET /impotparticulier/v1/ping

The identity is required in full (the DGFiP is reached with a FranceConnect identity), except the
commune for people born abroad. Without ``anneeRevenus`` the latest income year is returned;
another year than the one the demo data knows is a 404. ``parentIsole`` is derived (single,
divorced or widowed with dependants). The second filer is known only when the demo data names
the partner (the CAF file of a married or PACS couple); otherwise it is null.
"""

from __future__ import annotations

import re

from litestar import Litestar, Request, Router, get
from litestar.response import Response

from broker.demo.citizens import DemoCitizen
from broker.demo.simulators import common
from broker.demo.simulators.common import InvalidField, SimulatorOptions
from broker.demo.simulators.matching import IdentityQuery, find, normalise

HEALTH = "/impotparticulier/v1/ping"
MISSING = "aucun foyer fiscal ne correspond à cette identité pour cette année"
COUPLES = ("M", "O")  # married, PACS
ALONE = ("C", "D", "V")  # single, divorced, widowed


def parse_identity(request: Request) -> IdentityQuery:
    q = request.query_params
    family_name = common.required(q.get("nomNaissance"), "nomNaissance", "nom de naissance")
    given = common.required(
        common.joined(request, "prenoms"), "prenoms", "prénoms séparés par des espaces"
    )
    gender = common.sex(q.get("sexe"), "sexe", {"M": "M", "F": "F"})
    raw_date = common.required(q.get("dateNaissance"), "dateNaissance", "JJ/MM/AAAA")
    match = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", raw_date)
    day, month, year = (int(part) for part in match.groups()) if match else (0, 0, 0)
    if year < 1850 or month > 12 or day > 31 or (month == 0 and day):
        raise InvalidField(
            "dateNaissance",
            "dateNaissance doit être JJ/MM/AAAA (00 pour un jour ou un mois inconnu)",
        )
    country = common.cog(q.get("codePaysNaissance"), "codePaysNaissance", r"99\d{3}")
    if country is None:
        raise InvalidField("codePaysNaissance", "codePaysNaissance est obligatoire")
    place = common.cog(q.get("codeCommuneNaissance"), "codeCommuneNaissance")
    if country == "99100" and place is None:
        raise InvalidField(
            "codeCommuneNaissance",
            "codeCommuneNaissance est obligatoire pour une naissance en France",
        )
    return IdentityQuery(
        family_name, (given,), year, month or None, day or None, gender, country, place
    )


def _date(birthdate: str) -> str:
    year, month, day = birthdate.split("-")
    return f"{day}/{month}/{year}"


def _partner(citizen: DemoCitizen) -> dict | None:
    adults = (citizen.situation.get("cnaf") or {}).get("allocataires", [])
    for adult in adults:
        if (
            normalise(adult["family_name"]) != normalise(citizen.family_name)
            or adult["birthdate"] != citizen.birthdate
        ):
            return {
                "nomDeNaissance": adult["family_name"],
                "nomDUsage": None,
                "prenoms": adult["given_name"],
                "dateDeNaissance": _date(adult["birthdate"]),
            }
    return None


def tax_household(citizen: DemoCitizen, year: int | None) -> dict | None:
    facts = citizen.situation.get("dgfip")
    if not facts or (year is not None and year != facts["annee_revenus"]):
        return None
    status = facts.get("situation_familiale")
    dependants = facts.get("personnes_a_charge", 0)
    return {
        "anneeRevenus": facts["annee_revenus"],
        "revenuFiscalDeReference": facts["rfr"],
        "nombreDeParts": float(facts["nbpart"]),
        "situationDeFamille": status,
        "nombreDePersonnesACharge": dependants,
        "parentIsole": status in ALONE and dependants > 0,
        "adresseFiscaleDeTaxation": facts.get("adresse"),
        "declarant1": {
            "nomDeNaissance": citizen.family_name,
            "nomDUsage": citizen.preferred_username or None,
            "prenoms": citizen.given_name,
            "dateDeNaissance": _date(citizen.birthdate),
        },
        "declarant2": _partner(citizen) if status in COUPLES else None,
    }


def router(options: SimulatorOptions, path: str = "") -> Router:
    @get("/impotparticulier/v1/foyers-fiscaux")
    async def household(request: Request) -> Response:
        query = parse_identity(request)
        year = common.integer(request.query_params.get("anneeRevenus"), "anneeRevenus", 1990, 2100)
        return await common.respond(find(query), options, lambda c: tax_household(c, year), MISSING)

    return common.provider_router(path, options, HEALTH, [household])


def create_app(options: SimulatorOptions | None = None) -> Litestar:
    return common.standalone_app(router(options or SimulatorOptions()))
