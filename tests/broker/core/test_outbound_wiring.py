"""Every outbound call to a registered URL goes through the guard: consent events, logout
notices, clients' JWKS, upstream identity providers (discovery, JWKS, token, userinfo, and the
endpoints a discovery document names). A production broker is built as ``broker run`` builds
it; real listeners on loopback show that nothing connects."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from broker.app import build_state
from broker.core.outbound.guard import ForbiddenAddress, GuardedTransport
from broker.core.outbound.policy import PRODUCTION
from broker.identity.federation.directory import ProviderDirectory, UpstreamUnavailable
from tests.broker.core.test_outbound_guard import Listener


@pytest.fixture
def production_state(settings_factory):
    state = build_state(
        settings_factory(
            "https://broker.example", env="production", data_api_url="https://api.broker.example"
        )
    )
    yield state

    async def close():
        await state.background.client.aclose()
        await state.federation_http.aclose()

    asyncio.run(close())
    state.db.dispose()


def test_attack_ssrf_consent_events_to_an_internal_listener(production_state):
    events = production_state.background.dispatcher.client

    async def steps():
        async with Listener() as listener:
            with pytest.raises(ForbiddenAddress):
                await events.post(f"https://localhost:{listener.port}/events", content=b"x")
            assert listener.accepted == 0

    asyncio.run(steps())


def test_attack_ssrf_logout_notices_to_an_internal_listener(production_state):
    """A backchannel_logout_uri naming an internal address (registered, or resolving there
    later) is never connected to: the production dispatcher posts through the guard, and
    fetches the service's encryption keys through the flows' guarded JWKS cache."""
    dispatcher = production_state.background.logout_dispatcher
    assert dispatcher is not None
    assert dispatcher.jwks_cache is production_state.context.jwks_cache

    async def steps():
        async with Listener() as listener:
            url = f"https://localhost:{listener.port}/backchannel-logout"
            with pytest.raises(ForbiddenAddress):
                await dispatcher.client.post(url, data={"logout_token": "x"})
            failure = await dispatcher.post(url, "x")  # the path each attempt takes
            assert failure is not None and "HTTP 2" not in failure
            assert listener.accepted == 0

    asyncio.run(steps())


def test_attack_ssrf_client_jwks_uri_to_an_internal_listener(production_state):
    jwks = production_state.context.jwks_cache

    async def steps():
        async with Listener() as listener:
            uri = f"https://127.0.0.1:{listener.port}/jwks"
            await jwks.prefetch(uri)
            assert jwks.get(uri) is None  # the client then fails with invalid_client
            assert listener.accepted == 0

    asyncio.run(steps())


def test_attack_ssrf_identity_provider_to_an_internal_listener(production_state):
    directory = production_state.sign_in.federation.directory

    async def steps():
        async with Listener() as listener:
            with pytest.raises(UpstreamUnavailable, match="ForbiddenAddress"):
                await directory.metadata(f"https://localhost:{listener.port}")
            assert listener.accepted == 0

    asyncio.run(steps())


@pytest.mark.parametrize(
    "endpoint", ["token_endpoint", "jwks_uri", "userinfo_endpoint"], ids=lambda name: name
)
def test_attack_ssrf_discovery_naming_an_internal_endpoint(endpoint):
    """A provider's discovery document points the broker's own calls inside its network."""
    issuer = "https://idp.example"
    document = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks",
        "userinfo_endpoint": f"{issuer}/userinfo",
        endpoint: "https://0xA9FEA9FE/latest/meta-data/",
    }
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda _: httpx.Response(200, json=document))
    )
    directory = ProviderDirectory(http, policy=PRODUCTION)

    async def steps():
        with pytest.raises(UpstreamUnavailable, match=f"{endpoint} refused"):
            await directory.metadata(issuer)
        await http.aclose()

    asyncio.run(steps())


def test_attack_ssrf_token_and_userinfo_calls_share_the_guard(production_state):
    """Authlib's clients (token, userinfo) are built on the federation's transport."""
    transport = production_state.sign_in.federation.transport
    assert isinstance(transport, GuardedTransport)

    async def steps():
        async with Listener() as listener:
            request = httpx.Request("POST", f"https://[::ffff:7f00:1]:{listener.port}/token")
            with pytest.raises(ForbiddenAddress):
                await transport.handle_async_request(request)
            assert listener.accepted == 0

    asyncio.run(steps())
