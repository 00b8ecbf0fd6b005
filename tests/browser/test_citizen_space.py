"""The citizen space in Chromium, in French and English, on a laptop and on a 390-pixel phone:
current consents first and ended ones folded, the journal with its provider, data and identity
columns and its filter by service, the receipt on screen and on paper, the readable export,
and withdrawing after a confirmation page. Every page is screenshotted (``space-*``), scanned
with axe-core, checked for scope codes, and on phones checked to fit the width.

The state is built once for the module through real flows over HTTP (sign-ins, consents,
data API calls, a withdrawal); each test then signs in to the space through the real
sign-in page and the demo identity provider."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from tests.browser.conftest import fits_width, screenshot, serious_violations
from tests.consent.test_space_support import (
    INFORMATION,
    REQUIRED,
    Given,
    codes_in,
    give_consent,
    read_userinfo,
)
from tests.e2e.data_api_support import (
    DINUM,
    api_key,
    identite_params,
    live_broker,
    live_data_api,
)
from tests.helpers import DEMO_IDP, AuthorizationRequest, register_client
from tests.servers import LiveServer

QF = "/v3/dss/quotient_familial"
CANTEEN = "Cantine de Villebourg"
AGENTS = "Logiciel des agents du CCAS"


@dataclass
class World:
    broker: LiveServer
    canteen: Given  # active, approved twice, read through the data API
    ended: str  # a withdrawn consent's id

    @property
    def url(self) -> str:
        return self.broker.url


@pytest.fixture(scope="module")
def world(db_factory, demo_idp, simulators, tmp_path_factory):
    with (
        live_broker(db_factory, tmp_path_factory.mktemp("space") / "var", demo_idp) as broker,
        live_data_api(broker, simulators) as data_api,
    ):
        canteen = give_consent(broker, CANTEEN)
        give_consent(
            broker, CANTEEN, browser=canteen.browser, client=canteen.client,
            extra={"prompt": "consent"},
        )  # fmt: skip
        read = httpx.get(
            f"{data_api.url}{QF}/france_connect",
            headers={"Authorization": f"Bearer {canteen.token['access_token']}"},
        )
        assert read.status_code == 200, read.text
        read_userinfo(broker, canteen)  # the service reads the identity at userinfo
        key = api_key(broker, REQUIRED, service=AGENTS)
        by_key = httpx.get(
            f"{data_api.url}{QF}/identite",
            params={**identite_params("test"), "recipient": DINUM},
            headers={"Authorization": f"Bearer {key.secret}"},
        )
        assert by_key.status_code == 200, by_key.text
        grant = give_consent(broker, "Bourse communale", browser=canteen.browser)
        confirm = canteen.browser.get(f"/espace/accords/{grant.consent_id}/retrait")
        canteen.browser.post(
            f"/espace/accords/{grant.consent_id}/retrait",
            data={"csrf_token": canteen.browser.csrf(confirm)},
        )
        library = register_client(broker.state, name="Médiathèque", scope="openid email")
        canteen.browser.sign_in(AuthorizationRequest(library), decision="refuse")
        yield World(broker, canteen, grant.consent_id)


def sign_in(page, world: World) -> None:
    """Through the space's sign-in page and the demo identity provider, as citizen "test"."""
    page.goto(world.url + "/espace/connexion")
    page.locator(f'button[name="idp"][value="{DEMO_IDP}"]').click()
    page.locator("#login").fill("test")
    page.locator("#password").fill("123")
    page.locator("#password").press("Enter")
    page.wait_for_url(world.url + "/espace")


def check(page, name: str, phone: bool = False) -> None:
    screenshot(page, name)
    assert serious_violations(page) == [], name
    assert codes_in(page.content()) == [], name
    if phone:
        assert fits_width(page), name


