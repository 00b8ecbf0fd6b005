"""The consent screen's fixtures: a broker that reads the provider simulators, directly or
through a relay that counts the requests reaching them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.consent.screen.consent_pages import PREVIEW_READ_TIMEOUT
from tests.e2e.data_api_support import CountingRelay
from tests.servers import LiveServer, start_server


@pytest.fixture
def broker_with_providers(settings_factory, simulators) -> Iterator[LiveServer]:
    with start_server(
        lambda issuer: settings_factory(
            issuer, providers_url=simulators, provider_read_timeout=PREVIEW_READ_TIMEOUT
        )
    ) as server:
        yield server


@pytest.fixture
def relay(simulators) -> Iterator[CountingRelay]:
    relay = CountingRelay(simulators)
    yield relay
    relay.close()


@pytest.fixture
def broker_behind_relay(settings_factory, relay) -> Iterator[LiveServer]:
    """A broker whose provider calls all go through ``relay``: what it asked can be counted."""
    with start_server(
        lambda issuer: settings_factory(
            issuer, providers_url=relay.url, provider_read_timeout=PREVIEW_READ_TIMEOUT
        )
    ) as server:
        yield server
