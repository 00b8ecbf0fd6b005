"""The EAJE family contribution (``dss/participation_familiale_eaje``): the CAF family file a
crèche needs to set a family's fee, read from the ``dss`` simulator's ``/prestations/v1/eaje``
answer (``broker.demo.simulators.dss_eaje``) and mapped to API Particulier v3's ``data``.

As API Particulier does, a family file without a child under 7 is answered "not found": there
is no EAJE contribution to compute for it (siade's CNAV EAJE response check).
"""

from __future__ import annotations

from datetime import date

from broker.providers.base import Found, NotFound, Outcome
from broker.providers.shape import ISO_DATE, Nullable, OneOf

PRODUCT = "dss/participation_familiale_eaje"
CHILD_AGE_LIMIT = 7  # years

PERSON = {
    "nomNaissance": str,
    "nomUsage": Nullable(str),
    "prenoms": str,
    "dateNaissance": ISO_DATE,
    "sexe": OneOf("F", "M"),
    "codeCommuneNaissance": Nullable(str),
}
FAMILY_FILE = {
    "allocataires": [PERSON],
    "enfants": [PERSON],
    "adresse": {
        "destinataire": str,
        "complementInformation": Nullable(str),
        "complementInformationGeo": Nullable(str),
        "numeroLibelleVoie": Nullable(str),
        "lieuDit": Nullable(str),
        "codePostalVille": str,
        "pays": str,
    },
    "ressources": {"montantAnnuel": int, "anneeReference": int},
    "nombreEnfantsACharge": int,
    "nombreEnfantsAeeh": int,
}


def _person(person: dict) -> dict:
    return {
        "nom_naissance": person["nomNaissance"],
        "nom_usage": person["nomUsage"],
        "prenoms": person["prenoms"],
        "date_naissance": person["dateNaissance"],
        "sexe": person["sexe"],
        "code_cog_insee_commune_naissance": person["codeCommuneNaissance"],
    }


def to_v3(body: dict) -> dict:
    address, resources = body["adresse"], body["ressources"]
    return {
        "allocataires": [_person(p) for p in body["allocataires"]],
        "enfants": [_person(p) for p in body["enfants"]],
        "adresse": {
            "destinataire": address["destinataire"],
            "complement_information": address["complementInformation"],
            "complement_information_geographique": address["complementInformationGeo"],
            "numero_libelle_voie": address["numeroLibelleVoie"],
            "lieu_dit": address["lieuDit"],
            "code_postal_ville": address["codePostalVille"],
            "pays": address["pays"],
        },
        "parametres_calcul_participation_familiale": {
            "nombre_enfants_a_charge": body["nombreEnfantsACharge"],
            "nombre_enfants_beneficiaire_aeeh": body["nombreEnfantsAeeh"],
            "base_ressources_annuelles": {
                "valeur": resources["montantAnnuel"],
                "annee_calcul": resources["anneeReference"],
            },
        },
    }


def is_young(birthdate: str, today: date) -> bool:
    born = date.fromisoformat(birthdate)
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return age < CHILD_AGE_LIMIT


def with_young_child(outcome: Outcome, today: date) -> Outcome:
    """``outcome``, or "not found" for a family file without a child under 7."""
    if isinstance(outcome, Found) and not any(
        is_young(child["date_naissance"], today) for child in outcome.data["enfants"]
    ):
        return NotFound("dss: no child under 7 on the family file, no EAJE family contribution")
    return outcome
