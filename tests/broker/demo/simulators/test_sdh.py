"""The Ministry of Sports simulator on its own wire: athlete files by number, entries in force
decided by the reference date, honest 400s and 404s, and the shared options."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
import pytest

from broker.demo.citizens import by_login
from broker.demo.simulators import SimulatorOptions, sdh


def get(path: str, options: SimulatorOptions | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=sdh.create_app(options))
        async with httpx.AsyncClient(transport=transport, base_url="http://sdh") as client:
            return await client.get(path)

    return asyncio.run(go())


def test_an_athlete_file_in_the_ministry_s_format():
    response = get("/psqs/v1/sportifs/120034567")
    assert response.status_code == 200
    body = response.json()
    assert body["identifiant"] == "120034567"
    assert body["etatCivil"] == {
        "nomNaissance": "LAMBERT",
        "nomUsage": None,
        "prenoms": "Inès Clara",
        "dateNaissance": "2006-04-12",
        "sexe": "F",
    }
    assert [(f["numero"], f["enCours"], f["hautNiveau"]) for f in body["fiches"]] == [
        (845120, False, False),
        (912004, True, True),
    ]


def test_the_entry_in_force_follows_the_reference_date():
    earlier = get("/psqs/v1/sportifs/120034567", SimulatorOptions(reference_date=date(2025, 6, 1)))
    assert [f["enCours"] for f in earlier.json()["fiches"]] == [True, False]


@pytest.mark.parametrize("identifiant", ["12a45", "123", "1234567890123", "%20"])
def test_malformed_numbers_are_a_400_naming_the_field(identifiant):
    response = get(f"/psqs/v1/sportifs/{identifiant}")
    assert response.status_code == 400
    error = response.json()["erreur"]
    assert error["champ"] == "identifiant" and identifiant not in error["message"]


def test_unknown_numbers_are_a_404():
    response = get("/psqs/v1/sportifs/5555")
    assert response.status_code == 404
    assert response.json()["erreur"]["code"] == "NON_TROUVE"


def test_health_and_maintenance():
    assert get("/psqs/v1/sante").json() == {"statut": "disponible"}
    down = get("/psqs/v1/sportifs/120034567", SimulatorOptions(maintenance=True))
    assert down.status_code == 503 and "retry-after" in down.headers


def test_every_athlete_is_a_demo_citizen_with_a_unique_well_formed_number():
    numbers = [number for number, _ in sdh.ATHLETES.values()]
    assert len(numbers) == len(set(numbers))
    for login, (number, entries) in sdh.ATHLETES.items():
        assert by_login(login) is not None, login
        assert sdh.IDENTIFIANT.fullmatch(number)
        assert all(e["debut"] <= e["fin"] for e in entries)
