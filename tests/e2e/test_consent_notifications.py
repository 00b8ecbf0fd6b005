"""Consent events end to end, all over real sockets: the demo service's back-channel receiver
verifies the broker's SETs, and a revocation reaches it through the broker's dispatcher and
shows on the citizen's page, whose data the data API then refuses."""

from __future__ import annotations

import contextlib
import json
import time

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from litestar import Litestar, get
from litestar.response import Response
from sqlalchemy import select

from broker.core.db import table_of
from broker.demo.online_service import RelyingParty, create_service_app
from broker.demo.seed import (
    DEMO_CLIENT_ID,
    NOTIFICATION_PATH,
    demo_service_key,
    seed_demo_habilitation,
    seed_demo_service,
)
from consent.events import EVENT_REVOKED, consent_event
from consent.models import ConsentGrant
from tests.helpers import Browser
from tests.servers import bound_socket, serve_app

SET_TYPE = "application/secevent+jwt"


@contextlib.contextmanager
def demo_service(broker, data_api_url: str = ""):
    """The demo service on its own socket, registered (redirect and notification URIs) at it."""
    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    var_dir = broker.settings.var_dir
    with broker.state.db.transaction() as session:
        seed_demo_service(session, var_dir, url)
        seed_demo_habilitation(session)
    rp = RelyingParty(
        issuer=broker.url,
        client_id=DEMO_CLIENT_ID,
        private_key=demo_service_key(var_dir),
        base_url=url,
        data_api_url=data_api_url,
    )
    with serve_app(create_service_app(rp), sock):
        yield url, rp


def sign_in(
    service_url: str, broker_url: str, ticked: list[str] | None = None, login: str = "test"
) -> httpx.Client:
    """The citizen's browser after signing in to the service (its session cookie kept)."""
    browser = Browser(broker_url)
    # One client from start to end: the service binds its sign-in to this browser's cookie.
    service = httpx.Client(base_url=service_url, timeout=10, follow_redirects=True)
    start = service.get("/login", follow_redirects=False)
    response = browser.get(start.headers["location"])
    response = browser.login(response.headers["location"], login)
    response = browser.consent(response.headers["location"], "approve", ticked)
    page = service.get(response.headers["location"])
    assert page.status_code == 200, page.text
    service.page = page
    return service


def post_event(url: str, token: str, media_type: str = SET_TYPE) -> httpx.Response:
    return httpx.post(
        url + NOTIFICATION_PATH, content=token, headers={"Content-Type": media_type}, timeout=10
    )


def event(broker, key=None, **overrides) -> str:
    values = {
        "signing_key": key or broker.state.keys.signing_key(),
        "issuer": broker.url,
        "client_id": DEMO_CLIENT_ID,
        "sub": "sub-of-angela",
        "grant_id": "grant-1",
        "kind": "revoked",
        "scopes": ["cnaf_quotient_familial"],
        "now": int(time.time()),
        "reason": "citizen",
    }
    values.update(overrides)
    return consent_event(**values)


def test_the_demo_receiver_accepts_a_valid_event_once(broker):
    with demo_service(broker) as (url, rp):
        token = event(broker)
        assert post_event(url, token).status_code == 202
        assert post_event(url, token).status_code == 202  # a retry: accepted, recorded once
    [recorded] = rp.events["sub-of-angela"]
    assert recorded["kind"] == "revoked" and recorded["consent_id"] == "grant-1"
    assert recorded["scopes"] == ["cnaf_quotient_familial"] and recorded["reason"] == "citizen"


