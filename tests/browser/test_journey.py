"""The citizen's journey in a real browser: the demo canteen, the login page, the consent
screen, and back to the service, which shows the meal price from the family quotient. Each
page is screenshotted and scanned with axe-core."""

from __future__ import annotations

from tests.broker.demo.test_online_service import start_demo_service
from tests.browser.conftest import screenshot, serious_violations


def test_journey_from_the_service_to_the_priced_meal(broker, data_api, page):
    url, serving = start_demo_service(broker, data_api.url)
    with serving:
        page.goto(url + "/")
        screenshot(page, "01-service-home")
        page.get_by_role("link", name="Se connecter avec le courtier de consentement").click()

        page.wait_for_url("**/login")
        assert page.locator("html").get_attribute("lang") == "fr"
        screenshot(page, "02-login")
        assert serious_violations(page) == []
        page.get_by_label("Identifiant").fill("test")
        page.get_by_label("Mot de passe").fill("123")
        page.get_by_role("button", name="Se connecter").click()

        page.wait_for_url("**/consent")
        text = page.content()
        assert "Calcul du tarif de la cantine scolaire" in text  # purpose of the habilitation
        assert "Code de l" in text and "quotient familial" in text.lower()
        screenshot(page, "03-consent")
        assert serious_violations(page) == []
        page.get_by_role("button", name="J'accepte").click()

        page.wait_for_url(url + "/callback**")
        assert page.locator("[data-quotient]").inner_text() == "2550"
        assert page.locator("[data-price]").inner_text() == "4,20 €"
        screenshot(page, "04-service-priced")


def test_error_page_for_an_unknown_client_is_accessible(broker, page):
    page.goto(broker.url + "/authorize?client_id=inconnu&response_type=code")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", level=1).count() == 1
    screenshot(page, "05-error-unknown-client")
    assert serious_violations(page) == []
