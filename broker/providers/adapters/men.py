"""National Education adapter (``men``): ``men/scolarites`` in identity mode, with the required
``codeEtablissement`` (UAI) and ``anneeScolaire`` parameters; ``v4/men/scolarites`` finds the
pupil in one school (``codeEtablissement``) or in a perimeter (``codesBcnDepartements[]`` or
``codesBcnRegions[]``, possibly narrowed by ``degreEtablissement``), and answers the same
``data`` as v3.

Speaks the pupil API of ``broker.demo.simulators.men``. The provider matches on the complete
birth date: a partial one is refused before any call. The data API hands over a perimeter
parameter given several times as one comma-separated value.
"""

from __future__ import annotations

from typing import ClassVar

from broker.providers.adapters.common import ProviderAdapter, provider_pivot
from broker.providers.base import InvalidInput, Outcome, ProductCall
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
    not_found_detail = "no pupil matches in this school or perimeter for this school year"
    FIELD_PARAMETERS: ClassVar[dict[str, str]] = {
        "nom": "nomNaissance",
        "prenom": "prenoms",
        "sexe": "sexeEtatCivil",
        "dateNaissance": "anneeDateNaissance",
        "uai": "codeEtablissement",
        "anneeScolaire": "anneeScolaire",
        "departements": "codesBcnDepartements[]",
        "regions": "codesBcnRegions[]",
        "degre": "degreEtablissement",
    }

    async def _fetch(self, call: ProductCall) -> Outcome:
        problem = self.require_full_birthdate(call) or check_where(call.params)
        if problem is not None:
            return problem
        pivot, parts = provider_pivot(call), self.parts(call)
        names = given_names(pivot)
        params = {
            "nom": pivot.family_name,
            "prenom": names[0] if names else "",
            "sexe": pivot.gender,
            "dateNaissance": f"{parts.year:04d}-{parts.month:02d}-{parts.day:02d}",
            "anneeScolaire": call.params["anneeScolaire"].strip(),
        }
        for parameter, provider_name in WHERE.items():
            value = (call.params.get(parameter) or "").strip()
            if value:
                params[provider_name] = value
        result = await self.http.get(
            "/scolarite/v1/eleves",
            params=params,
            request_id=call.request_id,
            operation="scolarites",
        )
        return self.read(result, PUPIL, to_v3)


# API Particulier parameter -> the provider's, for where to look.
WHERE = {
    "codeEtablissement": "uai",
    "codesBcnDepartements[]": "departements",
    "codesBcnRegions[]": "regions",
    "degreEtablissement": "degre",
}
PERIMETERS = ("codesBcnDepartements[]", "codesBcnRegions[]")


def check_where(params: dict[str, str]) -> Outcome | None:
    """One school, or one kind of perimeter (siade's MEN rules). siade documents only the
    school and a perimeter together (00419): ``excludes`` names the perimeter given too."""
    school = bool((params.get("codeEtablissement") or "").strip())
    perimeters = [p for p in PERIMETERS if (params.get(p) or "").strip()]
    if school and perimeters:
        return InvalidInput(
            "Les paramètres codeEtablissement et périmètre (codesBcnRegions[] / "
            "codesBcnDepartements[]) sont mutuellement exclusifs.",
            "codeEtablissement",
            excludes=perimeters[0],
        )
    if len(perimeters) > 1:
        return InvalidInput(
            "Un seul type de périmètre : codesBcnDepartements[] ou codesBcnRegions[].",
            "codesBcnRegions[]",
            excludes="codesBcnDepartements[]",
        )
    if not school and not perimeters:
        return InvalidInput(
            "Donnez codeEtablissement, ou un périmètre : codesBcnDepartements[] ou "
            "codesBcnRegions[].",
            "codeEtablissement",
        )
    return None


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
