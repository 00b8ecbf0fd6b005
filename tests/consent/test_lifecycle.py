"""The consent lifecycle over real HTTP: optional items, durations, refresh tokens, receipts,
revocation and narrowing from the citizen's space, expiry, and the events recorded."""

from __future__ import annotations

import time

import httpx
import pytest
from joserfc.jwk import KeySet
from sqlalchemy import update
from sqlmodel import select

from broker.store.models import RefreshToken
from consent.models import ConsentEvent, ConsentGrant, ConsentNotification
from consent.receipts import InvalidReceipt, verify_receipt
from tests.helpers import (
    TICKED,
    AuthorizationRequest,
    Browser,
    habilitate,
    redeem,
    register_client,
)

SERVICE = "Bourse communale"
REQUIRED = "cnaf_quotient_familial"
OPTIONAL = "cnaf_adresse"
SCOPE = f"openid given_name family_name {REQUIRED} {OPTIONAL}"


def client_with(broker, mode="recurring", name=SERVICE, **client_kwargs):
    client = register_client(
        broker.state, name=name, scope=SCOPE, habilitated=False, **client_kwargs
    )
    habilitate(
        broker.state,
        name,
        f"{REQUIRED} {OPTIONAL}",
        optional_scopes=OPTIONAL,
        consent_mode=mode,
        consent_days=None if mode == "one_time" else 90,
    )
    return client


def tokens(broker, client, browser=None, ticked=(OPTIONAL,), extra=None, login="test"):
    """Through the consent screen (the optional item ticked unless told) to the tokens."""
    browser = browser or Browser(broker.url)
    ticked = list(ticked)
    request = AuthorizationRequest(client, extra=extra or {})
    received = browser.sign_in(request, login=login, ticked=ticked)
    response = redeem(broker.url, client, received["code"], request.verifier)
    assert response.status_code == 200, response.text
    return browser, response.json()


def refresh(broker, client, refresh_token):
    return httpx.post(
        f"{broker.url}/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(client.client_id, client.client_secret),
        timeout=10,
    )


def userinfo(broker, token):
    return httpx.get(f"{broker.url}/userinfo", headers={"Authorization": f"Bearer {token}"})


def grant(broker, grant_id):
    with broker.state.db.reader() as s:
        return s.get(ConsentGrant, grant_id)


def events(broker, grant_id):
    with broker.state.db.reader() as s:
        return [
            (e.kind, e.wording.get("reason"))
            for e in s.exec(
                select(ConsentEvent)
                .where(ConsentEvent.grant_id == grant_id)
                .order_by(ConsentEvent.id)
            ).all()
        ]


def space_csrf(browser):
    page = browser.get("/espace")
    assert page.status_code == 200, page.text
    return browser.csrf(page), page


# -- the consent screen's choices -----------------------------------------------------------


def test_unticked_optional_item_never_reaches_a_token(broker):
    client = client_with(broker)
    _, token = tokens(broker, client, ticked=[])
    assert OPTIONAL not in token["scope"].split() and REQUIRED in token["scope"].split()
    again = refresh(broker, client, token["refresh_token"]).json()
    assert OPTIONAL not in again["scope"].split()
    with broker.state.db.reader() as s:
        rows = s.exec(select(RefreshToken)).all()
    assert all(OPTIONAL not in r.scope.split() for r in rows)


def test_optional_items_start_unticked_and_are_granted_only_when_ticked(broker):
    client = client_with(broker)
    browser = Browser(broker.url)
    login = browser.authorize(AuthorizationRequest(client)).headers["location"]
    page = browser.get(browser.login(login).headers["location"])
    assert f'value="{OPTIONAL}"' in page.text
    assert TICKED.findall(page.text) == []  # a pre-ticked box is no consent
    _, token = tokens(broker, client)
    assert {REQUIRED, OPTIONAL} <= set(token["scope"].split())


def test_attack_consent_form_adds_an_unrequested_scope(broker):
    client_light = register_client(
        broker.state, name="Autre service", scope=f"openid {REQUIRED}", habilitated=False
    )
    habilitate(broker.state, "Autre service", f"{REQUIRED} {OPTIONAL}", optional_scopes=OPTIONAL)
    _, token = tokens(broker, client_light, ticked=[OPTIONAL, "cnaf_enfants", "email"])
    assert token["scope"].split() == ["openid", REQUIRED]


