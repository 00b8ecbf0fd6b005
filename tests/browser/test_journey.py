"""The citizen's journey in a real browser: the demo canteen, the login page, the consent
screen, and back to the service, which shows the meal price from the family quotient (below
the full price its home page showed). Each page is screenshotted and scanned with axe-core."""

from __future__ import annotations

from tests.broker.demo.helpers import start_demo_service
from tests.browser.conftest import screenshot, serious_violations


def test_journey_from_the_service_to_the_priced_meal(broker, data_api, page):
    url, serving = start_demo_service(broker, data_api.url)
    with serving:
        page.goto(url + "/")
        full_price = page.locator("[data-full-price]").inner_text()
        screenshot(page, "01-service-home")
        assert serious_violations(page) == []
        page.get_by_role("link", name="Se connecter avec le courtier de consentement").click()

        page.wait_for_url("**/login")
        assert page.locator("html").get_attribute("lang") == "fr"
        screenshot(page, "02-choose-provider")
        assert serious_violations(page) == []
        page.get_by_role("button", name="S'identifier avec Identité démo renforcée").click()

        page.wait_for_url("**/identite-demo-renforcee/authorize**")
        screenshot(page, "02b-provider-login")
        assert serious_violations(page) == []
        page.get_by_label("Identifiant").fill("test")
        page.get_by_label("Mot de passe").fill("123")
        page.get_by_role("button", name="Se connecter").click()
        code = page.locator("#code-demo").inner_text()  # the second step, shown in the demo
        screenshot(page, "02c-provider-one-time-code")
        assert serious_violations(page) == []
        page.get_by_label("Code à 6 chiffres").fill(code)
        page.get_by_role("button", name="Valider").click()

        page.wait_for_url("**/consent")
        text = page.content()
        assert "Calcul du tarif de la cantine scolaire" in text  # purpose of the habilitation
        assert "Code de l" in text and "quotient familial" in text.lower()
        screenshot(page, "03-consent")
        assert serious_violations(page) == []
        page.get_by_role("button", name="J'accepte").click()

        page.wait_for_url(url + "/")  # the callback signs in, then shows the home page
        assert page.locator("[data-quotient]").inner_text() == "2550"
        price = page.locator("[data-price]").inner_text()
        assert price == "4,20\u00a0€" and full_price == "5,40\u00a0€"
        screenshot(page, "04-service-priced")
        assert serious_violations(page) == []


def test_error_page_for_an_unknown_client_is_accessible(broker, page):
    page.goto(broker.url + "/authorize?client_id=inconnu&response_type=code")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", level=1).count() == 1
    screenshot(page, "05-error-unknown-client")
    assert serious_violations(page) == []


def _authorize_url(broker, **habilitation) -> str:
    from urllib.parse import urlencode

    from tests.helpers import AuthorizationRequest, habilitate, register_client

    scope = "openid given_name family_name cnaf_quotient_familial cnaf_adresse"
    client = register_client(broker.state, name="Cantine de Test", scope=scope, habilitated=False)
    habilitate(
        broker.state, "Cantine de Test", "cnaf_quotient_familial cnaf_adresse", **habilitation
    )
    return broker.url + "/authorize?" + urlencode(AuthorizationRequest(client).params())


def test_english_login_consent_and_error_pages_are_accessible(broker, english_page):
    page = english_page
    page.goto(
        _authorize_url(
            broker,
            optional_scopes="cnaf_adresse",
            legal_basis_url="https://www.legifrance.gouv.fr/",
        )
    )
    page.wait_for_url("**/login")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Choose how to identify yourself"
    screenshot(page, "11-choose-provider-en")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Sign in with Identité démo", exact=True).click()
    page.wait_for_url("**/identite-demo/authorize**")
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in to Identité démo"
    screenshot(page, "11b-provider-login-en")
    assert serious_violations(page) == []
    page.get_by_label("Username").fill("test")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Incorrect username or password."
    assert serious_violations(page) == []  # the login page with its error
    page.get_by_label("Password").fill("123")
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/consent")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "is asking to access your data" in page.get_by_role("heading", level=1).inner_text()
    optional = page.get_by_role("checkbox")
    assert optional.count() == 1 and not optional.is_checked()  # opt-in, never pre-ticked
    page.get_by_label("(optional)").check()  # the label names the checkbox
    assert optional.is_checked()
    screenshot(page, "12-consent-en")
    assert serious_violations(page) == []

    page.goto(broker.url + "/interaction/unknown/consent")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Request not found"
    screenshot(page, "13-error-en")
    assert serious_violations(page) == []


def test_the_language_switch_works_from_the_keyboard(broker, page):
    page.goto(broker.url + "/authorize?client_id=inconnu&response_type=code")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.keyboard.press("Tab")  # the skip link first
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "[document.activeElement.textContent, document.activeElement.getAttribute('hreflang')]"
    )
    assert focused == ["English", "en"]
    page.keyboard.press("Enter")
    page.wait_for_url("**lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Unknown service"
    assert serious_violations(page) == []
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["broker_lang"]["value"] == "en" and cookies["broker_lang"]["httpOnly"]
    page.goto(broker.url + "/nulle-part")  # remembered by the cookie
    assert page.locator("html").get_attribute("lang") == "en"
