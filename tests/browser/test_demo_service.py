"""The demo canteen service in Chromium, as the README's story goes: the full price before
sharing, the reduced price after, the session kept across a visit to the broker's citizen
space, in French and in English (its own switch, passed on to the broker as ``ui_locales``),
on a laptop and on a 390-pixel phone. Every service page is screenshotted (``demo-*``), fits
the width and passes axe-core with no serious or critical violation."""

from __future__ import annotations

import pytest

from tests.broker.demo.helpers import start_demo_service
from tests.browser.conftest import fits_width, screenshot, serious_violations

NBSP = "\u00a0"
NNBSP = "\u202f"  # between thousands, in French
WORDS = {
    "fr": {
        "provider": "S'identifier avec Identité démo",
        "agree": "J'accepte",
        "refresh": "Actualiser mes données",
    },
    "en": {
        "provider": "Sign in with Identité démo",
        "agree": "I agree",
        "refresh": "Refresh my data",
    },
}


def check(page, name: str) -> None:
    """A service page: screenshotted, no sideways scrolling, no serious axe violation."""
    screenshot(page, name)
    assert fits_width(page), name
    assert serious_violations(page) == [], name


def sign_in(page, service_url: str, language: str) -> None:
    """From the service's home page to its signed-in page, through the broker, in the
    language the broker's pages must show."""
    words = WORDS[language]
    page.locator('a[href="/login"]').click()
    page.wait_for_url("**/login")
    assert page.locator("html").get_attribute("lang") == language  # the broker's choice page
    page.get_by_role("button", name=words["provider"], exact=True).click()
    # The identity provider's page follows the browser, not the service (the broker does not
    # pass ui_locales upstream): its fields by name.
    page.locator('input[name="login"]').fill("test")
    page.locator('input[name="password"]').fill("123")
    page.locator('input[name="password"]').press("Enter")
    page.wait_for_url("**/consent")
    assert page.locator("html").get_attribute("lang") == language
    page.get_by_role("button", name=words["agree"]).click()
    page.wait_for_url(service_url + "/")  # the callback answers with the home page


def test_the_story_in_french_full_price_then_reduced_price_and_the_session_kept(
    broker, data_api, page
):
    url, serving = start_demo_service(broker, data_api.url)
    with serving:
        page.goto(url + "/refresh")  # nobody signed in yet: a readable problem page
        assert page.get_by_role("heading", level=1).inner_text() == "Session expirée"
        check(page, "demo-problem-no-session")

        page.goto(url + "/")
        assert page.locator("html").get_attribute("lang") == "fr"
        before = page.locator("[data-full-price]").inner_text()
        assert before == f"5,40{NBSP}€"  # without the family quotient: the full price
        assert page.locator("[data-grid] tbody tr").count() == 8
        band = page.locator('[data-band="4"] th').inner_text()
        assert band == f"de 1{NNBSP}001 à 1{NNBSP}500"
        check(page, "demo-home")

        sign_in(page, url, "fr")
        cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
        assert "cantine_login" not in cookies  # the sign-in is over: its cookie is gone
        assert cookies["cantine_session"]["httpOnly"]
        assert cookies["cantine_session"]["sameSite"] == "Lax"
        assert page.locator("[data-quotient]").inner_text() == "2550"
        after = page.locator("[data-price]").inner_text()
        assert after == f"4,20{NBSP}€" and after != before  # sharing lowers the price
        assert f"1,20{NBSP}€ de moins" in page.locator("[data-saving]").inner_text()
        current = page.locator('[data-grid] tr[aria-current="true"]')
        assert current.count() == 1 and "votre tranche" in current.inner_text()
        assert after in current.inner_text()
        check(page, "demo-signed-in")

        # The broker's citizen space in the same browser, then back to the service's address.
        page.get_by_role(
            "link", name="Voir ou retirer mon accord, dans l'espace du courtier"
        ).click()
        page.wait_for_url(broker.url + "/espace**")
        assert page.locator("[data-consent]").count() >= 1
        page.goto(url + "/")
        assert page.get_by_role("heading", level=1).inner_text().startswith("Bonjour Angela")
        assert page.locator("[data-price]").inner_text() == after
        page.get_by_role("link", name=WORDS["fr"]["refresh"]).click()
        page.wait_for_url(url + "/refresh")
        assert page.locator("[data-refreshed]").count() == 1
        assert page.locator("[data-quotient]").inner_text() == "2550"
        check(page, "demo-refreshed")


def test_english_through_the_service_switch_on_a_phone(broker, data_api, phone_page):
    """A French phone; the citizen picks English on the service: its pages, and the broker's
    (``ui_locales``), are in English."""
    page = phone_page
    url, serving = start_demo_service(broker, data_api.url)
    with serving:
        page.goto(url + "/")
        assert page.locator("html").get_attribute("lang") == "fr"
        check(page, "demo-phone-home")
        page.get_by_role("link", name="English").click()
        page.wait_for_url(url + "/?lang=en")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_role("heading", level=1).inner_text() == "School canteen prices"
        assert page.locator("[data-full-price]").inner_text() == "€5.40"
        assert page.locator('[data-band="4"] th').inner_text() == "1,001 to 1,500"
        check(page, "demo-phone-home-en")

        sign_in(page, url, "en")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("[data-price]").inner_text() == "€4.20"
        assert "€1.20 less per meal" in page.locator("[data-saving]").inner_text()
        check(page, "demo-phone-signed-in-en")

        page.goto(broker.url + "/espace")
        page.goto(url + "/")
        page.get_by_role("link", name=WORDS["en"]["refresh"]).click()
        assert page.locator("[data-refreshed]").inner_text().startswith("Data refreshed on")
        check(page, "demo-phone-refreshed-en")
        page.get_by_role("link", name="Français").click()
        assert page.locator("html").get_attribute("lang") == "fr"
        assert page.locator("[data-price]").inner_text() == f"4,20{NBSP}€"
        check(page, "demo-phone-signed-in")


@pytest.mark.parametrize(
    ("browser_page", "language"), [("english_page", "en"), ("english_phone_page", "en")]
)
def test_an_english_browser_gets_english_pages_that_fit(
    broker, data_api, request, browser_page, language
):
    page = request.getfixturevalue(browser_page)
    suffix = "phone-" if "phone" in browser_page else ""
    url, serving = start_demo_service(broker, data_api.url)
    with serving:
        page.goto(url + "/")
        assert page.locator("html").get_attribute("lang") == language
        check(page, f"demo-{suffix}home-browser-{language}")
        sign_in(page, url, language)
        assert page.get_by_role("heading", level=1).inner_text().startswith("Hello Angela")
        check(page, f"demo-{suffix}signed-in-browser-{language}")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(url + "/?**")
        assert page.locator('a[href="/login"]').count() == 1  # signed out: the home page
        check(page, f"demo-{suffix}signed-out-{language}")
