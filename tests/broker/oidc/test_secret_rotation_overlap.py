"""A rotated client secret (RFC 6749 §2.3.1 with an overlap): the previous secret still
authenticates, with client_secret_basic and client_secret_post, until the end of the overlap,
and is refused from that second on; the current one always works."""

from __future__ import annotations

import secrets
import time
from dataclasses import fields

import pytest

from broker.core.security import digest
from broker.oidc.client_auth import RotatingSecretClient, secret_matches
from broker.oidc.models import Client
from tests.broker.oidc.kit import RegisteredClient, basic_auth

NOW = 1_800_000_000


def rotated(kit, name: str, previous_expires_at: int) -> tuple[RegisteredClient, str]:
    """The kit's ``name`` client after a rotation: (the client with its new secret, the
    previous secret), the previous one accepted until ``previous_expires_at``."""
    registered = getattr(kit, name)
    old: Client = registered.client
    new_secret = secrets.token_urlsafe(32)
    client = RotatingSecretClient(
        **{f.name: getattr(old, f.name) for f in fields(Client)},
        previous_secret_digest=old.secret_digest,
        previous_secret_expires_at=previous_expires_at,
    )
    client.secret_digest = digest(new_secret)
    kit.store.clients[client.client_id] = client
    return RegisteredClient(client, new_secret), registered.secret


def credentials(name: str, client_id: str, secret: str):
    if name == "basic":
        return {}, basic_auth(client_id, secret)
    return {"client_id": client_id, "client_secret": secret}, {}


def redeem_with_secret(kit, client: RegisteredClient, name: str, secret: str):
    issued = kit.obtain_code(client)
    return kit.redeem(
        client, issued.code, issued.verifier, auth=credentials(name, client.client_id, secret)
    )


@pytest.mark.parametrize("name", ["basic", "post"])
def test_previous_secret_authenticates_during_the_overlap(kit, name):
    client, previous = rotated(kit, name, int(time.time()) + 3600)
    assert redeem_with_secret(kit, client, name, previous).status == 200
    assert redeem_with_secret(kit, client, name, client.secret).status == 200


@pytest.mark.parametrize("name", ["basic", "post"])
def test_attack_previous_secret_after_the_overlap_refused(kit, name):
    client, previous = rotated(kit, name, int(time.time()) - 1)
    response = redeem_with_secret(kit, client, name, previous)
    assert response.body.get("error") == "invalid_client", response.body
    assert "access_token" not in response.body
    assert redeem_with_secret(kit, client, name, client.secret).status == 200


def test_attack_previous_digest_presented_as_a_secret_refused(kit):
    client, _ = rotated(kit, "basic", int(time.time()) + 3600)
    leaked = client.client.previous_secret_digest
    response = redeem_with_secret(kit, client, "basic", leaked)
    assert response.body.get("error") == "invalid_client", response.body


@pytest.mark.parametrize(
    ("expires_at", "accepted"),
    [(NOW + 1, True), (NOW, False), (NOW - 1, False), (None, False)],
    ids=["a-second-left", "at-the-end", "after", "no-overlap"],
)
def test_overlap_boundary(expires_at, accepted):
    assert secret_matches("old", digest("new"), digest("old"), expires_at, NOW) is accepted
    assert secret_matches("new", digest("new"), digest("old"), expires_at, NOW)
    assert not secret_matches("other", digest("new"), digest("old"), expires_at, NOW)
    assert not secret_matches("old", None, None, expires_at, NOW)
