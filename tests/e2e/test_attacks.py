"""One named regression test per attack on the authorization code flow, over real HTTP."""

from __future__ import annotations

import base64
import json
import time

import httpx
from joserfc import jws, jwt
from joserfc.jwk import ECKey, OctKey
from sqlalchemy import update
from sqlmodel import select

from broker.store.models import AccessToken
from tests.flow_state_edits import rewrite_code, rewrite_interaction, stored_code
from tests.helpers import (
    DEMO_IDP,
    AuthorizationRequest,
    Browser,
    at_login_page,
    query,
    redeem,
    register_client,
)


def signed_in(broker, **client_kwargs):
    client = register_client(broker.state, **client_kwargs)
    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request)
    return client, request, received


def userinfo(base_url: str, token: str) -> httpx.Response:
    return httpx.get(f"{base_url}/userinfo", headers={"Authorization": f"Bearer {token}"})


def assert_error_page(response: httpx.Response, status: int = 400) -> None:
    assert response.status_code == status
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text


def test_attack_code_replay(broker, caplog):
    client, request, received = signed_in(broker)
    first = redeem(broker.url, client, received["code"], request.verifier)
    assert first.status_code == 200
    access_token = first.json()["access_token"]
    assert userinfo(broker.url, access_token).status_code == 200

    replay = redeem(broker.url, client, received["code"], request.verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert replay.headers["cache-control"] == "no-store"
    # RFC 6749 §4.1.2: the tokens issued from the replayed code are revoked, and it is logged.
    replay_logs = [r for r in caplog.records if r.getMessage() == "authorization code replayed"]
    # The access token and the refresh token (a recurring consent).
    assert [(r.client_id, r.tokens_revoked) for r in replay_logs] == [(client.client_id, 2)]
    after = userinfo(broker.url, access_token)
    assert after.status_code == 401 and after.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in after.headers["www-authenticate"]


def test_attack_pkce_missing(broker):
    client = register_client(broker.state)
    request = AuthorizationRequest(
        client, extra={"code_challenge": None, "code_challenge_method": None}
    )
    response = Browser(broker.url).authorize(request)
    received = query(response.headers["location"])
    assert received["error"] == "invalid_request" and "PKCE" in received["error_description"]
    assert received["iss"] == broker.url and received["state"] == request.state


def test_attack_pkce_plain(broker):
    client = register_client(broker.state)
    request = AuthorizationRequest(client)
    request.extra = {"code_challenge": request.verifier, "code_challenge_method": "plain"}
    received = query(Browser(broker.url).authorize(request).headers["location"])
    assert received["error"] == "invalid_request"


def test_attack_pkce_method_omitted_means_plain(broker):
    client = register_client(broker.state)
    request = AuthorizationRequest(client, extra={"code_challenge_method": None})
    received = query(Browser(broker.url).authorize(request).headers["location"])
    assert received["error"] == "invalid_request"


def test_attack_pkce_wrong_verifier(broker):
    client, _request, received = signed_in(broker)
    response = redeem(broker.url, client, received["code"], "x" * 64)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_attack_pkce_verifier_missing_at_token(broker):
    client, request, received = signed_in(broker)
    response = redeem(broker.url, client, received["code"], None)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    # A failed redemption, PKCE failures included, consumes the code: the client restarts.
    late = redeem(broker.url, client, received["code"], request.verifier)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


def test_attack_verifier_without_challenge(broker):
    """RFC 9700 §4.8.2: a code_verifier for a code issued without a challenge is refused."""
    client, request, received = signed_in(broker)
    rewrite_code(broker.state, received["code"], code_challenge=None, code_challenge_method=None)
    response = redeem(broker.url, client, received["code"], request.verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_attack_redirect_uri_mismatch(broker):
    client = register_client(broker.state)
    for evil in (
        "https://evil.example/cb",
        client.redirect_uri + "/",
        client.redirect_uri + "?x=1",
    ):
        request = AuthorizationRequest(client, extra={"redirect_uri": evil})
        assert_error_page(Browser(broker.url).authorize(request))


def test_attack_redirect_uri_missing(broker):
    client = register_client(broker.state)
    request = AuthorizationRequest(client, extra={"redirect_uri": None})
    assert_error_page(Browser(broker.url).authorize(request))


def test_attack_redirect_uri_changed_at_token(broker):
    client, request, received = signed_in(broker)
    response = redeem(
        broker.url,
        client,
        received["code"],
        request.verifier,
        redirect_uri="http://127.0.0.1:9/other",
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_attack_unknown_client(broker):
    client = register_client(broker.state)
    request = AuthorizationRequest(client, extra={"client_id": "no-such-client"})
    response = Browser(broker.url).authorize(request)
    assert_error_page(response)
    assert "Service inconnu" in response.text


def test_attack_consent_csrf(broker):
    _, browser, login = at_login_page(broker)
    consent_url = browser.login(login).headers["location"]
    for token in ("", "forged", "0" * 64):
        response = browser.post(consent_url, data={"csrf_token": token, "decision": "approve"})
        assert_error_page(response, 403)
    # A page from another site posting into the citizen's flow lacks the step token too; and a
    # valid token carried to another browser is refused as well.
    token = browser.csrf(browser.get(consent_url))
    other = Browser(broker.url)
    response = other.post(consent_url, data={"csrf_token": token, "decision": "approve"})
    assert_error_page(response, 403)
    # The genuine citizen can still decide.
    assert browser.consent(consent_url).status_code == 303


def test_attack_login_csrf(broker):
    _, browser, login = at_login_page(broker)
    response = browser.post(
        login, data={"csrf_token": "forged", "login": "test", "password": "123"}
    )
    assert_error_page(response, 403)


def test_attack_interaction_replay(broker):
    _, browser, login = at_login_page(broker)
    login_token = browser.csrf(browser.get(login))
    leave = browser.post(login, data={"csrf_token": login_token, "idp": DEMO_IDP})
    consent_url = browser.upstream_login(leave.headers["location"]).headers["location"]
    assert consent_url.endswith("/consent")
    replayed_choice = browser.post(login, data={"csrf_token": login_token, "idp": DEMO_IDP})
    assert_error_page(replayed_choice, 409)
    consent_token = browser.csrf(browser.get(consent_url))
    first = browser.post(consent_url, data={"csrf_token": consent_token, "decision": "approve"})
    assert first.status_code == 303 and "code=" in first.headers["location"]
    again = browser.post(consent_url, data={"csrf_token": consent_token, "decision": "approve"})
    assert_error_page(again, 409)


def test_attack_skip_login_step(broker):
    _, browser, login = at_login_page(broker)
    token = browser.csrf(browser.get(login))
    consent_url = login.replace("/login", "/consent")
    assert_error_page(browser.get(consent_url), 409)
    response = browser.post(consent_url, data={"csrf_token": token, "decision": "approve"})
    assert_error_page(response, 409)


def test_attack_expired_interaction(broker):
    _, browser, login = at_login_page(broker)
    rewrite_interaction(broker.state, login, expires_at=int(time.time()) - 1)
    assert_error_page(browser.get(login), 410)


def test_attack_expired_code(broker):
    client, request, received = signed_in(broker)
    rewrite_code(broker.state, received["code"], expires_at=int(time.time()) - 1)
    response = redeem(broker.url, client, received["code"], request.verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_code_lives_sixty_seconds(broker):
    before = int(time.time())
    _client, _request, received = signed_in(broker)
    code = stored_code(broker.state, received["code"])
    assert before + 60 <= code.expires_at <= int(time.time()) + 60
    assert len(received["code"]) >= 43  # at least 128 bits of entropy (authlib: 48 of 62 chars)


def test_attack_wrong_client_credentials(broker):
    client, request, received = signed_in(broker)
    response = httpx.post(
        f"{broker.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": received["code"],
            "redirect_uri": client.redirect_uri,
            "code_verifier": request.verifier,
        },
        auth=(client.client_id, "wrong-secret"),
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    no_auth = httpx.post(
        f"{broker.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": received["code"],
            "redirect_uri": client.redirect_uri,
            "code_verifier": request.verifier,
            "client_id": client.client_id,
        },
    )
    assert no_auth.status_code in (400, 401) and no_auth.json()["error"] == "invalid_client"
    # A secret-based client cannot switch to another method (client_secret_post here).
    post = httpx.post(
        f"{broker.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": received["code"],
            "redirect_uri": client.redirect_uri,
            "code_verifier": request.verifier,
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        },
    )
    assert post.json()["error"] == "invalid_client"


def test_attack_code_redeemed_by_another_client(broker):
    _victim, request, received = signed_in(broker)
    thief = register_client(broker.state, name="Autre service")
    response = redeem(broker.url, thief, received["code"], request.verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def _forge(header: dict, claims: dict, key) -> str:
    return jwt.encode(header, claims, key, algorithms=[header["alg"]])


def _claims_of(token: str) -> dict:
    return json.loads(jws.extract_compact(token.encode()).payload)


def test_attack_alg_none_token_at_userinfo(broker):
    client, request, received = signed_in(broker)
    claims = _claims_of(
        redeem(broker.url, client, received["code"], request.verifier).json()["access_token"]
    )

    def segment(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    unsigned = f"{segment({'alg': 'none', 'typ': 'at+jwt'})}.{segment(claims)}."
    response = userinfo(broker.url, unsigned)
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


def test_attack_hs256_keyed_with_public_key_at_userinfo(broker):
    client, request, received = signed_in(broker)
    real = redeem(broker.url, client, received["code"], request.verifier).json()["access_token"]
    claims = _claims_of(real)
    jwks = httpx.get(f"{broker.url}/jwks").json()
    for public in jwks["keys"]:
        secret = OctKey.import_key(json.dumps(public, sort_keys=True).encode())
        forged = _forge({"alg": "HS256", "typ": "at+jwt", "kid": public["kid"]}, claims, secret)
        response = userinfo(broker.url, forged)
        assert response.status_code == 401 and response.json()["error"] == "invalid_token"
    assert userinfo(broker.url, real).status_code == 200


def test_attack_token_signed_by_foreign_key_at_userinfo(broker):
    client, request, received = signed_in(broker)
    claims = _claims_of(
        redeem(broker.url, client, received["code"], request.verifier).json()["access_token"]
    )
    kid = httpx.get(f"{broker.url}/jwks").json()["keys"][0]["kid"]
    foreign = ECKey.generate_key("P-256", private=True)
    forged = _forge({"alg": "ES256", "typ": "at+jwt", "kid": kid}, claims, foreign)
    assert userinfo(broker.url, forged).status_code == 401


def test_attack_id_token_used_as_access_token(broker):
    client, request, received = signed_in(broker)
    token = redeem(broker.url, client, received["code"], request.verifier).json()
    response = userinfo(broker.url, token["id_token"])
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


def test_revoked_access_token_refused_at_once(broker):
    client, request, received = signed_in(broker)
    token = redeem(broker.url, client, received["code"], request.verifier).json()["access_token"]
    with broker.state.db.transaction() as s:
        s.exec(update(AccessToken).values(revoked_at=int(time.time())))
    assert userinfo(broker.url, token).status_code == 401


def test_attack_private_key_jwt_assertion_replay(broker):
    key = ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)
    client = register_client(
        broker.state, auth_method="private_key_jwt", jwks={"keys": [key.as_dict(private=False)]}
    )
    now = int(time.time())
    assertion = jwt.encode(
        {"alg": "ES256", "kid": "k1"},
        {
            "iss": client.client_id,
            "sub": client.client_id,
            "aud": f"{broker.url}/token",
            "jti": "once",
            "iat": now,
            "exp": now + 60,
        },
        key,
        algorithms=["ES256"],
    )

    def redeem_with_assertion(code, verifier):
        return httpx.post(
            f"{broker.url}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": client.redirect_uri,
                "code_verifier": verifier,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
            },
        )

    first_request = AuthorizationRequest(client)
    first = Browser(broker.url).sign_in(first_request)
    assert redeem_with_assertion(first["code"], first_request.verifier).status_code == 200
    second_request = AuthorizationRequest(client)
    second = Browser(broker.url).sign_in(second_request)
    replay = redeem_with_assertion(second["code"], second_request.verifier)
    assert replay.status_code in (400, 401) and replay.json()["error"] == "invalid_client"


def test_attack_private_key_jwt_signed_with_hs256(broker):
    key = ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)
    client = register_client(
        broker.state, auth_method="private_key_jwt", jwks={"keys": [key.as_dict(private=False)]}
    )
    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request)
    public = OctKey.import_key(json.dumps(key.as_dict(private=False)).encode())
    now = int(time.time())
    forged = jwt.encode(
        {"alg": "HS256", "kid": "k1"},
        {
            "iss": client.client_id,
            "sub": client.client_id,
            "aud": f"{broker.url}/token",
            "jti": "j",
            "iat": now,
            "exp": now + 60,
        },
        public,
        algorithms=["HS256"],
    )
    response = httpx.post(
        f"{broker.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": received["code"],
            "redirect_uri": client.redirect_uri,
            "code_verifier": request.verifier,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": forged,
        },
    )
    assert response.json()["error"] == "invalid_client"


def test_attack_code_without_challenge_and_without_verifier(broker):
    """Defence in depth: a code that somehow lacks a challenge is not redeemable at all."""
    client, _request, received = signed_in(broker)
    rewrite_code(broker.state, received["code"], code_challenge=None, code_challenge_method=None)
    response = redeem(broker.url, client, received["code"], None)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_redirect_uri_removed_while_the_citizen_decides(broker):
    """The parked request is validated again: no code goes to a URI the client gave up."""
    from broker.store.models import OAuthClient
    from consent.models import ConsentGrant

    client, browser, login = at_login_page(broker)
    consent_url = browser.login(login).headers["location"]
    page = browser.get(consent_url)
    with broker.state.db.transaction() as s:
        s.exec(
            update(OAuthClient)
            .where(OAuthClient.client_id == client.client_id)
            .values(redirect_uris=["http://127.0.0.1:9/elsewhere"])
        )
    broker.state.context.clients.invalidate()
    response = browser.post(
        consent_url, data={"csrf_token": browser.csrf(page), "decision": "approve"}
    )
    assert_error_page(response, 404)
    with broker.state.db.reader() as s:
        assert s.exec(select(ConsentGrant)).all() == [], "nothing is half-written"
