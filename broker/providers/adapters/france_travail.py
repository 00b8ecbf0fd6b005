"""France Travail adapter: ``france_travail/statut`` and ``france_travail/indemnites``, by
identifiant.

Speaks the partner API of ``broker.demo.simulators.france_travail`` and answers the v3
``data`` objects. As in v3, ``inscription.categorie.code`` is a number, ``identite.sexe`` is
spelt out ("Féminin", "Masculin") and the payments answer does not repeat the identifiant.
"""

from __future__ import annotations

from typing import ClassVar

from broker.providers.adapters.common import ProviderAdapter, call_identifier
from broker.providers.base import Outcome, ProductCall
from broker.providers.shape import ISO_DATE, Nullable, OneOf, Pattern

ADDRESS_KEYS = (
    "codePostal",
    "INSEECommune",
    "localite",
    "ligneVoie",
    "ligneComplementAdresse",
    "ligneComplementDestinataire",
    "ligneComplementDistribution",
    "ligneNom",
)
SITUATION = {
    "identifiant": str,
    "civilite": Nullable(str),
    "nom": str,
    "nomUsage": Nullable(str),
    "prenom": str,
    "sexe": OneOf("F", "M"),
    "dateNaissance": Pattern(r"\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?"),
    "email": Nullable(str),
    "telephone": Nullable(str),
    "telephone2": Nullable(str),
    "codeCertificationCNAV": Nullable(str),
    "dateInscription": Nullable(ISO_DATE),
    "dateCessationInscription": Nullable(ISO_DATE),
    "categorieInscription": Nullable(Pattern(r"[1-8]")),
    "libellecategorieInscription": Nullable(str),
    "adresse": {key: Nullable(str) for key in ADDRESS_KEYS},
}
PAYMENTS = {
    "listePaiement": [
        {
            "datePaiement": ISO_DATE,
            "montantPaiement": float,
            "allocations": float,
            "aides": float,
            "autresPaiements": float,
        }
    ]
}
SEXES = {"F": "Féminin", "M": "Masculin"}


class FranceTravailAdapter(ProviderAdapter):
    provider = "france_travail"
    health_path = "/partenaire/v1/ping"
    not_found_detail = "no jobseeker has this identifiant"
    FIELD_PARAMETERS: ClassVar[dict[str, str]] = {"identifiant": "identifiant"}

    async def _fetch(self, call: ProductCall) -> Outcome:
        params = {"identifiant": call_identifier(call)}
        if call.product == "france_travail/statut":
            result = await self.http.get(
                "/partenaire/v1/situation",
                params=params,
                request_id=call.request_id,
                operation="statut",
            )
            return self.read(result, SITUATION, status_to_v3)
        result = await self.http.get(
            "/partenaire/v1/paiements",
            params=params,
            request_id=call.request_id,
            operation="indemnites",
        )
        return self.read(result, PAYMENTS, payments_to_v3)


def status_to_v3(body: dict) -> dict:
    address = body["adresse"]
    category = body["categorieInscription"]
    return {
        "identifiant": body["identifiant"],
        "identite": {
            "civilite": body["civilite"],
            "nom_naissance": body["nom"],
            "nom_usage": body["nomUsage"],
            "prenom": body["prenom"],
            "sexe": SEXES[body["sexe"]],
            "date_naissance": body["dateNaissance"][:10],
        },
        "contact": {
            "email": body["email"],
            "telephone": body["telephone"],
            "telephone2": body["telephone2"],
        },
        "adresse": {
            "code_cog_insee_commune": address["INSEECommune"],
            "code_postal": address["codePostal"],
            "ligne_complement_adresse": address["ligneComplementAdresse"],
            "ligne_complement_destinataire": address["ligneComplementDestinataire"],
            "ligne_complement_distribution": address["ligneComplementDistribution"],
            "ligne_nom": address["ligneNom"],
            "ligne_voie": address["ligneVoie"],
            "localite": address["localite"],
        },
        "inscription": {
            "date_debut": body["dateInscription"],
            "date_fin": body["dateCessationInscription"],
            "code_certification_cnav": body["codeCertificationCNAV"],
            "categorie": {
                "code": int(category) if category else None,
                "libelle": body["libellecategorieInscription"],
            },
        },
    }


def payments_to_v3(body: dict) -> dict:
    return {
        "paiements": [
            {
                "date_versement": p["datePaiement"],
                "montant_total": p["montantPaiement"],
                "montant_allocations": p["allocations"],
                "montant_aides": p["aides"],
                "montant_autres": p["autresPaiements"],
            }
            for p in body["listePaiement"]
        ]
    }
