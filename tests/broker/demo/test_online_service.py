"""The demo online service signs a citizen in through a real broker, both over sockets: its
session, its prices, its language."""

from __future__ import annotations

import contextlib
import itertools
import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc.jwk import ECKey
from litestar import Litestar, get
from litestar.response import Response

from broker.demo.online_service import RelyingParty, create_service_app
from broker.demo.online_service.account import price_view
from broker.demo.online_service.data_api import DataResult
from broker.demo.online_service.language import Language
from broker.demo.online_service.pricing import BANDS, FULL_PRICE, band_for, grid_rows
from broker.demo.online_service.sessions import IDLE, MAX_AGE, open_session
from broker.demo.seed import DEMO_CLIENT_ID, demo_service_key, seed_demo_service
from tests.helpers import Browser
from tests.servers import bound_socket, serve_app, start_asgi

NBSP = "\u00a0"


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


def callback_url(service: httpx.Client, browser: Browser, decision: str = "approve") -> str:
    """The callback address the broker sends ``service`` (a browser at the service) back to,
    after signing in and answering the consent screen with ``decision``; not followed."""
    start = service.get("/login")
    assert start.status_code == 302
    response = browser.get(start.headers["location"])
    response = browser.login(response.headers["location"])
    response = browser.consent(response.headers["location"], decision)
    callback = response.headers["location"]
    assert callback.startswith(str(service.base_url).rstrip("/") + "/callback")
    return callback


def follow_to_broker(
    service_url: str, browser: Browser, decision: str, headers: dict[str, str] | None = None
) -> tuple[httpx.Client, httpx.Response]:
    """The citizen's browser at the service (its cookies kept) and the page the callback led
    to, after signing in at the broker and answering the consent screen with ``decision``."""
    service = httpx.Client(base_url=service_url, headers=headers, timeout=10)
    callback = callback_url(service, browser, decision)
    return service, service.get(callback, follow_redirects=True)


def sign_out_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no sign-out token on the page"
    return match.group(1)


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """The response's Set-Cookie headers by cookie name, lower-cased."""
    return {
        header.split("=", 1)[0]: header.lower()
        for header in response.headers.get_list("set-cookie")
    }


def test_citizen_signs_in_to_the_demo_service(broker, demo_service):
    service = httpx.Client(base_url=demo_service, timeout=10)
    browser = Browser(broker.url)
    start = service.get("/login")
    # The sign-in is tied to this browser: its state, in a short-lived cookie for the callback.
    login_cookie = set_cookies(start)["cantine_login"]
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    assert login_cookie.startswith(f"cantine_login={state.lower()};")
    for attribute in ("httponly", "samesite=lax", "max-age=600", "path=/callback"):
        assert attribute in login_cookie
    response = browser.get(start.headers["location"])
    response = browser.login(response.headers["location"])
    response = browser.consent(response.headers["location"], "approve")
    callback = service.get(response.headers["location"])
    # Post/Redirect/Get: the callback's single-use URL is not the page a reload replays.
    assert callback.status_code == 303 and callback.headers["location"] == "/"
    cookies = set_cookies(callback)
    cookie = cookies["cantine_session"]
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert f"max-age={MAX_AGE}" in cookie
    assert "max-age=0" in cookies["cantine_login"]  # the sign-in is over: its cookie goes
    replayed = service.get(response.headers["location"])  # the Back button, say
    assert replayed.status_code == 400 and "invalid_state" in replayed.text
    page = service.get("/")
    assert page.status_code == 200, page.text
    assert "Bonjour Angela Claire Louise" in page.text and "DUBOIS" in page.text
    assert 'data-acr="eidas1">faible (eIDAS 1)<' in page.text
    assert page.headers["cache-control"] == "no-store"  # the citizen's own data


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


def test_demo_service_reports_a_refusal(broker, demo_service):
    _, page = follow_to_broker(demo_service, Browser(broker.url), "refuse")
    assert page.status_code == 403 and "access_denied" in page.text


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


