"""Higher-education adapter (``mesri``): ``mesri/statut_etudiant`` by identity, INE or France
Connect.

Speaks the enrolment API of ``broker.demo.simulators.mesri`` and answers the v3 ``data``
object: ``identite`` (left out in France Connect mode, as in v3) and ``admissions``.
"""

from __future__ import annotations

from typing import ClassVar

from broker.catalogue.products import FRANCE_CONNECT, INE
from broker.providers.adapters.common import ProviderAdapter, call_identifier, provider_pivot
from broker.providers.base import Outcome, ProductCall
from broker.providers.pivot import given_names
from broker.providers.shape import ISO_DATE, Nullable

# The MESRI's training regimes and the codes API Particulier v3 gives them.
REGIME_CODES = {
    "formation initiale": "RF1",
    "formation initiale hors apprentissage": "RF2",
    "reprise d'études non financée sans convention": "RF3",
    "contrat d'apprentissage": "RF4",
    "formation continue": "RF5",
    "formation continue hors contrat professionnel": "RF6",
    "contrat de professionnalisation": "RF7",
}
ENROLMENT = {
    "dateDebutInscription": Nullable(ISO_DATE),
    "dateFinInscription": Nullable(ISO_DATE),
    "statut": str,
    "regime": Nullable(str),
    "codeCommune": Nullable(str),
    "etablissement": {"uai": Nullable(str), "nomEtablissement": Nullable(str)},
}
STUDENT = {
    "ine": Nullable(str),
    "nomFamille": str,
    "prenom": str,
    "dateNaissance": ISO_DATE,
    "inscriptions": [ENROLMENT],
}


class MesriAdapter(ProviderAdapter):
    provider = "mesri"
    health_path = "/etudiants/v1/statut"
    not_found_detail = "no student matches"
    FIELD_PARAMETERS: ClassVar[dict[str, str]] = {
        "ine": "ine",
        "nomFamille": "nomNaissance",
        "prenom": "prenoms",
        "dateNaissance": "anneeDateNaissance",
        "sexe": "sexeEtatCivil",
    }

    async def _fetch(self, call: ProductCall) -> Outcome:
        if call.mode == INE:
            params = {"ine": call_identifier(call)}
        else:
            problem = self.require_full_birthdate(call)
            if problem is not None:
                return problem
            pivot, parts = provider_pivot(call), self.parts(call)
            names = given_names(pivot)
            params = {
                "nomFamille": pivot.family_name,
                "prenom": names[0] if names else "",
                "dateNaissance": f"{parts.year:04d}-{parts.month:02d}-{parts.day:02d}",
                "sexe": {"M": "1", "F": "2"}.get(pivot.gender, pivot.gender),
            }
        result = await self.http.get(
            "/etudiants/v1/inscriptions",
            params=params,
            request_id=call.request_id,
            operation="statut_etudiant",
        )
        with_identity = call.mode != FRANCE_CONNECT
        return self.read(result, STUDENT, lambda body: to_v3(body, with_identity))


def _admission(enrolment: dict) -> dict:
    regime = enrolment["regime"]
    return {
        "date_debut": enrolment["dateDebutInscription"],
        "date_fin": enrolment["dateFinInscription"],
        "est_inscrit": enrolment["statut"] == "inscrit",
        "regime_formation": {"code": REGIME_CODES.get(regime or ""), "libelle": regime},
        "code_cog_insee_commune": enrolment["codeCommune"],
        "etablissement_etudes": {
            "uai": enrolment["etablissement"]["uai"],
            "nom": enrolment["etablissement"]["nomEtablissement"],
        },
    }


def to_v3(body: dict, with_identity: bool) -> dict:
    data: dict = {"admissions": [_admission(e) for e in body["inscriptions"]]}
    if with_identity:
        data["identite"] = {
            "nom_naissance": body["nomFamille"],
            "prenom": body["prenom"],
            "date_naissance": body["dateNaissance"],
        }
    return data
