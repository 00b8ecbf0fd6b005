"""The citizen space's journal of sign-ins, and the providers a citizen blocks for their own
account (over sockets, through the demo identity providers)."""

from __future__ import annotations

from sqlalchemy import func, select

from broker.store.federation_models import SignInEvent
from tests.helpers import DEMO_IDP, STRONG_IDP, AuthorizationRequest, Browser, register_client


def events(broker) -> int:
    with broker.state.db.connect() as conn:
        return conn.execute(select(func.count()).select_from(SignInEvent)).scalar_one()


def test_the_space_lists_each_sign_in_with_provider_service_and_level(broker):
    client = register_client(broker.state, name="Cantine de Villebourg")
    Browser(broker.url).sign_in(AuthorizationRequest(client), idp=STRONG_IDP)
    browser = Browser(broker.url)
    browser.space_login(idp=DEMO_IDP)
    page = browser.get("/espace/connexions")
    assert page.status_code == 200
    rows = page.text.split('data-sign-in="')[1:]
    assert len(rows) == 2
    newest, oldest = rows
    assert newest.startswith('Identité démo"') and "Votre espace" in newest
    assert "(eidas1)" in newest
    assert oldest.startswith("Identité démo renforcée") and "Cantine de Villebourg" in oldest
    assert "(eidas2)" in oldest


def test_a_blocked_provider_cannot_sign_the_citizen_in_and_can_be_unblocked(broker):
    browser = Browser(broker.url)
    browser.space_login(idp=STRONG_IDP)
    page = browser.get("/espace/connexions")
    assert 'data-provider="identite-demo-renforcee" data-blocked="no"' in page.text
    blocked = browser.post(
        f"/espace/fournisseurs/{DEMO_IDP}/blocage", data={"csrf_token": browser.csrf(page)}
    )
    assert blocked.headers["location"].endswith("notice=bloque")

    before = events(broker)
    client = register_client(broker.state)
    other = Browser(broker.url)
    login_url = other.authorize(AuthorizationRequest(client)).headers["location"]
    answer = other.login(login_url, idp=DEMO_IDP)
    assert answer.status_code == 303 and answer.headers["location"].endswith(f"?bloque={DEMO_IDP}")
    assert "broker_session" not in answer.cookies and events(broker) == before
    shown = other.get(answer.headers["location"])
    assert "Vous avez bloqué ce fournisseur" in shown.text
    assert other.login(login_url, idp=STRONG_IDP).headers["location"].endswith("/consent")

    page = browser.get("/espace/connexions")
    unblocked = browser.post(
        f"/espace/fournisseurs/{DEMO_IDP}/deblocage", data={"csrf_token": browser.csrf(page)}
    )
    assert unblocked.headers["location"].endswith("notice=debloque")
    third = Browser(broker.url)
    login_url = third.authorize(AuthorizationRequest(client)).headers["location"]
    assert third.login(login_url, idp=DEMO_IDP).headers["location"].endswith("/consent")


def test_attack_block_the_provider_of_the_current_session_or_without_the_form(broker):
    browser = Browser(broker.url)
    browser.space_login(idp=DEMO_IDP)
    page = browser.get("/espace/connexions")
    own = browser.post(
        f"/espace/fournisseurs/{DEMO_IDP}/blocage", data={"csrf_token": browser.csrf(page)}
    )
    assert own.headers["location"].endswith("notice=refuse")
    forged = browser.post(f"/espace/fournisseurs/{STRONG_IDP}/blocage", data={"csrf_token": "x"})
    assert forged.headers["location"].endswith("notice=refuse")
    unknown = browser.post(
        "/espace/fournisseurs/nowhere/blocage", data={"csrf_token": browser.csrf(page)}
    )
    assert unknown.headers["location"].endswith("notice=refuse")
    page = browser.get("/espace/connexions")
    assert 'data-blocked="yes"' not in page.text
    anonymous = Browser(broker.url).post(f"/espace/fournisseurs/{STRONG_IDP}/blocage")
    assert anonymous.headers["location"] == "/espace/connexion"
