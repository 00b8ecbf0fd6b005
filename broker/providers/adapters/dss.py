"""Social-benefits adapter (``dss``): the v3 benefit-status products and the EAJE family
contribution (``broker.providers.adapters.dss_eaje``), France Connect and identity modes.

Speaks the JSON search of ``broker.demo.simulators.dss`` (POST: never retried, see
``broker.providers.http``) and answers v3 ``data``: ``est_beneficiaire``, ``date_debut_droit``,
plus ``avec_majoration`` (RSA, prime d'activité) or ``avec_participation`` (C2S); the AEEH
answers a ``status`` instead (the parent paid, the child who gives entitlement, or neither).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from broker.providers.adapters import dss_eaje
from broker.providers.adapters.common import ProviderAdapter, provider_pivot
from broker.providers.base import Outcome, ProductCall
from broker.providers.http import Reply
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
    "dss/allocation_enfant_handicape": Route("aeeh", "AEEH", ("qualiteBeneficiaire", "status")),
}
# The CAF's "qualité bénéficiaire" of the AEEH: 105 the parent paid, 205 the disabled child.
AEEH_STATUSES = {"105": "allocataire", "205": "ouvrant_droit"}
AEEH_NOT_RECEIVED = "non_beneficiaire"


def expected_shape(route: Route) -> dict:
    answer = {
        "prestation": OneOf(route.label),
        "droitOuvert": bool,
        "dateOuvertureDroit": Nullable(ISO_DATE),
    }
    if route.code == "aeeh":
        answer["qualiteBeneficiaire"] = Nullable(OneOf(*AEEH_STATUSES))
    elif route.extra is not None:
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
        if call.product == dss_eaje.PRODUCT:
            result = await self.search(call, "eaje")
            outcome = self.read(result, dss_eaje.FAMILY_FILE, dss_eaje.to_v3)
            return dss_eaje.with_young_child(outcome, date.today())
        route = ROUTES[call.product]
        result = await self.search(call, route.code)
        return self.read(result, expected_shape(route), lambda body: to_v3(route, body))

    async def search(self, call: ProductCall, code: str) -> Reply | Outcome:
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
        return await self.http.post(
            f"/prestations/v1/{code}",
            json_body={"individu": individual},
            request_id=call.request_id,
            operation=code,
        )


def to_v3(route: Route, body: dict) -> dict:
    if route.code == "aeeh":
        return aeeh_to_v3(body)
    data = {"est_beneficiaire": body["droitOuvert"], "date_debut_droit": body["dateOuvertureDroit"]}
    if route.extra is not None:
        provider_key, v3_key = route.extra
        data[v3_key] = body[provider_key]
    return data


def aeeh_to_v3(body: dict) -> dict:
    quality = body["qualiteBeneficiaire"]
    if body["droitOuvert"] and quality is None:
        raise ValueError("an open AEEH right without its beneficiary quality")
    status = AEEH_STATUSES[quality] if body["droitOuvert"] else AEEH_NOT_RECEIVED
    return {"status": status, "date_debut_droit": body["dateOuvertureDroit"]}
