"""The ANTS simulator on its own wire: the register search answers in the register's format,
names the field at fault without repeating it, never finds another person's vehicle, and
honours the shared options (credentials, maintenance)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from broker.demo.simulators import SimulatorOptions, ants

SEARCH = "/siv/v1/extraits"
DUBOIS = {
    "nom": "Dubois",
    "prenoms": "Angela",
    "sexe": "F",
    "dateNaissance": "1962-08-24",
    "codePaysNaissance": "99100",
    "codeCommuneNaissance": "75107",
}


def post(body: Any, options: SimulatorOptions | None = None, **headers: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=ants.create_app(options))
        async with httpx.AsyncClient(transport=transport, base_url="http://ants") as client:
            if isinstance(body, bytes):
                return await client.post(SEARCH, content=body, headers=headers)
            return await client.post(SEARCH, json=body, headers=headers)

    return asyncio.run(go())


def test_the_holder_gets_the_register_s_extract():
    response = post({"numeroImmatriculation": "GA-427-KD", "personne": DUBOIS})
    assert response.status_code == 200
    body = response.json()
    assert body["rattachement"] == "TITULAIRE"
    assert body["personne"] == {
        "nom": "DUBOIS",
        "prenom": "ANGELA",
        "sexe": "F",
        "anneeNaissance": 1962,
        "moisNaissance": 8,
        "jourNaissance": 24,
        "departementNaissance": "75",
    }
    assert body["immatriculation"] == {
        "numero": "GA-427-KD",
        "datePremiereImmatriculation": "2019-05-14",
        "location": None,
    }
    assert body["vehicule"]["energie"] == {"code": "ES", "libelle": "Essence"}


def test_a_presumed_birth_date_is_matched_with_its_zeros():
    fleuret = {
        "nom": "FLEURET",
        "prenoms": "Jean",
        "sexe": "M",
        "dateNaissance": "1992-11-00",
        "codePaysNaissance": "99217",
    }
    response = post({"numeroImmatriculation": "HN-064-VA", "personne": fleuret})
    assert response.status_code == 200
    assert response.json()["personne"]["jourNaissance"] is None


@pytest.mark.parametrize(
    ("plate", "person"),
    [
        ("FR-285-LM", DUBOIS),  # TROIS-DUPRE's lease
        ("GA-427-KD", {**DUBOIS, "sexe": "M"}),
        ("GA-427-KD", {**DUBOIS, "codeCommuneNaissance": "75108"}),
    ],
)
def test_attack_nobody_gets_another_person_s_vehicle(plate, person):
    response = post({"numeroImmatriculation": plate, "personne": person})
    assert response.status_code == 404
    assert response.json()["erreur"]["code"] == "NON_TROUVE"
    assert "TROIS" not in response.text and "TOYOTA" not in response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"numeroImmatriculation": "GA427KD", "personne": DUBOIS}, "numeroImmatriculation"),
        ({"numeroImmatriculation": "GA-427-KD"}, "personne"),
        ({"numeroImmatriculation": "GA-427-KD", "personne": {**DUBOIS, "sexe": "2"}}, "sexe"),
        (
            {
                "numeroImmatriculation": "GA-427-KD",
                "personne": {**DUBOIS, "dateNaissance": "1962-00-24"},
            },
            "dateNaissance",
        ),
        (
            {
                "numeroImmatriculation": "GA-427-KD",
                "personne": {**DUBOIS, "codePaysNaissance": "FR"},
            },
            "codePaysNaissance",
        ),
        (b"not json", "personne"),
    ],
)
def test_invalid_fields_are_named_never_repeated(body, field):
    response = post(body)
    assert response.status_code == 400
    error = response.json()["erreur"]
    assert (error["code"], error["champ"]) == ("PARAMETRE_INVALIDE", field)
    assert "GA427KD" not in error["message"]


def test_credentials_and_maintenance_options():
    body = {"numeroImmatriculation": "GA-427-KD", "personne": DUBOIS}
    assert post(body, SimulatorOptions(token="s3cret")).status_code == 401
    assert post(body, SimulatorOptions(token="s3cret"), authorization="Bearer s3cret").is_success
    down = post(body, SimulatorOptions(maintenance=True, maintenance_retry_in=42))
    assert down.status_code == 503 and down.headers["retry-after"] == "42"


def test_every_demo_vehicle_is_attached_to_a_demo_citizen_with_an_address():
    from broker.demo.citizens import by_login

    for login, vehicles in ants.VEHICLES.items():
        assert by_login(login) is not None and login in ants.ADDRESSES, login
        for vehicle in vehicles:
            assert ants.PLATE.fullmatch(vehicle["plate"]), vehicle["plate"]
    plates = [v["plate"] for vehicles in ants.VEHICLES.values() for v in vehicles]
    assert len(plates) == len(set(plates))
