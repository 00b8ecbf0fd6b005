from __future__ import annotations

import pytest

from tests.broker.oidc.kit import OidcKit


@pytest.fixture
def kit() -> OidcKit:
    """The protocol core on in-memory ports, with one client per authentication method."""
    return OidcKit()
