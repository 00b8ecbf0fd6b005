"""The national-service simulator as an integrator sees it, raw: its wire format, honest 404s
and 400s naming the field, scenario playback, credentials and maintenance windows."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from broker.demo.citizens import CITIZENS
from broker.demo.simulators import SimulatorOptions, dsnj

LAMBERT = {
    "nom": "LAMBERT",
    "prenoms": ["Inès", "Clara"],
    "sexe": "F",
    "dateNaissance": "2006-04-12",
    "paysNaissance": "99100",
    "communeNaissance": "69383",
}
PATH = "/recensement/v1/situation"


def get(params: dict, options: SimulatorOptions | None = None, path: str = PATH, **headers):
    async def go():
        transport = httpx.ASGITransport(app=dsnj.create_app(options))
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
            return await client.get(path, params=params, headers=headers)

    return asyncio.run(go())


def test_found_in_the_providers_words():
    response = get(LAMBERT)
    assert response.status_code == 200
    assert response.json() == {
        "situation": "EN_REGLE",
        "commentaire": "Journée défense et citoyenneté effectuée le 14/03/2024",
    }


def test_every_fact_belongs_to_a_demo_citizen_and_the_nobody_stays_unknown():
    logins = {c.login for c in CITIZENS}
    assert set(dsnj.SITUATIONS) <= logins
    assert "nom_prénom_long" not in dsnj.SITUATIONS  # "404 everywhere" in docs/simulators.md
    statuses = {status for status, _ in dsnj.SITUATIONS.values()}
    assert statuses == {dsnj.IN_ORDER, dsnj.NOT_IN_ORDER, dsnj.UNDETERMINED, dsnj.NOT_CONCERNED}


def test_unknown_person_is_a_404_that_repeats_nothing():
    response = get(LAMBERT | {"nom": "LAMBERTI"})
    assert response.status_code == 404
    assert response.json()["erreur"]["code"] == "NON_TROUVE"
    assert "LAMBERTI" not in response.text


def test_known_elsewhere_is_unknown_here():
    mercier = {
        "nom": "MERCIER",
        "prenoms": "Pierre",
        "sexe": "M",
        "dateNaissance": "1969-03-17",
        "paysNaissance": "99100",
    }
    assert get(mercier).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"nom": " "}, "nom"),
        ({"prenoms": []}, "prenoms"),
        ({"sexe": "X"}, "sexe"),
        ({"dateNaissance": "2006-04"}, "dateNaissance"),
        ({"dateNaissance": "12/04/2006"}, "dateNaissance"),
        ({"dateNaissance": "2006-02-30"}, "dateNaissance"),
        ({"paysNaissance": ""}, "paysNaissance"),
        ({"paysNaissance": "FR"}, "paysNaissance"),
        ({"communeNaissance": "6938"}, "communeNaissance"),
        ({"paysNaissance": "99134"}, "communeNaissance"),  # a commune for a birth abroad
    ],
)
def test_invalid_parameters_are_400s_naming_the_field(changes, field):
    response = get(LAMBERT | changes)
    assert response.status_code == 400
    error = response.json()["erreur"]
    assert (error["code"], error["champ"]) == ("PARAMETRE_INVALIDE", field)
    assert "LAMBERT" not in response.text


@pytest.mark.parametrize(
    ("params", "status"),
    [
        (
            {
                "nom": "PANNE",
                "prenoms": "Sophie",
                "sexe": "F",
                "dateNaissance": "1978-11-30",
                "paysNaissance": "99100",
            },
            500,
        ),
        (
            {
                "nom": "TRAVAUX",
                "prenoms": "Claire",
                "sexe": "F",
                "dateNaissance": "1975-04-25",
                "paysNaissance": "99100",
                "communeNaissance": "44109",
            },
            503,
        ),
    ],
)
def test_scenario_citizens_misbehave(params, status):
    assert get(params).status_code == status


def test_health_credentials_and_maintenance():
    assert get({}, path=dsnj.HEALTH).json() == {"statut": "disponible"}
    guarded = SimulatorOptions(token="s3cret")
    assert get(LAMBERT, guarded).status_code == 401
    assert get(LAMBERT, guarded, authorization="Bearer s3cret").status_code == 200
    closed = get(LAMBERT, SimulatorOptions(maintenance=True, maintenance_retry_in=60))
    assert closed.status_code == 503 and closed.headers["retry-after"] == "60"
