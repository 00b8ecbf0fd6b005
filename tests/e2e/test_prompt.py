"""prompt, max_age and single sign-on across requests of one browser."""

from __future__ import annotations

import time

from tests.flow_state_edits import rewrite_session_auth_time
from tests.helpers import (
    DEMO_IDP,
    AuthorizationRequest,
    Browser,
    query,
    register_client,
)


def test_prompt_none_without_session_is_login_required(broker):
    client = register_client(broker.state)
    request = AuthorizationRequest(client, extra={"prompt": "none"})
    received = query(Browser(broker.url).authorize(request).headers["location"])
    assert received["error"] == "login_required"
    assert received["state"] == request.state and received["iss"] == broker.url


def test_session_skips_login_and_remembered_consent_skips_screen(broker):
    client = register_client(broker.state)
    browser = Browser(broker.url)
    browser.sign_in(AuthorizationRequest(client))
    response = browser.authorize(AuthorizationRequest(client))
    assert "code" in query(response.headers["location"])
    silent = browser.authorize(AuthorizationRequest(client, extra={"prompt": "none"}))
    assert "code" in query(silent.headers["location"])


def test_prompt_none_with_session_but_no_consent_is_consent_required(broker):
    first = register_client(broker.state, name="Premier service")
    second = register_client(broker.state, name="Second service")
    browser = Browser(broker.url)
    browser.sign_in(AuthorizationRequest(first))
    request = AuthorizationRequest(second, extra={"prompt": "none"})
    received = query(browser.authorize(request).headers["location"])
    assert received["error"] == "consent_required" and received["iss"] == broker.url
    # Without prompt=none the citizen goes straight to consent: the session is reused.
    response = browser.authorize(AuthorizationRequest(second))
    assert response.headers["location"].endswith("/consent")


def test_prompt_login_forces_authentication(broker):
    client = register_client(broker.state)
    browser = Browser(broker.url)
    browser.sign_in(AuthorizationRequest(client))
    response = browser.authorize(AuthorizationRequest(client, extra={"prompt": "login"}))
    assert response.headers["location"].endswith("/login")


def test_prompt_consent_shows_the_screen_again(broker):
    client = register_client(broker.state)
    browser = Browser(broker.url)
    browser.sign_in(AuthorizationRequest(client))
    response = browser.authorize(AuthorizationRequest(client, extra={"prompt": "consent"}))
    assert response.headers["location"].endswith("/consent")


def test_prompt_none_combined_with_another_value_is_invalid(broker):
    client = register_client(broker.state)
    request = AuthorizationRequest(client, extra={"prompt": "none login"})
    received = query(Browser(broker.url).authorize(request).headers["location"])
    assert received["error"] == "invalid_request"


def test_max_age_forces_login_when_authentication_is_older(broker):
    client = register_client(broker.state)
    browser = Browser(broker.url)
    browser.sign_in(AuthorizationRequest(client))
    rewrite_session_auth_time(broker.state, browser, int(time.time()) - 120)
    fresh_enough = browser.authorize(AuthorizationRequest(client, extra={"max_age": "300"}))
    assert "code" in query(fresh_enough.headers["location"])
    too_old = browser.authorize(AuthorizationRequest(client, extra={"max_age": "60"}))
    assert too_old.headers["location"].endswith("/login")
    silent = browser.authorize(
        AuthorizationRequest(client, extra={"max_age": "60", "prompt": "none"})
    )
    assert query(silent.headers["location"])["error"] == "login_required"


def test_invalid_max_age_and_acr_values_are_rejected(broker):
    client = register_client(broker.state)
    for extra in ({"max_age": "-1"}, {"max_age": "soon"}, {"acr_values": "gold"}):
        request = AuthorizationRequest(client, extra=extra)
        received = query(Browser(broker.url).authorize(request).headers["location"])
        assert received["error"] == "invalid_request", extra


def test_session_below_requested_acr_forces_login(broker):
    client = register_client(broker.state)
    browser = Browser(broker.url)
    browser.sign_in(AuthorizationRequest(client), login="naissance_La_Réunion")  # eidas1
    response = browser.authorize(AuthorizationRequest(client, extra={"acr_values": "eidas2"}))
    assert response.headers["location"].endswith("/login")


def test_session_cookie_from_another_browser_is_ignored(broker):
    client = register_client(broker.state)
    browser = Browser(broker.url)
    browser.sign_in(AuthorizationRequest(client))
    session = browser.http.cookies.get("broker_session")
    thief = Browser(broker.url)
    thief.http.cookies.set("broker_session", session)
    response = thief.authorize(AuthorizationRequest(client))
    assert response.headers["location"].endswith("/login")


def test_unsupported_request_parameters(broker):
    client = register_client(broker.state)
    request = AuthorizationRequest(client, extra={"request": "x"})
    assert (
        query(Browser(broker.url).authorize(request).headers["location"])["error"]
        == "request_not_supported"
    )
    # A request_uri names a pushed request (RFC 9126) or nothing: nothing to redirect to.
    page = Browser(broker.url).authorize(AuthorizationRequest(client, extra={"request_uri": "x"}))
    assert page.status_code == 400 and "invalid_request_uri" in page.text
    request = AuthorizationRequest(client, extra={"response_type": "token"})
    assert (
        query(Browser(broker.url).authorize(request).headers["location"])["error"]
        == "unsupported_response_type"
    )
    request = AuthorizationRequest(client, extra={"scope": "openid cnous_statut_boursier"})
    assert (
        query(Browser(broker.url).authorize(request).headers["location"])["error"]
        == "invalid_scope"
    )
    request = AuthorizationRequest(client, extra={"scope": "profile"})
    assert (
        query(Browser(broker.url).authorize(request).headers["location"])["error"]
        == "invalid_scope"
    )


def test_authorize_by_post(broker):
    client = register_client(broker.state)
    browser = Browser(broker.url)
    response = browser.post("/authorize", data=AuthorizationRequest(client).params())
    assert response.status_code == 303 and response.headers["location"].endswith("/login")


def test_prompt_select_account_offers_another_provider_and_account(broker):
    """Signed in at the broker and at the provider: select_account shows the choice of
    provider again, and the provider's login form (a fresh authentication there), where
    another account can be used."""
    client = register_client(broker.state)
    browser = Browser(broker.url)
    browser.sign_in(AuthorizationRequest(client))
    request = AuthorizationRequest(client, extra={"prompt": "select_account"})
    response = browser.authorize(request)
    assert response.headers["location"].endswith("/login")
    choice = browser.get(response.headers["location"])
    leave = browser.post(
        response.headers["location"],
        data={"csrf_token": browser.csrf(choice), "idp": DEMO_IDP},
    )
    upstream = leave.headers["location"]
    assert query(upstream)["prompt"] == "login"
    at_idp = browser.get(upstream)
    assert at_idp.status_code == 200 and 'name="password"' in at_idp.text


def test_every_advertised_prompt_value_is_accepted(broker):
    import httpx

    advertised = httpx.get(f"{broker.url}/.well-known/openid-configuration").json()
    client = register_client(broker.state)
    for prompt in advertised["prompt_values_supported"]:
        response = Browser(broker.url).authorize(
            AuthorizationRequest(client, extra={"prompt": prompt})
        )
        assert response.status_code == 303, (prompt, response.text)
        assert "error" not in query(response.headers["location"]) or prompt == "none"
