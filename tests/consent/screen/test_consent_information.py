"""What the consent screen tells the citizen so that they consent knowingly, exactly as the
habilitation states it and nothing made up: who is responsible and how to reach them and
their data protection officer, how long the service keeps the data, why each item, what to do
if they refuse. Accept and refuse weigh the same. The consent history and the signed receipt
keep those texts."""

from __future__ import annotations

import re

import httpx
from joserfc.jwk import KeySet
from sqlmodel import select

from consent.models import ConsentEvent, ConsentGrant
from consent.receipts import verify_receipt
from tests.consent.screen.consent_pages import (
    INFORMATION,
    OPTIONAL,
    REQUIRED,
    at_consent,
    demo_client,
    text,
)
from tests.helpers import query, redeem

ADDRESS = OPTIONAL[0]
BUTTONS = re.compile(
    r'<button type="submit" name="decision" value="(approve|refuse)" class="([^"]+)"'
)


def test_the_screen_shows_what_the_habilitation_states(broker):
    at = at_consent(broker)
    page = text(at.page())
    assert "Mairie de Démo-sur-Mer" in page
    assert '<a href="mailto:cantine@demo-sur-mer.example">' in page
    # A web page opens in a new window, as the legal basis does: the consent screen stays.
    assert re.search(
        r'<a href="https://demo-sur-mer.example/dpo" rel="noopener noreferrer" '
        r'target="_blank">https://demo-sur-mer.example/dpo\s*'
        r'<span class="small">\(nouvelle fenêtre\)</span></a>',
        page,
    )
    assert "Délégué à la protection des données" in page
    assert "Combien de temps le service garde vos données" in page
    assert INFORMATION["retention"] in page
    # Each reason under its own item.
    for scope, reason in INFORMATION["reasons"].items():
        item = re.search(rf'<li data-scope="{scope}".*?</li>', page, re.S)
        assert item and reason in item.group(0), scope
    assert 'aria-describedby="element-2-3-raison"' in page  # the optional box's reason
    refusal = re.search(r"<section[^>]*data-if-refused>.*?</section>", page, re.S)
    assert refusal and INFORMATION["if_refused"] in refusal.group(0)
    assert "Le service ne reçoit aucune de ces données." in refusal.group(0)


def test_nothing_is_made_up_when_the_habilitation_says_nothing(broker):
    client = demo_client(broker.state, name="Service muet", retention=None)
    page = text(at_consent(broker, client=client).page())
    assert "data-controller" not in page and "Qui est responsable" not in page
    assert "data-retention" not in page and "Pourquoi :" not in page
    assert "mailto:" not in page
    assert "Si vous refusez" in page  # the screen's own words, always true


def test_accept_and_refuse_weigh_the_same(broker):
    page = at_consent(broker).page().text
    buttons = dict(BUTTONS.findall(page))
    assert buttons.keys() == {"approve", "refuse"}
    assert buttons["approve"] == buttons["refuse"] == "button"


def test_attack_a_contact_that_is_not_an_address_is_no_link(broker):
    client = demo_client(
        broker.state,
        name="Service piégé",
        controller="Mairie",
        contact="javascript:alert(1)",
        dpo='https://x.example/"onmouseover="alert(1)',
    )
    page = at_consent(broker, client=client).page().text
    assert 'href="javascript:' not in page and 'onmouseover="' not in page
    assert "javascript:alert(1)" in page  # shown, as text


def test_history_and_receipt_keep_what_the_screen_said(broker):
    at = at_consent(broker)
    page = at.page()
    response = at.browser.post(
        at.url,
        data={"csrf_token": at.browser.csrf(page), "decision": "approve", "scope": [ADDRESS]},
    )
    code = query(response.headers["location"])["code"]
    token = redeem(broker.url, at.client, code, at.request.verifier).json()
    with broker.state.db.reader() as s:
        grant = s.get(ConsentGrant, token["consent_id"])
        event = s.exec(select(ConsentEvent).where(ConsentEvent.grant_id == grant.id)).one()
    said = event.wording
    for field in ("controller", "contact", "dpo", "retention", "if_refused"):
        assert said[field] == INFORMATION[field], field
    assert said["reasons"] == INFORMATION["reasons"]
    jwks = KeySet.import_key_set(httpx.get(f"{broker.url}/jwks").json())
    claims = verify_receipt(grant.receipt, jwks, broker.url)
    for field in ("controller", "contact", "dpo", "retention", "if_refused"):
        assert claims[field] == INFORMATION[field], field
    assert claims["reasons"] == INFORMATION["reasons"]  # both items were granted
    assert REQUIRED in claims["scopes"] and ADDRESS in claims["scopes"]


def test_the_receipt_keeps_only_the_reasons_of_what_was_granted(broker):
    at = at_consent(broker)
    page = at.page()
    response = at.browser.post(
        at.url, data={"csrf_token": at.browser.csrf(page), "decision": "approve"}
    )
    code = query(response.headers["location"])["code"]
    token = redeem(broker.url, at.client, code, at.request.verifier).json()
    with broker.state.db.reader() as s:
        receipt = s.get(ConsentGrant, token["consent_id"]).receipt
    jwks = KeySet.import_key_set(httpx.get(f"{broker.url}/jwks").json())
    claims = verify_receipt(receipt, jwks, broker.url)
    assert claims["reasons"] == {REQUIRED: INFORMATION["reasons"][REQUIRED]}
