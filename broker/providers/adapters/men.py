"""National Education adapter (``men``): ``men/scolarites`` in identity mode, with the required
``codeEtablissement`` (UAI) and ``anneeScolaire`` parameters.

Speaks the pupil API of ``broker.demo.simulators.men`` and answers the v3 ``data`` object.
The provider matches on the complete birth date: a partial one is refused before any call.
"""

from __future__ import annotations

from typing import ClassVar

from broker.providers.adapters.common import ProviderAdapter, provider_pivot
from broker.providers.base import Outcome, ProductCall
from broker.providers.pivot import given_names
from broker.providers.shape import ISO_DATE, Nullable, OneOf, Pattern

PUPIL = {
    "eleve": {"nom": str, "prenom": str, "sexe": OneOf("F", "M"), "dateNaissance": ISO_DATE},
    "anneeScolaire": Pattern(r"\d{4}-\d{4}"),
    "scolarise": bool,
    "statut": {"code": str, "libelle": str},
    "etablissement": {"uai": str, "ministereTutelle": Nullable(str), "nom": Nullable(str)},
    "formation": {"codeMefStat11": Nullable(str), "libelle": Nullable(str)},
    "bourse": {"boursier": bool, "echelon": Nullable(int)},
}


class MenAdapter(ProviderAdapter):
    provider = "men"
    health_path = "/scolarite/v1/sante"
    not_found_detail = "no pupil matches in this school for this school year"
    FIELD_PARAMETERS: ClassVar[dict[str, str]] = {
        "nom": "nomNaissance",
        "prenom": "prenoms",
        "sexe": "sexeEtatCivil",
        "dateNaissance": "anneeDateNaissance",
        "uai": "codeEtablissement",
        "anneeScolaire": "anneeScolaire",
    }

    async def _fetch(self, call: ProductCall) -> Outcome:
        problem = self.require_full_birthdate(call)
        if problem is not None:
            return problem
        pivot, parts = provider_pivot(call), self.parts(call)
        names = given_names(pivot)
        params = {
            "nom": pivot.family_name,
            "prenom": names[0] if names else "",
            "sexe": pivot.gender,
            "dateNaissance": f"{parts.year:04d}-{parts.month:02d}-{parts.day:02d}",
            "uai": call.params["codeEtablissement"].strip(),
            "anneeScolaire": call.params["anneeScolaire"].strip(),
        }
        result = await self.http.get(
            "/scolarite/v1/eleves",
            params=params,
            request_id=call.request_id,
            operation="scolarites",
        )
        return self.read(result, PUPIL, to_v3)


def to_v3(body: dict) -> dict:
    pupil, school, training = body["eleve"], body["etablissement"], body["formation"]
    return {
        "identite": {
            "nom": pupil["nom"],
            "prenom": pupil["prenom"],
            "sexe": pupil["sexe"],
            "date_naissance": pupil["dateNaissance"],
        },
        "annee_scolaire": body["anneeScolaire"],
        "est_scolarise": body["scolarise"],
        "statut_eleve": {"code": body["statut"]["code"], "libelle": body["statut"]["libelle"]},
        "etablissement": {
            "code_uai": school["uai"],
            "code_ministere_tutelle": school["ministereTutelle"],
        },
        "module_elementaire_formation": {
            "code_mef_stat": training["codeMefStat11"],
            "libelle": training["libelle"],
        },
        "est_boursier": body["bourse"]["boursier"],
        "echelon_bourse": body["bourse"]["echelon"],
    }
