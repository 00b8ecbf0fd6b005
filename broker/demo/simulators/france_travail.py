"""France Travail simulator (``france_travail``): jobseeker status and payments, by identifiant.

Wire format (France Travail's partner API names)::

    GET /partenaire/v1/situation?identifiant=4127395M
    200 {"identifiant", "civilite": "Mme", "nom", "nomUsage", "prenom", "sexe": "F",
         "dateNaissance": "1985-09-05T00:00:00", "email", "telephone", "telephone2",
         "codeCertificationCNAV": "VC", "dateInscription": "2026-03-02",
         "dateCessationInscription": null, "categorieInscription": "1",
         "libellecategorieInscription": "...",
         "adresse": {"codePostal", "INSEECommune", "localite", "ligneVoie",
                     "ligneComplementAdresse", "ligneComplementDestinataire",
                     "ligneComplementDistribution", "ligneNom"}}
    GET /partenaire/v1/paiements?identifiant=4127395M
    200 {"listePaiement": [{"datePaiement": "2026-04-01", "montantPaiement": 1287.3,
                            "allocations": 1287.3, "aides": 0.0, "autresPaiements": 0.0}]}
    GET /partenaire/v1/ping

``identifiant`` is 7 digits and a letter or digit. Only registered jobseekers
(``situation["france_travail"]["inscrit"]``) are known. Payments: one a month, on the 1st,
for each month of compensation since ``date_debut_indemnisation`` up to the reference date;
a registered jobseeker without compensation has an empty list. All demo identities are
certified against the national register, hence ``codeCertificationCNAV`` "VC".
"""

from __future__ import annotations

import re
from datetime import date

from litestar import Litestar, Request, Router, get
from litestar.response import Response

from broker.demo import scenarios
from broker.demo.citizens import DemoCitizen
from broker.demo.simulators import common, reference
from broker.demo.simulators.common import InvalidField, SimulatorOptions
from broker.demo.simulators.matching import POPULATION, gender_code

HEALTH = "/partenaire/v1/ping"
IDENTIFIANT = re.compile(r"\d{7}[0-9A-Z]")
MISSING = "aucun demandeur d'emploi ne correspond à cet identifiant"


def parse_identifiant(value: str | None) -> str:
    identifiant = common.required(value, "identifiant", "identifiant France Travail").upper()
    if not IDENTIFIANT.fullmatch(identifiant):
        raise InvalidField(
            "identifiant", "identifiant doit compter 7 chiffres puis un chiffre ou une lettre"
        )
    return identifiant


def registered(identifiant: str) -> DemoCitizen | None:
    for citizen in POPULATION:
        facts = citizen.situation.get("france_travail") or {}
        if facts.get("inscrit") and facts.get("identifiant", "").upper() == identifiant:
            return citizen
    return None


def situation(citizen: DemoCitizen) -> dict:
    facts = citizen.situation["france_travail"]
    gender = gender_code(citizen.gender)
    civility = "Mme" if gender == "F" else "M."
    first_name = citizen.given_name.split()[0]
    commune, locality = reference.POSTAL_CODES.get(facts.get("code_postal", ""), (None, None))
    return {
        "identifiant": facts["identifiant"],
        "civilite": civility,
        "nom": citizen.family_name,
        "nomUsage": citizen.preferred_username or None,
        "prenom": first_name,
        "sexe": gender,
        "dateNaissance": f"{citizen.birthdate}T00:00:00",
        "email": citizen.email,
        "telephone": facts.get("telephone"),
        "telephone2": facts.get("telephone2"),
        "codeCertificationCNAV": "VC",
        "dateInscription": facts.get("date_inscription"),
        "dateCessationInscription": facts.get("date_cessation"),
        "categorieInscription": facts.get("categorie"),
        "libellecategorieInscription": facts.get("categorie_libelle"),
        "adresse": {
            "codePostal": facts.get("code_postal"),
            "INSEECommune": commune,
            "localite": locality,
            "ligneVoie": facts.get("voie"),
            "ligneComplementAdresse": None,
            "ligneComplementDestinataire": None,
            "ligneComplementDistribution": None,
            "ligneNom": f"{civility.upper()} {citizen.family_name} {first_name.upper()}",
        },
    }


def payments(citizen: DemoCitizen, today: date) -> dict:
    facts = citizen.situation["france_travail"]
    paid: list[dict] = []
    if facts.get("indemnise") and facts.get("date_debut_indemnisation"):
        start = date.fromisoformat(facts["date_debut_indemnisation"])
        year, month = start.year, start.month
        while True:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            paid_on = date(year, month, 1)
            if paid_on > today:
                break
            amount = float(facts.get("montant_mensuel", 0))
            paid.append(
                {
                    "datePaiement": paid_on.isoformat(),
                    "montantPaiement": amount,
                    "allocations": amount,
                    "aides": 0.0,
                    "autresPaiements": 0.0,
                }
            )
    return {"listePaiement": paid}


def router(options: SimulatorOptions, path: str = "") -> Router:
    async def answer(request: Request, build) -> Response:
        identifiant = parse_identifiant(request.query_params.get("identifiant"))
        return await common.respond(
            registered(identifiant),
            options,
            build,
            MISSING,
            scenarios.scenario_by_identifiant(identifiant),
        )

    @get("/partenaire/v1/situation")
    async def jobseeker_status(request: Request) -> Response:
        return await answer(request, situation)

    @get("/partenaire/v1/paiements")
    async def jobseeker_payments(request: Request) -> Response:
        return await answer(request, lambda c: payments(c, options.reference_date))

    return common.provider_router(path, options, HEALTH, [jobseeker_status, jobseeker_payments])


def create_app(options: SimulatorOptions | None = None) -> Litestar:
    return common.standalone_app(router(options or SimulatorOptions()))
