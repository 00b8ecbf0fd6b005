"""The Ministry of Sports adapter against its simulator over real HTTP: an athlete's status in
the exact v3 shape (entry in force, past entries, high-level or not), unknown numbers "not
found", every scenario's typed outcome, fields released by scope only, and identifiants that
could leave their URL segment refused before any call."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from broker.catalogue.products import product
from broker.demo.scenarios import SCENARIO_CITIZENS, SCENARIOS, SPORTS_IDENTIFIANTS
from broker.providers.adapters.sdh import SdhAdapter
from broker.providers.base import (
    Found,
    InvalidInput,
    NotFound,
    ProductCall,
    ProviderConfig,
    UnexpectedPayload,
)
from broker.resources.masking import allowed_tree, mask
from tests.broker.providers.conftest import with_adapters
from tests.broker.providers.scripted import Answer
from tests.broker.providers.test_products_found import leaves, present, registry_fields
from tests.broker.providers.test_scenarios import EXPECTED

KEY = "sdh/statut_sportif"
PATH = product(KEY).path


def status_call(identifiant: str) -> ProductCall:
    return ProductCall(KEY, "identifiant", identifier=identifiant, request_id="t-sdh")


def fetch(simulators_url: str, *identifiants: str) -> list:
    async def steps(adapters):
        return [await adapters["sdh"].fetch(status_call(i)) for i in identifiants]

    return with_adapters(simulators_url, steps)


def test_current_high_level_athlete_with_exactly_the_registry_fields(simulators_url):
    (outcome,) = fetch(simulators_url, "120034567")
    assert isinstance(outcome, Found), outcome
    data = outcome.data
    expected = registry_fields(KEY, "identifiant")
    assert not [f for f in expected if not present(data, f)]
    assert not [
        leaf
        for leaf in leaves(data)
        if not any(leaf == f or f.startswith(leaf + ".") for f in expected)
    ]
    assert data["identite"] == {
        "nom_naissance": "LAMBERT",
        "nom_usage": None,
        "prenoms": "Inès Clara",
        "date_naissance": "2006-04-12",
        "sexe": "F",
    }
    assert data["est_sportif_de_haut_niveau"] is True
    assert data["a_ete_sportif_de_haut_niveau"] is False  # only an "espoir" before
    status = data["informations_statut"]
    assert status["periode"] == {"date_debut_statut": "2026-11-01", "date_fin_statut": "2027-10-31"}
    assert status["categorie"]["nom_categorie"] == "Relève"
    assert status["federation"]["nom_court_federation"] == "JUDO"
    assert status["sportif_de_haut_niveau"] is True
    (past,) = data["informations_statuts_precedents"]
    assert past["fiche"] == 845120 and past["sportif_de_haut_niveau"] is False


def test_former_athlete_and_ministerial_list_only(simulators_url):
    former, squad = fetch(simulators_url, "119870032", "121150089")
    assert former.data["identite"]["nom_usage"] == "DUBOIS"
    assert former.data["est_sportif_de_haut_niveau"] is False
    assert former.data["a_ete_sportif_de_haut_niveau"] is True
    assert former.data["informations_statut"] is None
    assert [p["fiche"] for p in former.data["informations_statuts_precedents"]] == [101877, 119004]
    assert squad.data["est_sportif_de_haut_niveau"] is False
    assert squad.data["a_ete_sportif_de_haut_niveau"] is False
    assert squad.data["informations_statut"]["categorie"]["nom_categorie"] == "Collectif national"
    assert squad.data["informations_statuts_precedents"] == []


def test_unknown_numbers_are_not_found(simulators_url):
    for outcome in fetch(simulators_url, "5555", "120034568", "000120034567"):
        assert isinstance(outcome, NotFound), outcome
        assert "sdh" in outcome.detail


@pytest.mark.parametrize("login", [c.login for c in SCENARIO_CITIZENS])
def test_every_scenario_identifiant_gets_its_typed_outcome(simulators_url, login):
    (outcome,) = fetch(simulators_url, SPORTS_IDENTIFIANTS[login])
    assert isinstance(outcome, EXPECTED[SCENARIOS[login].kind]), outcome


def test_every_scenario_has_a_sports_identifiant_of_the_product_s_format():
    import re

    assert set(SPORTS_IDENTIFIANTS) == set(SCENARIOS)
    pattern = product(KEY).identifier_pattern
    assert all(re.fullmatch(pattern, number) for number in SPORTS_IDENTIFIANTS.values())


@pytest.mark.parametrize("scope", product(KEY).scopes(), ids=lambda s: s.name)
def test_each_scope_releases_exactly_its_fields(simulators_url, scope):
    (outcome,) = fetch(simulators_url, "120034567")
    masked = mask(outcome.data, allowed_tree([scope.name], PATH))
    assert set(leaves(masked)) == set(scope.fields)


@pytest.mark.parametrize(
    "identifiant", ["12/../../cnaf/qf/v1/sante", "..%2F..%2Fx", "1234?x=1", "12 34", "4127395M"]
)
def test_attack_identifiant_cannot_leave_its_path_segment(scripted, identifiant):
    provider, url = scripted
    provider.reset()

    async def go():
        async with httpx.AsyncClient() as client:
            return await SdhAdapter(ProviderConfig(base_url=url), client).fetch(
                status_call(identifiant)
            )

    outcome = asyncio.run(go())
    assert isinstance(outcome, InvalidInput) and outcome.parameter == "identifiant", outcome
    assert provider.count == 0


@pytest.mark.parametrize(
    "body",
    [
        b'{"identifiant": "1", "etatCivil": {}, "fiches": []}',
        # two entries in force at once: the status would be a guess
        b'{"identifiant": "1", "etatCivil": {"nomNaissance": "A", "nomUsage": null, '
        b'"prenoms": "B", "dateNaissance": "2000-01-01", "sexe": "F"}, "fiches": ['
        + b",".join(
            [
                b'{"numero": 1, "enCours": true, "hautNiveau": true, "debut": "2026-01-01", '
                b'"fin": "2026-12-31", "federation": {"code": "1", "nom": "F", "nomCourt": "F"}, '
                b'"structure": {"code": "1", "nom": "S"}, "region": {"code": "1", "nom": "R"}, '
                b'"categorie": {"code": "1", "libelle": "Elite", "valeur": "1"}}'
            ]
            * 2
        )
        + b"]}",
    ],
)
def test_undocumented_answers_are_an_unexpected_payload(scripted, body):
    provider, url = scripted
    provider.reset(default=Answer(200, body))

    async def go():
        async with httpx.AsyncClient() as client:
            return await SdhAdapter(ProviderConfig(base_url=url), client).fetch(
                status_call("120034567")
            )

    outcome = asyncio.run(go())
    assert isinstance(outcome, UnexpectedPayload), outcome
    assert provider.received[0].path == "/psqs/v1/sportifs/120034567"
