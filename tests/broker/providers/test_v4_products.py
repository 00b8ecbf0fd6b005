"""The v4 products served beside v3 (``v4/cnous/etudiant_boursier``, ``v4/men/scolarites``),
adapters against the simulators over real HTTP: each version answers its own shape, with
exactly its own registry fields, and v3 stays as it was."""

from __future__ import annotations

import pytest

from broker.catalogue.products import product
from broker.catalogue.scopes import fields_for
from broker.providers.base import Found, InvalidInput, NotFound, ProductCall, Unavailable
from tests.broker.providers.conftest import pivot_of, with_adapters
from tests.broker.providers.test_products_found import leaves, present

CNOUS_V3, CNOUS_V4 = "cnous/etudiant_boursier", "v4/cnous/etudiant_boursier"
MEN_V3, MEN_V4 = "men/scolarites", "v4/men/scolarites"
STRUCK_OFF_INE = "9211123456F"  # étranger_présumé_né_jour
YEAR = {"anneeScolaire": "2026-2027"}


def fetch_all(simulators_url, calls: list[ProductCall]) -> list:
    async def steps(adapters):
        return [await adapters[product(c.product).provider].fetch(c) for c in calls]

    return with_adapters(simulators_url, steps)


def by_ine(key: str, ine: str) -> ProductCall:
    return ProductCall(key, "ine", identifier=ine, request_id="t-16")


def pupil(key: str, params: dict, login: str = "moins_18_ans") -> ProductCall:
    return ProductCall(key, "identite", pivot=pivot_of(login), params=params, request_id="t-16")


def assert_exactly_registry_fields(key: str, mode: str, data: dict) -> None:
    spec = product(key)
    assert spec is not None
    fields = {f for scope in spec.scopes() for f in fields_for(scope, spec.path)}
    if mode == "france_connect":
        fields = {f for f in fields if not f.startswith("identite.")}
    assert all(present(data, f) for f in fields), sorted(f for f in fields if not present(data, f))
    unlisted = [
        leaf
        for leaf in leaves(data)
        if not any(
            leaf == f or leaf.startswith(f + ".") or f.startswith(leaf + ".") for f in fields
        )
    ]
    assert not unlisted, unlisted


def test_cnous_v4_nests_the_status_with_the_removal(simulators_url):
    v4, v3 = fetch_all(
        simulators_url, [by_ine(CNOUS_V4, STRUCK_OFF_INE), by_ine(CNOUS_V3, STRUCK_OFF_INE)]
    )
    assert isinstance(v4, Found) and isinstance(v3, Found)
    assert v4.data["statut_boursier"] == {
        "est_boursier": False,
        "est_radie": True,
        "date_radiation": "2026-02-01",
    }
    assert "est_boursier" not in v4.data
    assert v3.data["est_boursier"] is False and "statut_boursier" not in v3.data
    assert {k: v for k, v in v4.data.items() if k != "statut_boursier"} == {
        k: v for k, v in v3.data.items() if k != "est_boursier"
    }
    assert_exactly_registry_fields(CNOUS_V4, "ine", v4.data)
    assert_exactly_registry_fields(CNOUS_V3, "ine", v3.data)


@pytest.mark.parametrize("mode", ["france_connect", "identite", "ine"])
def test_cnous_v4_grant_holder_in_every_mode(simulators_url, mode):
    if mode == "ine":
        call = by_ine(CNOUS_V4, "2406012345K")
    else:
        call = ProductCall(CNOUS_V4, mode, pivot=pivot_of("etudiant_boursier"))
    (found,) = fetch_all(simulators_url, [call])
    assert isinstance(found, Found)
    assert found.data["statut_boursier"] == {
        "est_boursier": True,
        "est_radie": False,
        "date_radiation": None,
    }
    assert ("identite" in found.data) is (mode != "france_connect")
    assert_exactly_registry_fields(CNOUS_V4, mode, found.data)


def test_men_v4_finds_the_pupil_in_a_perimeter_or_her_school(simulators_url):
    calls = [
        pupil(MEN_V4, {**YEAR, "codesBcnRegions[]": "52", "degreEtablissement": "2D"}),
        pupil(MEN_V4, {**YEAR, "codesBcnDepartements[]": "075,044"}),
        pupil(MEN_V4, {**YEAR, "codeEtablissement": "0440021J"}),
        pupil(MEN_V3, {**YEAR, "codeEtablissement": "0440021J"}),
    ]
    outcomes = fetch_all(simulators_url, calls)
    assert all(isinstance(o, Found) for o in outcomes), outcomes
    assert all(o == outcomes[-1] for o in outcomes)  # v4 answers v3's shape
    assert outcomes[0].data["etablissement"]["code_uai"] == "0440021J"
    assert_exactly_registry_fields(MEN_V4, "identite", outcomes[0].data)


@pytest.mark.parametrize(
    "where",
    [
        {"codesBcnDepartements[]": "075"},  # another department
        {"codesBcnRegions[]": "11"},  # another academic region
        {"codesBcnRegions[]": "52", "degreEtablissement": "1D"},  # a lycée is second degree
    ],
)
def test_men_v4_outside_the_perimeter_is_not_found(simulators_url, where):
    (outcome,) = fetch_all(simulators_url, [pupil(MEN_V4, {**YEAR, **where})])
    assert isinstance(outcome, NotFound), outcome


@pytest.mark.parametrize(
    ("where", "parameter"),
    [
        ({"codeEtablissement": "0440021J", "codesBcnRegions[]": "52"}, "codeEtablissement"),
        ({"codesBcnRegions[]": "52", "codesBcnDepartements[]": "044"}, "codesBcnRegions[]"),
        ({}, "codeEtablissement"),
    ],
)
def test_attack_men_v4_school_and_perimeter_rules_are_checked_before_any_call(where, parameter):
    """Refused by the adapter itself: an unreachable provider is never asked."""

    async def steps(adapters):
        return await adapters["men"].fetch(pupil(MEN_V4, {**YEAR, **where}))

    outcome = with_adapters("http://127.0.0.1:9", steps)  # nothing listens there
    assert isinstance(outcome, InvalidInput), outcome
    assert outcome.parameter == parameter
    reached = with_adapters(
        "http://127.0.0.1:9",
        lambda adapters: adapters["men"].fetch(pupil(MEN_V4, {**YEAR, "codesBcnRegions[]": "52"})),
    )
    assert isinstance(reached, Unavailable)  # a valid call does try the provider


@pytest.mark.parametrize("login", ["scenario_lent", "scenario_erreur_serveur"])
def test_v4_products_play_the_scenarios(simulators_url, login):
    from broker.demo.scenarios import SCENARIOS

    calls = [
        pupil(MEN_V4, {**YEAR, "codesBcnRegions[]": "52"}, login),
        ProductCall(CNOUS_V4, "identite", pivot=pivot_of(login)),
        by_ine(CNOUS_V4, SCENARIOS[login].ine),
    ]
    outcomes = fetch_all(simulators_url, calls)
    assert not any(isinstance(o, (Found, NotFound)) for o in outcomes), outcomes
