"""Unknown people are "not found" (never a made-up success), invalid inputs name the API
Particulier parameter at fault, and calls an adapter cannot serve are refused without I/O."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from broker.catalogue.products import PRODUCTS
from broker.providers.adapters import CnafAdapter
from broker.providers.base import InvalidInput, NotFound, ProductCall, ProviderConfig
from tests.broker.providers.conftest import pivot_of, with_adapters

MEN_PARAMS = {"codeEtablissement": "0440021J", "anneeScolaire": "2026"}


# Well-formed product parameters that find nothing for a citizen without facts.
FIRST_CALL_PARAMS = {
    "men/scolarites": MEN_PARAMS,
    "v4/men/scolarites": {"anneeScolaire": "2026", "codesBcnDepartements[]": "044"},
    "ants/extrait_immatriculation_vehicule": {"immatriculation": "GA-427-KD"},  # test's car
}
# Identifiants of nobody, in each provider's own format.
UNKNOWN_IDENTIFIANTS = {"france_travail": "1234567Z", "sdh": "1234567"}


def first_call(product, who="nom_prénom_long", **changes) -> ProductCall:
    mode = product.modes[0]
    params = FIRST_CALL_PARAMS.get(product.key, {})
    if mode == "ine":
        return ProductCall(product.key, mode, identifier="1234567890Z", params=params)
    if mode == "identifiant":
        identifier = UNKNOWN_IDENTIFIANTS[product.provider]
        return ProductCall(product.key, mode, identifier=identifier, params=params)
    return ProductCall(product.key, mode, pivot=pivot_of(who, **changes), params=params)


@pytest.mark.parametrize("product", PRODUCTS, ids=[p.key for p in PRODUCTS])
def test_a_citizen_without_facts_is_not_found_everywhere(simulators_url, product):
    async def steps(adapters):
        return await adapters[product.provider].fetch(first_call(product))

    outcome = with_adapters(simulators_url, steps)
    assert isinstance(outcome, NotFound), outcome
    assert product.provider in outcome.detail


@pytest.mark.parametrize(
    ("product_key", "pivot_changes", "params"),
    [
        ("dss/quotient_familial", {"given_names": ("Angela", "Louise")}, {}),  # not in order
        ("dss/quotient_familial", {"birthdate": "1962-08-25"}, {}),
        ("dss/quotient_familial", {"gender": "M"}, {}),
        ("dss/quotient_familial", {"birthplace": "75108"}, {}),
        ("dss/quotient_familial", {"family_name": "DUBOIS-MARTIN"}, {}),
        ("dss/quotient_familial", {}, {"annee": "2026", "mois": "11"}),  # not computed yet
        ("dgfip/situation_fiscale", {}, {"annee": "2024"}),  # another income year
    ],
)
def test_near_misses_are_not_found(simulators_url, product_key, pivot_changes, params):
    provider = "cnaf" if product_key.startswith("dss") else "dgfip"
    mode = "identite" if provider == "cnaf" else "france_connect"

    async def steps(adapters):
        return await adapters[provider].fetch(
            ProductCall(product_key, mode, pivot=pivot_of("test", **pivot_changes), params=params)
        )

    assert isinstance(with_adapters(simulators_url, steps), NotFound)


def test_a_pupil_is_not_found_in_another_school_or_year(simulators_url):
    async def steps(adapters):
        men = adapters["men"]
        pivot = pivot_of("moins_18_ans")
        return [
            await men.fetch(ProductCall("men/scolarites", "identite", pivot=pivot, params=params))
            for params in (
                {"codeEtablissement": "0440022K", "anneeScolaire": "2026"},
                {"codeEtablissement": "0440021J", "anneeScolaire": "2025"},
            )
        ]

    assert all(isinstance(o, NotFound) for o in with_adapters(simulators_url, steps))


@pytest.mark.parametrize(
    ("provider", "call", "parameter"),
    [
        (
            "cnaf",
            ProductCall(
                "dss/quotient_familial",
                "identite",
                pivot=pivot_of("test", birthplace=""),
                params={},
            ),
            "codeCogInseeCommuneNaissance",
        ),
        (
            "cnaf",
            ProductCall(
                "dss/quotient_familial",
                "identite",
                pivot=pivot_of("test"),
                params={"annee": "2026", "mois": "13"},
            ),
            "mois",
        ),
        (
            "cnaf",
            ProductCall(
                "dss/quotient_familial", "identite", pivot=pivot_of("test"), params={"mois": "4"}
            ),
            "annee",
        ),
        (
            "cnaf",
            ProductCall("dss/quotient_familial", "identite", pivot=pivot_of("test", gender="X")),
            "sexeEtatCivil",
        ),
        (
            "dss",
            ProductCall(
                "dss/revenu_solidarite_active",
                "identite",
                pivot=pivot_of("beneficiaire_rsa", birthcountry="France"),
            ),
            "codeCogInseePaysNaissance",
        ),
        (
            "dss",
            ProductCall(
                "dss/prime_activite", "identite", pivot=pivot_of("beneficiaire_rsa", given_names=())
            ),
            "prenoms",
        ),
        (
            "men",
            ProductCall(
                "men/scolarites",
                "identite",
                pivot=pivot_of("moins_18_ans"),
                params={"codeEtablissement": "044002", "anneeScolaire": "2026"},
            ),
            "codeEtablissement",
        ),
        (
            "men",
            ProductCall(
                "men/scolarites",
                "identite",
                pivot=pivot_of("moins_18_ans"),
                params={"codeEtablissement": "0440021J", "anneeScolaire": "2026-2028"},
            ),
            "anneeScolaire",
        ),
        ("cnous", ProductCall("cnous/etudiant_boursier", "ine", identifier="12-34"), "ine"),
        ("mesri", ProductCall("mesri/statut_etudiant", "ine", identifier="ABC"), "ine"),
        (
            "france_travail",
            ProductCall("france_travail/statut", "identifiant", identifier="jean.dupont"),
            "identifiant",
        ),
        (
            "dgfip",
            ProductCall(
                "dgfip/situation_fiscale",
                "france_connect",
                pivot=pivot_of("test"),
                params={"annee": "vingt"},
            ),
            "annee",
        ),
    ],
)
def test_invalid_input_names_the_api_parameter(simulators_url, provider, call, parameter):
    async def steps(adapters):
        return await adapters[provider].fetch(call)

    outcome = with_adapters(simulators_url, steps)
    assert isinstance(outcome, InvalidInput), outcome
    assert outcome.parameter == parameter


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (
            ProductCall(
                "men/scolarites",
                "identite",
                pivot=pivot_of("moins_18_ans"),
                params={"anneeScolaire": "2026"},
            ),
            "codeEtablissement",
        ),
        (
            ProductCall(
                "men/scolarites",
                "identite",
                pivot=pivot_of("moins_18_ans", birthdate="2010-11-00"),
                params=MEN_PARAMS,
            ),
            "jourDateNaissance",
        ),
        (
            ProductCall(
                "cnous/etudiant_boursier",
                "identite",
                pivot=pivot_of("etudiant_boursier", birthdate="2006-00-00"),
            ),
            "moisDateNaissance",
        ),
        (ProductCall("mesri/statut_etudiant", "ine", identifier="  "), "ine"),
        (ProductCall("france_travail/statut", "identifiant"), "identifiant"),
        (ProductCall("dss/quotient_familial", "identite"), "nomNaissance"),
        (
            ProductCall(
                "dss/quotient_familial", "identite", pivot=pivot_of("test", birthdate="24/08/1962")
            ),
            "anneeDateNaissance",
        ),
        (
            ProductCall(
                "dss/quotient_familial", "identite", pivot=pivot_of("test", birthdate="1962-00-24")
            ),
            "anneeDateNaissance",
        ),
        (ProductCall("dss/quotient_familial", "ine", identifier="2406012345K"), None),  # bad mode
        (ProductCall("dgfip/situation_fiscale", "identite", pivot=pivot_of("test")), None),
        (ProductCall("nope/nothing", "identite", pivot=pivot_of("test")), None),
    ],
)
def test_calls_refused_before_any_request(call, parameter):
    """The base URL is a closed port: any I/O would end in Unavailable, not InvalidInput."""
    from broker.catalogue.products import product
    from broker.providers.registry import ADAPTER_CLASSES

    provider = product(call.product).provider if product(call.product) else "cnaf"

    async def go():
        async with httpx.AsyncClient() as client:
            adapter = ADAPTER_CLASSES[provider](
                ProviderConfig(base_url="http://127.0.0.1:9"), client
            )
            return await adapter.fetch(call)

    outcome = asyncio.run(go())
    assert isinstance(outcome, InvalidInput), outcome
    assert outcome.parameter == parameter


def test_a_product_of_another_provider_is_refused(simulators_url):
    async def steps(adapters):
        return await adapters["cnaf"].fetch(
            ProductCall(
                "dss/revenu_solidarite_active", "identite", pivot=pivot_of("beneficiaire_rsa")
            )
        )

    assert isinstance(with_adapters(simulators_url, steps), InvalidInput)


def test_robustness_misconfigured_base_url_is_not_mistaken_for_not_found(simulators_url):
    """A 404 from a wrong URL has no provider error envelope: it is a configuration problem,
    never "this person is unknown"."""

    async def go():
        async with httpx.AsyncClient() as client:
            adapter = CnafAdapter(ProviderConfig(base_url=f"{simulators_url}/dss"), client)
            return await adapter.fetch(
                ProductCall("dss/quotient_familial", "identite", pivot=pivot_of("test"))
            )

    outcome = asyncio.run(go())
    assert type(outcome).__name__ == "UnexpectedPayload", outcome


def test_presumed_birth_date_in_france_connect_mode_is_not_found_without_io():
    """FranceConnect sends 1992-11-00 for a presumed date: nothing the caller could fix."""

    async def go():
        async with httpx.AsyncClient() as client:
            from broker.providers.adapters import CnousAdapter

            adapter = CnousAdapter(ProviderConfig(base_url="http://127.0.0.1:9"), client)
            return await adapter.fetch(
                ProductCall(
                    "cnous/etudiant_boursier",
                    "france_connect",
                    pivot=pivot_of("étranger_présumé_né_jour"),
                )
            )

    assert asyncio.run(go()) == NotFound("cnous: cannot match a presumed birth date")
