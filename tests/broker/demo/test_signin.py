"""Signing in to the demo service through a real broker and out of both
(``broker.demo.online_service.signin``): the sign-in tied to the browser by its cookie, the
callback's checks, the sign-out form's token."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
from joserfc.jwk import ECKey

from broker.demo.online_service import RelyingParty, create_service_app
from broker.demo.online_service.sessions import MAX_AGE, login_cookie, open_session
from broker.demo.seed import DEMO_CLIENT_ID
from tests.broker.demo.helpers import (
    callback_url,
    follow_to_broker,
    service_with_a_session,
    set_cookies,
    sign_out_token,
)
from tests.helpers import Browser
from tests.servers import start_asgi


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


def test_demo_service_reports_a_refusal(broker, demo_service):
    _, page = follow_to_broker(demo_service, Browser(broker.url), "refuse")
    assert page.status_code == 403 and "access_denied" in page.text


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


def test_the_sign_in_cookie_goes_to_the_callback_under_a_path_prefix():
    """A service served under a path prefix (behind a reverse proxy) gets its sign-in cookie
    back at its callback: the cookie's path is the redirect URI's, when set and when cleared."""
    rp = RelyingParty(
        issuer="http://127.0.0.1:9",
        client_id=DEMO_CLIENT_ID,
        private_key=ECKey.generate_key("P-256"),
        base_url="https://mairie.villebourg.example/cantine",
    )
    for cookie in (login_cookie(rp, "state"), login_cookie(rp)):
        assert cookie.path == "/cantine/callback" and cookie.secure and cookie.httponly


def test_the_sign_in_cookie_path_is_the_redirect_uri_the_broker_gets(broker):
    """Served, with a prefix in its base URL: the cookie is scoped to the path of the very
    redirect URI the authorization request sends the broker, which sends the browser there."""
    rp = RelyingParty(
        issuer=broker.url,
        client_id=DEMO_CLIENT_ID,
        private_key=ECKey.generate_key("P-256"),
        base_url="http://127.0.0.1:9/cantine",
    )
    with start_asgi(create_service_app(rp)) as url:
        start = httpx.get(url + "/login")
    assert start.status_code == 302
    redirect_uri = parse_qs(urlsplit(start.headers["location"]).query)["redirect_uri"][0]
    assert redirect_uri == "http://127.0.0.1:9/cantine/callback"
    assert "path=/cantine/callback;" in set_cookies(start)["cantine_login"] + ";"
