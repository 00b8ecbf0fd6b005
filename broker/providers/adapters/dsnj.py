"""National-service adapter (``dsnj``): ``dsnj/service_national``, France Connect and identity
modes.

Speaks the census API of ``broker.demo.simulators.dsnj`` and answers v3 ``data``:
``statut_service_national`` (``en_regle``, ``pas_en_regle``, ``indetermine``, ``non_concerne``)
and ``commentaires``. The provider matches on the complete birth date, the sex and the birth
country (the commune when there is one): a partial date is refused before any call.
"""

from __future__ import annotations

from typing import ClassVar

from broker.providers.adapters.common import ProviderAdapter, provider_pivot
from broker.providers.base import Outcome, ProductCall
from broker.providers.pivot import born_in_france, given_names
from broker.providers.shape import Nullable, OneOf

# The provider's status codes -> API Particulier v3's.
STATUSES = {
    "EN_REGLE": "en_regle",
    "NON_EN_REGLE": "pas_en_regle",
    "INDETERMINEE": "indetermine",
    "NON_CONCERNEE": "non_concerne",
}
SITUATION = {"situation": OneOf(*STATUSES), "commentaire": Nullable(str)}


class DsnjAdapter(ProviderAdapter):
    provider = "dsnj"
    health_path = "/recensement/v1/sante"
    not_found_detail = "no census record matches this identity"
    FIELD_PARAMETERS: ClassVar[dict[str, str]] = {
        "nom": "nomNaissance",
        "prenoms": "prenoms[]",
        "sexe": "sexeEtatCivil",
        "dateNaissance": "anneeDateNaissance",
        "paysNaissance": "codeCogInseePaysNaissance",
        "communeNaissance": "codeCogInseeCommuneNaissance",
    }

    async def _fetch(self, call: ProductCall) -> Outcome:
        problem = self.require_full_birthdate(call)
        if problem is not None:
            return problem
        pivot, parts = provider_pivot(call), self.parts(call)
        params: dict[str, str | list[str]] = {
            "nom": pivot.family_name,
            "prenoms": given_names(pivot),
            "sexe": pivot.gender,
            "dateNaissance": f"{parts.year:04d}-{parts.month:02d}-{parts.day:02d}",
            "paysNaissance": pivot.birthcountry,
        }
        if pivot.birthplace and born_in_france(pivot):
            params["communeNaissance"] = pivot.birthplace
        result = await self.http.get(
            "/recensement/v1/situation",
            params=params,
            request_id=call.request_id,
            operation="service_national",
        )
        return self.read(result, SITUATION, to_v3)


def to_v3(body: dict) -> dict:
    return {
        "statut_service_national": STATUSES[body["situation"]],
        "commentaires": body["commentaire"],
    }
