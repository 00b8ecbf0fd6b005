"""Sports simulator (``sdh``): the Ministry of Sports' lists of high-level athletes (sportifs
de haut niveau) and its other ministerial lists (national squads, hopefuls), by identifiant.

Wire format (the athlete's file, one entry per list registration)::

    GET /psqs/v1/sportifs/120034567
    200 {"identifiant": "120034567",
         "etatCivil": {"nomNaissance": "LAMBERT", "nomUsage": null, "prenoms": "Inès Clara",
                       "dateNaissance": "2006-04-12", "sexe": "F"},
         "fiches": [{"numero": 912004, "enCours": true, "hautNiveau": true,
                     "debut": "2026-11-01", "fin": "2027-10-31",
                     "federation": {"code": "33", "nom": "…", "nomCourt": "JUDO"},
                     "structure": {"code": "2071", "nom": "CREPS Auvergne-Rhône-Alpes"},
                     "region": {"code": "84", "nom": "Auvergne-Rhône-Alpes"},
                     "categorie": {"code": "3", "libelle": "Relève", "valeur": "2"}}, …]}
    GET /psqs/v1/sante

``identifiant`` is the athlete's number, digits only. An entry is ``enCours`` when the reference
date falls within it; ``hautNiveau`` says whether the list is a high-level one (elite, senior,
relève, reconversion) rather than another ministerial list (espoirs, collectifs nationaux). Only
the athletes below are known; their facts are kept here, by login.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from litestar import Litestar, Router, get
from litestar.params import FromPath
from litestar.response import Response

from broker.demo import scenarios
from broker.demo.citizens import DemoCitizen, by_login
from broker.demo.simulators import common
from broker.demo.simulators.common import InvalidField, SimulatorOptions
from broker.demo.simulators.matching import gender_code

HEALTH = "/psqs/v1/sante"
IDENTIFIANT = re.compile(r"[0-9]{4,12}")
MISSING = "aucun sportif ne correspond à cet identifiant"

JUDO = ("33", "Fédération française de judo, jujitsu, kendo et disciplines associées", "JUDO")
ROWING = ("10", "Fédération française d'aviron", "AVIRON")
HANDBALL = ("29", "Fédération française de handball", "HANDBALL")
LYON_CREPS = ("2071", "CREPS Auvergne-Rhône-Alpes")
INSEP = ("0751", "Institut national du sport, de l'expertise et de la performance (INSEP)")
REUNION_CREPS = ("9740", "CREPS de La Réunion")
ARA = ("84", "Auvergne-Rhône-Alpes")
IDF = ("11", "Île-de-France")
REUNION = ("04", "La Réunion")


def _entry(
    number: int,
    dates: tuple[str, str],
    category: tuple[str, str, str],
    high_level: bool,
    federation: tuple[str, str, str],
    structure: tuple[str, str],
    region: tuple[str, str],
) -> dict[str, Any]:
    return {
        "numero": number,
        "hautNiveau": high_level,
        "debut": dates[0],
        "fin": dates[1],
        "federation": dict(zip(("code", "nom", "nomCourt"), federation, strict=True)),
        "structure": dict(zip(("code", "nom"), structure, strict=True)),
        "region": dict(zip(("code", "nom"), region, strict=True)),
        "categorie": dict(zip(("code", "libelle", "valeur"), category, strict=True)),
    }


# The demo's athletes: login -> (identifiant, list entries, oldest first).
ATHLETES: dict[str, tuple[str, tuple[dict[str, Any], ...]]] = {
    "etudiant_boursier": (
        "120034567",
        (
            _entry(
                845120,
                ("2024-11-01", "2026-10-31"),
                ("5", "Espoir", "1"),
                False,
                JUDO,
                LYON_CREPS,
                ARA,
            ),
            _entry(
                912004,
                ("2026-11-01", "2027-10-31"),
                ("3", "Relève", "2"),
                True,
                JUDO,
                LYON_CREPS,
                ARA,
            ),
        ),
    ),
    "avec_nom_dusage": (
        "119870032",
        (
            _entry(
                101877,
                ("1988-01-01", "1989-12-31"),
                ("5", "Espoir", "1"),
                False,
                ROWING,
                INSEP,
                IDF,
            ),
            _entry(
                119004,
                ("1990-01-01", "1993-12-31"),
                ("1", "Elite", "4"),
                True,
                ROWING,
                INSEP,
                IDF,
            ),
        ),
    ),
    "naissance_La_Réunion": (
        "121150089",
        (
            _entry(
                930118,
                ("2026-01-01", "2026-12-31"),
                ("6", "Collectif national", "3"),
                False,
                HANDBALL,
                REUNION_CREPS,
                REUNION,
            ),
        ),
    ),
}
_BY_IDENTIFIANT = {number: login for login, (number, _) in ATHLETES.items()}


def parse_identifiant(value: str) -> str:
    identifiant = value.strip()
    if not IDENTIFIANT.fullmatch(identifiant):
        raise InvalidField("identifiant", "identifiant doit compter de 4 à 12 chiffres")
    return identifiant


def athlete(identifiant: str) -> DemoCitizen | None:
    login = _BY_IDENTIFIANT.get(identifiant)
    return by_login(login) if login else None


def athlete_file(citizen: DemoCitizen, today: date) -> dict:
    number, entries = ATHLETES[citizen.login]
    return {
        "identifiant": number,
        "etatCivil": {
            "nomNaissance": citizen.family_name,
            "nomUsage": citizen.preferred_username or None,
            "prenoms": citizen.given_name,
            "dateNaissance": citizen.birthdate,
            "sexe": gender_code(citizen.gender),
        },
        "fiches": [
            {**entry, "enCours": entry["debut"] <= today.isoformat() <= entry["fin"]}
            for entry in entries
        ],
    }


def router(options: SimulatorOptions, path: str = "") -> Router:
    @get("/psqs/v1/sportifs/{identifiant:str}", name="sdh-sportif")
    async def athlete_status(identifiant: FromPath[str]) -> Response:
        number = parse_identifiant(identifiant)
        return await common.respond(
            athlete(number),
            options,
            lambda citizen: athlete_file(citizen, options.reference_date),
            MISSING,
            scenarios.scenario_by_sports_identifiant(number),
        )

    return common.provider_router(path, options, HEALTH, [athlete_status])


def create_app(options: SimulatorOptions | None = None) -> Litestar:
    return common.standalone_app(router(options or SimulatorOptions()))
