"""Sports adapter (``sdh``): ``sdh/statut_sportif`` by identifiant, the athlete's number at the
Ministry of Sports.

Speaks the athlete files of ``broker.demo.simulators.sdh`` and answers the v3 ``data`` object:
``est_sportif_de_haut_niveau`` from the entry in force, ``a_ete_sportif_de_haut_niveau`` from
the past ones, the entry in force as ``informations_statut`` (null when none is) and the others,
with their number, as ``informations_statuts_precedents``.
"""

from __future__ import annotations

import re
from typing import ClassVar

from broker.catalogue.products import product
from broker.providers.adapters.common import ProviderAdapter, call_identifier
from broker.providers.base import InvalidInput, Outcome, ProductCall
from broker.providers.shape import ISO_DATE, Nullable, OneOf

ENTRY = {
    "numero": int,
    "enCours": bool,
    "hautNiveau": bool,
    "debut": ISO_DATE,
    "fin": ISO_DATE,
    "federation": {"code": str, "nom": str, "nomCourt": str},
    "structure": {"code": str, "nom": str},
    "region": {"code": str, "nom": str},
    "categorie": {"code": str, "libelle": str, "valeur": str},
}
ATHLETE_FILE = {
    "identifiant": str,
    "etatCivil": {
        "nomNaissance": str,
        "nomUsage": Nullable(str),
        "prenoms": str,
        "dateNaissance": ISO_DATE,
        "sexe": OneOf("F", "M"),
    },
    "fiches": [ENTRY],
}


class SdhAdapter(ProviderAdapter):
    provider = "sdh"
    health_path = "/psqs/v1/sante"
    not_found_detail = "no athlete has this identifiant"
    FIELD_PARAMETERS: ClassVar[dict[str, str]] = {"identifiant": "identifiant"}

    async def _fetch(self, call: ProductCall) -> Outcome:
        identifiant = call_identifier(call)
        # The identifiant goes into the URL path: nothing but its documented digits may.
        spec = product(call.product)
        pattern = spec.identifier_pattern if spec and spec.identifier_pattern else r"[0-9]+"
        if not re.fullmatch(pattern, identifiant):
            return InvalidInput("identifiant must be the athlete's number (digits)", "identifiant")
        result = await self.http.get(
            f"/psqs/v1/sportifs/{identifiant}",
            request_id=call.request_id,
            operation="statut_sportif",
        )
        return self.read(result, ATHLETE_FILE, to_v3)


def status(entry: dict) -> dict:
    return {
        "periode": {"date_debut_statut": entry["debut"], "date_fin_statut": entry["fin"]},
        "federation": {
            "code_federation": entry["federation"]["code"],
            "nom_federation": entry["federation"]["nom"],
            "nom_court_federation": entry["federation"]["nomCourt"],
        },
        "etablissement": {
            "code_etablissement": entry["structure"]["code"],
            "nom_etablissement": entry["structure"]["nom"],
        },
        "region": {"code_region": entry["region"]["code"], "nom_region": entry["region"]["nom"]},
        "categorie": {
            "code_categorie": entry["categorie"]["code"],
            "nom_categorie": entry["categorie"]["libelle"],
            "valeur": entry["categorie"]["valeur"],
        },
        "sportif_de_haut_niveau": entry["hautNiveau"],
    }


def to_v3(body: dict) -> dict:
    civil = body["etatCivil"]
    current = [entry for entry in body["fiches"] if entry["enCours"]]
    past = [entry for entry in body["fiches"] if not entry["enCours"]]
    if len(current) > 1:
        raise ValueError("more than one list entry in force")
    return {
        "identite": {
            "nom_naissance": civil["nomNaissance"],
            "nom_usage": civil["nomUsage"],
            "prenoms": civil["prenoms"],
            "date_naissance": civil["dateNaissance"],
            "sexe": civil["sexe"],
        },
        "est_sportif_de_haut_niveau": bool(current) and current[0]["hautNiveau"],
        "a_ete_sportif_de_haut_niveau": any(entry["hautNiveau"] for entry in past),
        "informations_statut": status(current[0]) if current else None,
        "informations_statuts_precedents": [
            {"fiche": entry["numero"], **status(entry)} for entry in past
        ],
    }
