"""Crous adapter (``cnous``): ``cnous/etudiant_boursier`` (v3) and ``v4/cnous/etudiant_boursier``
by identity, INE or France Connect.

Speaks the Cnous scholarship API of ``broker.demo.simulators.cnous`` and answers the v3 or v4
``data`` object. As in API Particulier, the ``identite`` block is left out in France Connect
mode (the service has the certified identity from FranceConnect already). v4 replaces v3's
``est_boursier`` with ``statut_boursier``: the same status, plus whether the student was struck
off the grant (``est_radie``) and when (``date_radiation``); a struck-off student is not a grant
holder in either version.
"""

from __future__ import annotations

from typing import ClassVar

from broker.catalogue.products import FRANCE_CONNECT, INE
from broker.providers.adapters.common import ProviderAdapter, call_identifier, provider_pivot
from broker.providers.base import Outcome, ProductCall, UnexpectedPayload
from broker.providers.http import Reply
from broker.providers.pivot import given_names
from broker.providers.shape import ISO_DATE, Nullable, OneOf, Pattern

FILE = {
    "ine": Nullable(str),
    "lastName": str,
    "firstName": str,
    "firstName2": Nullable(str),
    "birthDate": Pattern(r"\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?"),
    "birthPlaceLibelle": Nullable(str),
    "civility": OneOf("M", "F"),
    "email": Nullable(str),
    "grantEchelon": Nullable(Pattern(r"0bis|[0-7]")),
    "grantStatus": OneOf(0, 1),
    "backToSchoolDate": Nullable(ISO_DATE),
    "paymentDuration": Nullable(int),
    "studyTown": Nullable(str),
    "schoolName": Nullable(str),
    "removed": bool,
    "removalDate": Nullable(ISO_DATE),
}
V4 = "v4/cnous/etudiant_boursier"


class CnousAdapter(ProviderAdapter):
    provider = "cnous"
    health_path = "/api/v1/health"
    not_found_detail = "no student grant holder matches"
    FIELD_PARAMETERS: ClassVar[dict[str, str]] = {
        "ine": "ine",
        "lastName": "nomNaissance",
        "firstName": "prenoms",
        "firstName2": "prenoms",
        "birthDate": "anneeDateNaissance",
        "civility": "sexeEtatCivil",
        "birthPlace": "codeCogInseeCommuneNaissance",
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
                "lastName": pivot.family_name,
                "firstName": names[0] if names else "",
                "birthDate": f"{parts.day:02d}/{parts.month:02d}/{parts.year:04d}",
                "civility": pivot.gender,
            }
            if len(names) > 1:
                params["firstName2"] = names[1]
            if pivot.birthplace:
                params["birthPlace"] = pivot.birthplace
        result = await self.http.get(
            "/api/v1/students/scholarship",
            params=params,
            request_id=call.request_id,
            operation="etudiant_boursier",
        )
        if (
            isinstance(result, Reply)
            and result.status == 200
            and (not isinstance(result.body, list) or len(result.body) != 1)
        ):
            return UnexpectedPayload("cnous: expected exactly one grant file")
        with_identity = call.mode != FRANCE_CONNECT
        build = to_v4 if call.product == V4 else to_v3
        return self.read(result, [FILE], lambda body: build(body[0], with_identity))


def to_v3(file: dict, with_identity: bool) -> dict:
    data = {
        "est_boursier": file["grantEchelon"] is not None and not file["removed"],
        "echelon_bourse": {
            "echelon": file["grantEchelon"],
            "echelon_bourse_regionale_provisoire": file["grantStatus"] > 0,
        },
        "email": file["email"],
        "periode_versement_bourse": {
            "date_rentree": file["backToSchoolDate"],
            "duree": file["paymentDuration"],
        },
        "etablissement_etudes": {
            "nom_commune": file["studyTown"],
            "nom_etablissement": file["schoolName"],
        },
    }
    if with_identity:
        data["identite"] = {
            "nom": file["lastName"],
            "prenoms": [name for name in (file["firstName"], file["firstName2"]) if name],
            "date_naissance": file["birthDate"][:10],
            "nom_commune_naissance": file["birthPlaceLibelle"],
            "sexe": file["civility"],
        }
    return data


def to_v4(file: dict, with_identity: bool) -> dict:
    data = to_v3(file, with_identity)
    status = {
        "est_boursier": data.pop("est_boursier"),
        "est_radie": file["removed"],
        "date_radiation": file["removalDate"],
    }
    return {"statut_boursier": status, **data}