def test_signing_out_of_the_demo_service_signs_out_of_the_broker_and_the_provider(
    broker, demo_service
):
    browser = Browser(broker.url)
    service, page = follow_to_broker(demo_service, browser, "approve")
    assert 'action="/logout"' in page.text
    out = service.post("/logout", data={"csrf_token": sign_out_token(page.text)})
    assert out.headers["location"].startswith(f"{broker.url}/logout?id_token_hint=")
    assert parse_qs(urlsplit(out.headers["location"]).query)["ui_locales"] == ["fr"]
    at_broker = browser.get(out.headers["location"])  # the hint names this citizen: no question
    at_idp = browser.get(at_broker.headers["location"])
    back = browser.get(at_idp.headers["location"])
    assert back.headers["location"].startswith(f"{demo_service}/?state=")
    again = service.get("/refresh")
    assert again.status_code == 401
    home = service.get("/")
    assert 'href="/login"' in home.text and "Bonjour" not in home.text


# --- the session, against a stand-in data API ----------------------------------------------

QUOTIENT = {"quotient_familial": {"fournisseur": "CNAF", "valeur": 2550, "annee": 2026, "mois": 3}}


@contextlib.contextmanager
def service_with_a_session(calls: list[int]):
    """The demo service holding one signed-in session (its id in the client's cookie and in
    ``client.session_id``), and a data API that counts its calls."""

    @get("/v3/dss/quotient_familial/france_connect")
    async def quotient() -> Response:
        calls.append(1)
        return Response({"data": QUOTIENT})

    with start_asgi(Litestar([quotient])) as data_api_url:
        rp = RelyingParty(
            issuer="http://127.0.0.1:9",
            client_id=DEMO_CLIENT_ID,
            private_key=ECKey.generate_key("P-256"),
            base_url="http://x",
            data_api_url=data_api_url,
        )
        values = {
            "claims": {"sub": "sub-1", "given_name": "Angela", "family_name": "DUBOIS"},
            "acr": "eidas1",
            "access_token": "at",
            "id_token": "id",
            "granted": {"cnaf_quotient_familial"},
        }
        session_id = open_session(rp.sessions, values, time.time())
        with start_asgi(create_service_app(rp)) as url:
            client = httpx.Client(base_url=url, cookies={"cantine_session": session_id}, timeout=10)
            client.session_id = session_id  # type: ignore[attr-defined]
            yield client, rp


def test_the_home_page_keeps_the_session_and_reads_the_data_once():
    calls: list[int] = []
    with service_with_a_session(calls) as (service, _rp):
        pages = [service.get("/") for _ in range(3)]
        assert len(calls) == 1  # read once, then kept in the session
        assert all(
            "Bonjour Angela DUBOIS" in p.text and "data-quotient>2550<" in p.text for p in pages
        )
        assert "data-refreshed" not in pages[0].text
        refreshed = service.get("/refresh")
        assert len(calls) == 2 and "data-refreshed" in refreshed.text
        assert "data-refreshed" in service.get("/").text  # the home page says when, too
        assert "mars 2026" in pages[0].text  # the quotient's month, in words


def test_attack_an_invented_session_cookie_signs_nobody_in():
    with service_with_a_session([]) as (service, _rp):
        forged_cookie = {"cantine_session": "s2"}
        forged = httpx.get(f"{service.base_url}/", cookies=forged_cookie)
        assert 'href="/login"' in forged.text and "Bonjour" not in forged.text
        # The dead cookie is cleared.
        assert "cantine_session=" in forged.headers["set-cookie"]
        assert "max-age=0" in forged.headers["set-cookie"].lower()
        assert httpx.get(f"{service.base_url}/refresh", cookies=forged_cookie).status_code == 401


def test_an_expired_session_is_forgotten():
    """A session ends MAX_AGE after the sign-in, or IDLE after its last page; an ended one
    is dropped from the table at the next look-up, whoever makes it."""
    with service_with_a_session([]) as (service, rp):
        now = time.time()
        assert "Bonjour" in service.get("/").text
        session = rp.sessions[service.session_id]
        assert now <= session["seen"] <= time.time()  # each page counts as activity
        # Other citizens' sessions: one signed in too long ago, one left idle, one alive.
        rp.sessions["old"] = {"at": int(now) - MAX_AGE - 1, "seen": now}
        rp.sessions["idle"] = {"at": int(now) - IDLE - 60, "seen": now - IDLE - 1}
        rp.sessions["alive"] = {"at": int(now) - IDLE - 60, "seen": now - IDLE + 60}

        session["at"] = int(now) - MAX_AGE - 1  # this one, busy but signed in too long ago
        page = service.get("/")
        assert 'href="/login"' in page.text and "Bonjour" not in page.text
        assert "max-age=0" in set_cookies(page)["cantine_session"]  # its cookie is cleared
        assert set(rp.sessions) == {"alive"}  # every ended session is forgotten

        rp.sessions["alive"]["seen"] = now - IDLE - 1
        url = str(service.base_url).rstrip("/")
        late = httpx.get(url + "/refresh", cookies={"cantine_session": "alive"})
        assert late.status_code == 401  # idle too long
        assert rp.sessions == {}


