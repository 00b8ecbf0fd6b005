"""CNAF / MSA adapter: ``dss/quotient_familial`` (France Connect and identity modes).

Speaks the CNAF wire format of ``broker.demo.simulators.cnaf`` and answers the API
Particulier v3 ``data`` object: ``quotient_familial``, ``allocataires``, ``enfants``, ``adresse``.
v3 keeps ``allocataires`` and ``enfants`` in France Connect mode too.
"""

from __future__ import annotations

from typing import ClassVar

from broker.providers.adapters.common import ProviderAdapter, provider_pivot
from broker.providers.base import Outcome, ProductCall
from broker.providers.pivot import given_names
from broker.providers.shape import Nullable, OneOf, Pattern

DATE = Pattern(r"\d{8}")  # JJMMAAAA, 00 for unknown parts
PERSON = {
    "nomNaissance": str,
    "nomUsuel": Nullable(str),
    "prenoms": str,
    "dateNaissance": DATE,
    "sexe": OneOf("F", "M"),
}
PERIOD = {"annee": int, "mois": int}
ADDRESS_KEYS = (
    "identite",
    "complementInformation",
    "complementInformationGeo",
    "numeroLibelleVoie",
    "lieuDit",
    "codePostalVille",
    "pays",
)
QUOTIENT = {
    "regime": OneOf("CNAF", "MSA"),
    "quotientFamilial": int,
    "periode": PERIOD,
    "calcul": PERIOD,
    "allocataires": [PERSON],
    "enfants": [PERSON],
    "adresse": Nullable({key: Nullable(str) for key in ADDRESS_KEYS}),
}
INSEE_SEX = {"M": "1", "F": "2"}


class CnafAdapter(ProviderAdapter):
    provider = "cnaf"
    health_path = "/qf/v1/sante"
    not_found_detail = "no family file (CAF or MSA) matches this identity and period"
    FIELD_PARAMETERS: ClassVar[dict[str, str]] = {
        "nomNaissance": "nomNaissance",
        "nomUsuel": "nomUsage",
        "prenoms": "prenoms",
        "sexe": "sexeEtatCivil",
        "dateNaissance": "anneeDateNaissance",
        "codePaysNaissance": "codeCogInseePaysNaissance",
        "codeInseeLieuNaissance": "codeCogInseeCommuneNaissance",
        "annee": "annee",
        "mois": "mois",
    }

    async def _fetch(self, call: ProductCall) -> Outcome:
        pivot, parts = provider_pivot(call), self.parts(call)
        params = {
            "nomNaissance": pivot.family_name,
            "prenoms": " ".join(given_names(pivot)),
            "sexe": INSEE_SEX.get(pivot.gender, pivot.gender),
            "dateNaissance": f"{parts.year:04d}{parts.month or 0:02d}{parts.day or 0:02d}",
            "codePaysNaissance": pivot.birthcountry,
        }
        if pivot.birthplace:
            params["codeInseeLieuNaissance"] = pivot.birthplace
        if pivot.usage_name:
            params["nomUsuel"] = pivot.usage_name
        for name in ("annee", "mois"):
            if call.params.get(name):
                params[name] = call.params[name]
        result = await self.http.get(
            "/qf/v1/allocataires/quotient",
            params=params,
            request_id=call.request_id,
            operation="quotient_familial",
        )
        return self.read(result, QUOTIENT, to_v3)


def _iso(native: str) -> str:
    return f"{native[4:8]}-{native[2:4]}-{native[0:2]}"


def _person(person: dict) -> dict:
    return {
        "nom_naissance": person["nomNaissance"],
        "nom_usage": person["nomUsuel"],
        "prenoms": person["prenoms"],
        "date_naissance": _iso(person["dateNaissance"]),
        "sexe": person["sexe"],
    }


def to_v3(body: dict) -> dict:
    address = body["adresse"] or dict.fromkeys(ADDRESS_KEYS)
    return {
        "quotient_familial": {
            "fournisseur": body["regime"],
            "valeur": body["quotientFamilial"],
            "annee": body["periode"]["annee"],
            "mois": body["periode"]["mois"],
            "annee_calcul": body["calcul"]["annee"],
            "mois_calcul": body["calcul"]["mois"],
        },
        "allocataires": [_person(p) for p in body["allocataires"]],
        "enfants": [_person(p) for p in body["enfants"]],
        "adresse": {
            "destinataire": address["identite"],
            "complement_information": address["complementInformation"],
            "complement_information_geographique": address["complementInformationGeo"],
            "numero_libelle_voie": address["numeroLibelleVoie"],
            "lieu_dit": address["lieuDit"],
            "code_postal_ville": address["codePostalVille"],
            "pays": address["pays"],
        },
    }