def test_required_items_cannot_be_unticked(broker):
    client = client_with(broker)
    _, token = tokens(broker, client, ticked=[])
    assert REQUIRED in token["scope"].split()


# -- durations --------------------------------------------------------------------------------


def test_one_time_grant_is_not_remembered_and_has_no_refresh_token(broker):
    client = client_with(broker, mode="one_time")
    browser, token = tokens(broker, client)
    assert "refresh_token" not in token
    record = grant(broker, token["consent_id"])
    assert record.mode == "one_time" and record.expires_at <= time.time() + 3600
    # Same browser, same session: the screen is shown again.
    response = browser.authorize(AuthorizationRequest(client))
    assert response.headers["location"].endswith("/consent")


def test_recurring_grant_is_remembered_until_its_expiry(broker):
    client = client_with(broker)
    browser, token = tokens(broker, client)
    record = grant(broker, token["consent_id"])
    assert 89 * 86400 < record.expires_at - record.created_at <= 90 * 86400
    response = browser.authorize(AuthorizationRequest(client))
    assert "code=" in response.headers["location"]
    with broker.state.db.transaction() as s:
        s.exec(
            update(ConsentGrant)
            .where(ConsentGrant.id == record.id)
            .values(expires_at=int(time.time()) - 1)
        )
    response = browser.authorize(AuthorizationRequest(client))
    assert response.headers["location"].endswith("/consent")


def test_expired_grants_end_with_an_event(broker):
    client = client_with(broker, notification_uri="http://127.0.0.1:9/events")
    _, token = tokens(broker, client)
    with broker.state.db.transaction() as s:
        s.exec(
            update(ConsentGrant)
            .where(ConsentGrant.id == token["consent_id"])
            .values(expires_at=int(time.time()) - 1)
        )
    with broker.state.db.begin() as conn:
        assert broker.state.changes.expire_due(conn, int(time.time())) == 1
    assert grant(broker, token["consent_id"]).status == "expired"
    with broker.state.db.reader() as s:  # the sweep revoked what the consent carried
        assert s.exec(select(RefreshToken).where(RefreshToken.revoked_at.is_(None))).all() == []
        assert userinfo(broker, token["access_token"]).status_code == 401
    assert events(broker, token["consent_id"])[-1] == ("expired", "expiry")
    assert refresh(broker, client, token["refresh_token"]).json()["error"] == "invalid_grant"
    with broker.state.db.reader() as s:
        assert [n.grant_id for n in s.exec(select(ConsentNotification)).all()] == [
            token["consent_id"]
        ]


def test_withdrawing_ends_every_approval_for_the_same_purpose(broker):
    client = client_with(broker, notification_uri="http://127.0.0.1:9/events")
    browser, first = tokens(broker, client)
    _, second = tokens(broker, client, browser=browser, extra={"prompt": "consent"})
    # A second approval leaves the first one's tokens alone (two tabs, a double click).
    assert userinfo(broker, first["access_token"]).status_code == 200
    csrf, _ = space_csrf(browser)
    browser.post(f"/espace/accords/{second['consent_id']}/retrait", data={"csrf_token": csrf})
    for token in (first, second):
        assert grant(broker, token["consent_id"]).status == "revoked"
        assert userinfo(broker, token["access_token"]).status_code == 401
        assert refresh(broker, client, token["refresh_token"]).status_code == 400
    with broker.state.db.reader() as s:
        notified = {n.grant_id for n in s.exec(select(ConsentNotification)).all()}
    assert notified == {first["consent_id"], second["consent_id"]}


# -- refresh tokens ---------------------------------------------------------------------------


