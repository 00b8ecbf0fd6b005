"""The demo identity provider's page lists its test accounts only in development mode."""

from __future__ import annotations

import asyncio

import httpx

from broker.app import build_state, create_asgi_app
from tests.helpers import AuthorizationRequest, Browser, register_client


def test_development_login_page_lists_the_test_accounts(broker):
    client = register_client(broker.state)
    browser = Browser(broker.url)
    page = browser.get(browser.authorize(AuthorizationRequest(client)).headers["location"])
    assert "Comptes de test" in page.text
    assert "avec_nom_dusage" in page.text and "test_CORSE_2A" in page.text


def test_production_login_page_does_not(settings_factory):
    settings = settings_factory("https://broker.example", env="production")
    state = build_state(settings)
    state.keys.ensure_keys()
    client = register_client(state, redirect_uris=["https://service.example/cb"])
    app = create_asgi_app(settings, state)

    async def login_page() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.issuer_url) as http:
            start = await http.get("/authorize", params=AuthorizationRequest(client).params())
            assert start.status_code == 303, start.text
            return await http.get(start.headers["location"])

    page = asyncio.run(login_page())
    state.db.dispose()
    assert page.status_code == 200 and 'name="login"' in page.text
    assert "Comptes de test" not in page.text and "avec_nom_dusage" not in page.text

