"""The ANTS adapter against its simulator over real HTTP: the registration extract of a vehicle
attached to the signed-in person, in the exact v3 shape; unknown numbers and other people's
vehicles are "not found"; every scenario citizen gets its typed outcome; fields are released by
scope only; a malformed registration number is refused before any call."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from broker.catalogue.products import product
from broker.demo import scenarios
from broker.demo.scenarios import SCENARIO_CITIZENS, SCENARIOS
from broker.providers.adapters.ants import AntsAdapter, register_number
from broker.providers.base import (
    Found,
    InvalidInput,
    NotFound,
    ProductCall,
    ProviderConfig,
    UnexpectedPayload,
)
from broker.resources.masking import allowed_tree, mask
from tests.broker.providers.conftest import pivot_of, with_adapters
from tests.broker.providers.scripted import Answer
from tests.broker.providers.test_products_found import leaves, present, registry_fields
from tests.broker.providers.test_scenarios import EXPECTED

KEY = "ants/extrait_immatriculation_vehicule"
PATH = product(KEY).path


def extract_call(login: str, plate: str, **pivot_changes) -> ProductCall:
    return ProductCall(
        KEY,
        "france_connect",
        pivot=pivot_of(login, **pivot_changes),
        params={"immatriculation": plate},
        request_id="t-ants",
    )


def fetch(simulators_url: str, *calls: ProductCall) -> list:
    async def steps(adapters):
        return [await adapters["ants"].fetch(call) for call in calls]

    return with_adapters(simulators_url, steps)


def test_lessee_gets_the_extract_with_exactly_the_registry_fields(simulators_url):
    (outcome,) = fetch(simulators_url, extract_call("nom_composé", "FR-285-LM"))
    assert isinstance(outcome, Found), outcome
    data = outcome.data
    expected = registry_fields(KEY, "france_connect")
    assert not [f for f in expected if not present(data, f)]
    assert not [
        leaf
        for leaf in leaves(data)
        if not any(leaf == f or f.startswith(leaf + ".") for f in expected)
    ]
    assert data["identite_particulier"] == {
        "nom": "TROIS-DUPRE",
        "prenom": "MELISSANDRE",
        "sexe_etat_civil": "F",
        "annee_date_naissance": 1981,
        "mois_date_naissance": 7,
        "jour_date_naissance": 27,
        "code_departement_naissance": "13",
    }
    assert data["statut_rattachement"] == "locataire"
    assert data["donnees_immatriculation_vehicule"] == {
        "numero_immatriculation": "FR-285-LM",
        "date_premiere_immatriculation": "2024-01-23",
        "statut_location": {"code": "LLD", "label": "Location Longue Durée"},
    }
    vehicle = data["caracteristiques_techniques_vehicule"]
    assert (vehicle["marque"], vehicle["cylindree"], vehicle["taux_co2"]) == ("TOYOTA", 1798, 92)
    assert vehicle["type_carburant"] == {"code": "HE", "label": "Hybride électrique"}
    assert data["adresse_particulier"]["code_postal_ville"] == "13002"
    assert data["adresse_particulier"]["libelle_commune"] == "MARSEILLE"


def test_holders_co_holders_and_the_register_s_own_writing(simulators_url):
    holder, co_holder, abroad, presumed, motorbike = fetch(
        simulators_url,
        extract_call("test", "ga427kd"),  # any case, no separators
        extract_call("nom_composé", "BX 902 RT"),
        extract_call("naissance_Maroc", "DK-551-ZC"),
        extract_call("étranger_présumé_né_jour", "HN-064-VA"),
        extract_call("beneficiaire_rsa", "EH-318-PB"),
    )
    assert holder.data["statut_rattachement"] == "titulaire"
    assert holder.data["identite_particulier"]["prenom"] == "ANGELA"  # first given name only
    assert holder.data["donnees_immatriculation_vehicule"]["statut_location"] == {
        "code": None,
        "label": None,
    }
    assert co_holder.data["statut_rattachement"] == "cotitulaire"
    assert co_holder.data["donnees_immatriculation_vehicule"]["numero_immatriculation"] == (
        "BX-902-RT"
    )
    assert abroad.data["identite_particulier"]["code_departement_naissance"] == "99"
    identity = presumed.data["identite_particulier"]
    assert (identity["mois_date_naissance"], identity["jour_date_naissance"]) == (11, None)
    assert motorbike.data["identite_particulier"]["code_departement_naissance"] == "2B"
    assert motorbike.data["caracteristiques_techniques_vehicule"]["categorie_vehicule"]["code"] == (
        "L3e"
    )


@pytest.mark.parametrize(
    ("login", "plate", "changes"),
    [
        ("test", "AB-123-CD", {}),  # nobody's vehicle
        ("test", "FR-285-LM", {}),  # somebody else's vehicle
        ("nom_prénom_long", "GA-427-KD", {}),  # a person without vehicles
        ("test", "GA-427-KD", {"birthdate": "1962-08-25"}),  # not the holder's identity
        ("test", "GA-427-KD", {"family_name": "DUPONT"}),
    ],
)
def test_unknown_numbers_and_other_people_s_vehicles_are_not_found(
    simulators_url, login, plate, changes
):
    (outcome,) = fetch(simulators_url, extract_call(login, plate, **changes))
    assert isinstance(outcome, NotFound), outcome
    assert "ants" in outcome.detail


@pytest.mark.parametrize("login", [c.login for c in SCENARIO_CITIZENS])
def test_every_scenario_citizen_gets_its_typed_outcome(simulators_url, login):
    (outcome,) = fetch(simulators_url, extract_call(login, "AB-123-CD"))
    assert isinstance(outcome, EXPECTED[SCENARIOS[login].kind]), outcome
    if SCENARIOS[login].kind == scenarios.MAINTENANCE:
        assert outcome.retry_in > 0


@pytest.mark.parametrize("scope", product(KEY).scopes(), ids=lambda s: s.name)
def test_each_scope_releases_exactly_its_fields(simulators_url, scope):
    (outcome,) = fetch(simulators_url, extract_call("nom_composé", "FR-285-LM"))
    masked = mask(outcome.data, allowed_tree([scope.name], PATH))
    assert set(leaves(masked)) == set(scope.fields)


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (extract_call("test", "GA-427-K"), "immatriculation"),
        (extract_call("test", "GA-000-KD"), "immatriculation"),
        (extract_call("test", "IO-123-KD"), "immatriculation"),  # no I, O or U in SIV numbers
        (ProductCall(KEY, "france_connect", pivot=pivot_of("test")), "immatriculation"),
        (
            ProductCall(KEY, "identite", pivot=pivot_of("test"), params={"immatriculation": "x"}),
            None,
        ),
    ],
)
def test_attack_malformed_calls_are_refused_without_a_request(scripted, call, parameter):
    """Nothing leaves for a call the register cannot answer: the scripted provider counts."""
    provider, url = scripted
    provider.reset()

    async def go():
        async with httpx.AsyncClient() as client:
            return await AntsAdapter(ProviderConfig(base_url=url), client).fetch(call)

    outcome = asyncio.run(go())
    assert isinstance(outcome, InvalidInput), outcome
    assert outcome.parameter == parameter
    assert provider.count == 0


def test_register_numbers_are_normalised_to_the_siv_writing():
    assert register_number(" fr285lm ") == "FR-285-LM"
    assert register_number("FR 285-LM") == "FR-285-LM"
    assert register_number("FR--285-LM") is None
    assert register_number("1234 AB 75") is None  # pre-2009 numbers are not in the SIV search


def test_unexpected_values_in_a_200_are_an_unexpected_payload(scripted):
    """An attachment outside the documented ones must not reach the caller as is."""
    provider, url = scripted
    provider.reset(default=Answer(200, b'{"rattachement": "PROPRIETAIRE"}'))

    async def go():
        async with httpx.AsyncClient() as client:
            adapter = AntsAdapter(ProviderConfig(base_url=url), client)
            return await adapter.fetch(extract_call("test", "GA-427-KD"))

    outcome = asyncio.run(go())
    assert isinstance(outcome, UnexpectedPayload), outcome
    assert "rattachement" in outcome.detail and "PROPRIETAIRE" not in outcome.detail
