"""The consent screen in Chromium, in French and English, on a laptop and a 390 px phone: the
citizen ticks an optional item, asks for the preview (a waiting page first, no script), finds
the tick kept, approves, and the token holds exactly what was ticked. Also: the information
the habilitation states, a slow provider (the waiting page is painted while it is read) and a
failing one, in plain words. Screenshots ``consent-*``; axe on every page, the waiting page
included (stopped there, as the browser's Stop button does, while the providers are read)."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.browser.conftest import ARTIFACTS, fits_width, screenshot, serious_violations
from tests.consent.screen.consent_pages import (
    INFORMATION,
    OPTIONAL,
    PREVIEW_READ_TIMEOUT,
    REQUIRED,
    STUDENT,
    demo_client,
)
from tests.helpers import REDIRECT_URI, AuthorizationRequest, query, redeem
from tests.servers import start_server

ADDRESS, BENEFICIARIES = OPTIONAL
WORDS = {  # the words the tests click, per language
    "fr": {
        "idp": "S'identifier avec Identité démo",
        "login": "Identifiant",
        "password": "Mot de passe",
        "sign_in": "Se connecter",
        "preview": "Voir les données qui seront transmises",
        "approve": "J'accepte",
    },
    "en": {
        "idp": "Sign in with Identité démo",
        "login": "Username",
        "password": "Password",
        "sign_in": "Sign in",
        "preview": "See the data that will be sent",
        "approve": "I agree",
    },
}
SERVICE_PAGE = "<!DOCTYPE html><html lang='fr'><title>Service</title><main>Service</main></html>"


@pytest.fixture
def broker(settings_factory, simulators):
    """This module's broker reads the provider simulators, for the preview."""
    with start_server(
        lambda issuer: settings_factory(
            issuer, providers_url=simulators, provider_read_timeout=PREVIEW_READ_TIMEOUT
        )
    ) as server:
        yield server


def stop(page) -> None:
    """What the browser's Stop button does: the page being loaded is abandoned, the one on
    screen stays (through the DevTools protocol, which the browser answers at once)."""
    page.context.new_cdp_session(page).send("Page.stopLoading")


def capture(cdp) -> bytes:
    """What the screen shows now (the viewport), as the compositor has painted it."""
    return base64.b64decode(cdp.send("Page.captureScreenshot", {"format": "png"})["data"])


class Journey:
    """One citizen at the consent screen of a service whose habilitation says everything; the
    service's redirect URI is answered by the test itself, which redeems the code."""

    def __init__(self, broker, page, language: str, login: str = "test", phone: bool = False):
        self.broker, self.page, self.words, self.phone = broker, page, WORDS[language], phone
        self.client = demo_client(broker.state)
        self.request = AuthorizationRequest(self.client)
        page.route(REDIRECT_URI + "**", lambda route: route.fulfill(body=SERVICE_PAGE))
        page.goto(broker.url + "/authorize?" + urlencode(self.request.params()))
        page.wait_for_url("**/login")
        page.get_by_role("button", name=self.words["idp"], exact=True).click()
        page.get_by_label(self.words["login"]).fill(login)
        page.get_by_label(self.words["password"]).fill("123")
        page.get_by_role("button", name=self.words["sign_in"]).click()
        page.wait_for_url("**/consent")
        assert page.locator("html").get_attribute("lang") == language

    def check(self, name: str) -> None:
        """Screenshot, axe, and on a phone, no sideways scrolling."""
        screenshot(self.page, name)
        assert serious_violations(self.page) == [], name
        if self.phone:
            assert fits_width(self.page), name

    def box(self, scope: str):
        return self.page.locator(f'input[name="scope"][value="{scope}"]')

    def ask_preview(self) -> None:
        self.page.get_by_role("button", name=self.words["preview"]).click()

    def wait_for_preview(self) -> None:
        self.page.wait_for_url(lambda url: "apercu=1" in url)
        assert self.page.locator("[data-preview-summary]").count() == 1

    def approve(self) -> set[str]:
        """Approves; the scopes of the token the service then gets."""
        self.page.get_by_role("button", name=self.words["approve"]).click()
        self.page.wait_for_url(REDIRECT_URI + "**")
        code = query(self.page.url)["code"]
        token = redeem(self.broker.url, self.client, code, self.request.verifier)
        assert token.status_code == 200, token.text
        return set(token.json()["scope"].split())


