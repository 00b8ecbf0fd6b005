"""Social-benefits adapter (``dss``): the five v3 benefit-status products, France Connect and
identity modes.

Speaks the JSON search of ``broker.demo.simulators.dss`` (POST: never retried, see
``broker.providers.http``) and answers v3 ``data``: ``est_beneficiaire``, ``date_debut_droit``,
plus ``avec_majoration`` (RSA, prime d'activité) or ``avec_participation`` (C2S).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from broker.providers.adapters.common import ProviderAdapter, provider_pivot
from broker.providers.base import Outcome, ProductCall
from broker.providers.pivot import given_names
from broker.providers.shape import ISO_DATE, Nullable, OneOf


@dataclass(frozen=True)
class Route:
    code: str  # path segment at the provider
    label: str  # the "prestation" the provider must echo
    extra: tuple[str, str] | None = None  # (provider key, v3 key) of the third fact


ROUTES = {
    "dss/revenu_solidarite_active": Route("rsa", "RSA", ("majoration", "avec_majoration")),
    "dss/prime_activite": Route("ppa", "PPA", ("majoration", "avec_majoration")),
    "dss/allocation_adulte_handicape": Route("aah", "AAH"),
    "dss/allocation_soutien_familial": Route("asf", "ASF"),
    "dss/complementaire_sante_solidaire": Route(
        "c2s", "C2S", ("participationFinanciere", "avec_participation")
    ),
}


def expected_shape(route: Route) -> dict:
    answer = {
        "prestation": OneOf(route.label),
        "droitOuvert": bool,
        "dateOuvertureDroit": Nullable(ISO_DATE),
    }
    if route.extra is not None:
        answer[route.extra[0]] = Nullable(bool)
    return answer


class DssAdapter(ProviderAdapter):
    provider = "dss"
    health_path = "/prestations/v1/sante"
    not_found_detail = "no family file (CAF or MSA) matches this identity"
    FIELD_PARAMETERS: ClassVar[dict[str, str]] = {
        "individu": "nomNaissance",
        "nomNaissance": "nomNaissance",
        "nomUsage": "nomUsage",
        "prenoms": "prenoms",
        "sexe": "sexeEtatCivil",
        "dateNaissance": "anneeDateNaissance",
        "codePaysNaissance": "codeCogInseePaysNaissance",
        "codeCommuneNaissance": "codeCogInseeCommuneNaissance",
    }

    async def _fetch(self, call: ProductCall) -> Outcome:
        route = ROUTES[call.product]
        pivot, parts = provider_pivot(call), self.parts(call)
        individual = {
            "nomNaissance": pivot.family_name,
            "nomUsage": pivot.usage_name or None,
            "prenoms": given_names(pivot),
            "sexe": pivot.gender,
            "dateNaissance": {"annee": parts.year, "mois": parts.month, "jour": parts.day},
            "codePaysNaissance": pivot.birthcountry,
            "codeCommuneNaissance": pivot.birthplace or None,
        }
        result = await self.http.post(
            f"/prestations/v1/{route.code}",
            json_body={"individu": individual},
            request_id=call.request_id,
            operation=route.code,
        )
        return self.read(result, expected_shape(route), lambda body: to_v3(route, body))


def to_v3(route: Route, body: dict) -> dict:
    data = {"est_beneficiaire": body["droitOuvert"], "date_debut_droit": body["dateOuvertureDroit"]}
    if route.extra is not None:
        provider_key, v3_key = route.extra
        data[v3_key] = body[provider_key]
    return data
