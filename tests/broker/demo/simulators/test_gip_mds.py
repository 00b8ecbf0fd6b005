"""The civic-service simulator as an integrator sees it, raw: its JSON search, honest 404s and
400s naming the field, scenario playback, credentials and maintenance windows."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from broker.demo.citizens import CITIZENS
from broker.demo.simulators import SimulatorOptions, gip_mds

LAMBERT = {"nomFamille": "LAMBERT", "prenoms": ["Inès", "Clara"], "dateNaissance": "2006-04-12"}
PATH = "/dsn/v1/service-civique/contrats"


def send(body, options: SimulatorOptions | None = None, **headers) -> httpx.Response:
    async def go():
        transport = httpx.ASGITransport(app=gip_mds.create_app(options))
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
            if isinstance(body, bytes):
                return await client.post(PATH, content=body, headers=headers)
            return await client.post(PATH, json=body, headers=headers)

    return asyncio.run(go())


def test_found_in_the_providers_words():
    response = send(LAMBERT)
    assert response.status_code == 200
    assert response.json() == {
        "contrats": [
            {
                "accueil": {"siret": "42229566900026", "raisonSociale": "UNIS CITE"},
                "dateDebut": "2026-10-05",
                "dateFin": "2027-06-04",
                "motifRupture": "99",
            }
        ]
    }


def test_known_without_a_contract_is_an_empty_list_not_a_404():
    body = {"nomFamille": "DUBOIS", "prenoms": ["Angela"], "dateNaissance": "1962-08-24"}
    response = send(body)
    assert (response.status_code, response.json()) == (200, {"contrats": []})


def test_every_fact_belongs_to_a_demo_citizen_and_the_nobody_stays_unknown():
    assert set(gip_mds.CONTRACTS) <= {c.login for c in CITIZENS}
    assert "nom_prénom_long" not in gip_mds.CONTRACTS  # "404 everywhere" in docs/simulators.md


def test_unknown_person_is_a_404_that_repeats_nothing():
    response = send(LAMBERT | {"nomFamille": "LAMBERTI"})
    assert response.status_code == 404
    assert response.json()["erreur"]["code"] == "NON_TROUVE"
    assert "LAMBERTI" not in response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "nomFamille"),
        ([LAMBERT], "nomFamille"),
        (LAMBERT | {"nomFamille": ""}, "nomFamille"),
        (LAMBERT | {"nomFamille": 12}, "nomFamille"),
        (LAMBERT | {"prenoms": "Inès"}, "prenoms"),
        (LAMBERT | {"prenoms": []}, "prenoms"),
        (LAMBERT | {"prenoms": ["Inès", " "]}, "prenoms"),
        (LAMBERT | {"dateNaissance": "2006-04"}, "dateNaissance"),
        (LAMBERT | {"dateNaissance": "20060412"}, "dateNaissance"),
        (LAMBERT | {"dateNaissance": "2006-02-30"}, "dateNaissance"),
        (LAMBERT | {"dateNaissance": None}, "dateNaissance"),
    ],
)
def test_invalid_bodies_are_400s_naming_the_field(body, field):
    response = send(body)
    assert response.status_code == 400
    error = response.json()["erreur"]
    assert (error["code"], error["champ"]) == ("PARAMETRE_INVALIDE", field)
    assert "LAMBERT" not in response.text


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"nomFamille": "PANNE", "prenoms": ["Sophie"], "dateNaissance": "1978-11-30"}, 500),
        ({"nomFamille": "PASSERELLE", "prenoms": ["Bruno"], "dateNaissance": "1982-05-21"}, 502),
        ({"nomFamille": "DIFFORME", "prenoms": ["Hugo"], "dateNaissance": "1988-12-12"}, 200),
    ],
)
def test_scenario_citizens_misbehave(body, status):
    response = send(body)
    assert response.status_code == status
    assert "contrats" not in response.text


def test_credentials_and_maintenance():
    guarded = SimulatorOptions(token="s3cret")
    assert send(LAMBERT, guarded).status_code == 401
    assert send(LAMBERT, guarded, authorization="Bearer s3cret").status_code == 200
    closed = send(LAMBERT, SimulatorOptions(maintenance=True, maintenance_retry_in=60))
    assert closed.status_code == 503 and closed.headers["retry-after"] == "60"