def test_french_laptop_tick_preview_approve_with_the_information_block(broker, page):
    journey = Journey(broker, page, "fr")
    # What the habilitation states, each in its place.
    controller = page.locator("[data-controller]")
    assert INFORMATION["controller"] in controller.inner_text()
    assert controller.get_by_role("link", name=INFORMATION["contact"]).get_attribute("href") == (
        "mailto:" + INFORMATION["contact"]
    )
    dpo = controller.get_by_role("link", name=INFORMATION["dpo"])
    assert dpo.get_attribute("target") == "_blank"  # the consent screen stays open
    assert "(nouvelle fenêtre)" in dpo.inner_text()
    assert page.locator("[data-retention]").inner_text() == INFORMATION["retention"]
    reason = page.locator(f'[data-scope="{REQUIRED}"] .item-reason').inner_text()
    assert INFORMATION["reasons"][REQUIRED] in reason
    assert INFORMATION["if_refused"] in page.locator("[data-if-refused]").inner_text()
    approve = page.get_by_role("button", name="J'accepte")
    refuse = page.get_by_role("button", name="Je refuse")
    assert approve.get_attribute("class") == refuse.get_attribute("class")  # same weight
    box = approve.bounding_box(), refuse.bounding_box()
    assert box[0]["width"] == box[1]["width"] and box[0]["height"] == box[1]["height"]
    assert box[0]["y"] == box[1]["y"]  # side by side on a laptop
    journey.box(BENEFICIARIES).check()
    journey.check("consent-fr")

    journey.ask_preview()
    journey.wait_for_preview()
    assert journey.box(BENEFICIARIES).is_checked() and not journey.box(ADDRESS).is_checked()
    summary = page.locator("[data-preview-summary]").inner_text()
    assert "viennent d'être lues auprès de la CAF ou de la MSA." in summary  # Cnous: nothing
    assert "2\u00a0550\u00a0€" in page.locator(f'[data-scope="{REQUIRED}"]').inner_text()
    journey.check("consent-preview-fr")

    scopes = journey.approve()
    assert BENEFICIARIES in scopes and REQUIRED in scopes and STUDENT in scopes
    assert ADDRESS not in scopes


def test_english_phone_waiting_page_then_preview_keeps_the_tick(broker, english_phone_page):
    page = english_phone_page
    # The slow citizen: the providers take over a second, the waiting page stays that long.
    journey = Journey(broker, page, "en", login="scenario_lent", phone=True)
    assert page.locator("[data-controller]").get_attribute("lang") is None
    assert page.locator("[data-retention]").get_attribute("lang") == "fr"  # the French text
    journey.box(ADDRESS).check()
    journey.check("consent-en-phone")

    with page.expect_request(lambda request: "apercu=1" in request.url) as reading:
        journey.ask_preview()
    # The waiting page asked for the preview at once, sealed, with the tick. Stopped there, as
    # the browser's Stop button does, it stays on screen while the broker still reads the
    # providers, to be checked like any page (axe cannot run while a navigation is pending).
    stop(page)
    asked = parse_qs(urlsplit(reading.value.url).query)
    assert asked["choix"] == [ADDRESS] and asked["sceau"]
    assert "attente=1" in page.url and page.locator("[data-waiting]").count() == 1
    assert page.get_by_role("heading", level=1).inner_text() == "Reading your data"
    providers = page.locator("[data-waiting-providers] li").all_inner_texts()
    assert providers == ["The CAF or the MSA", "The Cnous"]
    journey.check("consent-waiting-en-phone")
    page.locator("[data-waiting] a").click()  # the link for a browser that does not refresh

    journey.wait_for_preview()
    late = page.locator('[data-provider="cnaf"] [data-preview-status="failed"]').inner_text()
    assert "The CAF or the MSA did not answer in time." in late
    assert journey.box(ADDRESS).is_checked() and not journey.box(BENEFICIARIES).is_checked()
    journey.check("consent-preview-en-phone")
    scopes = journey.approve()
    assert ADDRESS in scopes and BENEFICIARIES not in scopes and REQUIRED in scopes


