"""Guessing at the broker, over real HTTP: failed client authentications at the token endpoint
and failed returns from identity providers are slowed down per client, per browser and per
source address (429 with Retry-After, in each endpoint's own format), and a stranger's
failures never slow a service or a citizen down.

Different source addresses are real ones: Linux routes all of 127.0.0.0/8 to the loopback
interface, so a client bound to 127.0.0.2 reaches the broker on 127.0.0.1 from another
address."""

from __future__ import annotations

import httpx
import pytest

from broker.web.client_throttle import PER_CLIENT, PER_CLIENT_AND_ADDRESS
from broker.web.throttle import BROWSER
from tests.helpers import Browser, register_client
from tests.servers import start_server


def from_address(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)


def token_request(http: httpx.Client, broker, client_id: str, secret: str) -> httpx.Response:
    return http.post(
        f"{broker.url}/token",
        data={"grant_type": "authorization_code", "code": "no-such-code", "redirect_uri": "x"},
        auth=(client_id, secret),
    )


def test_attack_client_secret_guessing(broker):
    client = register_client(broker.state)
    with from_address("127.0.0.1") as http:
        for n in range(PER_CLIENT_AND_ADDRESS.free):
            wrong = token_request(http, broker, client.client_id, f"guess-{n}")
            assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
        slowed = token_request(http, broker, client.client_id, client.client_secret)
    assert slowed.status_code == 429
    assert slowed.json()["error"] == "slow_down"
    assert int(slowed.headers["retry-after"]) >= 1
    assert slowed.headers["cache-control"] == "no-store"


def test_attack_slowing_a_service_down_spares_its_own_servers(broker):
    """A stranger sending wrong secrets in a service's name, from many addresses, past the
    client-wide count: the service's own server (no failures) authenticates as usual."""
    client = register_client(broker.state)
    failures = 0
    for host in range(2, 2 + PER_CLIENT.free // 3 + 2):
        with from_address(f"127.0.0.{host}") as http:
            for n in range(3):
                token_request(http, broker, client.client_id, f"guess-{n}")
                failures += 1
    assert failures > PER_CLIENT.free
    with from_address("127.0.1.1") as stranger:  # a new address, first failure
        token_request(stranger, broker, client.client_id, "guess")
        assert token_request(stranger, broker, client.client_id, "guess").status_code == 429
    with from_address("127.0.0.1") as service:
        answer = token_request(service, broker, client.client_id, client.client_secret)
    # Authenticated: the code is what is refused, not the client.
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


@pytest.fixture
def strict_broker(settings_factory):
    with start_server(
        lambda issuer: settings_factory(issuer, throttle_failures_per_address=4)
    ) as server:
        yield server


def test_attack_one_address_sprays_many_clients(strict_broker):
    broker = strict_broker
    with from_address("127.0.0.3") as http:
        for n in range(4):
            assert token_request(http, broker, f"client-{n}", "guess").status_code == 401
        slowed = token_request(http, broker, "another-client", "guess")
    assert slowed.status_code == 429 and slowed.json()["error"] == "slow_down"
    client = register_client(broker.state)
    with from_address("127.0.0.4") as elsewhere:
        answer = token_request(elsewhere, broker, client.client_id, client.client_secret)
    assert answer.status_code == 400  # another address is not slowed down


def test_attack_replaying_answers_at_the_identity_provider_callback(broker):
    """Made-up or replayed ``state`` values at the callback, from one browser: after a few,
    the browser is asked to wait, on a readable page."""
    browser = Browser(broker.url)
    browser.http.cookies.set("broker_browser", "b" * 43)
    callback = "/federation/identite-demo/callback"
    for n in range(BROWSER.free):
        refused = browser.get(callback, params={"state": f"made-up-{n}", "code": "x"})
        assert refused.status_code in (400, 403, 404, 410), refused.text
    slowed = browser.get(callback, params={"state": "made-up", "code": "x"})
    assert slowed.status_code == 429
    assert int(slowed.headers["retry-after"]) >= 1
    assert "Trop de tentatives" in slowed.text
    # Another browser, on the same address, signs in as usual.
    fresh = Browser(broker.url)
    refused = fresh.get(callback, params={"state": "made-up", "code": "x"})
    assert refused.status_code != 429


def test_behind_a_trusted_proxy_each_forwarded_address_is_counted(settings_factory):
    """With BROKER_FORWARDED_ALLOW_IPS naming the proxy (here 127.0.0.1, the test), two
    clients behind it are two addresses: one guessing does not slow the other down."""
    from broker.app import build_state, create_asgi_app
    from broker.cli.serve import proxy_options
    from tests.servers import bound_socket, serve_app

    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = settings_factory(
        url, forwarded_allow_ips="127.0.0.1", throttle_failures_per_address=3
    )
    state = build_state(settings)
    client = register_client(state)

    def behind_proxy(forwarded_for: str, client_id: str, secret: str) -> httpx.Response:
        return httpx.post(
            f"{url}/token",
            data={"grant_type": "authorization_code", "code": "x", "redirect_uri": "x"},
            auth=(client_id, secret),
            headers={"X-Forwarded-For": forwarded_for},
        )

    try:
        with serve_app(create_asgi_app(settings, state), sock, **proxy_options(settings)):
            for n in range(3):
                assert behind_proxy("203.0.113.5", f"client-{n}", "guess").status_code == 401
            assert behind_proxy("203.0.113.5", "client-x", "guess").status_code == 429
            other = behind_proxy("203.0.113.6", client.client_id, client.client_secret)
            assert other.status_code == 400 and other.json()["error"] == "invalid_grant"
    finally:
        state.db.dispose()


def test_forwarded_headers_are_ignored_unless_a_proxy_is_named(settings_factory):
    from broker.cli.serve import proxy_options

    assert proxy_options(settings_factory()) == {"proxy_headers": False}
