"""On an https issuer the broker's cookies are __Host- cookies: a cookie planted by a sibling
host under the plain name is not taken for ours."""

from __future__ import annotations

import httpx

from tests.helpers import AuthorizationRequest, register_client


def test_https_cookies_carry_the_host_prefix_and_are_read_back(production):
    async def steps(http: httpx.AsyncClient, client):
        authorize = await http.get("/authorize", params=AuthorizationRequest(client).params())
        login = await http.get(authorize.headers["location"])
        return authorize, login

    authorize, login = production(steps)
    cookie = authorize.headers["set-cookie"]
    assert cookie.startswith("__Host-broker_browser=")
    assert "; Secure" in cookie and "Path=/" in cookie and "domain" not in cookie.lower()
    assert login.status_code == 200, login.text  # the prefixed cookie binds the interaction


def test_attack_cookie_planted_by_a_sibling_host(production):
    """A sibling host can set ``broker_browser`` for the parent domain, not a __Host- cookie:
    the plain name is dropped, so the planted value never binds an interaction."""

    async def steps(http: httpx.AsyncClient, client):
        authorize = await http.get("/authorize", params=AuthorizationRequest(client).params())
        browser = authorize.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]
        http.cookies.clear()
        return await http.get(
            authorize.headers["location"], headers={"Cookie": f"broker_browser={browser}"}
        )

    planted = production(steps)
    assert planted.status_code == 403 and "Navigateur différent" in planted.text


def test_plain_http_development_keeps_the_plain_names(broker):
    client = register_client(broker.state)
    response = httpx.get(f"{broker.url}/authorize", params=AuthorizationRequest(client).params())
    assert response.headers["set-cookie"].startswith("broker_browser=")
