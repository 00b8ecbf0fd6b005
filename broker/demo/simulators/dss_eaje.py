"""EAJE family-contribution simulator (``dss``): what a crèche (établissement d'accueil du jeune
enfant) needs from the CAF family file to set the family's hourly fee.

Served on the ``dss`` router with the benefit searches, and asked the same way (the identity in
a JSON body, ``broker.demo.simulators.dss``), but its answer is a family file, not a status::

    POST /prestations/v1/eaje
    {"individu": {...the dss identity...}}
    200 {"allocataires": [{"nomNaissance", "nomUsage", "prenoms", "dateNaissance", "sexe",
                           "codeCommuneNaissance"}],
         "enfants": [...same...],
         "adresse": {"destinataire", "complementInformation", "complementInformationGeo",
                     "numeroLibelleVoie", "lieuDit", "codePostalVille", "pays"},
         "ressources": {"montantAnnuel": 26400, "anneeReference": 2024},
         "nombreEnfantsACharge": 3, "nombreEnfantsAeeh": 1}

Dates are ``AAAA-MM-JJ``, ``sexe`` is ``F`` or ``M``. Someone without a family file
(``situation["cnaf"]``), or whose file states no resources for the fee
(``situation["dss"]["eaje_ressources_annuelles"]``), is a 404.
"""

from __future__ import annotations

from collections.abc import Callable

from litestar import Request, post
from litestar.response import Response

from broker.demo.citizens import DemoCitizen
from broker.demo.simulators import common
from broker.demo.simulators.common import SimulatorOptions
from broker.demo.simulators.matching import IdentityQuery, find, gender_code

PATH = "/prestations/v1/eaje"
MISSING = "aucun dossier allocataire ne permet de calculer une participation familiale EAJE"


def _person(person: dict, citizen: DemoCitizen) -> dict:
    itself = (person["family_name"], person["birthdate"]) == (
        citizen.family_name,
        citizen.birthdate,
    )
    return {
        "nomNaissance": person["family_name"],
        "nomUsage": person.get("usage_name"),
        "prenoms": person["given_name"],
        "dateNaissance": person["birthdate"],
        "sexe": gender_code(person["gender"]),
        "codeCommuneNaissance": person.get("birthplace")
        or (citizen.birthplace if itself else None),
    }


def family_file(citizen: DemoCitizen) -> dict | None:
    cnaf = citizen.situation.get("cnaf")
    facts = citizen.situation.get("dss") or {}
    if cnaf is None or facts.get("eaje_ressources_annuelles") is None:
        return None
    address = cnaf.get("adresse") or {}
    children = cnaf.get("enfants", [])
    return {
        "allocataires": [_person(p, citizen) for p in cnaf.get("allocataires", [])],
        "enfants": [_person(p, citizen) for p in children],
        "adresse": {
            "destinataire": address.get("destinataire"),
            "complementInformation": address.get("complement_information"),
            "complementInformationGeo": address.get("complement_information_geographique"),
            "numeroLibelleVoie": address.get("numero_libelle_voie"),
            "lieuDit": address.get("lieu_dit"),
            "codePostalVille": address.get("code_postal_ville"),
            "pays": address.get("pays"),
        },
        "ressources": {
            "montantAnnuel": facts["eaje_ressources_annuelles"],
            "anneeReference": facts["eaje_annee_ressources"],
        },
        "nombreEnfantsACharge": facts.get("eaje_enfants_a_charge", len(children)),
        "nombreEnfantsAeeh": facts.get("eaje_enfants_aeeh", 0),
    }


def handler(options: SimulatorOptions, parse_identity: Callable[[bytes], IdentityQuery]):
    """The route, parsing the body as the other dss searches do (``parse_identity``)."""

    @post(PATH, status_code=200, name="dss-eaje")
    async def eaje(request: Request) -> Response:
        query = parse_identity(await request.body())
        return await common.respond(find(query), options, family_file, MISSING)

    return eaje
