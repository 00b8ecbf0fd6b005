"""Vehicle registration simulator (``ants``): the registration extract of the national vehicle
register (SIV), for one registration number and the person asking.

Wire format (a JSON search, POST: the identity travels in the body, never in a URL)::

    POST /siv/v1/extraits
    {"numeroImmatriculation": "GA-427-KD",
     "personne": {"nom": "DUBOIS", "prenoms": "Angela Claire Louise", "sexe": "F",
                  "dateNaissance": "1962-08-24", "codePaysNaissance": "99100",
                  "codeCommuneNaissance": "75107"}}
    200 {"rattachement": "TITULAIRE",
         "personne": {"nom": "DUBOIS", "prenom": "ANGELA", "sexe": "F", "anneeNaissance": 1962,
                      "moisNaissance": 8, "jourNaissance": 24, "departementNaissance": "75"},
         "adresse": {"numeroVoie": "20", "extension": null, "typeVoie": "AVENUE",
                     "libelleVoie": "DE SEGUR", "complement": null, "lieuDit": null,
                     "etageEscalierAppartement": null, "codePostal": "75007",
                     "commune": "PARIS", "pays": "FRANCE"},
         "immatriculation": {"numero": "GA-427-KD", "datePremiereImmatriculation": "2019-05-14",
                             "location": null},
         "vehicule": {"marque": "PEUGEOT", "tvv": "...", "denominationCommerciale": "208",
                      "masseEnChargeMaximale": 1550, "categorie": {"code": "M1", "libelle": "..."},
                      "genre": {"code": "VP", "libelle": "..."}, "cylindree": 1199,
                      "energie": {"code": "ES", "libelle": "Essence"}, "co2": 104,
                      "classeEnvironnementale": {"code": "Euro 6d", "libelle": "..."}}}
    GET /siv/v1/sante

``numeroImmatriculation`` is an SIV number, ``AA-123-AA``. ``dateNaissance`` carries ``00`` for
an unknown month or day (answered as null). The person is found by the simulators' matching
rules; the vehicle must then be attached to them (holder, co-holder or lessee): an unknown
number, or a vehicle of somebody else, is a 404. The demo's vehicles are listed here, by login.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from litestar import Litestar, Request, Router, post
from litestar.response import Response

from broker.demo.citizens import DemoCitizen
from broker.demo.simulators import common
from broker.demo.simulators.common import InvalidField, SimulatorOptions
from broker.demo.simulators.matching import IdentityQuery, find, gender_code

HEALTH = "/siv/v1/sante"
PLATE = re.compile(r"[A-HJ-NP-TV-Z]{2}-(?!000)[0-9]{3}-[A-HJ-NP-TV-Z]{2}")
BIRTH_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
MISSING = "aucun véhicule de ce numéro n'est rattaché à cette personne"

CATEGORIES = {
    "M1": "Véhicule de transport de personnes comportant au maximum 8 places assises outre "
    "le siège du conducteur",
    "L3e": "Motocyclette à deux roues",
}
GENRES = {
    "VP": "Véhicule Particulier",
    "MTT2": "Motocyclette de puissance supérieure à 35 kW",
}
FUELS = {
    "ES": "Essence",
    "GO": "Gazole",
    "EG": "Bicarburation essence-GPL",
    "HE": "Hybride électrique",
}
LEASES = {"LLD": "Location Longue Durée", "LOA": "Location avec option d'achat"}


def _vehicle(
    plate: str,
    attachment: str,
    first_registered: str,
    make: str,
    model: str,
    tvv: str,
    technical: tuple[int, str, str, int, str, int, str],
    lease: str | None = None,
) -> dict[str, Any]:
    mass, category, genre, engine_size, fuel, co2, euro = technical
    return {
        "plate": plate,
        "attachment": attachment,
        "first_registered": first_registered,
        "lease": lease,
        "make": make,
        "model": model,
        "tvv": tvv,
        "mass": mass,
        "category": category,
        "genre": genre,
        "engine_size": engine_size,
        "fuel": fuel,
        "co2": co2,
        "euro": euro,
    }


def _address(
    number: str | None, street_type: str, street: str, postcode: str, town: str, **more: str
) -> dict[str, Any]:
    return {
        "numeroVoie": number,
        "extension": more.get("extension"),
        "typeVoie": street_type,
        "libelleVoie": street,
        "complement": more.get("complement"),
        "lieuDit": None,
        "etageEscalierAppartement": more.get("etage"),
        "codePostal": postcode,
        "commune": town,
        "pays": "FRANCE",
    }


# The demo's registrations, by login: where the holder lives, and their vehicles.
ADDRESSES = {
    "test": _address("20", "AVENUE", "DE SEGUR", "75007", "PARIS"),
    "nom_composé": _address(
        "14", "RUE", "DE LA REPUBLIQUE", "13002", "MARSEILLE", etage="ESCALIER B"
    ),
    "beneficiaire_rsa": _address("12", "BOULEVARD", "PAOLI", "20200", "BASTIA"),
    "naissance_Maroc": _address("7", "RUE", "DE MARSEILLE", "69007", "LYON", extension="B"),
    "étranger_présumé_né_jour": _address(
        "3", "RUE", "DES LILAS", "67000", "STRASBOURG", complement="RESIDENCE LES TILLEULS"
    ),
}
VEHICLES: dict[str, tuple[dict[str, Any], ...]] = {
    "test": (
        _vehicle(
            "GA-427-KD",
            "TITULAIRE",
            "2019-05-14",
            "PEUGEOT",
            "208",
            "UBHNSZ/1",
            (1550, "M1", "VP", 1199, "ES", 104, "Euro 6d"),
        ),
    ),
    "nom_composé": (
        _vehicle(
            "FR-285-LM",
            "LOCATAIRE",
            "2024-01-23",
            "TOYOTA",
            "COROLLA",
            "ZWE219L-DHXNBW",
            (1835, "M1", "VP", 1798, "HE", 92, "Euro 6e"),
            lease="LLD",
        ),
        _vehicle(
            "BX-902-RT",
            "COTITULAIRE",
            "2016-03-09",
            "RENAULT",
            "CLIO",
            "5RFC5G/1",
            (1631, "M1", "VP", 1461, "GO", 85, "Euro 6b"),
        ),
    ),
    "beneficiaire_rsa": (
        _vehicle(
            "EH-318-PB",
            "TITULAIRE",
            "2018-06-28",
            "YAMAHA",
            "MT-07",
            "RM04-ABS",
            (364, "L3e", "MTT2", 689, "ES", 111, "Euro 4"),
        ),
    ),
    "naissance_Maroc": (
        _vehicle(
            "DK-551-ZC",
            "TITULAIRE",
            "2014-10-02",
            "DACIA",
            "SANDERO",
            "5SDSDF/1",
            (1515, "M1", "VP", 1149, "EG", 120, "Euro 5b"),
        ),
    ),
    "étranger_présumé_né_jour": (
        _vehicle(
            "HN-064-VA",
            "TITULAIRE",
            "2022-02-17",
            "CITROEN",
            "C3",
            "SXHMZ6/1",
            (1597, "M1", "VP", 1199, "ES", 119, "Euro 6d"),
        ),
    ),
}


def upper_ascii(text: str) -> str:
    """As the register writes names: upper case, no accents."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def birth_department(citizen: DemoCitizen) -> str:
    """The department of a COG commune code ("974" overseas, "2A"/"2B" in Corsica), "99" abroad."""
    place = citizen.birthplace
    if not place:
        return "99"
    return place[:3] if place.startswith("97") else place[:2]