def test_refresh_tokens_rotate(broker):
    client = client_with(broker)
    _, token = tokens(broker, client)
    renewed = refresh(broker, client, token["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert body["refresh_token"] != token["refresh_token"]
    assert userinfo(broker, body["access_token"]).status_code == 200


def test_attack_refresh_token_reuse_revokes_the_grant(broker):
    client = client_with(broker)
    _, token = tokens(broker, client)
    renewed = refresh(broker, client, token["refresh_token"]).json()
    replay = refresh(broker, client, token["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert grant(broker, token["consent_id"]).status == "revoked"
    assert events(broker, token["consent_id"])[-1] == ("revoked", "refresh_token_reuse")
    # Everything issued on the grant stops: the legitimate-looking newer tokens too.
    assert refresh(broker, client, renewed["refresh_token"]).status_code == 400
    assert userinfo(broker, renewed["access_token"]).status_code == 401


def test_attack_refresh_token_of_another_client(broker):
    client = client_with(broker)
    other = register_client(broker.state, name="Intrus")
    _, token = tokens(broker, client)
    response = refresh(broker, other, token["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert grant(broker, token["consent_id"]).status == "active"


# -- receipts ---------------------------------------------------------------------------------


def test_receipt_signature_verifies_and_a_tampered_one_does_not(broker):
    client = client_with(broker)
    _, token = tokens(broker, client, ticked=[])
    receipt = grant(broker, token["consent_id"]).receipt
    jwks = KeySet.import_key_set(httpx.get(f"{broker.url}/jwks").json())
    claims = verify_receipt(receipt, jwks, broker.url)
    assert claims["consent_id"] == token["consent_id"]
    assert claims["service"]["name"] == SERVICE and OPTIONAL not in claims["scopes"]
    assert claims["purpose"] and claims["legal_basis"] and claims["withdraw"].endswith("/espace")
    header, payload, signature = receipt.split(".")
    import base64
    import json

    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["scopes"].append(OPTIONAL)
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidReceipt):
        verify_receipt(f"{header}.{forged}.{signature}", jwks, broker.url)
    with pytest.raises(InvalidReceipt):
        verify_receipt(receipt, jwks, "https://another-broker.example")


# -- the citizen's space ----------------------------------------------------------------------


def test_revoking_stops_tokens_at_once_records_an_event_and_queues_a_notification(broker):
    client = client_with(broker, notification_uri="http://127.0.0.1:9/events")
    browser, token = tokens(broker, client)
    assert userinfo(broker, token["access_token"]).status_code == 200
    csrf, page = space_csrf(browser)  # the broker session from the flow signs the citizen in
    assert token["consent_id"] in page.text
    response = browser.post(
        f"/espace/accords/{token['consent_id']}/retrait", data={"csrf_token": csrf}
    )
    assert response.status_code == 303 and "notice=revoked" in response.headers["location"]
    assert userinfo(broker, token["access_token"]).status_code == 401
    assert refresh(broker, client, token["refresh_token"]).json()["error"] == "invalid_grant"
    assert events(broker, token["consent_id"])[-1] == ("revoked", "citizen")
    with broker.state.db.reader() as s:
        queued = s.exec(select(ConsentNotification)).all()
    assert [n.grant_id for n in queued] == [token["consent_id"]]
    assert queued[0].url == "http://127.0.0.1:9/events"


def test_narrowing_withdraws_an_optional_item(broker):
    client = client_with(broker)
    browser, token = tokens(broker, client)
    csrf, _ = space_csrf(browser)
    response = browser.post(
        f"/espace/accords/{token['consent_id']}/elements",
        data={"csrf_token": csrf, "scope": [OPTIONAL]},
    )
    assert "notice=narrowed" in response.headers["location"]
    assert events(broker, token["consent_id"])[-1] == ("narrowed", "citizen")
    assert userinfo(broker, token["access_token"]).status_code == 401
    renewed = refresh(broker, client, token["refresh_token"]).json()
    assert OPTIONAL not in renewed["scope"].split() and REQUIRED in renewed["scope"].split()


def test_attack_narrowing_a_required_item_changes_nothing(broker):
    client = client_with(broker)
    browser, token = tokens(broker, client)
    csrf, _ = space_csrf(browser)
    response = browser.post(
        f"/espace/accords/{token['consent_id']}/elements",
        data={"csrf_token": csrf, "scope": [REQUIRED]},
    )
    assert "notice=unchanged" in response.headers["location"]
    assert userinfo(broker, token["access_token"]).status_code == 200


def test_attack_space_form_without_its_csrf_token(broker):
    client = client_with(broker)
    browser, token = tokens(broker, client)
    response = browser.post(
        f"/espace/accords/{token['consent_id']}/retrait", data={"csrf_token": "forged"}
    )
    assert response.status_code == 403 and "Traceback" not in response.text
    assert grant(broker, token["consent_id"]).status == "active"


def test_attack_citizen_reaches_another_citizens_consent(broker):
    client = client_with(broker)
    _, mine = tokens(broker, client)  # citizen "test"
    intruder = Browser(broker.url)
    assert intruder.space_login("nom_composé", "123").status_code == 303
    csrf, page = space_csrf(intruder)
    assert mine["consent_id"] not in page.text
    assert intruder.get(f"/espace/accords/{mine['consent_id']}/recu").status_code == 404
    assert intruder.get(f"/espace/accords/{mine['consent_id']}/recu.jws").status_code == 404
    response = intruder.post(
        f"/espace/accords/{mine['consent_id']}/retrait", data={"csrf_token": csrf}
    )
    assert response.status_code == 404 and "Page introuvable" in response.text
    assert grant(broker, mine["consent_id"]).status == "active"
    exported = intruder.get("/espace/export.json").json()
    assert all(c["id"] != mine["consent_id"] for c in exported["consents"])
    assert exported["identity"]["idp"] == "identite-demo"
    assert exported["identity"]["given_name"] != "Angela Claire Louise"


def test_space_requires_sign_in(broker):
    browser = Browser(broker.url)
    for path in ("/espace", "/espace/acces", "/espace/export.json"):
        response = browser.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/espace/connexion"


def test_export_holds_identity_consents_with_history_and_receipts(broker):
    client = client_with(broker)
    browser, token = tokens(broker, client)
    exported = browser.get("/espace/export.json")
    assert exported.headers["content-disposition"].startswith("attachment")
    body = exported.json()
    assert body["identity"]["family_name"] and body["identity"]["birthdate"]
    consent = next(c for c in body["consents"] if c["id"] == token["consent_id"])
    assert [e["kind"] for e in consent["events"]] == ["granted"]
    assert consent["receipt"].count(".") == 2
    assert isinstance(body["journal"], list)


def test_receipt_page_lists_service_items_dates_and_how_to_withdraw(broker):
    client = client_with(broker)
    browser, token = tokens(broker, client)
    page = browser.get(f"/espace/accords/{token['consent_id']}/recu")
    assert page.status_code == 200
    assert SERVICE in page.text and f'data-scope="{REQUIRED}"' in page.text
    assert "/espace" in page.text
    download = browser.get(f"/espace/accords/{token['consent_id']}/recu.jws")
    assert download.text == grant(broker, token["consent_id"]).receipt


def test_signing_out_ends_the_space_session(broker):
    client = client_with(broker)
    browser, _ = tokens(broker, client)
    csrf, _ = space_csrf(browser)
    browser.post("/espace/deconnexion", data={"csrf_token": csrf})
    assert browser.get("/espace").status_code == 303


def test_consent_screen_shows_the_registered_logo_from_the_broker_itself(broker):
    from broker.admin.clients import set_service_logo

    client = client_with(broker)
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    with broker.state.db.transaction() as s:
        service_id = set_service_logo(s, SERVICE, png)["service_id"]
    broker.state.context.clients.invalidate()
    browser = Browser(broker.url)
    login = browser.authorize(AuthorizationRequest(client)).headers["location"]
    page = browser.get(browser.login(login).headers["location"])
    assert f'src="/services/{service_id}/logo"' in page.text
    logo = browser.get(f"/services/{service_id}/logo")
    assert logo.content == png and logo.headers["content-type"] == "image/png"
    assert browser.get("/services/unknown/logo").status_code == 404


def test_receipt_stays_verifiable_after_its_key_left_the_jwks(broker):
    from broker.store.models import SigningKey

    client = client_with(broker)
    _, token = tokens(broker, client)
    receipt = grant(broker, token["consent_id"]).receipt
    kid = receipt and __import__("joserfc").jws.extract_compact(receipt.encode()).headers()["kid"]
    broker.state.keys.rotate()
    with broker.state.db.transaction() as s:
        s.exec(
            update(SigningKey)
            .where(SigningKey.kid == kid)
            .values(unpublish_at=int(time.time()) - 1)
        )
    broker.state.keys.invalidate()
    published = httpx.get(f"{broker.url}/jwks").json()
    assert kid not in [k["kid"] for k in published["keys"]]
    archive = httpx.get(f"{broker.url}/receipt-keys").json()
    assert kid in [k["kid"] for k in archive["keys"]]
    assert all("d" not in k for k in archive["keys"])  # public parts only
    claims = verify_receipt(receipt, KeySet.import_key_set(archive), broker.url)
    assert claims["consent_id"] == token["consent_id"]


def test_attack_code_replay_revokes_refresh_tokens_and_their_rotations(broker):
    client = client_with(broker)
    browser = Browser(broker.url)
    request = AuthorizationRequest(client)
    received = browser.sign_in(request)
    token = redeem(broker.url, client, received["code"], request.verifier).json()
    rotated = refresh(broker, client, token["refresh_token"]).json()
    replay = redeem(broker.url, client, received["code"], request.verifier)
    assert replay.status_code == 400
    assert refresh(broker, client, rotated["refresh_token"]).json()["error"] == "invalid_grant"
    assert userinfo(broker, rotated["access_token"]).status_code == 401


def test_one_time_consents_end_without_telling_the_service(broker):
    client = client_with(broker, mode="one_time", notification_uri="http://127.0.0.1:9/events")
    _, token = tokens(broker, client)
    with broker.state.db.begin() as conn:
        ended = broker.state.changes.expire_due(conn, int(time.time()) + 3600)
    assert ended == 1 and grant(broker, token["consent_id"]).status == "expired"
    with broker.state.db.reader() as s:
        assert s.exec(select(ConsentNotification)).all() == []


def test_attack_code_issued_before_a_narrowing_carries_the_withdrawn_item(broker):
    client = client_with(broker)
    browser, token = tokens(broker, client)
    request = AuthorizationRequest(client)  # remembered consent: a code at once, held back
    received = browser.sign_in(request)
    csrf, _ = space_csrf(browser)
    browser.post(
        f"/espace/accords/{token['consent_id']}/elements",
        data={"csrf_token": csrf, "scope": [OPTIONAL]},
    )
    late = redeem(broker.url, client, received["code"], request.verifier).json()
    assert OPTIONAL not in late["scope"].split() and REQUIRED in late["scope"].split()


def test_attack_used_refresh_token_presented_by_another_client(broker):
    client = client_with(broker)
    other = register_client(broker.state, name="Intrus")
    _, token = tokens(broker, client)
    refresh(broker, client, token["refresh_token"])  # rotated: the old one is now "used"
    response = refresh(broker, other, token["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert grant(broker, token["consent_id"]).status == "active"  # no leak proven: no revoke


def test_a_narrower_refresh_keeps_the_refresh_tokens_scope(broker):
    client = client_with(broker)
    _, token = tokens(broker, client)
    narrow = httpx.post(
        f"{broker.url}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "scope": f"openid {REQUIRED}",
        },
        auth=(client.client_id, client.client_secret),
    ).json()
    assert narrow["scope"].split() == ["openid", REQUIRED]
    wide = refresh(broker, client, narrow["refresh_token"]).json()
    assert OPTIONAL in wide["scope"].split()  # RFC 6749 §6


def test_attack_narrowing_another_citizens_consent(broker):
    client = client_with(broker)
    _, mine = tokens(broker, client)
    intruder = Browser(broker.url)
    intruder.space_login("nom_composé", "123")
    csrf, _ = space_csrf(intruder)
    response = intruder.post(
        f"/espace/accords/{mine['consent_id']}/elements",
        data={"csrf_token": csrf, "scope": [OPTIONAL]},
    )
    assert response.status_code == 404 and "Page introuvable" in response.text
    assert userinfo(broker, mine["access_token"]).status_code == 200
    assert events(broker, mine["consent_id"]) == [("granted", None)]


def test_no_access_token_outlives_its_consent(broker):
    client = client_with(broker)
    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request, ticked=[OPTIONAL])
    with broker.state.db.transaction() as s:  # the consent ends in 30 s, the token asks 600
        s.exec(
            update(ConsentGrant)
            .where(ConsentGrant.status == "active")
            .values(expires_at=int(time.time()) + 30)
        )
    token = redeem(broker.url, client, received["code"], request.verifier).json()
    assert 0 < token["expires_in"] <= 30
