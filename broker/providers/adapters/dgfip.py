"""DGFiP adapter (``dgfip``): our ``dgfip/situation_fiscale`` product, France Connect mode, with
an optional ``annee`` (the income year).

Speaks the tax-household API of ``broker.demo.simulators.dgfip`` and answers with the field
names of DGFiP's "API Impôt particulier" that the scope registry lists: ``rfr``, ``nbPart``,
``sitFam``, ``pac.nbPac``, ``pariso``, ``aft`` and the two filers' civil status
(``nmNaiDec1``, ...). Filers' birth dates are given as ``YYYY-MM-DD`` (``00`` when unknown), like
every date of the v3 API.
"""

from __future__ import annotations

from typing import ClassVar

from broker.providers.adapters.common import ProviderAdapter, provider_pivot
from broker.providers.base import Outcome, ProductCall
from broker.providers.pivot import given_names
from broker.providers.shape import Nullable, OneOf, Pattern

FILER = {
    "nomDeNaissance": str,
    "nomDUsage": Nullable(str),
    "prenoms": str,
    "dateDeNaissance": Pattern(r"\d{2}/\d{2}/\d{4}"),
}
HOUSEHOLD = {
    "anneeRevenus": int,
    "revenuFiscalDeReference": int,
    "nombreDeParts": float,
    "situationDeFamille": Nullable(OneOf("M", "O", "C", "D", "V")),
    "nombreDePersonnesACharge": int,
    "parentIsole": bool,
    "adresseFiscaleDeTaxation": Nullable(str),
    "declarant1": FILER,
    "declarant2": Nullable(FILER),
}


class DgfipAdapter(ProviderAdapter):
    provider = "dgfip"
    health_path = "/impotparticulier/v1/ping"
    not_found_detail = "no tax household matches this identity for this income year"
    FIELD_PARAMETERS: ClassVar[dict[str, str]] = {
        "nomNaissance": "nomNaissance",
        "prenoms": "prenoms",
        "sexe": "sexeEtatCivil",
        "dateNaissance": "anneeDateNaissance",
        "codePaysNaissance": "codeCogInseePaysNaissance",
        "codeCommuneNaissance": "codeCogInseeCommuneNaissance",
        "anneeRevenus": "annee",
    }

    async def _fetch(self, call: ProductCall) -> Outcome:
        pivot, parts = provider_pivot(call), self.parts(call)
        params = {
            "nomNaissance": pivot.family_name,
            "prenoms": " ".join(given_names(pivot)),
            "sexe": pivot.gender,
            "dateNaissance": f"{parts.day or 0:02d}/{parts.month or 0:02d}/{parts.year:04d}",
            "codePaysNaissance": pivot.birthcountry,
        }
        if pivot.birthplace:
            params["codeCommuneNaissance"] = pivot.birthplace
        if call.params.get("annee"):
            params["anneeRevenus"] = call.params["annee"]
        result = await self.http.get(
            "/impotparticulier/v1/foyers-fiscaux",
            params=params,
            request_id=call.request_id,
            operation="situation_fiscale",
        )
        return self.read(result, HOUSEHOLD, to_v3)


def _iso(native: str) -> str:
    day, month, year = native.split("/")
    return f"{year}-{month}-{day}"


def _filer(filer: dict | None, rank: int) -> dict:
    filer = filer or {}
    born = filer.get("dateDeNaissance")
    return {
        f"nmUsaDec{rank}": filer.get("nomDUsage"),
        f"nmNaiDec{rank}": filer.get("nomDeNaissance"),
        f"prnmDec{rank}": filer.get("prenoms"),
        f"dateNaisDec{rank}": _iso(born) if born else None,
    }


def to_v3(body: dict) -> dict:
    return {
        "rfr": body["revenuFiscalDeReference"],
        "nbPart": body["nombreDeParts"],
        "sitFam": body["situationDeFamille"],
        "pac": {"nbPac": body["nombreDePersonnesACharge"]},
        "pariso": body["parentIsole"],
        "aft": body["adresseFiscaleDeTaxation"],
        **_filer(body["declarant1"], 1),
        **_filer(body["declarant2"], 2),
    }