def _text(holder: dict[str, Any], key: str, required: bool = True) -> str | None:
    value = holder.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidField(key, f"{key} est obligatoire (texte)")
    return value.strip()


def parse_search(raw: bytes) -> tuple[str, IdentityQuery]:
    try:
        body = json.loads(raw)
    except ValueError:
        raise InvalidField("personne", "le corps doit être un objet JSON") from None
    if not isinstance(body, dict):
        raise InvalidField("personne", "le corps doit être un objet JSON")
    plate = body.get("numeroImmatriculation")
    if not isinstance(plate, str) or not PLATE.fullmatch(plate):
        raise InvalidField(
            "numeroImmatriculation", "numeroImmatriculation doit être au format AA-123-AA"
        )
    holder = body.get("personne")
    if not isinstance(holder, dict):
        raise InvalidField("personne", "personne est obligatoire (objet)")
    family_name = _text(holder, "nom") or ""
    given = (_text(holder, "prenoms") or "").split()
    gender = _text(holder, "sexe")
    if gender not in ("F", "M"):
        raise InvalidField("sexe", "sexe doit valoir F ou M")
    birth = BIRTH_DATE.fullmatch(_text(holder, "dateNaissance") or "")
    year, month, day = (int(part) for part in birth.groups()) if birth else (0, 0, 0)
    if not (1850 <= year <= 2100 and month <= 12 and day <= 31 and (month or not day)):
        raise InvalidField(
            "dateNaissance",
            "dateNaissance doit être AAAA-MM-JJ (00 si inconnu, pas de jour sans mois)",
        )
    country = _text(holder, "codePaysNaissance") or ""
    if not re.fullmatch(r"99\d{3}", country):
        raise InvalidField("codePaysNaissance", "codePaysNaissance doit être un code COG 99xxx")
    place = _text(holder, "codeCommuneNaissance", required=False)
    if place is not None and not re.fullmatch(r"\d{5}|2[AB]\d{3}", place.upper()):
        raise InvalidField("codeCommuneNaissance", "codeCommuneNaissance doit être un code COG")
    query = IdentityQuery(
        family_name, tuple(given), year, month or None, day or None, gender, country, place
    )
    return plate, query


