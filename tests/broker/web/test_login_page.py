"""The demo identity provider's page lists its test accounts only in development mode."""

from __future__ import annotations

from tests.helpers import AuthorizationRequest, Browser, register_client


def test_development_login_page_lists_the_test_accounts(broker):
    client = register_client(broker.state)
    browser = Browser(broker.url)
    page = browser.get(browser.authorize(AuthorizationRequest(client)).headers["location"])
    assert "Comptes de test" in page.text
    assert "avec_nom_dusage" in page.text and "test_CORSE_2A" in page.text


def test_production_login_page_does_not(production):
    async def login_page(http, client):
        start = await http.get("/authorize", params=AuthorizationRequest(client).params())
        assert start.status_code == 303, start.text
        return await http.get(start.headers["location"])

    page = production(login_page)
    assert page.status_code == 200 and 'name="login"' in page.text
    assert "Comptes de test" not in page.text and "avec_nom_dusage" not in page.text
