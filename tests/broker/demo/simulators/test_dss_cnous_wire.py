"""The simulators' wire answers for the AEEH and the EAJE family contribution (``dss``) and the
Crous's struck-off students (``cnous``)."""

from __future__ import annotations

import asyncio

import httpx

from broker.demo.simulators import create_app_for

SANTUCCI = {
    "nomNaissance": "SANTUCCI",
    "nomUsage": None,
    "prenoms": ["Dominique"],
    "sexe": "M",
    "dateNaissance": {"annee": 1979, "mois": 6, "jour": 11},
    "codePaysNaissance": "99100",
    "codeCommuneNaissance": "2B033",
}
TROIS_DUPRE = {
    **SANTUCCI,
    "nomNaissance": "TROIS-DUPRE",
    "prenoms": ["Melissandre"],
    "sexe": "F",
    "dateNaissance": {"annee": 1981, "mois": 7, "jour": 27},
    "codeCommuneNaissance": "13012",
}


def send(provider: str, method: str, path: str, **kwargs) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app_for(provider))
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


def test_aeeh_answers_the_beneficiary_quality():
    paid = send("dss", "POST", "/prestations/v1/aeeh", json={"individu": TROIS_DUPRE})
    assert paid.json() == {
        "prestation": "AEEH",
        "droitOuvert": True,
        "dateOuvertureDroit": "2021-03-01",
        "qualiteBeneficiaire": "105",
    }
    without = send("dss", "POST", "/prestations/v1/aeeh", json={"individu": SANTUCCI})
    assert without.json() == {
        "prestation": "AEEH",
        "droitOuvert": False,
        "dateOuvertureDroit": None,
        "qualiteBeneficiaire": None,
    }


def test_eaje_answers_the_family_file_with_its_fee_facts():
    response = send("dss", "POST", "/prestations/v1/eaje", json={"individu": TROIS_DUPRE})
    assert response.status_code == 200
    body = response.json()
    assert body["ressources"] == {"montantAnnuel": 26400, "anneeReference": 2024}
    assert (body["nombreEnfantsACharge"], body["nombreEnfantsAeeh"]) == (3, 1)
    assert [child["dateNaissance"] for child in body["enfants"]] == [
        "2015-03-15",
        "2018-09-03",
        "2022-06-20",
    ]
    assert body["allocataires"][0]["codeCommuneNaissance"] == "13012"


def test_eaje_without_fee_facts_is_a_404_and_a_bad_body_a_400():
    no_fee = send("dss", "POST", "/prestations/v1/eaje", json={"individu": SANTUCCI})
    assert no_fee.status_code == 404 and no_fee.json()["erreur"]["code"] == "NON_TROUVE"
    bad = send("dss", "POST", "/prestations/v1/eaje", json={"individu": {"nomNaissance": "X"}})
    assert bad.status_code == 400 and bad.json()["erreur"]["champ"] == "prenoms"


def test_cnous_knows_struck_off_students_and_says_since_when():
    struck_off = send("cnous", "GET", "/api/v1/students/scholarship", params={"ine": "9211123456F"})
    (file,) = struck_off.json()
    assert (file["removed"], file["removalDate"], file["grantEchelon"]) == (True, "2026-02-01", "1")
    holder = send("cnous", "GET", "/api/v1/students/scholarship", params={"ine": "2406012345K"})
    assert (holder.json()[0]["removed"], holder.json()[0]["removalDate"]) == (False, None)
