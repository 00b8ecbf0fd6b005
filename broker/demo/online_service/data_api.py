"""The citizen's CAF data, asked of the data API with the access token of the sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from broker.demo.online_service.relying_party import RelyingParty
from broker.web.i18n import N_

ADDRESS_LINES = (
    "destinataire",
    "complement_information",
    "complement_information_geographique",
    "numero_libelle_voie",
    "lieu_dit",
    "code_postal_ville",
    "pays",
)


@dataclass
class DataResult:
    data: dict[str, Any] | None = None  # ``data`` of the data API's answer
    problem: str = ""  # why there is no family quotient: a msgid of the catalog
    detail: str = ""  # the data API's own words for it, as it sent them
    refused: dict[str, str] | None = None  # 401/403: the JSON:API error code and title


async def family_data(rp: RelyingParty, access_token: str) -> DataResult:
    """The CAF data from the data API (the family quotient, and the optional items the token
    carries), or why there is none."""
    if not rp.data_api_url:
        return DataResult(problem=N_("Le service n'est pas relié à l'API de données."))
    url = f"{rp.data_api_url}/v3/dss/quotient_familial/france_connect"
    try:
        async with httpx.AsyncClient(transport=rp.transport, timeout=15) as http:
            response = await http.get(url, headers={"Authorization": f"Bearer {access_token}"})
    except httpx.HTTPError:
        return DataResult(problem=N_("L'API de données ne répond pas. Réessayez plus tard."))
    if response.status_code == 200:
        return DataResult(data=response.json()["data"])
    try:
        error = response.json()["errors"][0]
        detail, code, title = error["detail"], str(error["code"]), error.get("title", "")
    except (ValueError, KeyError, IndexError, TypeError):
        detail, code, title = f"HTTP {response.status_code}", str(response.status_code), ""
    refused = {"code": code, "title": title} if response.status_code in (401, 403) else None
    return DataResult(
        problem=N_("Votre quotient familial n'a pas pu être lu."),
        detail=str(detail),
        refused=refused,
    )


def shown_items(result: DataResult, granted: set[str]) -> dict[str, Any]:
    """The optional items to show: only those granted (the token's scope) and received."""
    data, shown = result.data or {}, {}
    if "cnaf_allocataires" in granted and isinstance(data.get("allocataires"), list):
        shown["cnaf_allocataires"] = data["allocataires"]
    if "cnaf_adresse" in granted and isinstance(data.get("adresse"), dict):
        address = data["adresse"]
        shown["cnaf_adresse"] = [line for line in map(address.get, ADDRESS_LINES) if line]
    return shown
