"""The demo online service's pages, over sockets next to a real broker: its prices from the
family quotient, its language (and the broker's following it), values in words. Its sessions
are tested in ``test_sessions``, signing in and out in ``test_signin``."""

from __future__ import annotations

import itertools
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from broker.demo.online_service.account import price_view
from broker.demo.online_service.data_api import DataResult
from broker.demo.online_service.language import Language
from broker.demo.online_service.pricing import BANDS, FULL_PRICE, band_for, grid_rows
from tests.broker.demo.helpers import (
    QUOTIENT,
    follow_to_broker,
    service_with_a_session,
    start_demo_service,
)
from tests.helpers import Browser

NBSP = "\u00a0"


def test_demo_service_prices_the_meal_from_the_family_quotient(broker, demo_service):
    """Broker, data API and CAF simulator, all over real HTTP: the mission end to end. The
    default test citizen's quotient (2550) brings the price below the full price."""
    _, page = follow_to_broker(demo_service, Browser(broker.url), "approve")
    assert "data-quotient>2550<" in page.text
    assert f"data-price>4,20{NBSP}€<" in page.text
    assert f"5,40{NBSP}€ (tarif plein)" in page.text and f"1,20{NBSP}€ de moins" in page.text
    assert '<tr data-band="6" class="current" aria-current="true">' in page.text
    assert page.text.count('aria-current="true"') == 1


def test_demo_service_without_data_api_says_why_and_charges_full_price(broker):
    url, serving = start_demo_service(broker)
    with serving:
        _, page = follow_to_broker(url, Browser(broker.url), "approve")
    assert "data-no-quotient" in page.text and "tarif plein" in page.text
    assert f"data-price>5,40{NBSP}€<" in page.text
    assert '<tr data-band="none" class="current"' in page.text


def test_demo_service_home_page_shows_the_full_price_and_the_grid(demo_service):
    page = httpx.get(demo_service + "/")
    assert page.status_code == 200 and 'href="/login"' in page.text
    assert f"data-full-price>5,40{NBSP}€<" in page.text
    assert page.text.count("<tr data-band=") == len(BANDS) + 1  # and "not shared"
    assert "aria-current" not in page.text  # nobody is signed in: no band is theirs
    assert "script" not in page.text.lower()
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_meal_price_bands():
    prices = {q: band_for(q).cents for q in (0, 450, 451, 700, 1000, 1500, 2000, 2550, 3000)}
    assert prices == {
        0: 50,
        450: 50,
        451: 120,
        700: 120,
        1000: 210,
        1500: 300,
        2000: 360,
        2550: 420,
        3000: 420,
    }
    assert band_for(3001).cents == band_for(99_999).cents == FULL_PRICE == 540
    # No gap, no overlap: each band starts just above the previous one.
    assert all(b.low == a.high + 1 for a, b in itertools.pairwise(BANDS) if a.high)


@pytest.mark.parametrize("value", ["2550", -1, 25.5, True, None])
def test_attack_a_quotient_that_is_not_a_count_gets_the_full_price(value):
    data = {"quotient_familial": {"fournisseur": "CNAF", "valeur": value}}
    shown = price_view(Language("fr"), DataResult(data=data), {"cnaf_quotient_familial"})
    assert shown["quotient"] is None and shown["price"] == f"5,40{NBSP}€"


def test_an_unshared_quotient_is_not_used_even_if_the_data_api_sent_it():
    shown = price_view(Language("en"), DataResult(data=QUOTIENT), granted=set())
    assert shown["quotient"] is None and shown["price"] == "€5.40"


# --- the language ----------------------------------------------------------------------------


def test_french_by_default_english_by_its_switch_remembered_in_its_own_cookie():
    with service_with_a_session([]) as (service, _rp):
        french = service.get("/")
        assert '<html lang="fr">' in french.text and "Bonjour" in french.text
        assert 'href="/?lang=en" hreflang="en" lang="en"' in french.text
        english = service.get("/?lang=en")
        assert '<html lang="en">' in english.text and "Hello Angela" in english.text
        assert "Your price" in english.text and "€4.20" in english.text
        assert english.headers["content-language"] == "en"
        cookie = english.headers["set-cookie"].lower()
        assert cookie.startswith("cantine_lang=en;") and "httponly" in cookie
        remembered = service.get("/refresh")  # the client keeps the cookie
        assert '<html lang="en">' in remembered.text and "Data refreshed on" in remembered.text
        back = service.get("/?lang=fr")
        assert '<html lang="fr">' in back.text


def test_the_browser_language_is_followed_until_the_citizen_chooses():
    with service_with_a_session([]) as (service, _rp):
        english = service.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
        assert '<html lang="en">' in english.text and "set-cookie" not in english.headers
        chosen = service.get("/?lang=fr", headers={"Accept-Language": "en-GB"})
        assert '<html lang="fr">' in chosen.text
        assert '<html lang="fr">' in service.get("/", headers={"Accept-Language": "en"}).text


