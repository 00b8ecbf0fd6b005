"""Consent decisions are recorded: grant, one row per scope, and an event with the wording."""

from __future__ import annotations

from sqlmodel import select

from consent.models import ConsentEvent, ConsentGrant, ConsentGrantScope
from tests.helpers import AuthorizationRequest, Browser, at_login_page, register_client


def grants(state):
    with state.db.reader() as s:
        rows = s.exec(select(ConsentGrant)).all()
        scopes = {
            g.id: {
                r.scope
                for r in s.exec(
                    select(ConsentGrantScope).where(ConsentGrantScope.grant_id == g.id)
                ).all()
            }
            for g in rows
        }
        events = s.exec(select(ConsentEvent).order_by(ConsentEvent.id)).all()
    return rows, scopes, events


def test_approval_is_recorded_with_the_wording_shown(broker):
    client = register_client(broker.state, name="Cantine de Test", scope="openid birth email")
    Browser(broker.url).sign_in(AuthorizationRequest(client))
    rows, scopes, events = grants(broker.state)
    assert [g.status for g in rows] == ["active"]
    assert scopes[rows[0].id] == {"openid", "birth", "email"}
    assert [(e.kind, e.grant_id) for e in events] == [("granted", rows[0].id)]
    wording = events[0].wording
    assert wording["service_name"] == "Cantine de Test" and wording["locale"] == "fr"
    labels = [item["label"] for group in wording["groups"] for item in group["items"]]
    assert "Votre adresse électronique" in labels and len(labels) == 2  # openid shows no item
    assert rows[0].expires_at > rows[0].created_at


def test_refusal_is_recorded_and_never_reused(broker):
    client = register_client(broker.state)
    browser = Browser(broker.url)
    browser.sign_in(AuthorizationRequest(client), decision="refuse")
    rows, _, events = grants(broker.state)
    assert [g.status for g in rows] == ["refused"] and [e.kind for e in events] == ["refused"]
    # A refusal is not a consent: the next request shows the screen again.
    response = browser.authorize(AuthorizationRequest(client))
    assert response.headers["location"].endswith("/consent")


def test_a_new_decision_adds_a_grant_and_never_overwrites(broker):
    client = register_client(broker.state)
    browser = Browser(broker.url)
    browser.sign_in(AuthorizationRequest(client))
    browser.sign_in(AuthorizationRequest(client, extra={"prompt": "consent"}), decision="refuse")
    rows, _, events = grants(broker.state)
    assert sorted(g.status for g in rows) == ["active", "refused"]
    assert [e.kind for e in events] == ["granted", "refused"]


def test_consent_screen_names_the_service_and_groups_items(broker):
    _, browser, login = at_login_page(
        broker, name="Mairie de Villebourg", scope="openid identite_pivot cnaf_quotient_familial"
    )
    page = browser.get(browser.login(login).headers["location"])
    assert "Mairie de Villebourg" in page.text
    assert "Votre identité" in page.text and "CAF" in page.text
    assert "Angela Claire Louise" in page.text
    assert 'value="approve"' in page.text and 'value="refuse"' in page.text


def test_consent_screen_names_the_purpose_and_legal_basis_and_keeps_them(broker):
    from sqlmodel import select

    from consent.models import ConsentEvent

    _client, browser, login = at_login_page(
        broker, name="CCAS de Villebourg", scope="openid profile cnaf_quotient_familial"
    )
    consent_url = browser.login(login).headers["location"]
    page = browser.get(consent_url)
    assert "Tarification sociale de la cantine scolaire" in page.text
    assert "Code de l&#39;éducation, article L. 131-13" in page.text
    browser.consent(consent_url)
    with broker.state.db.reader() as s:
        event = s.exec(select(ConsentEvent)).one()
    assert event.wording["purpose"] == "Tarification sociale de la cantine scolaire"
    assert event.wording["legal_basis"].startswith("Code de l'éducation")
