"""Signing out (RP-Initiated Logout 1.0), over sockets: the broker's session, then the demo
identity provider's, then back to the service at its registered address."""

from __future__ import annotations

import httpx

from tests.helpers import (
    DEMO_IDP,
    AuthorizationRequest,
    Browser,
    query,
    redeem,
    register_client,
)

AFTER = "http://127.0.0.1:9/apres-deconnexion"


def signed_in(broker):
    client = register_client(broker.state, post_logout_redirect_uris=(AFTER,))
    browser = Browser(broker.url)
    request = AuthorizationRequest(client)
    received = browser.sign_in(request)
    token = redeem(broker.url, client, received["code"], request.verifier).json()
    return client, browser, token["id_token"]


def session_alive(browser: Browser, client) -> bool:
    response = browser.authorize(AuthorizationRequest(client, extra={"prompt": "none"}))
    return "code" in query(response.headers["location"])


def test_discovery_names_the_end_session_endpoint(broker):
    metadata = httpx.get(f"{broker.url}/.well-known/openid-configuration").json()
    assert metadata["end_session_endpoint"] == f"{broker.url}/logout"


def test_logout_ends_the_broker_and_provider_sessions_then_returns(broker, demo_idp):
    client, browser, id_token = signed_in(broker)
    assert session_alive(browser, client)
    out = browser.get(
        "/logout",
        params={"id_token_hint": id_token, "post_logout_redirect_uri": AFTER, "state": "s-1"},
    )
    assert out.status_code == 303, out.text
    upstream = out.headers["location"]
    assert upstream.startswith(f"{demo_idp.url}/{DEMO_IDP}/logout?")
    assert query(upstream)["post_logout_redirect_uri"] == f"{broker.url}/federation/logged-out"
    back = browser.get(upstream)  # the provider ends its session, sends the browser back
    assert back.status_code == 303
    onward = browser.get(back.headers["location"])
    assert onward.headers["location"] == f"{AFTER}?state=s-1"
    assert not session_alive(browser, client)
    # The provider's session is over too: it asks for the password again.
    login_url = browser.authorize(AuthorizationRequest(client)).headers["location"]
    page = browser.get(login_url)
    leave = browser.post(login_url, data={"csrf_token": browser.csrf(page), "idp": DEMO_IDP})
    assert browser.get(leave.headers["location"]).status_code == 200


def test_attack_unregistered_post_logout_redirect_uri(broker):
    client, browser, id_token = signed_in(broker)
    out = browser.get(
        "/logout",
        params={"id_token_hint": id_token, "post_logout_redirect_uri": "https://evil.example/"},
    )
    assert out.status_code == 400 and "location" not in out.headers
    assert session_alive(browser, client), "nothing ended on a refused request"
    forged = browser.get("/logout", params={"id_token_hint": id_token + "x"})
    assert forged.status_code == 400 and session_alive(browser, client)


def test_attack_logout_without_proof_asks_the_citizen(broker):
    """Another site cannot sign the citizen out unawares: without a matching id_token_hint
    the broker asks, and only the form it showed (its token) goes through."""
    client, browser, _ = signed_in(broker)
    page = browser.get("/logout")
    assert page.status_code == 200 and "Se déconnecter ?" in page.text
    assert session_alive(browser, client)
    forged = browser.post("/logout", data={"confirm_token": "forged"})
    assert forged.status_code == 200 and session_alive(browser, client)
    confirmed = browser.post("/logout", data={"confirm_token": browser_token(page.text)})
    assert confirmed.status_code == 303 and not session_alive(browser, client)


def browser_token(page_text: str) -> str:
    import re

    return re.search(r'name="confirm_token" value="([^"]+)"', page_text).group(1)


def test_attack_forged_continuation_goes_nowhere_else(broker):
    browser = Browser(broker.url)
    forged = browser.get(
        "/federation/logged-out", params={"state": "eyJ0byI6Imh0dHBzOi8vZXZpbCJ9.00"}
    )
    assert forged.headers["location"] == f"{broker.url}/logout/done"
    assert browser.get(forged.headers["location"]).status_code == 200


def test_the_citizen_space_sign_out_ends_the_provider_session_too(broker, demo_idp):
    browser = Browser(broker.url)
    assert browser.space_login().status_code == 303
    space = browser.get("/espace")
    out = browser.post("/espace/deconnexion", data={"csrf_token": browser.csrf(space)})
    assert out.headers["location"].startswith(f"{demo_idp.url}/{DEMO_IDP}/logout?")
    back = browser.get(out.headers["location"])
    onward = browser.get(back.headers["location"])
    assert onward.headers["location"] == "/espace/connexion"
    assert browser.get("/espace").headers["location"] == "/espace/connexion"
