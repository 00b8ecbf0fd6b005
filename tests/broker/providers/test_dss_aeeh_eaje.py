"""The AEEH and the EAJE family contribution (``dss``), adapters against the simulators over
real HTTP: found, known without the benefit, not found, scenarios, and the adapter's own rules
(the AEEH beneficiary quality, the EAJE's child under 7)."""

from __future__ import annotations

from datetime import date

import pytest

from broker.catalogue.products import product
from broker.catalogue.scopes import fields_for
from broker.providers.adapters.dss import aeeh_to_v3
from broker.providers.adapters.dss_eaje import with_young_child
from broker.providers.base import (
    Found,
    Maintenance,
    NotFound,
    ProductCall,
    Timeout,
    UnexpectedPayload,
)
from tests.broker.providers.conftest import pivot_of, with_adapters

AEEH = "dss/allocation_enfant_handicape"
EAJE = "dss/participation_familiale_eaje"


def fetch_all(simulators_url, calls: list[ProductCall]) -> list:
    async def steps(adapters):
        return [await adapters["dss"].fetch(call) for call in calls]

    return with_adapters(simulators_url, steps)


def about(key: str, login: str, mode: str = "identite", **changes) -> ProductCall:
    return ProductCall(key, mode, pivot=pivot_of(login, **changes), request_id="t-16")


def test_aeeh_parent_paid_known_without_it_and_unknown(simulators_url):
    paid_fc, paid, without, unknown = fetch_all(
        simulators_url,
        [
            about(AEEH, "nom_composé", "france_connect"),
            about(AEEH, "nom_composé", given_names=("Melissandre",)),
            about(AEEH, "beneficiaire_rsa"),
            about(AEEH, "nom_prénom_long"),
        ],
    )
    assert paid_fc == paid == Found({"status": "allocataire", "date_debut_droit": "2021-03-01"})
    assert without == Found({"status": "non_beneficiaire", "date_debut_droit": None})
    assert isinstance(unknown, NotFound)


@pytest.mark.parametrize(("quality", "status"), [("105", "allocataire"), ("205", "ouvrant_droit")])
def test_aeeh_beneficiary_quality_becomes_the_v3_status(quality, status):
    body = {"droitOuvert": True, "dateOuvertureDroit": "2024-01-01", "qualiteBeneficiaire": quality}
    assert aeeh_to_v3(body) == {"status": status, "date_debut_droit": "2024-01-01"}


def test_attack_an_open_aeeh_right_without_quality_is_not_guessed():
    body = {"droitOuvert": True, "dateOuvertureDroit": None, "qualiteBeneficiaire": None}
    with pytest.raises(ValueError):
        aeeh_to_v3(body)


def test_eaje_answers_the_family_file_in_the_v3_shape(simulators_url):
    found_fc, found_id = fetch_all(
        simulators_url,
        [about(EAJE, "nom_composé", "france_connect"), about(EAJE, "nom_composé")],
    )
    assert isinstance(found_fc, Found) and found_fc == found_id
    data = found_fc.data
    assert data["parametres_calcul_participation_familiale"] == {
        "nombre_enfants_a_charge": 3,
        "nombre_enfants_beneficiaire_aeeh": 1,
        "base_ressources_annuelles": {"valeur": 26400, "annee_calcul": 2024},
    }
    assert [c["prenoms"] for c in data["enfants"]] == ["Lou", "Zoé Marie", "Henry"]
    assert data["allocataires"][0] == {
        "nom_naissance": "TROIS-DUPRE",
        "nom_usage": None,
        "prenoms": "Melissandre Juliette",
        "date_naissance": "1981-07-27",
        "sexe": "F",
        "code_cog_insee_commune_naissance": "13012",
    }
    assert data["adresse"]["code_postal_ville"] == "13002 MARSEILLE"
    spec = product(EAJE)
    assert spec is not None
    fields = {f for scope in spec.scopes() for f in fields_for(scope, spec.path)}
    assert {f.split(".")[0].removesuffix("[]") for f in fields} == set(data)


def test_eaje_without_a_fee_file_or_anyone_is_not_found(simulators_url):
    family_without_fee, nobody = fetch_all(
        simulators_url, [about(EAJE, "test"), about(EAJE, "nom_prénom_long")]
    )
    assert isinstance(family_without_fee, NotFound)
    assert isinstance(nobody, NotFound)


def test_eaje_family_file_without_a_child_under_7_is_not_found():
    data = {"enfants": [{"date_naissance": "2019-06-20"}, {"date_naissance": "2022-06-20"}]}
    assert with_young_child(Found(data), date(2029, 6, 19)) == Found(data)
    outcome = with_young_child(Found(data), date(2029, 6, 20))  # Henry turns 7 that day
    assert isinstance(outcome, NotFound) and "under 7" in outcome.detail
    assert isinstance(with_young_child(Found({"enfants": []}), date(2026, 1, 1)), NotFound)
    timeout = Timeout("dss: slow")
    assert with_young_child(timeout, date(2026, 1, 1)) is timeout


@pytest.mark.parametrize(
    ("login", "expected"),
    [
        ("scenario_inconnu", NotFound),
        ("scenario_forme_inattendue", UnexpectedPayload),
        ("scenario_reponse_invalide", UnexpectedPayload),
        ("scenario_maintenance", Maintenance),
    ],
)
def test_scenarios_reach_both_products(simulators_url, login, expected):
    outcomes = fetch_all(simulators_url, [about(AEEH, login), about(EAJE, login, "france_connect")])
    assert all(isinstance(o, expected) for o in outcomes), outcomes