def test_attack_login_csrf_callback_from_another_browser(broker, demo_service):
    """An attacker signs in, stops before the callback and gets a victim to open its address:
    the victim's browser did not start that sign-in, so it signs nobody in there, even while
    a sign-in of its own is under way."""
    attacker = httpx.Client(base_url=demo_service, timeout=10)
    planted = callback_url(attacker, Browser(broker.url))
    victim = httpx.Client(base_url=demo_service, timeout=10)
    for victim_started_a_sign_in in (False, True):
        if victim_started_a_sign_in:
            victim.get("/login")
        page = victim.get(planted)
        assert page.status_code == 400 and "invalid_state" in page.text
        assert "cantine_session" not in set_cookies(page)
        # The victim's own sign-in in progress keeps its cookie.
        assert "cantine_login" not in set_cookies(page)
        home = victim.get("/")
        assert 'href="/login"' in home.text and "Bonjour" not in home.text
    english = victim.get(planted, headers={"Accept-Language": "en"})
    assert "This answer does not match any sign-in in progress in this browser." in english.text
    # The refusal was the tie to the browser: the attacker's own browser still gets in.
    own = attacker.get(planted)
    assert own.status_code == 303 and "cantine_session" in set_cookies(own)


def test_attack_a_callback_without_the_sign_in_cookie_or_too_late():
    rp = RelyingParty(
        issuer="http://127.0.0.1:9",
        client_id=DEMO_CLIENT_ID,
        private_key=ECKey.generate_key("P-256"),
        base_url="http://x",
    )
    rp.pending["late"] = {"verifier": "v", "nonce": "n", "at": time.time() - 601}
    with start_asgi(create_service_app(rp)) as url:
        late = httpx.get(
            url + "/callback",
            params={"state": "late", "code": "c"},
            cookies={"cantine_login": "late"},
        )
        assert late.status_code == 400 and "invalid_state" in late.text
        rp.pending["bare"] = {"verifier": "v", "nonce": "n", "at": time.time()}
        bare = httpx.get(url + "/callback", params={"state": "bare", "code": "c"})
        assert bare.status_code == 400 and "invalid_state" in bare.text
        empty = httpx.get(url + "/callback", cookies={"cantine_login": ""})
        assert empty.status_code == 400 and "invalid_state" in empty.text
    assert "late" not in rp.pending and "bare" in rp.pending  # untouched: not this browser's


def test_attack_logout_without_token():
    """A form on another site posting to /logout (the cookie goes with a top-level POST in
    some browsers) does not sign the citizen out: the form must carry the session's token."""
    with service_with_a_session([]) as (service, rp):
        page = service.get("/")
        token = sign_out_token(page.text)
        assert token == rp.sessions[service.session_id]["sign_out_token"]
        other = open_session(rp.sessions, {}, time.time())
        forged = [
            {},
            {"csrf_token": ""},
            {"csrf_token": "guess"},
            {"csrf_token": rp.sessions[other]["sign_out_token"]},  # another session's token
        ]
        for data in forged:
            out = service.post("/logout", data=data)
            assert out.status_code == 403 and "invalid_csrf_token" in out.text, data
            assert "set-cookie" not in out.headers
            assert service.session_id in rp.sessions  # still signed in
        assert "Bonjour" in service.get("/").text
        english = service.post("/logout", data={}, headers={"Accept-Language": "en"})
        assert "You are still signed in." in english.text


def test_a_session_ended_by_the_broker_is_forgotten_by_the_home_page():
    with service_with_a_session([]) as (service, rp):
        assert "Bonjour" in service.get("/").text
        rp.sessions.clear()  # what the back-channel logout receiver does
        assert 'href="/login"' in service.get("/").text


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
