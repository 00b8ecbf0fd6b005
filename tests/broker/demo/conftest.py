"""The demo online service, served next to the test broker and data API for one test."""

from __future__ import annotations

import pytest

from tests.broker.demo.helpers import start_demo_service


@pytest.fixture
def demo_service(broker, data_api):
    url, serving = start_demo_service(broker, data_api.url)
    with serving:
        yield url
