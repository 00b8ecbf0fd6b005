"""National-service simulator (``dsnj``), after the Direction du service national et de la
jeunesse: is a person in order with the census and the defence and citizenship day (JDC)?

Wire format (short French names, an upper-case status code, ISO birth date)::

    GET /recensement/v1/situation?nom=LAMBERT&prenoms=Inès&prenoms=Clara&sexe=F
        &dateNaissance=2006-04-12&paysNaissance=99100[&communeNaissance=69383]
    200 {"situation": "EN_REGLE", "commentaire": "Journée défense et citoyenneté effectuée
         le 14/03/2024"}
    GET /recensement/v1/sante

``situation`` is ``EN_REGLE``, ``NON_EN_REGLE``, ``INDETERMINEE`` (not known yet) or
``NON_CONCERNEE`` (outside the national-service obligations); ``commentaire`` may be null. The
complete birth date, the sex and the birth country are required; the birth commune is optional
(compared when sent). Only the people of :data:`SITUATIONS` are known; anyone else is a 404.
"""

from __future__ import annotations

from datetime import date

from litestar import Litestar, Request, Router, get
from litestar.response import Response

from broker.demo.citizens import DemoCitizen
from broker.demo.simulators import common
from broker.demo.simulators.common import InvalidField, SimulatorOptions
from broker.demo.simulators.matching import IdentityQuery, find

HEALTH = "/recensement/v1/sante"
MISSING = "aucun dossier de recensement ne correspond à cette identité"
IN_ORDER, NOT_IN_ORDER, UNDETERMINED, NOT_CONCERNED = (
    "EN_REGLE",
    "NON_EN_REGLE",
    "INDETERMINEE",
    "NON_CONCERNEE",
)

# The demo's national-service facts, by demo login: (situation, comment). Fictitious.
SITUATIONS: dict[str, tuple[str, str | None]] = {
    "etudiant_boursier": (IN_ORDER, "Journée défense et citoyenneté effectuée le 14/03/2024"),
    "naissance_La_Réunion": (IN_ORDER, "Journée défense et citoyenneté effectuée le 18/04/2013"),
    "test_CORSE_2A": (IN_ORDER, None),
    "moins_18_ans": (
        UNDETERMINED,
        "Recensement enregistré le 12/11/2026 : situation en cours de traitement",
    ),
    "beneficiaire_rsa": (
        NOT_IN_ORDER,
        "Journée d'appel de préparation à la défense non effectuée",
    ),
    "test": (
        NOT_CONCERNED,
        "Personne née avant 1983, non concernée par les obligations de service national",
    ),
}


def parse_identity(request: Request) -> IdentityQuery:
    q = request.query_params
    family_name = common.required(q.get("nom"), "nom", "nom de naissance")
    given = [v.strip() for v in q.getall("prenoms", []) if v.strip()]
    if not given:
        raise InvalidField("prenoms", "prenoms est obligatoire (un paramètre par prénom)")
    gender = common.sex(q.get("sexe"), "sexe", {"M": "M", "F": "F"})
    raw_date = common.required(q.get("dateNaissance"), "dateNaissance", "AAAA-MM-JJ")
    try:
        born = date.fromisoformat(raw_date) if len(raw_date) == 10 else None
    except ValueError:
        born = None
    if born is None:
        raise InvalidField("dateNaissance", "dateNaissance doit être une date complète AAAA-MM-JJ")
    country = common.cog(q.get("paysNaissance"), "paysNaissance", r"99\d{3}")
    if country is None:
        raise InvalidField("paysNaissance", "paysNaissance est obligatoire (code COG 99xxx)")
    place = common.cog(q.get("communeNaissance"), "communeNaissance")
    if place is not None and country != "99100":
        raise InvalidField(
            "communeNaissance", "communeNaissance ne se donne que pour une naissance en France"
        )
    return IdentityQuery(
        family_name, tuple(given), born.year, born.month, born.day, gender, country, place
    )


def situation(citizen: DemoCitizen) -> dict | None:
    facts = SITUATIONS.get(citizen.login)
    if facts is None:
        return None
    status, comment = facts
    return {"situation": status, "commentaire": comment}


def router(options: SimulatorOptions, path: str = "") -> Router:
    @get("/recensement/v1/situation")
    async def national_service(request: Request) -> Response:
        query = parse_identity(request)
        return await common.respond(find(query), options, situation, MISSING)

    return common.provider_router(path, options, HEALTH, [national_service])


def create_app(options: SimulatorOptions | None = None) -> Litestar:
    return common.standalone_app(router(options or SimulatorOptions()))
