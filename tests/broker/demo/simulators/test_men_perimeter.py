"""The MEN simulator's perimeter search (API Particulier v4): where a school lies, and the wire
rules of ``uai`` / ``departements`` / ``regions`` / ``degre``."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from broker.demo.simulators import create_app_for
from broker.demo.simulators.men_perimeter import (
    REGION_OF_DEPARTMENT,
    academic_region,
    bcn_department,
)

PUPIL = {"nom": "CHAMPION", "prenom": "Alice", "sexe": "F", "dateNaissance": "2010-11-02"}


def get(params: dict) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app_for("men"))
        async with httpx.AsyncClient(transport=transport, base_url="http://men") as client:
            return await client.get("/scolarite/v1/eleves", params=params)

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("uai", "department", "region"),
    [
        ("0440021J", "044", "52"),
        ("0750655E", "075", "11"),
        ("6200002B", "02A", "94"),
        ("7200009X", "02B", "94"),
        ("9741182A", "974", "04"),
    ],
)
def test_a_school_lies_in_the_department_of_its_uai(uai, department, region):
    assert bcn_department(uai) == department
    assert academic_region(uai) == region


def test_every_metropolitan_and_overseas_department_has_one_region():
    expected = {f"0{n:02d}" for n in range(1, 96) if n != 20} | {"02A", "02B"}
    expected |= {"971", "972", "973", "974", "976"}
    assert set(REGION_OF_DEPARTMENT) == expected


@pytest.mark.parametrize(
    "where",
    [{"regions": "52"}, {"departements": "075,044"}, {"regions": "52", "degre": "2d"}],
)
def test_the_pupil_is_found_in_a_perimeter_holding_her_school(where):
    response = get({**PUPIL, "anneeScolaire": "2026", **where})
    assert response.status_code == 200, response.text
    assert response.json()["etablissement"]["uai"] == "0440021J"


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ({"uai": "0440021J", "regions": "52"}, "uai"),
        ({"departements": "044", "regions": "52"}, "uai"),
        ({}, "uai"),
        ({"departements": "44"}, "departements"),
        ({"regions": "5A"}, "regions"),
        ({"regions": "52", "degre": "3D"}, "degre"),
    ],
)
def test_attack_perimeter_parameters_are_checked(where, field):
    response = get({**PUPIL, "anneeScolaire": "2026", **where})
    assert response.status_code == 400
    assert response.json()["erreur"]["champ"] == field


def test_outside_the_perimeter_or_the_degree_is_a_404():
    for where in ({"regions": "11"}, {"departements": "085"}, {"regions": "52", "degre": "1D"}):
        response = get({**PUPIL, "anneeScolaire": "2026", **where})
        assert response.status_code == 404, where
        assert response.json()["erreur"]["code"] == "NON_TROUVE"
