from __future__ import annotations

from collections.abc import Iterator

import pytest

from broker.admin.identity_providers import ProviderRegistration, add_provider
from broker.keys.vault import KeyVault
from tests.broker.identity.federation.rogue_idp import RogueIdp
from tests.servers import bound_socket, serve_app


@pytest.fixture
def rogue(broker) -> Iterator[RogueIdp]:
    """A provider the test controls, over a socket, registered in the broker's registry as
    "rogue" (client_secret_basic, eidas1 and eidas2)."""
    sock = bound_socket()
    idp = RogueIdp(url=f"http://127.0.0.1:{sock.getsockname()[1]}")
    with serve_app(idp.app(), sock):
        register(broker, idp)
        yield idp


def register(broker, idp: RogueIdp, **overrides) -> dict:
    values = {
        "name": "Rogue",
        "issuer": idp.issuer,
        "client_id": idp.client_id,
        "client_secret": "rogue-secret",
        "acr_values": ("eidas1", "eidas2"),
        "id_token_algs": ("ES256",),
        "provider_id": "rogue",
    }
    values.update(overrides)
    vault = KeyVault(broker.settings.secret)
    with broker.state.db.transaction() as session:
        return add_provider(session, vault, ProviderRegistration(**values), broker.url)