def extract(citizen: DemoCitizen, plate: str) -> dict | None:
    vehicle = next((v for v in VEHICLES.get(citizen.login, ()) if v["plate"] == plate), None)
    if vehicle is None:
        return None
    year, month, day = (int(part) for part in citizen.birthdate.split("-"))
    lease = vehicle["lease"]
    return {
        "rattachement": vehicle["attachment"],
        "personne": {
            "nom": upper_ascii(citizen.family_name),
            "prenom": upper_ascii(citizen.given_name.split()[0]),
            "sexe": gender_code(citizen.gender),
            "anneeNaissance": year,
            "moisNaissance": month or None,
            "jourNaissance": day or None,
            "departementNaissance": birth_department(citizen),
        },
        "adresse": ADDRESSES[citizen.login],
        "immatriculation": {
            "numero": plate,
            "datePremiereImmatriculation": vehicle["first_registered"],
            "location": {"code": lease, "libelle": LEASES[lease]} if lease else None,
        },
        "vehicule": {
            "marque": vehicle["make"],
            "tvv": vehicle["tvv"],
            "denominationCommerciale": vehicle["model"],
            "masseEnChargeMaximale": vehicle["mass"],
            "categorie": {"code": vehicle["category"], "libelle": CATEGORIES[vehicle["category"]]},
            "genre": {"code": vehicle["genre"], "libelle": GENRES[vehicle["genre"]]},
            "cylindree": vehicle["engine_size"],
            "energie": {"code": vehicle["fuel"], "libelle": FUELS[vehicle["fuel"]]},
            "co2": vehicle["co2"],
            "classeEnvironnementale": {
                "code": vehicle["euro"],
                "libelle": f"Norme européenne d'émission {vehicle['euro']}",
            },
        },
    }


def router(options: SimulatorOptions, path: str = "") -> Router:
    @post("/siv/v1/extraits", status_code=200, name="ants-extrait")
    async def registration_extract(request: Request) -> Response:
        plate, query = parse_search(await request.body())
        return await common.respond(
            find(query), options, lambda citizen: extract(citizen, plate), MISSING
        )

    return common.provider_router(path, options, HEALTH, [registration_extract])


def create_app(options: SimulatorOptions | None = None) -> Litestar:
    return common.standalone_app(router(options or SimulatorOptions()))