@pytest.mark.parametrize(
    "forgery, err",
    [
        ("foreign_key", "invalid_key"),
        ("tampered", "invalid_key"),
        ("other_audience", "invalid_audience"),
        ("other_issuer", "invalid_issuer"),
        ("typ_jwt", "invalid_request"),
        ("not_a_consent_event", "invalid_request"),
        ("media_type", "invalid_request"),
        ("garbage", "invalid_request"),
    ],
)
def test_the_demo_receiver_rejects_a_forged_event(broker, forgery, err):
    real = broker.state.keys.signing_key()
    media_type, now = SET_TYPE, int(time.time())
    if forgery == "foreign_key":  # same kid, another key
        impostor = ECKey.generate_key("P-256", parameters={"kid": real.kid, "alg": "ES256"})
        token = event(broker, impostor)
    elif forgery == "tampered":
        header, _, signature = event(broker).split(".")
        token = ".".join([header, event(broker, sub="someone-else").split(".")[1], signature])
    elif forgery == "other_audience":
        token = event(broker, client_id="another-service")
    elif forgery == "other_issuer":
        token = event(broker, issuer="https://impostor.example")
    elif forgery == "typ_jwt":
        token = jwt.encode(
            {"alg": "ES256", "kid": real.kid},
            {
                "iss": broker.url,
                "aud": DEMO_CLIENT_ID,
                "iat": now,
                "jti": "j",
                "sub": "s",
                "events": {EVENT_REVOKED: {"scopes": []}},
            },
            real,
            algorithms=["ES256"],
        )
    elif forgery == "not_a_consent_event":
        token = jwt.encode(
            {"alg": "ES256", "kid": real.kid, "typ": "secevent+jwt"},
            {
                "iss": broker.url,
                "aud": DEMO_CLIENT_ID,
                "iat": now,
                "jti": "j",
                "sub": "s",
                "events": {"https://example.com/other": {}},
            },
            real,
            algorithms=["ES256"],
        )
    elif forgery == "media_type":
        token, media_type = event(broker), "application/jwt"
    else:
        token = "not.a.jwt"
    with demo_service(broker) as (url, rp):
        response = post_event(url, token, media_type)
    assert response.status_code == 400
    body = response.json()
    assert body["err"] == err and body["description"]
    assert rp.events == {}


def _grant_of_demo_client(broker) -> str:
    with broker.state.db.connect() as conn:
        table = table_of(ConsentGrant)
        return (
            conn.execute(
                select(table.c.id)
                .where(table.c.client_id == DEMO_CLIENT_ID, table.c.status == "active")
                .order_by(table.c.created_at.desc())
            )
            .scalars()
            .first()
        )


def test_the_page_shows_exactly_the_granted_items(broker, data_api):
    with demo_service(broker, data_api.url) as (url, _rp):
        everything = sign_in(
            url, broker.url, ticked=["cnaf_allocataires", "cnaf_adresse"]
        ).page.text
        only_one = sign_in(
            url, broker.url, ticked=["cnaf_allocataires"], login="beneficiaire_rsa"
        ).page.text
    for scope in ("cnaf_quotient_familial", "cnaf_allocataires", "cnaf_adresse"):
        assert f'data-scope="{scope}"' in everything
    assert 'data-scope="cnaf_quotient_familial"' in only_one
    assert 'data-scope="cnaf_allocataires"' in only_one
    assert 'data-scope="cnaf_adresse"' not in only_one
    assert "data-quotient>2550<" in everything and "data-price>4,20\u00a0€<" in everything
    assert "data-quotient>175<" in only_one and "data-price>0,50\u00a0€<" in only_one


def test_a_revocation_reaches_the_service_which_then_gets_no_data(broker, data_api):
    with demo_service(broker, data_api.url) as (url, rp):
        service = sign_in(url, broker.url)
        again = service.get("/refresh")
        assert again.status_code == 200 and "data-quotient>2550<" in again.text
        assert "data-refused" not in again.text and "data-consent-event" not in again.text

        changes = broker.state.changes
        with broker.state.db.begin() as conn:
            changes.revoke(conn, _grant_of_demo_client(broker), int(time.time()), reason="citizen")
        changes.on_enqueued()  # the dispatcher, woken from this thread
        deadline = time.monotonic() + 10
        while not rp.events and time.monotonic() < deadline:
            time.sleep(0.05)
        page = service.get("/refresh")
    assert 'data-consent-event="revoked"' in page.text
    assert "Votre accord a été retiré le" in page.text
    refused = page.text.split('data-refused="', 1)[1].split('"', 1)[0]
    assert refused.isdigit() and len(refused) == 5  # the data API's JSON:API error code
    assert "data-quotient" not in page.text
    [recorded] = next(iter(rp.events.values()))
    assert recorded["scopes"] and json.dumps(recorded)


