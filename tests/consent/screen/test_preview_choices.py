"""The citizen's ticks survive the preview (no script: the preview button is part of the
consent form, and the ticks travel in the URL, sealed), and what is approved afterwards is
exactly what was ticked. Forged ticks change nothing, a URL made elsewhere makes the broker
ask no provider; the preview decides nothing."""

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
from tests.helpers import TICKED, AuthorizationRequest, query, redeem

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


def plain(page) -> bool:
    """The consent screen as on a first visit: no tick, no value read, no refresh."""
    return (
        page.status_code == 200
        and TICKED.findall(page.text) == []
        and "data-preview-summary" not in page.text
        and "preview-values" not in page.text
        and "http-equiv" not in page.text
        and 'value="preview"' in page.text  # the preview is still to be asked for
    )


def sealed_location(at, ticked) -> str:
    """The waiting page's URL the preview button leads to: the broker's own, sealed."""
    asked = at.post("preview", ticked)
    assert asked.status_code == 303, asked.text
    return asked.headers["location"]


def test_attack_choices_without_seal_tick_nothing(broker_with_providers):
    # A link made elsewhere (an email, another site) cannot pre-tick a box: only the URLs the
    # broker sealed for this step and this browser carry ticks.
    at = at_consent(broker_with_providers)
    junk = "".join(
        f"&choix={value}"
        for value in (REQUIRED, "dgfip_rfr", "%3Cscript%3E", "", ADDRESS, ADDRESS, "openid")
    )
    waiting_seal = query(sealed_location(at, []))["sceau"]  # a true seal, of no tick
    for forged in (
        f"?choix={ADDRESS}",
        f"?apercu=1{junk}",
        f"?attente=1{junk}",
        f"?apercu=1&choix={ADDRESS}&sceau=",
        f"?apercu=1&choix={ADDRESS}&sceau={'0' * 64}",
        f"?attente=1&choix={ADDRESS}&sceau={waiting_seal}",  # sealed for other ticks
        f"?apercu=1&sceau={waiting_seal}",  # sealed for the other step
    ):
        shown = at.page(forged)
        assert plain(shown), forged
        assert "<script>" not in shown.text  # (the language link keeps the query, encoded)
        assert 'data-scope="dgfip_rfr"' not in shown.text
    # Approved from there, the optional items stay out.
    scopes = approve_as_shown(broker_with_providers, at, at.page(f"?apercu=1{junk}"))
    assert scopes == {"openid", "given_name", "family_name", REQUIRED, STUDENT}


def test_attack_preview_url_without_seal_reads_no_provider(broker_behind_relay, relay):
    # A bare GET must not make the broker call the providers on the citizen's behalf.
    at = at_consent(broker_behind_relay)
    for forged in (
        "?apercu=1",
        f"?apercu=1&choix={ADDRESS}",
        f"?apercu=1&choix={ADDRESS}&sceau={'0' * 64}",
        f"?apercu=1&sceau={query(sealed_location(at, []))['sceau']}",  # the waiting page's
    ):
        assert plain(at.page(forged)), forged
    assert relay.requests == []  # no provider was asked
    # The same citizen's preview button does read them: the relay sees what the broker asks.
    shown = preview_page(at, [ADDRESS])
    assert "2\u00a0550" in shown.text and TICKED.findall(shown.text) == [ADDRESS]
    assert relay.count("/cnaf/") >= 1 and relay.count("/cnous/") >= 1


def test_attack_junk_added_to_a_sealed_url_is_dropped(broker_with_providers):
    # The seal covers the ticks once filtered: junk added to the broker's own URL is ignored,
    # it neither breaks the preview nor adds an item.
    broker = broker_with_providers
    at = at_consent(broker)
    waiting = at.browser.get(sealed_location(at, [ADDRESS]))
    junk = "".join(f"&choix={value}" for value in (REQUIRED, "dgfip_rfr", "%3Cscript%3E", ""))
    shown = at.browser.get(refresh_target(waiting) + junk)
    assert "2\u00a0550" in shown.text and TICKED.findall(shown.text) == [ADDRESS]
    assert "<script>" not in shown.text and 'data-scope="dgfip_rfr"' not in shown.text
    assert f'name="scope" value="{REQUIRED}"' not in shown.text  # still required, no box
    scopes = approve_as_shown(broker, at, shown)
    assert scopes == {"openid", "given_name", "family_name", REQUIRED, STUDENT, ADDRESS}


def test_attack_forged_choices_in_the_preview_form_are_dropped(broker_with_providers):
    at = at_consent(broker_with_providers)
    asked = at.post("preview", [REQUIRED, "dgfip_rfr", "x\r\nSet-Cookie: a=b", BENEFICIARIES])
    assert asked.status_code == 303
    assert "set-cookie" not in asked.headers
    sent = parse_qs(urlsplit(asked.headers["location"]).query)
    assert sent.keys() == {"attente", "choix", "sceau"} and sent["choix"] == [BENEFICIARIES]


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


def sealed_steps(at, ticked) -> list[str]:
    """The queries of both sealed URLs the broker gives ``at``'s preview (waiting, reading)
    without following the second, so that no provider is asked."""
    waiting = sealed_location(at, ticked)
    reading = refresh_target(at.browser.get(waiting))
    return ["?" + urlsplit(url).query for url in (waiting, reading)]


def test_attack_a_seal_from_another_interaction_ticks_nothing(broker_behind_relay, relay):
    # The seal is keyed with the step token of its interaction: the same browser's other
    # authorization request (another service's tab, say) does not accept it.
    first = at_consent(broker_behind_relay)
    steps = sealed_steps(first, [ADDRESS])
    second = first.browser.authorize(AuthorizationRequest(first.client))
    assert second.status_code == 303 and second.headers["location"].endswith("/consent")
    other_url = urlsplit(second.headers["location"]).path
    assert other_url != first.url
    for step in steps:
        assert plain(first.browser.get(other_url + step)), step
    assert relay.requests == []  # no provider was asked


def test_attack_a_seal_from_another_browser_ticks_nothing(broker_behind_relay, relay):
    # Another browser at the same service's consent screen, given this browser's sealed URLs:
    # on its own screen they tick nothing; as they are, they reach another browser's step.
    mine = at_consent(broker_behind_relay)
    steps = sealed_steps(mine, [ADDRESS])
    theirs = at_consent(broker_behind_relay, client=mine.client)
    for step in steps:
        assert plain(theirs.page(step)), step
        stolen = theirs.browser.get(mine.url + step)
        assert stolen.status_code == 403 and not TICKED.findall(stolen.text), step
        assert "preview-values" not in stolen.text
    assert relay.requests == []
