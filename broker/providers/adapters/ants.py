"""Vehicle registration adapter (``ants``): ``ants/extrait_immatriculation_vehicule`` in France
Connect mode, with the required ``immatriculation`` parameter.

Speaks the register search of ``broker.demo.simulators.ants`` (POST: never retried, see
``broker.providers.http``) and answers the v3 ``data`` object: the person as the register knows
them, their address, how they are attached to the vehicle, its registration and its technical
characteristics. API Particulier's ``meta.identity_matching`` is not carried: the register is
asked with the France Connect identity and answers only about a vehicle attached to it.
"""

from __future__ import annotations

import re
from typing import ClassVar

from broker.providers.adapters.common import ProviderAdapter, provider_pivot
from broker.providers.base import InvalidInput, Outcome, ProductCall
from broker.providers.pivot import given_names
from broker.providers.shape import ISO_DATE, Nullable, OneOf, Pattern

# SIV numbers, with or without their separators; sent to the register as AA-123-AA.
PLATE = re.compile(r"([A-HJ-NP-TV-Z]{2})[- ]?((?!000)[0-9]{3})[- ]?([A-HJ-NP-TV-Z]{2})")
ATTACHMENTS = {"TITULAIRE": "titulaire", "COTITULAIRE": "cotitulaire", "LOCATAIRE": "locataire"}
CODED = {"code": str, "libelle": str}
ADDRESS_KEYS = (
    "numeroVoie",
    "extension",
    "typeVoie",
    "libelleVoie",
    "complement",
    "lieuDit",
    "etageEscalierAppartement",
    "pays",
)
EXTRACT = {
    "rattachement": OneOf(*ATTACHMENTS),
    "personne": {
        "nom": str,
        "prenom": str,
        "sexe": OneOf("F", "M"),
        "anneeNaissance": Nullable(int),
        "moisNaissance": Nullable(int),
        "jourNaissance": Nullable(int),
        "departementNaissance": Pattern(r"[0-9]{2,3}|2[AB]"),
    },
    "adresse": {
        **{key: Nullable(str) for key in ADDRESS_KEYS},
        "codePostal": str,
        "commune": str,
    },
    "immatriculation": {
        "numero": str,
        "datePremiereImmatriculation": ISO_DATE,
        "location": Nullable(CODED),
    },
    "vehicule": {
        "marque": str,
        "tvv": str,
        "denominationCommerciale": str,
        "masseEnChargeMaximale": float,
        "categorie": CODED,
        "genre": CODED,
        "cylindree": float,
        "energie": CODED,
        "co2": float,
        "classeEnvironnementale": CODED,
    },
}


def register_number(value: str) -> str | None:
    """``AA-123-AA`` for an SIV number written with hyphens, spaces or nothing between."""
    match = PLATE.fullmatch(value.strip().upper())
    return "-".join(match.groups()) if match else None


class AntsAdapter(ProviderAdapter):
    provider = "ants"
    health_path = "/siv/v1/sante"
    not_found_detail = "no vehicle with this registration number is attached to this person"
    # The person comes from the France Connect identity, not from the caller's parameters.
    FIELD_PARAMETERS: ClassVar[dict[str, str]] = {"numeroImmatriculation": "immatriculation"}

    async def _fetch(self, call: ProductCall) -> Outcome:
        plate = register_number(call.params["immatriculation"])
        if plate is None:
            return InvalidInput(
                "immatriculation must be an SIV registration number (AA-123-AA)",
                "immatriculation",
            )
        pivot = provider_pivot(call)
        person = {
            "nom": pivot.family_name,
            "prenoms": " ".join(given_names(pivot)),
            "sexe": pivot.gender,
            "dateNaissance": pivot.birthdate,  # 00 for a part the civil status does not know
            "codePaysNaissance": pivot.birthcountry,
            "codeCommuneNaissance": pivot.birthplace or None,
        }
        result = await self.http.post(
            "/siv/v1/extraits",
            json_body={"numeroImmatriculation": plate, "personne": person},
            request_id=call.request_id,
            operation="extrait_immatriculation_vehicule",
        )
        return self.read(result, EXTRACT, to_v3)


def coded(value: dict | None) -> dict:
    if value is None:
        return {"code": None, "label": None}
    return {"code": value["code"], "label": value["libelle"]}


def to_v3(body: dict) -> dict:
    person, address = body["personne"], body["adresse"]
    registration, vehicle = body["immatriculation"], body["vehicule"]
    return {
        "identite_particulier": {
            "nom": person["nom"],
            "prenom": person["prenom"],
            "sexe_etat_civil": person["sexe"],
            "annee_date_naissance": person["anneeNaissance"],
            "mois_date_naissance": person["moisNaissance"],
            "jour_date_naissance": person["jourNaissance"],
            "code_departement_naissance": person["departementNaissance"],
        },
        "adresse_particulier": {
            "complement_information": address["complement"],
            "num_voie": address["numeroVoie"],
            "type_voie": address["typeVoie"],
            "libelle_voie": address["libelleVoie"],
            "code_postal_ville": address["codePostal"],
            "libelle_commune": address["commune"],
            "lieu_dit": address["lieuDit"],
            "etage_escalier_appartement": address["etageEscalierAppartement"],
            "extension": address["extension"],
            "pays": address["pays"],
        },
        "statut_rattachement": ATTACHMENTS[body["rattachement"]],
        "donnees_immatriculation_vehicule": {
            "numero_immatriculation": registration["numero"],
            "date_premiere_immatriculation": registration["datePremiereImmatriculation"],
            "statut_location": coded(registration["location"]),
        },
        "caracteristiques_techniques_vehicule": {
            "marque": vehicle["marque"],
            "type_variante_version": vehicle["tvv"],
            "denomination_commerciale": vehicle["denominationCommerciale"],
            "masse_charge_maximale": vehicle["masseEnChargeMaximale"],
            "categorie_vehicule": coded(vehicle["categorie"]),
            "genre_national": coded(vehicle["genre"]),
            "cylindree": vehicle["cylindree"],
            "type_carburant": coded(vehicle["energie"]),
            "taux_co2": vehicle["co2"],
            "classe_environnementale": coded(vehicle["classeEnvironnementale"]),
        },
    }