@pytest.mark.parametrize("value", ["de", 'en"><b>x</b>', "", "EN-GB;"])
def test_attack_an_unknown_language_is_french_and_never_echoed(value):
    with service_with_a_session([]) as (service, _rp):
        service.cookies.set("cantine_lang", value)
        page = service.get("/", params={"lang": value})
    assert '<html lang="fr">' in page.text and "<b>x</b>" not in page.text
    assert "cantine_lang" not in page.headers.get("set-cookie", "")


def test_the_authorization_request_carries_the_page_language(demo_service):
    french = httpx.get(demo_service + "/login")
    english = httpx.get(demo_service + "/login", cookies={"cantine_lang": "en"})
    by_header = httpx.get(demo_service + "/login", headers={"Accept-Language": "en-GB"})
    for response, expected in ((french, "fr"), (english, "en"), (by_header, "en")):
        query = parse_qs(urlsplit(response.headers["location"]).query)
        assert query["ui_locales"] == [expected]


def test_the_broker_pages_follow_the_service_language(broker, demo_service):
    _, page = follow_to_broker(
        demo_service, Browser(broker.url), "approve", headers={"Accept-Language": "en-GB"}
    )
    assert '<html lang="en">' in page.text and "Your price" in page.text
    start = httpx.get(demo_service + "/login", params={"lang": "en"})
    browser = Browser(broker.url)  # a new browser, without the broker's language cookie
    choice = browser.get(browser.get(start.headers["location"]).headers["location"])
    assert choice.status_code == 200
    assert '<html lang="en"' in choice.text  # the broker's provider choice, in English


@pytest.mark.parametrize(
    ("code", "expected"), [("fr", "Paris 7e Arrondissement"), ("en", "Paris 7e Arrondissement")]
)
def test_the_identity_is_shown_in_words_not_codes(code, expected):
    from broker.demo.online_service.account import claims_view

    claims = {"birthdate": "1962-08-24", "birthplace": "75107", "birthcountry": "99100"}
    rows = {row["name"]: row["value"] for row in claims_view(Language(code), claims)}
    assert rows["birthplace"] == expected
    assert rows["birthcountry"] == "France"
    assert "75107" not in rows.values() and "99100" not in rows.values()


@pytest.mark.parametrize(
    ("birthdate", "place", "french", "english"),
    [
        ("1962-08-24", "Bellegarde-sur-Valserine", "24/08/1962", "24/08/1962"),
        # Presumed dates: the name as on the first day of the known part, not today's.
        ("1962-08-00", "Bellegarde-sur-Valserine", "août 1962", "August 1962"),
        ("1950-00-00", "Bellegarde", "1950", "1950"),
        ("pas une date", "Valserhône", "pas une date", "pas une date"),
    ],
)
def test_a_birthplace_is_named_as_at_birth_even_for_a_presumed_date(
    birthdate, place, french, english
):
    from broker.demo.online_service.account import claims_view

    claims = {"birthdate": birthdate, "birthplace": "01033"}  # Valserhône since 2019
    for code, shown in (("fr", french), ("en", english)):
        rows = {row["name"]: row["value"] for row in claims_view(Language(code), claims)}
        assert rows == {"birthdate": shown, "birthplace": place}


def test_a_presumed_date_of_birth_of_a_beneficiary_reads_in_words():
    from broker.demo.online_service.account import born_phrase

    assert born_phrase(Language("fr"), "1962-08-24") == "né(e) le 24/08/1962"
    assert born_phrase(Language("fr"), "1962-08-00") == "né(e) en août 1962"
    assert born_phrase(Language("en"), "1962-00-00") == "born in 1962"
    assert born_phrase(Language("en"), None) == ""


NNBSP = "\u202f"  # the narrow no-break space French puts between thousands


def test_the_band_labels_write_numbers_as_each_language_does():
    french = [row["label"] for row in grid_rows(Language("fr"))]
    assert french == [
        "jusqu'à 450",
        "de 451 à 700",
        "de 701 à 1" + NNBSP + "000",
        "de 1" + NNBSP + "001 à 1" + NNBSP + "500",
        "de 1" + NNBSP + "501 à 2" + NNBSP + "000",
        "de 2" + NNBSP + "001 à 3" + NNBSP + "000",
        "à partir de 3" + NNBSP + "001",
        "quotient familial non communiqué",
    ]
    english = [row["label"] for row in grid_rows(Language("en"))]
    assert english == [
        "up to 450",
        "451 to 700",
        "701 to 1,000",
        "1,001 to 1,500",
        "1,501 to 2,000",
        "2,001 to 3,000",
        "3,001 and above",
        "family quotient not shared",
    ]


def test_the_grid_on_the_page_keeps_its_thousands_together(demo_service):
    page = httpx.get(demo_service + "/")
    assert '<th scope="row">de 1' + NNBSP + "001 à 1" + NNBSP + "500</th>" in page.text
    english = httpx.get(demo_service + "/", params={"lang": "en"})
    assert '<th scope="row">1,001 to 1,500</th>' in english.text
