"""Resource indicators (RFC 8707) and the access token's audience over real HTTP: a broker and a
data API on sockets, the data API at the URL the broker is configured with
(``BROKER_DATA_API_URL``), so that a client can do exactly what the documentation says: find
the data API in discovery (RFC 9728 §4), name it as the ``resource``, and call it with the
token."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from broker.resources.app import build_resource_state, create_resource_asgi_app
from tests.conftest import PROVIDER_READ_TIMEOUT
from tests.helpers import AuthorizationRequest, Browser, RegisteredClient, query, register_client
from tests.servers import LiveServer, bound_socket, serve_app, start_server

QF_PATH = "/v3/dss/quotient_familial/france_connect"
QF_SCOPE = "openid profile cnaf_quotient_familial cnaf_enfants"
FOREIGN = "https://api.evil.example"


@dataclass
class Platform:
    broker: LiveServer
    data_api_url: str


@pytest.fixture
def platform(settings_factory, simulators) -> Iterator[Platform]:
    """The data API's socket is bound first, so that the broker starts knowing its URL."""
    api_socket = bound_socket()
    api_url = f"http://127.0.0.1:{api_socket.getsockname()[1]}"
    with contextlib.ExitStack() as stack:
        broker = stack.enter_context(
            start_server(lambda issuer: settings_factory(issuer, data_api_url=api_url))
        )
        settings = broker.settings.model_copy(
            update={
                "providers_url": simulators,
                "provider_read_timeout": PROVIDER_READ_TIMEOUT,
                "redis_url": "",
            }
        )
        api_state = build_resource_state(settings)
        stack.callback(api_state.db.dispose)
        stack.enter_context(serve_app(create_resource_asgi_app(settings, api_state), api_socket))
        yield Platform(broker, api_url)


def token_request(broker: LiveServer, client: RegisteredClient, **data: str) -> httpx.Response:
    return httpx.post(
        f"{broker.url}/token",
        data=data,
        auth=(client.client_id, client.client_secret or ""),
        timeout=10,
    )


def redemption(client: RegisteredClient, code: str, verifier: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": client.redirect_uri,
        "code_verifier": verifier,
    }


def signed_in(broker: LiveServer, client: RegisteredClient, **extra: str) -> tuple[str, str]:
    request = AuthorizationRequest(client, extra=extra)
    received = Browser(broker.url).sign_in(request, login="nom_composé")
    return received["code"], request.verifier


def token_audience(broker: LiveServer, token: str) -> list[str]:
    """The audience of an access token, verified with the keys the broker publishes."""
    keys = KeySet.import_key_set(httpx.get(f"{broker.url}/jwks").json())
    return jwt.decode(token, keys).claims["aud"]


def test_a_client_finds_the_data_api_in_discovery_and_calls_it(platform):
    broker = platform.broker
    discovery = httpx.get(f"{broker.url}/.well-known/openid-configuration").json()
    assert discovery["protected_resources"] == [platform.data_api_url]
    metadata = httpx.get(f"{broker.url}/.well-known/oauth-authorization-server").json()
    assert metadata["protected_resources"] == [platform.data_api_url]
    resource = discovery["protected_resources"][0]

    client = register_client(broker.state, name="CCAS", scope=QF_SCOPE)
    code, verifier = signed_in(broker, client, resource=resource)
    tokens = token_request(broker, client, **redemption(client, code, verifier), resource=resource)
    assert tokens.status_code == 200, tokens.text
    token = tokens.json()["access_token"]
    audience = token_audience(broker, token)
    assert audience[0] == platform.data_api_url and f"{broker.url}/v3" not in audience

    answer = httpx.get(
        f"{resource}{QF_PATH}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert answer.status_code == 200, answer.text


def test_without_resource_the_token_is_for_the_data_api_all_the_same(platform):
    broker = platform.broker
    client = register_client(broker.state, name="CCAS", scope=QF_SCOPE)
    code, verifier = signed_in(broker, client)
    tokens = token_request(broker, client, **redemption(client, code, verifier))
    assert tokens.status_code == 200, tokens.text
    token = tokens.json()["access_token"]
    answer = httpx.get(
        f"{platform.data_api_url}{QF_PATH}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def test_attack_resource_indicator_foreign_audience(platform):
    """Asking at /authorize for a token meant for another resource server: back to the
    client's registered redirect URI with invalid_target, before anyone signs in."""
    broker = platform.broker
    client = register_client(broker.state, name="CCAS", scope=QF_SCOPE)
    request = AuthorizationRequest(client, extra={"resource": FOREIGN})
    response = Browser(broker.url).authorize(request)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(client.redirect_uri), location
    received = query(location)
    assert received["error"] == "invalid_target" and received["state"] == request.state
    assert platform.data_api_url in received["error_description"]
    assert FOREIGN not in received["error_description"]

    # And at the pushed authorization endpoint, as JSON to the client.
    pushed = httpx.post(
        f"{broker.url}/par",
        data={**request.params(), "resource": FOREIGN},
        auth=(client.client_id, client.client_secret or ""),
        timeout=10,
    )
    assert pushed.status_code == 400 and pushed.json()["error"] == "invalid_target", pushed.text


def test_attack_resource_upgrade_at_token_endpoint(platform):
    """A code authorized for the data API, redeemed for another resource (the broker's own
    userinfo endpoint, which a token also reaches, or a foreign one): refused, and the code
    is spent."""
    broker = platform.broker
    client = register_client(broker.state, name="CCAS", scope=QF_SCOPE)
    code, verifier = signed_in(broker, client, resource=platform.data_api_url)
    upgraded = token_request(
        broker, client, **redemption(client, code, verifier), resource=f"{broker.url}/userinfo"
    )
    assert upgraded.status_code == 400, upgraded.text
    assert upgraded.json()["error"] == "invalid_target"
    again = token_request(broker, client, **redemption(client, code, verifier))
    assert again.json()["error"] == "invalid_grant", again.text
