"""The citizen's ticks survive the preview (no script: the preview button is part of the
consent form, and the ticks travel in the URL), and what is approved afterwards is exactly
what was ticked. Forged ticks change nothing; the preview decides nothing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlmodel import select

from consent.models import ConsentGrant
from tests.consent.screen.consent_pages import (
    OPTIONAL,
    REQUIRED,
    STUDENT,
    at_consent,
    refresh_target,
)
from tests.helpers import TICKED, query, redeem

ADDRESS, BENEFICIARIES = OPTIONAL


def preview_page(at, ticked):
    asked = at.post("preview", ticked)
    assert asked.status_code == 303, asked.text
    return at.browser.get(refresh_target(at.browser.get(asked.headers["location"])))


def approve_as_shown(broker, at, page) -> set[str]:
    """Approves with the ticks the page shows, as a browser would; the token's scopes."""
    response = at.browser.post(
        at.url,
        data={
            "csrf_token": at.browser.csrf(page),
            "decision": "approve",
            "scope": TICKED.findall(page.text),
        },
    )
    assert response.status_code == 303, response.text
    code = query(response.headers["location"])["code"]
    token = redeem(broker.url, at.client, code, at.request.verifier)
    assert token.status_code == 200, token.text
    return set(token.json()["scope"].split())


def test_a_ticked_item_survives_the_preview_and_reaches_the_token(broker_with_providers):
    broker = broker_with_providers
    at = at_consent(broker)
    shown = preview_page(at, [BENEFICIARIES])
    assert "2\u00a0550" in shown.text  # the preview, with
    assert TICKED.findall(shown.text) == [BENEFICIARIES]  # the same tick
    with broker.state.db.reader() as s:
        assert s.exec(select(ConsentGrant)).all() == []  # the preview decided nothing
    scopes = approve_as_shown(broker, at, shown)
    assert BENEFICIARIES in scopes and REQUIRED in scopes and STUDENT in scopes
    assert ADDRESS not in scopes  # left unticked, left out


def test_an_unticked_item_stays_out_after_the_preview(broker_with_providers):
    broker = broker_with_providers
    at = at_consent(broker)
    shown = preview_page(at, [])
    assert TICKED.findall(shown.text) == []
    scopes = approve_as_shown(broker, at, shown)
    assert not scopes & set(OPTIONAL) and REQUIRED in scopes


def test_attack_forged_choices_in_the_url_change_nothing(broker_with_providers):
    broker = broker_with_providers
    at = at_consent(broker)
    forged = "&".join(
        f"choix={value}"
        for value in (REQUIRED, "dgfip_rfr", "%3Cscript%3E", "", ADDRESS, ADDRESS, "openid")
    )
    shown = at.page(f"?apercu=1&{forged}")
    assert shown.status_code == 200
    assert TICKED.findall(shown.text) == [ADDRESS]  # the one optional item asked for
    assert "<script>" not in shown.text  # (the language link keeps the query, encoded)
    assert 'value="dgfip_rfr"' not in shown.text and 'data-scope="dgfip_rfr"' not in shown.text
    assert f'name="scope" value="{REQUIRED}"' not in shown.text  # still required, no box
    scopes = approve_as_shown(broker, at, shown)
    assert scopes == {"openid", "given_name", "family_name", REQUIRED, STUDENT, ADDRESS}


def test_attack_forged_choices_in_the_preview_form_are_dropped(broker_with_providers):
    at = at_consent(broker_with_providers)
    asked = at.post("preview", [REQUIRED, "dgfip_rfr", "x\r\nSet-Cookie: a=b", BENEFICIARIES])
    assert asked.status_code == 303
    assert "set-cookie" not in asked.headers
    assert parse_qs(urlsplit(asked.headers["location"]).query) == {
        "attente": ["1"],
        "choix": [BENEFICIARIES],
    }


def test_attack_ticks_in_the_url_without_the_preview_tick_nothing(broker_with_providers):
    # A link cannot pre-tick a box: only the preview's own URLs carry the citizen's ticks.
    at = at_consent(broker_with_providers)
    assert TICKED.findall(at.page(f"?choix={ADDRESS}").text) == []


def test_attack_the_preview_button_needs_the_forms_step_token(broker_with_providers):
    broker = broker_with_providers
    at = at_consent(broker)
    for token in ("", "forged"):
        response = at.browser.post(at.url, data={"csrf_token": token, "decision": "preview"})
        assert response.status_code in (400, 403) and "location" not in response.headers
    response = at.browser.post(
        at.url, data={"csrf_token": at.browser.csrf(at.page()), "decision": "maybe"}
    )
    assert response.status_code in (400, 403) and "location" not in response.headers
    # Nothing was used up: the citizen can still decide.
    scopes = approve_as_shown(broker, at, at.page())
    assert REQUIRED in scopes
