"""Every scenario citizen triggers its scenario at every provider, in identity modes and through
its identifiers, over real HTTP; and a whole simulator can be put in a maintenance window."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from broker.catalogue.products import PRODUCTS
from broker.demo import scenarios
from broker.demo.scenarios import SCENARIO_CITIZENS, SCENARIOS, SPORTS_IDENTIFIANTS
from broker.demo.simulators import SimulatorOptions, create_app_for
from broker.providers.base import (
    Maintenance,
    ProductCall,
    ProviderConfig,
    Timeout,
)
from broker.providers.registry import ADAPTER_CLASSES
from tests.broker.providers.conftest import (
    READ_TIMEOUT,
    RETRY_IN,
    SCENARIO_OUTCOMES,
    SLOW_SECONDS,
    pivot_of,
    with_adapters,
)
from tests.servers import bound_socket, serve_app

EXPECTED = SCENARIO_OUTCOMES
MEN_PARAMS = {"codeEtablissement": "0440021J", "anneeScolaire": "2026"}
# Any well-formed product parameters: a scenario citizen's scenario plays whatever is asked.
PARAMS = {
    "men/scolarites": MEN_PARAMS,
    "v4/men/scolarites": {"anneeScolaire": "2026", "codesBcnRegions[]": "52"},
    "ants/extrait_immatriculation_vehicule": {"immatriculation": "AB-123-CD"},
}


def identifiant_of(login: str, provider: str) -> str:
    """The scenario's identifiant at this provider: the Ministry of Sports numbers its own."""
    return SPORTS_IDENTIFIANTS[login] if provider == "sdh" else SCENARIOS[login].identifiant


def calls_for(login: str) -> list[ProductCall]:
    """Every product in every mode, for this scenario citizen."""
    scenario, calls = SCENARIOS[login], []
    for product in PRODUCTS:
        params = PARAMS.get(product.key, {})
        for mode in product.modes:
            if mode == "ine":
                calls.append(ProductCall(product.key, mode, identifier=scenario.ine))
            elif mode == "identifiant":
                identifier = identifiant_of(login, product.provider)
                calls.append(ProductCall(product.key, mode, identifier=identifier))
            else:
                calls.append(ProductCall(product.key, mode, pivot=pivot_of(login), params=params))
    return calls


def test_every_scenario_kind_has_a_citizen():
    assert {SCENARIOS[c.login].kind for c in SCENARIO_CITIZENS} == set(scenarios.KINDS)
    assert set(EXPECTED) == set(scenarios.KINDS)


@pytest.mark.parametrize("login", [c.login for c in SCENARIO_CITIZENS])
def test_scenario_at_every_provider_and_mode(simulators_url, login):
    from broker.catalogue.products import product

    calls = calls_for(login)

    async def steps(adapters):
        started = time.monotonic()
        outcomes = await asyncio.gather(
            *(adapters[product(c.product).provider].fetch(c) for c in calls)
        )
        return outcomes, time.monotonic() - started

    outcomes, elapsed = with_adapters(simulators_url, steps)
    expected = EXPECTED[SCENARIOS[login].kind]
    wrong = [
        (c.product, c.mode, o)
        for c, o in zip(calls, outcomes, strict=True)
        if not isinstance(o, expected)
    ]
    assert not wrong, wrong
    assert {product(c.product).provider for c in calls} == set(ADAPTER_CLASSES)
    if expected is Maintenance:
        assert {o.retry_in for o in outcomes} == {RETRY_IN}
    if expected is Timeout:  # the adapter gave up at its read timeout, not the provider's pace
        assert elapsed < SLOW_SECONDS - 0.2, elapsed
        assert elapsed >= READ_TIMEOUT


def test_malformed_and_wrong_shape_say_what_is_wrong_without_values(simulators_url):
    async def steps(adapters):
        return [
            await adapters["cnaf"].fetch(
                ProductCall("dss/quotient_familial", "identite", pivot=pivot_of(login))
            )
            for login in ("scenario_reponse_invalide", "scenario_forme_inattendue")
        ]

    malformed, wrong_shape = with_adapters(simulators_url, steps)
    assert "not valid JSON" in malformed.detail
    assert "$.quotientFamilial: missing" in wrong_shape.detail
    assert "DIFFORME" not in wrong_shape.detail and "Hugo" not in wrong_shape.detail


@pytest.fixture(scope="module")
def maintenance_window():
    """One simulator (CNAF) alone, in a maintenance window."""
    sock = bound_socket()
    options = SimulatorOptions(maintenance=True, maintenance_retry_in=900)
    with serve_app(create_app_for("cnaf", options), sock):
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_maintenance_window_answers_503_everywhere(maintenance_window):
    async def go():
        async with httpx.AsyncClient() as client:
            adapter = ADAPTER_CLASSES["cnaf"](ProviderConfig(base_url=maintenance_window), client)
            found = await adapter.fetch(
                ProductCall("dss/quotient_familial", "france_connect", pivot=pivot_of("test"))
            )
            return found, await adapter.ping(), adapter.http.breaker.state

    found, ping, breaker = asyncio.run(go())
    assert found == ping == Maintenance(900, "cnaf: maintenance")
    assert breaker == "closed"  # a maintenance window is not an outage


def test_maintenance_window_raw_answer_has_retry_after(maintenance_window):
    response = httpx.get(f"{maintenance_window}/qf/v1/sante")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "900"
    assert response.json()["erreur"]["code"] == "MAINTENANCE"