# --- the page, against a stand-in data API -------------------------------------------------

FULL_DATA = {
    "quotient_familial": {"fournisseur": "CNAF", "valeur": 640, "annee": 2026, "mois": 10},
    "allocataires": [
        {
            "nom_naissance": "DUBOIS",
            "nom_usage": None,
            "prenoms": "Angela",
            "date_naissance": "1962-08-24",
            "sexe": "F",
        }
    ],
    "adresse": {"destinataire": "MADAME DUBOIS ANGELA", "code_postal_ville": "75002 PARIS"},
}


def stand_in_data_api(answers: list[tuple[int, dict]]):
    """Answers each call with the next (status, body); the last one repeats."""

    @get("/v3/dss/quotient_familial/france_connect")
    async def quotient() -> Response:
        status, body = answers.pop(0) if len(answers) > 1 else answers[0]
        return Response(body, status_code=status)

    return Litestar([quotient])


def page_for(granted: set[str], answers: list[tuple[int, dict]]) -> list[httpx.Response]:
    """The service's welcome data for a session holding ``granted``, refreshed once."""
    from tests.servers import start_asgi

    with start_asgi(stand_in_data_api(answers)) as data_api_url:
        rp = RelyingParty(
            issuer="http://127.0.0.1:9",
            client_id=DEMO_CLIENT_ID,
            private_key=ECKey.generate_key("P-256"),
            base_url="http://x",
            data_api_url=data_api_url,
        )
        rp.sessions["s"] = {
            "claims": {"sub": "sub-1", "given_name": "Angela"},
            "acr": "eidas2",
            "at": int(time.time()),
            "access_token": "at",
            "granted": granted,
        }
        with contextlib.ExitStack() as stack:
            url = stack.enter_context(start_asgi(create_service_app(rp)))
            cookies = {"cantine_session": "s"}
            return [httpx.get(url + "/refresh", cookies=cookies) for _ in range(2)]


def test_an_unticked_item_is_not_shown_even_if_the_data_api_sent_it():
    [page, _] = page_for(
        {"cnaf_quotient_familial", "cnaf_allocataires"}, [(200, {"data": FULL_DATA})]
    )
    assert 'data-scope="cnaf_quotient_familial"' in page.text
    assert 'data-scope="cnaf_allocataires"' in page.text and "Angela DUBOIS" in page.text
    assert "né(e) le 24/08/1962" in page.text
    assert 'data-scope="cnaf_adresse"' not in page.text and "75002" not in page.text
    assert "data-quotient>640<" in page.text and "data-price>1,20\u00a0€<" in page.text


def test_a_refusal_of_the_data_api_is_shown_with_its_code():
    refusal = {"errors": [{"code": "00101", "title": "Jeton révoqué", "detail": "révoqué"}]}
    [first, second] = page_for(
        {"cnaf_quotient_familial"}, [(200, {"data": FULL_DATA}), (401, refusal)]
    )
    assert "data-refused" not in first.text and "data-quotient>640<" in first.text
    assert 'data-refused="00101"' in second.text and "Jeton révoqué" in second.text
    assert "data-quotient" not in second.text and "data-no-quotient" in second.text
    assert 'data-scope="' not in second.text


def test_refresh_without_a_session_asks_to_sign_in_again(broker):
    with demo_service(broker) as (url, _rp):
        page = httpx.get(url + "/refresh")
    assert page.status_code == 401 and "no_session" in page.text
