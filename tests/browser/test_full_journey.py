"""The whole citizen journey in Chromium: the demo service, login, the consent screen with one
optional item ticked and the other left out, the service showing exactly the ticked data, the
citizen's space with the consent, the access and the receipt, revocation, and back on the
service's home page (still signed in) "Actualiser mes données" refused. Every citizen page is
screenshotted and scanned with axe-core, in French and in English. The consent screen's
preview has its own browser tests (``tests/browser/`` of the consent screen)."""

from __future__ import annotations

import time

import pytest

from tests.broker.demo.helpers import start_demo_service
from tests.browser.conftest import screenshot, serious_violations
from tests.servers import start_server


@pytest.fixture
def broker(settings_factory, simulators):
    """This module's broker reads the provider simulators, for the consent screen's preview."""
    with start_server(
        lambda issuer: settings_factory(issuer, providers_url=simulators, provider_read_timeout=2.0)
    ) as server:
        yield server


def scan(page, name: str) -> None:
    screenshot(page, name)
    assert serious_violations(page) == [], name


def test_full_journey_with_ticks_space_and_revocation(broker, data_api, page):
    url, serving = start_demo_service(broker, data_api.url)
    with serving:
        page.goto(url + "/")
        page.get_by_role("link", name="Se connecter avec le courtier de consentement").click()
        page.wait_for_url("**/login")
        page.get_by_role("button", name="S'identifier avec Identité démo", exact=True).click()
        page.get_by_label("Identifiant").fill("test")
        page.get_by_label("Mot de passe").fill("123")
        page.get_by_role("button", name="Se connecter").click()

        # The consent screen: optional items start unticked; the citizen ticks one and leaves
        # the address out.
        page.wait_for_url("**/consent")
        scan(page, "20-consent")
        address = page.locator('input[name="scope"][value="cnaf_adresse"]')
        beneficiaries = page.locator('input[name="scope"][value="cnaf_allocataires"]')
        assert not address.is_checked() and not beneficiaries.is_checked()
        beneficiaries.check()
        page.get_by_role("button", name="J'accepte").click()

        # The service shows exactly what was ticked.
        page.wait_for_url(url + "/")
        assert page.locator('[data-scope="cnaf_quotient_familial"]').count() == 1
        assert page.locator('[data-scope="cnaf_allocataires"]').count() == 1
        assert page.locator('[data-scope="cnaf_adresse"]').count() == 0
        screenshot(page, "22-service-ticked-data")

        # The citizen's space: the consent, the access, the receipt (same broker session).
        page.goto(broker.url + "/espace")
        consent = page.locator("[data-consent]").first
        assert consent.get_attribute("data-status") == "active"
        assert consent.locator('[data-scope="cnaf_adresse"]').count() == 0
        scan(page, "23-space")
        page.get_by_role("link", name="Accès à vos données").click()
        # The service's one data call (kept in its session: its home page does not call again).
        assert page.locator('[data-access]:not([data-kind="identity"])').count() == 1
        scan(page, "24-space-journal")
        page.go_back()
        receipt = page.get_by_role("link", name="Voir le reçu").first
        receipt_path = receipt.get_attribute("href")
        receipt.click()
        assert page.locator("[data-receipt]").count() == 1
        scan(page, "25-receipt")
        page.go_back()

        # Revocation, confirmed on its own page: tokens stop at once; the service is told on its
        # back-channel.
        page.locator("[data-revoke]").first.click()
        page.locator("[data-confirm-revoke]").click()
        assert page.locator("[data-notice]").count() == 1
        assert page.locator("[data-consent]").first.get_attribute("data-status") == "revoked"
        scan(page, "26-space-revoked")

        # Back to the service's address, as the README says: still signed in, and "Actualiser
        # mes données" shows the refusal and the broker's notification.
        page.goto(url + "/")
        assert page.get_by_role("heading", level=1).inner_text().startswith("Bonjour Angela")
        page.get_by_role("link", name="Actualiser mes données").click()
        assert page.locator("[data-refused]").count() == 1
        deadline = time.monotonic() + 10
        while page.locator('[data-consent-event="revoked"]').count() == 0:
            assert time.monotonic() < deadline, "the consent event did not reach the service"
            time.sleep(0.3)
            page.get_by_role("link", name="Actualiser mes données").click()
        scan(page, "27-service-refused")

        # The same pages in English.
        for path, name in (("/espace?lang=en", "30-space-en"), ("/espace/acces", "31-journal-en")):
            page.goto(broker.url + path)
            assert page.locator("html").get_attribute("lang") == "en"
            scan(page, name)
        page.get_by_role("link", name="Back to your consents").click()
        page.wait_for_url(broker.url + "/espace")
        page.goto(broker.url + receipt_path)  # the withdrawn consent's receipt stays readable
        assert page.locator("[data-receipt]").count() == 1
        scan(page, "32-receipt-en")
        page.goto(broker.url + "/espace")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/espace/connexion")
        assert page.locator("html").get_attribute("lang") == "en"
        scan(page, "33-space-login-en")
        page.goto(broker.url + "/espace/connexion?lang=fr")
        scan(page, "34-space-login")
