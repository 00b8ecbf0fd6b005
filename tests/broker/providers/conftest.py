"""Simulators served over real HTTP (uvicorn on a loopback socket) and adapters talking to them
through a real ``httpx.AsyncClient``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from broker.demo import scenarios
from broker.demo.citizens import DemoCitizen, by_login
from broker.demo.scenarios import SCENARIO_CITIZENS
from broker.demo.simulators import ROUTERS, SimulatorOptions, create_all_app
from broker.providers.base import (
    Adapter,
    Maintenance,
    NotFound,
    ProviderConfig,
    ProviderPivot,
    Timeout,
    Unavailable,
    UnexpectedPayload,
)
from broker.providers.registry import build_adapters
from tests.broker.providers.scripted import ScriptedProvider
from tests.servers import bound_socket, serve_app

# What each kind of scenario citizen makes an adapter answer.
SCENARIO_OUTCOMES = {
    scenarios.NOT_FOUND: NotFound,
    scenarios.SLOW: Timeout,
    scenarios.SERVER_ERROR: Unavailable,
    scenarios.BAD_GATEWAY: Unavailable,
    scenarios.MALFORMED: UnexpectedPayload,
    scenarios.WRONG_SHAPE: UnexpectedPayload,
    scenarios.MAINTENANCE: Maintenance,
}

SLOW_SECONDS = 1.0  # the slow scenario; adapters under test read for READ_TIMEOUT only
READ_TIMEOUT = 0.3
RETRY_IN = 120
PROVIDER_KEYS = tuple(ROUTERS)


@pytest.fixture(scope="session")
def simulators_url() -> Iterator[str]:
    """Every simulator on one port, under /{provider_key}/..."""
    sock = bound_socket()
    options = SimulatorOptions(slow_seconds=SLOW_SECONDS, maintenance_retry_in=RETRY_IN)
    with serve_app(create_all_app(options), sock):
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def configs(base_url: str, **overrides: Any) -> dict[str, ProviderConfig]:
    values = {
        "connect_timeout": 1.0,
        "read_timeout": READ_TIMEOUT,
        "retries": 1,
        "breaker_failures": 1000,
        "breaker_reset": 30.0,
    }
    values.update(overrides)
    return {key: ProviderConfig(base_url=f"{base_url}/{key}", **values) for key in PROVIDER_KEYS}


def with_adapters(
    base_url: str, steps: Callable[[dict[str, Adapter]], Awaitable[Any]], **overrides: Any
) -> Any:
    """Run ``steps(adapters)`` with fresh adapters (fresh breakers) over a real client."""

    async def go() -> Any:
        async with httpx.AsyncClient() as client:
            return await steps(build_adapters(configs(base_url, **overrides), client))

    return asyncio.run(go())


def citizen(login: str) -> DemoCitizen:
    found = by_login(login) or next((c for c in SCENARIO_CITIZENS if c.login == login), None)
    assert found is not None, login
    return found


def pivot_of(person: DemoCitizen | str, **changes: Any) -> ProviderPivot:
    """The FranceConnect pivot of a test citizen; ``changes`` override its fields."""
    person = citizen(person) if isinstance(person, str) else person
    values = {
        "family_name": person.family_name,
        "given_names": (person.given_name,),
        "gender": "F" if person.gender == "female" else "M",
        "birthdate": person.birthdate,
        "birthcountry": person.birthcountry,
        "birthplace": person.birthplace,
        "usage_name": person.preferred_username,
    }
    values.update(changes)
    return ProviderPivot(**values)


@pytest.fixture(scope="module")
def scripted() -> Iterator[tuple[ScriptedProvider, str]]:
    """A small scripted provider over real HTTP, and its base URL."""
    provider = ScriptedProvider()
    sock = bound_socket()
    with serve_app(provider, sock):
        yield provider, f"http://127.0.0.1:{sock.getsockname()[1]}"