def test_french_phone_slow_providers_the_waiting_page_is_painted(broker, phone_page):
    page = phone_page
    journey = Journey(broker, page, "fr", login="scenario_lent", phone=True)
    journey.box(BENEFICIARIES).check()
    cdp = page.context.new_cdp_session(page)
    before = capture(cdp)
    answered: list[str] = []
    page.on("response", lambda response: answered.append(response.url))
    with page.expect_request(lambda request: "apercu=1" in request.url):
        journey.ask_preview()
    # The providers are being read (over a second: the slow scenario). Playwright, and the
    # DevTools commands a page answers itself (DOM.getDocument, Runtime.evaluate), wait for
    # the next page; the browser answers these at once: what it paints, and which document
    # it shows.
    page.wait_for_timeout(300)
    waiting = capture(cdp)
    history = cdp.send("Page.getNavigationHistory")
    shown = history["entries"][history["currentIndex"]]
    assert not any("apercu=1" in url for url in answered)  # the read is still pending
    assert "attente=1" in shown["url"]
    assert shown["title"].startswith("Lecture de vos données en cours")  # the waiting page's
    journey.wait_for_preview()
    after = capture(cdp)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "consent-waiting-fr-phone.png").write_bytes(waiting)
    assert waiting not in (before, after)  # neither the consent page nor the preview
    late = page.locator('[data-provider="cnaf"] [data-preview-status="failed"]').inner_text()
    assert "La CAF ou la MSA n'a pas répondu à temps." in late
    assert (
        "Si vous acceptez, le service les demandera lui-même à la CAF ou à la MSA. "
        "Si vous refusez, il ne les demandera pas." in late
    )
    assert "empêche" not in page.content()
    assert journey.box(BENEFICIARIES).is_checked()
    journey.check("consent-slow-fr-phone")
    scopes = journey.approve()
    assert BENEFICIARIES in scopes and ADDRESS not in scopes


def test_french_waiting_page_read_and_checked_while_the_providers_answer(broker, page):
    """The waiting page itself, in French on a laptop: stopped as in the English test."""
    journey = Journey(broker, page, "fr", login="scenario_lent")
    with page.expect_request(lambda request: "apercu=1" in request.url):
        journey.ask_preview()
    stop(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Lecture de vos données en cours"
    assert page.locator("[data-waiting-providers] li").all_inner_texts() == [
        "La CAF ou la MSA",
        "Le Cnous",
    ]
    journey.check("consent-waiting-fr")


def test_english_laptop_failing_providers(broker, english_page):
    page = english_page
    journey = Journey(broker, page, "en", login="scenario_maintenance")
    journey.box(BENEFICIARIES).check()
    journey.ask_preview()
    journey.wait_for_preview()
    failed = page.locator('[data-preview-status="failed"]')
    assert failed.count() == 2  # the CAF and the Cnous, each in its own words
    assert "the CAF or the MSA" in failed.first.inner_text()
    assert "the Cnous" in failed.last.inner_text()
    text = page.locator("main").inner_text()
    assert "empêche" not in text and "prevent" not in text
    journey.check("consent-failing-en")
    scopes = journey.approve()
    assert BENEFICIARIES in scopes and ADDRESS not in scopes
