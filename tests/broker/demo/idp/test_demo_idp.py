"""The demo identity providers as an OpenID Connect provider, tested on their own (the broker's
side is tested over sockets in tests/e2e/test_federation.py)."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from litestar.testing import TestClient

from broker.demo.accounts import DEMO_ACCOUNTS
from broker.demo.idp import DemoIdpClient, DemoIdpOptions, create_demo_idp_app
from broker.demo.idp.accounts import DemoAccounts
from tests.helpers import ONE_TIME_CODE, pkce_pair

BASE = "http://testserver.local"
REDIRECT = "https://broker.example/federation/identite-demo/callback"
STRONG_REDIRECT = "https://broker.example/federation/identite-demo-renforcee/callback"
LOGGED_OUT = "https://broker.example/federation/logged-out"
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
KEY = ECKey.generate_key("P-256", parameters={"kid": "rp-1", "alg": "ES256"}, private=True)
ACCOUNTS = DemoAccounts(DEMO_ACCOUNTS, "benchmark")  # hashed once for the module


@pytest.fixture
def idp():
    options = DemoIdpOptions(base_url=BASE)
    options.register(
        DemoIdpClient(
            "rp",
            "rp-secret",
            frozenset({REDIRECT, STRONG_REDIRECT}),
            frozenset({LOGGED_OUT}),
        )
    )
    options.register(
        DemoIdpClient(
            "keyed-rp",
            redirect_uris=frozenset({REDIRECT}),
            jwks={"keys": [KEY.as_dict(private=False)]},
        )
    )
    with TestClient(create_demo_idp_app(options, ACCOUNTS), base_url=BASE) as client:
        yield client


def authorize(idp, site="identite-demo", client_id="rp", redirect=REDIRECT, **extra):
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect,
        "scope": "openid given_name family_name birthdate gender birthplace birthcountry",
        "state": "st-1",
        "nonce": "no-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return idp.get(f"/{site}/authorize", params=params, follow_redirects=False), verifier


def sign_in(idp, login="test", password="123", site="identite-demo", redirect=REDIRECT):
    page, verifier = authorize(idp, site, redirect=redirect)
    response = idp.post(
        f"/{site}/login",
        data={"csrf_token": CSRF.search(page.text).group(1), "login": login, "password": password},
        follow_redirects=False,
    )
    if response.status_code == 200 and ONE_TIME_CODE.search(response.text):
        response = idp.post(
            f"/{site}/otp",
            data={
                "csrf_token": CSRF.search(response.text).group(1),
                "code": ONE_TIME_CODE.search(response.text).group(1),
            },
            follow_redirects=False,
        )
    return response, verifier


def query(response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


def exchange(idp, code, verifier, site="identite-demo", redirect=REDIRECT, **auth):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect,
        "code_verifier": verifier,
    }
    data.update(auth.pop("data", {}))
    return idp.post(f"/{site}/token", data=data, auth=auth.pop("basic", ("rp", "rp-secret")))


def test_each_provider_has_its_own_discovery_and_keys(idp):
    demo = idp.get("/identite-demo/.well-known/openid-configuration").json()
    strong = idp.get("/identite-demo-renforcee/.well-known/openid-configuration").json()
    assert demo["issuer"] == f"{BASE}/identite-demo" and demo["acr_values_supported"] == ["eidas1"]
    assert strong["acr_values_supported"] == ["eidas2", "eidas3"]
    assert demo["code_challenge_methods_supported"] == ["S256"]
    assert demo["authorization_response_iss_parameter_supported"] is True
    demo_kids = {k["kid"] for k in idp.get("/identite-demo/jwks").json()["keys"]}
    strong_kids = {k["kid"] for k in idp.get("/identite-demo-renforcee/jwks").json()["keys"]}
    assert demo_kids and not demo_kids & strong_kids
    assert idp.get("/nowhere/.well-known/openid-configuration").status_code == 404


def test_the_code_flow_with_pkce(idp):
    response, verifier = sign_in(idp)
    assert response.status_code == 303 and response.headers["location"].startswith(REDIRECT)
    received = query(response)
    assert received["state"] == "st-1" and received["iss"] == f"{BASE}/identite-demo"
    token = exchange(idp, received["code"], verifier).json()
    keys = KeySet.import_key_set(idp.get("/identite-demo/jwks").json())
    claims = jwt.decode(token["id_token"], keys, algorithms=["ES256"]).claims
    assert claims["iss"] == f"{BASE}/identite-demo" and claims["aud"] == "rp"
    assert claims["nonce"] == "no-1" and claims["acr"] == "eidas1" and claims["exp"] > time.time()
    info = idp.get(
        "/identite-demo/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert info.headers["content-type"].startswith("application/json")
    assert info.json()["family_name"] == "DUBOIS" and info.json()["sub"] == claims["sub"]
    assert exchange(idp, received["code"], verifier).json()["error"] == "invalid_grant"


def test_wrong_password_shows_the_form_again(idp):
    response, _ = sign_in(idp, password="wrong")
    assert response.status_code == 401 and 'role="alert"' in response.text
    assert "Identifiant ou mot de passe incorrect." in response.text


def test_the_strengthened_provider_asks_a_one_time_code_and_signs_userinfo(idp):
    page, verifier = authorize(idp, "identite-demo-renforcee", redirect=STRONG_REDIRECT)
    ticket = CSRF.search(page.text).group(1)
    step = idp.post(
        "/identite-demo-renforcee/login",
        data={"csrf_token": ticket, "login": "test", "password": "123"},
    )
    assert step.status_code == 200 and ONE_TIME_CODE.search(step.text)
    wrong = idp.post("/identite-demo-renforcee/otp", data={"csrf_token": ticket, "code": "x"})
    assert wrong.status_code == 401 and "Code incorrect" in wrong.text
    response, verifier = sign_in(idp, site="identite-demo-renforcee", redirect=STRONG_REDIRECT)
    token = exchange(
        idp, query(response)["code"], verifier, "identite-demo-renforcee", STRONG_REDIRECT
    ).json()
    keys = KeySet.import_key_set(idp.get("/identite-demo-renforcee/jwks").json())
    assert jwt.decode(token["id_token"], keys).claims["acr"] == "eidas2"
    info = idp.get(
        "/identite-demo-renforcee/userinfo",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert info.headers["content-type"].startswith("application/jwt")
    assert jwt.decode(info.text, keys).claims["birthplace"] == "75107"


def test_an_account_without_a_strengthened_identity_is_refused_there(idp):
    low = next(a for a in DEMO_ACCOUNTS if a.acr == "eidas1")
    response, _ = sign_in(idp, low.login, low.password, "identite-demo-renforcee", STRONG_REDIRECT)
    assert response.status_code == 403 and "niveau substantiel" in response.text


def test_requests_it_must_refuse(idp):
    unknown, _ = authorize(idp, client_id="nobody")
    assert unknown.status_code == 400 and "location" not in unknown.headers
    elsewhere, _ = authorize(idp, redirect="https://attacker.example/cb")
    assert elsewhere.status_code == 400 and "location" not in elsewhere.headers
    no_pkce, _ = authorize(idp, code_challenge_method="plain")
    assert query(no_pkce)["error"] == "invalid_request"
    silent, _ = authorize(idp, prompt="none")
    assert query(silent)["error"] == "login_required"


def test_cancel_answers_access_denied(idp):
    page, _ = authorize(idp)
    response = idp.post(
        "/identite-demo/cancel",
        data={"csrf_token": CSRF.search(page.text).group(1)},
        follow_redirects=False,
    )
    assert query(response)["error"] == "access_denied" and query(response)["state"] == "st-1"


def test_client_authentication(idp):
    response, verifier = sign_in(idp)
    code = query(response)["code"]
    wrong = exchange(idp, code, verifier, basic=("rp", "not-the-secret"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    bad_verifier = exchange(idp, code, "another-verifier-0123456789-0123456789-0123")
    assert bad_verifier.json()["error"] == "invalid_grant"


def test_private_key_jwt_client(idp):
    page, verifier = authorize(idp, client_id="keyed-rp")
    response = idp.post(
        "/identite-demo/login",
        data={"csrf_token": CSRF.search(page.text).group(1), "login": "test", "password": "123"},
        follow_redirects=False,
    )
    now = int(time.time())
    claims = {
        "iss": "keyed-rp",
        "sub": "keyed-rp",
        "aud": f"{BASE}/identite-demo/token",
        "jti": "j-1",
        "exp": now + 60,
    }
    assertion = jwt.encode({"alg": "ES256", "kid": "rp-1"}, claims, KEY)
    data = {
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    token = exchange(idp, query(response)["code"], verifier, data=data, basic=None)
    assert token.status_code == 200, token.text
    replay = exchange(idp, "x", verifier, data=data, basic=None)
    assert replay.status_code == 401 and replay.json()["error"] == "invalid_client"


def test_single_sign_on_and_logout(idp):
    sign_in(idp)
    again, _ = authorize(idp)
    assert again.status_code == 303 and "code" in query(again)  # the provider's session
    out = idp.get(
        "/identite-demo/logout",
        params={"client_id": "rp", "post_logout_redirect_uri": LOGGED_OUT, "state": "s"},
        follow_redirects=False,
    )
    assert out.headers["location"] == f"{LOGGED_OUT}?state=s"
    after, _ = authorize(idp)
    assert after.status_code == 200  # signed out: the form again
    stray = idp.get(
        "/identite-demo/logout",
        params={"client_id": "rp", "post_logout_redirect_uri": "https://attacker.example/"},
        follow_redirects=False,
    )
    assert stray.status_code == 200 and "location" not in stray.headers


def test_the_one_time_code_allows_three_attempts(idp):
    page, _ = authorize(idp, "identite-demo-renforcee", redirect=STRONG_REDIRECT)
    ticket = CSRF.search(page.text).group(1)
    idp.post(
        "/identite-demo-renforcee/login",
        data={"csrf_token": ticket, "login": "test", "password": "123"},
    )
    for _ in range(2):
        wrong = idp.post("/identite-demo-renforcee/otp", data={"csrf_token": ticket, "code": "0"})
        assert wrong.status_code == 401
    last = idp.post(
        "/identite-demo-renforcee/otp",
        data={"csrf_token": ticket, "code": "0"},
        follow_redirects=False,
    )
    assert query(last)["error"] == "access_denied"