def test_space_journal_receipt_and_export_in_french(world, page):
    sign_in(page, world)
    assert page.locator("section.consent").count() >= 1
    card = page.locator("section.consent", has_text=CANTEEN)  # approved twice: one card
    assert card.count() == 1 and "(et aussi le " in card.inner_text()
    assert card.locator("[data-last-access]").get_attribute("data-last-access")
    withdraw = card.get_by_role("link", name="Retirer mon accord")
    assert "button-secondary" in withdraw.get_attribute("class")
    assert page.locator("main button:not(.button-secondary)").count() == 0  # no main button
    ended = page.locator("details[data-ended]")
    assert not ended.evaluate("details => details.open")
    check(page, "space-overview")
    ended.locator("summary").click()
    assert ended.locator(f'[data-consent="{world.ended}"]').get_attribute("data-status") == (
        "revoked"
    )
    assert ended.locator(".data-list, .badge").count() == 0  # no cards, no ticks
    check(page, "space-overview-ended-open")

    page.get_by_role("link", name="Accès à vos données").click()
    assert page.locator('[data-kind="identity"]').count() == 1
    assert page.locator('[data-kind="data"]').count() == 2
    assert "Caisse nationale des allocations familiales" in page.locator("table").inner_text()
    check(page, "space-journal")
    page.get_by_label("Service").select_option(label=AGENTS)
    page.get_by_role("button", name="Afficher").click()
    assert "service=" in page.url
    assert page.locator("[data-access]").count() == 1
    assert "logiciel d'un agent" in page.locator("[data-identity]").inner_text()
    check(page, "space-journal-filtered")

    page.goto(world.url + "/espace")
    page.get_by_role("link", name="Voir le reçu").first.click()
    receipt = page.locator("[data-receipt]")
    assert INFORMATION["controller"] in receipt.inner_text()
    assert INFORMATION["reasons"][REQUIRED] in receipt.inner_text()
    check(page, "space-receipt")
    page.emulate_media(media="print")
    assert not page.locator(".site-footer").is_visible()
    assert not page.get_by_role("link", name="Télécharger le reçu signé").is_visible()
    screenshot(page, "space-receipt-print")
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le reçu signé").click()
    assert download.value.suggested_filename.endswith(".jws")

    page.goto(world.url + "/espace")
    page.get_by_role("link", name="Tout ce que le courtier détient sur vous").click()
    identity = page.locator("[data-identity-field]")
    assert "Paris 7e Arrondissement" in identity.all_inner_texts()
    assert "24 août 1962" in identity.all_inner_texts()
    check(page, "space-export")
    page.emulate_media(media="print")
    assert not page.locator(".site-footer").is_visible()
    screenshot(page, "space-export-print")


def test_space_on_a_french_phone_is_short_and_fits(world, phone_page):
    page = phone_page
    sign_in(page, world)
    check(page, "space-overview-phone", phone=True)
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 2600, f"the space is {height} px tall on a phone"
    page.goto(world.url + "/espace/acces")
    check(page, "space-journal-phone", phone=True)
    page.goto(world.url + "/espace/mes-donnees")
    check(page, "space-export-phone", phone=True)


def test_withdraw_after_a_confirmation_page_on_a_phone(world, phone_page):
    page = phone_page
    given = give_consent(world.broker, "Piscine municipale")
    sign_in(page, world)
    card = page.locator(f'section[data-consent="{given.consent_id}"]')
    card.get_by_role("link", name="Retirer mon accord").click()
    page.wait_for_url(f"**/espace/accords/{given.consent_id}/retrait")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Retirer votre accord")
    assert INFORMATION["retention"] in page.locator("main").inner_text()
    check(page, "space-withdraw-confirm-phone", phone=True)
    page.get_by_role("link", name="Annuler").click()
    page.wait_for_url(world.url + "/espace")
    assert card.get_attribute("data-status") == "active"

    card.get_by_role("link", name="Retirer mon accord").click()
    page.get_by_role("button", name="Confirmer le retrait").click()
    page.wait_for_url("**/espace?notice=revoked")
    assert page.locator("[data-notice]").count() == 1
    assert page.locator(f'section[data-consent="{given.consent_id}"]').count() == 0
    ended = page.locator(f'details[data-ended] [data-consent="{given.consent_id}"]')
    assert ended.get_attribute("data-status") == "revoked"
    check(page, "space-withdrawn-phone", phone=True)


def test_space_in_english_on_a_laptop(world, english_page):
    page = english_page
    sign_in(page, world)
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Your consents"
    card = page.locator("section.consent", has_text=CANTEEN)
    assert card.get_by_role("link", name="Withdraw my consent").count() == 1
    check(page, "space-overview-en")
    page.get_by_role("link", name="Access to your data").click()
    table = page.locator("table").inner_text()
    assert "National Family Allowance Fund" in table and "The consent broker" in table
    check(page, "space-journal-en")
    page.goto(world.url + "/espace")
    page.get_by_role("link", name="View the receipt").first.click()
    assert "Responsible for the data" in page.locator("[data-receipt]").inner_text()
    check(page, "space-receipt-en")
    page.goto(world.url + "/espace/mes-donnees")
    assert "24 August 1962" in page.locator("[data-identity-field]").all_inner_texts()
    check(page, "space-export-en")


def test_space_in_english_on_a_phone(world, english_phone_page):
    page = english_phone_page
    given = give_consent(world.broker, "Centre de loisirs")
    sign_in(page, world)
    check(page, "space-overview-en-phone", phone=True)
    page.locator("details[data-ended] summary").click()
    check(page, "space-overview-ended-en-phone", phone=True)
    page.goto(world.url + "/espace/acces")
    page.get_by_label("Service").select_option(label=CANTEEN)
    page.get_by_role("button", name="Show").click()
    assert page.locator('[data-kind="identity"]').count() == 1
    check(page, "space-journal-filtered-en-phone", phone=True)
    page.goto(world.url + f"/espace/accords/{given.consent_id}/retrait")
    assert page.get_by_role("button", name="Confirm the withdrawal").count() == 1
    check(page, "space-withdraw-confirm-en-phone", phone=True)
    page.goto(world.url + f"/espace/accords/{given.consent_id}/recu")
    check(page, "space-receipt-en-phone", phone=True)
