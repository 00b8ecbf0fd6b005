"""The response cache: keyed by the question asked of the provider, sealed at rest."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from litestar.stores.memory import MemoryStore

from broker.core.settings import ConfigurationError
from broker.providers.base import ProductCall, ProviderPivot
from broker.resources.cache import ResponseCache

PIVOT = ProviderPivot(
    family_name="DUBOIS",
    given_names=("Angela",),
    gender="F",
    birthdate="1962-08-24",
    birthcountry="99100",
    birthplace="75107",
)
CALL = ProductCall(
    product="dss/revenu_solidarite_active", mode="identite", pivot=PIVOT, request_id="r1"
)


def cache() -> ResponseCache:
    return ResponseCache(MemoryStore(), b"k" * 32, {"dss/revenu_solidarite_active": 60})


def test_key_is_the_question_not_the_request():
    c = cache()
    assert c.entry_key(CALL) == c.entry_key(dataclasses.replace(CALL, request_id="r2"))
    other_usage_name = dataclasses.replace(
        CALL, pivot=dataclasses.replace(PIVOT, usage_name="MARTIN")
    )
    assert c.entry_key(CALL) != c.entry_key(other_usage_name)
    assert c.entry_key(CALL) != c.entry_key(dataclasses.replace(CALL, mode="france_connect"))
    assert c.entry_key(CALL) != c.entry_key(dataclasses.replace(CALL, params={"annee": "2025"}))
    assert "DUBOIS" not in c.entry_key(CALL)


def test_entries_are_sealed_and_bound_to_their_key():
    c = cache()
    key, other = c.entry_key(CALL), c.entry_key(dataclasses.replace(CALL, mode="x"))

    async def scenario():
        await c.put(key, CALL.product, {"est_beneficiaire": True, "nom": "DUBOIS"})
        raw = await c.store.get(key)
        assert b"DUBOIS" not in raw and b"est_beneficiaire" not in raw
        assert await c.get(key) == {"est_beneficiaire": True, "nom": "DUBOIS"}
        await c.store.set(other, raw)  # moved to another key: does not open
        assert await c.get(other) is None

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("lifetimes", "complaint"),
    [
        ({"dss/quotient_familal": 60}, "unknown products: dss/quotient_familal"),
        ({"dss/quotient_familial": -1}, "between 0 and 86400"),
        ({"dss/quotient_familial": 86401}, "between 0 and 86400"),
    ],
)
def test_lifetimes_name_known_products_for_at_most_a_day(lifetimes, complaint):
    with pytest.raises(ConfigurationError, match=complaint):
        ResponseCache(MemoryStore(), b"k" * 32, lifetimes)


def test_a_zero_lifetime_keeps_nothing():
    assert not ResponseCache(MemoryStore(), b"k" * 32, {"dss/quotient_familial": 0}).enabled_for(
        "dss/quotient_familial"
    )
