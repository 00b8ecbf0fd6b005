"""Social-benefits simulator (``dss``): RSA, prime d'activité, AAH, ASF, C2S and AEEH; the
EAJE family contribution (a family file, not a benefit status) is ``dss_eaje``'s, on the same
router and with the same identity body.

Wire format (a JSON search, POST: the identity travels in the body, never in a URL)::

    POST /prestations/v1/{rsa|ppa|aah|asf|c2s|aeeh}
    {"individu": {"nomNaissance": "SANTUCCI", "nomUsage": null,
                  "prenoms": ["Dominique", "Antoine"], "sexe": "M",
                  "dateNaissance": {"annee": 1979, "mois": 6, "jour": 11},
                  "codePaysNaissance": "99100", "codeCommuneNaissance": "2B033"}}
    200 {"prestation": "RSA", "droitOuvert": true, "dateOuvertureDroit": "2025-04-01",
         "majoration": false}                      # rsa, ppa
    200 {"prestation": "C2S", "droitOuvert": true, "dateOuvertureDroit": null,
         "participationFinanciere": false}          # c2s
    200 {"prestation": "AAH", "droitOuvert": false, "dateOuvertureDroit": null}  # aah, asf
    200 {"prestation": "AEEH", "droitOuvert": true, "dateOuvertureDroit": "2024-02-01",
         "qualiteBeneficiaire": "105"}   # aeeh: 105 the parent paid, 205 the child
    GET /prestations/v1/sante

``mois`` and ``jour`` may be null (unknown). A person is *known* when the demo data gives them
benefit facts (``situation["dss"]``) or a family file (``situation["cnaf"]``): for a known person
a benefit without facts is answered ``droitOuvert: false``, exactly as API Particulier answers
``est_beneficiaire: false``; an unknown person is a 404 (no family file).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, TypeVar

from litestar import Litestar, Request, Router, post
from litestar.response import Response

from broker.demo.citizens import DemoCitizen
from broker.demo.simulators import common, dss_eaje
from broker.demo.simulators.common import InvalidField, SimulatorOptions
from broker.demo.simulators.matching import IdentityQuery, find

HEALTH = "/prestations/v1/sante"
T = TypeVar("T")


@dataclass(frozen=True)
class Benefit:
    label: str  # the "prestation" echoed in answers
    flag: str  # key of situation["dss"] saying whether the right is open
    start: str  # key of the opening date
    extra: tuple[str, str] | None = None  # (answer key, situation key) of a third fact


BENEFITS = {
    "rsa": Benefit("RSA", "rsa", "rsa_date_debut_droit", ("majoration", "rsa_majoration")),
    "ppa": Benefit(
        "PPA",
        "prime_activite",
        "prime_activite_date_debut_droit",
        ("majoration", "prime_activite_majoration"),
    ),
    "aah": Benefit("AAH", "aah", "aah_date_debut_droit"),
    "asf": Benefit("ASF", "asf", "asf_date_debut_droit"),
    "c2s": Benefit(
        "C2S",
        "css",
        "css_date_debut_droit",
        ("participationFinanciere", "css_participation_financiere"),
    ),
    "aeeh": Benefit(
        "AEEH",
        "aeeh",
        "aeeh_date_debut_droit",
        ("qualiteBeneficiaire", "aeeh_qualite_beneficiaire"),
    ),
}


def _field(individual: dict[str, Any], key: str, kind: type[T]) -> T:
    value = individual.get(key)
    if (
        not isinstance(value, kind)
        or isinstance(value, bool)
        or (isinstance(value, str) and not value.strip())
    ):
        raise InvalidField(key, f"{key} est obligatoire ({kind.__name__})")
    return value


def _optional_field(individual: dict[str, Any], key: str, kind: type[T]) -> T | None:
    if individual.get(key) is None:
        return None
    return _field(individual, key, kind)


def parse_identity(raw: bytes) -> IdentityQuery:
    try:
        body = json.loads(raw)
    except ValueError:
        raise InvalidField("individu", "le corps doit être un objet JSON") from None
    individual = body.get("individu") if isinstance(body, dict) else None
    if not isinstance(individual, dict):
        raise InvalidField("individu", "individu est obligatoire (objet)")
    family_name = _field(individual, "nomNaissance", str)
    given = _field(individual, "prenoms", list)
    if not given or not all(isinstance(name, str) and name.strip() for name in given):
        raise InvalidField("prenoms", "prenoms doit être une liste de prénoms non vides")
    gender = _field(individual, "sexe", str)
    if gender not in ("F", "M"):
        raise InvalidField("sexe", "sexe doit valoir F ou M")
    birth = _field(individual, "dateNaissance", dict)
    year, month, day = (birth.get(part) for part in ("annee", "mois", "jour"))
    if not (
        isinstance(year, int)
        and not isinstance(year, bool)
        and 1850 <= year <= 2100
        and (month is None or (isinstance(month, int) and 1 <= month <= 12))
        and (day is None or (isinstance(day, int) and 1 <= day <= 31 and month))
    ):
        raise InvalidField(
            "dateNaissance",
            "dateNaissance : annee obligatoire, mois et jour "
            "entiers ou null (pas de jour sans mois)",
        )
    country = _field(individual, "codePaysNaissance", str)
    if not re.fullmatch(r"99\d{3}", country):
        raise InvalidField("codePaysNaissance", "codePaysNaissance doit être un code COG 99xxx")
    place = _optional_field(individual, "codeCommuneNaissance", str)
    if place is not None and not re.fullmatch(r"\d{5}|2[AB]\d{3}", place.upper()):
        raise InvalidField("codeCommuneNaissance", "codeCommuneNaissance doit être un code COG")
    if country == "99100" and place is None:
        raise InvalidField(
            "codeCommuneNaissance",
            "codeCommuneNaissance est obligatoire pour une naissance en France",
        )
    return IdentityQuery(family_name, tuple(given), year, month, day, gender, country, place)


def benefit_answer(citizen: DemoCitizen, benefit: Benefit) -> dict | None:
    situation = citizen.situation
    if "dss" not in situation and "cnaf" not in situation:
        return None
    facts = situation.get("dss", {})
    open_right = bool(facts.get(benefit.flag, False))
    answer = {
        "prestation": benefit.label,
        "droitOuvert": open_right,
        "dateOuvertureDroit": facts.get(benefit.start) if open_right else None,
    }
    if benefit.extra is not None:
        key, fact = benefit.extra
        answer[key] = facts.get(fact) if open_right else None
    return answer


def router(options: SimulatorOptions, path: str = "") -> Router:
    def route(code: str, benefit: Benefit):
        @post(f"/prestations/v1/{code}", status_code=200, name=f"dss-{code}")
        async def benefit_status(request: Request) -> Response:
            query = parse_identity(await request.body())
            return await common.respond(
                find(query),
                options,
                lambda c: benefit_answer(c, benefit),
                "aucun dossier allocataire ne correspond à cette identité",
            )

        return benefit_status

    handlers = [route(code, benefit) for code, benefit in BENEFITS.items()]
    handlers.append(dss_eaje.handler(options, parse_identity))
    return common.provider_router(path, options, HEALTH, handlers)


def create_app(options: SimulatorOptions | None = None) -> Litestar:
    return common.standalone_app(router(options or SimulatorOptions()))
