"""The demo online service signs a citizen in through a real broker, both over sockets."""

from __future__ import annotations

from urllib.parse import urljoin

import httpx
import pytest

from broker.demo.online_service import RelyingParty, create_service_app
from broker.demo.seed import DEMO_CLIENT_ID, demo_service_key, seed_demo_service
from tests.helpers import Browser
from tests.servers import bound_socket, serve_app


def start_demo_service(broker, data_api_url: str = ""):
    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    var_dir = broker.settings.var_dir
    with broker.state.db.transaction() as session:
        seed_demo_service(session, var_dir, url)
    rp = RelyingParty(
        issuer=broker.url,
        client_id=DEMO_CLIENT_ID,
        private_key=demo_service_key(var_dir),
        base_url=url,
        data_api_url=data_api_url,
    )
    return url, serve_app(create_service_app(rp), sock)


@pytest.fixture
def demo_service(broker, data_api):
    url, serving = start_demo_service(broker, data_api.url)
    with serving:
        yield url


def follow_to_broker(service_url: str, browser: Browser, decision: str) -> httpx.Response:
    start = httpx.get(f"{service_url}/login", follow_redirects=False)
    assert start.status_code == 302
    response = browser.get(start.headers["location"])
    response = browser.login(response.headers["location"])
    response = browser.consent(response.headers["location"], decision)
    callback = response.headers["location"]
    assert callback.startswith(f"{service_url}/callback")
    return httpx.get(callback)


def test_citizen_signs_in_to_the_demo_service(broker, demo_service):
    page = follow_to_broker(demo_service, Browser(broker.url), "approve")
    assert page.status_code == 200, page.text
    assert "Bonjour Angela Claire Louise" in page.text and "DUBOIS" in page.text
    assert "data-acr>eidas1<" in page.text


def test_demo_service_prices_the_meal_from_the_family_quotient(broker, demo_service):
    """Broker, data API and CAF simulator, all over real HTTP: the mission end to end."""
    page = follow_to_broker(demo_service, Browser(broker.url), "approve")
    assert "data-quotient>2550<" in page.text and "data-price>4,20 €<" in page.text


def test_demo_service_without_data_api_says_why_and_charges_full_price(broker):
    url, serving = start_demo_service(broker)
    with serving:
        page = follow_to_broker(url, Browser(broker.url), "approve")
    assert "data-no-quotient" in page.text and "tarif plein" in page.text


def test_demo_service_reports_a_refusal(broker, demo_service):
    page = follow_to_broker(demo_service, Browser(broker.url), "refuse")
    assert page.status_code == 403 and "access_denied" in page.text


def test_demo_service_home_page(demo_service):
    page = httpx.get(urljoin(demo_service, "/"))
    assert page.status_code == 200 and "/login" in page.text


def test_meal_price_brackets():
    from broker.demo.online_service.pricing import meal_price

    assert [meal_price(q) for q in (0, 400, 401, 700, 1000, 1500, 1501)] == [
        "0,50 €",
        "0,50 €",
        "1,20 €",
        "1,20 €",
        "2,10 €",
        "3,00 €",
        "4,20 €",
    ]


def test_signing_out_of_the_demo_service_signs_out_of_the_broker_and_the_provider(
    broker, demo_service
):
    browser = Browser(broker.url)
    page = follow_to_broker(demo_service, browser, "approve")
    assert 'action="/logout"' in page.text
    out = httpx.post(f"{demo_service}/logout", cookies=page.cookies, follow_redirects=False)
    assert out.headers["location"].startswith(f"{broker.url}/logout?id_token_hint=")
    at_broker = browser.get(out.headers["location"])  # the hint names this citizen: no question
    at_idp = browser.get(at_broker.headers["location"])
    back = browser.get(at_idp.headers["location"])
    assert back.headers["location"].startswith(f"{demo_service}/?state=")
    again = httpx.get(f"{demo_service}/refresh", cookies=page.cookies)
    assert again.status_code == 401
