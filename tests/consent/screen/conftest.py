"""The consent screen's fixtures: a broker that reads the provider simulators."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.consent.screen.consent_pages import PREVIEW_READ_TIMEOUT
from tests.servers import LiveServer, start_server


@pytest.fixture
def broker_with_providers(settings_factory, simulators) -> Iterator[LiveServer]:
    with start_server(
        lambda issuer: settings_factory(
            issuer, providers_url=simulators, provider_read_timeout=PREVIEW_READ_TIMEOUT
        )
    ) as server:
        yield server
