"""Withdrawing a consent from the citizen's space, over real HTTP: a confirmation page first,
which says plainly what will happen (the service is told, its access stops now, data already
sent stays with it under its own retention rules, whom to contact), then the change; and the
attacks on it (no or another session's form token, another citizen's consent, unknown ids)."""

from __future__ import annotations

import html

import httpx

from consent.models import ConsentGrant
from tests.consent.test_space_support import INFORMATION, OPTIONAL, REQUIRED, give_consent
from tests.helpers import Browser


def status(broker, grant_id: str) -> str:
    with broker.state.db.reader() as session:
        grant = session.get(ConsentGrant, grant_id)
        assert grant is not None
        return grant.status


def userinfo(broker, access_token: str) -> int:
    response = httpx.get(
        f"{broker.url}/userinfo", headers={"Authorization": f"Bearer {access_token}"}
    )
    return response.status_code


def text(page: httpx.Response) -> str:
    return html.unescape(page.text)


def test_the_space_links_to_a_confirmation_page_and_withdraws_nothing_by_itself(broker):
    given = give_consent(broker, "Cantine de Villebourg")
    space = given.browser.get("/espace")
    link = f'href="/espace/accords/{given.consent_id}/retrait"'
    assert link in space.text
    # A link styled as a secondary action, never the page's main button, and no form.
    assert 'class="button button-secondary" ' + link in space.text
    assert f'action="/espace/accords/{given.consent_id}/retrait"' not in space.text
    page = given.browser.get(f"/espace/accords/{given.consent_id}/retrait")
    assert page.status_code == 200
    assert status(broker, given.consent_id) == "active"  # a GET changes nothing
    assert userinfo(broker, given.token["access_token"]) == 200


def test_the_confirmation_page_says_what_will_happen_and_whom_to_contact(broker):
    given = give_consent(broker, "Cantine de Villebourg")
    page = text(given.browser.get(f"/espace/accords/{given.consent_id}/retrait"))
    assert "Retirer votre accord à «\u00a0Cantine de Villebourg\u00a0»\u00a0?" in page
    assert "s'arrête tout de suite" in page
    assert "Les données qu'il a déjà reçues restent chez lui" in page
    assert INFORMATION["retention"] in page
    assert INFORMATION["controller"] in page
    assert f'href="mailto:{INFORMATION["contact"]}"' in page
    assert f'href="{INFORMATION["dpo"]}"' in page
    # This service registered no notification address: the page does not claim it is told.
    assert 'data-told="no"' in page and "à sa prochaine demande" in page
    assert "Confirmer le retrait" in page and 'href="/espace">Annuler</a>' in page
    # The optional item can be withdrawn alone, with an explanation on the same page.
    assert f'name="scope" value="{OPTIONAL}"' in page
    assert f'name="scope" value="{REQUIRED}"' not in page
    assert "Le service garde l'accès aux autres données" in page


def test_a_service_with_a_notification_address_is_said_to_be_told(broker):
    given = give_consent(broker, "Bourse communale", notification_uri="http://127.0.0.1:9/events")
    page = text(given.browser.get(f"/espace/accords/{given.consent_id}/retrait"))
    assert 'data-told="yes"' in page and "Le service en est prévenu tout de suite." in page


def test_without_the_habilitation_information_the_page_still_says_what_happens(broker):
    given = give_consent(broker, "Médiathèque", information=False)
    page = text(given.browser.get(f"/espace/accords/{given.consent_id}/retrait"))
    assert "selon ses propres règles de conservation" in page
    assert "Il indique" not in page and "Pour les données déjà envoyées" not in page


def test_confirming_withdraws_and_the_space_says_so(broker):
    given = give_consent(broker, "Cantine de Villebourg")
    page = given.browser.get(f"/espace/accords/{given.consent_id}/retrait")
    done = given.browser.post(
        f"/espace/accords/{given.consent_id}/retrait",
        data={"csrf_token": given.browser.csrf(page)},
    )
    assert done.status_code == 303 and done.headers["location"] == "/espace?notice=revoked"
    assert status(broker, given.consent_id) == "revoked"
    assert userinfo(broker, given.token["access_token"]) == 401
    space = given.browser.get(done.headers["location"])
    assert "data-notice" in space.text
    # Asked again: the consent has ended, and the page says so instead of a form.
    again = text(given.browser.get(f"/espace/accords/{given.consent_id}/retrait"))
    assert "Cet accord est déjà terminé" in again and "Confirmer le retrait" not in again


def test_withdrawing_one_approval_lists_and_ends_the_others_for_the_same_purpose(broker):
    first = give_consent(broker, "Cantine de Villebourg")
    second = give_consent(
        broker,
        "Cantine de Villebourg",
        browser=first.browser,
        client=first.client,
        extra={"prompt": "consent"},
    )
    page = first.browser.get(f"/espace/accords/{second.consent_id}/retrait")
    assert "il est retiré en même temps" in text(page)
    first.browser.post(
        f"/espace/accords/{second.consent_id}/retrait",
        data={"csrf_token": first.browser.csrf(page)},
    )
    assert status(broker, first.consent_id) == status(broker, second.consent_id) == "revoked"


def test_attack_withdrawal_without_a_form_token_or_with_another_sessions(broker):
    given = give_consent(broker, "Cantine de Villebourg")
    url = f"/espace/accords/{given.consent_id}/retrait"
    missing = given.browser.post(url, data={})
    assert missing.status_code == 403 and "Formulaire non valable" in missing.text
    # The same citizen signed in elsewhere: that session's token is not this session's.
    elsewhere = Browser(broker.url)
    elsewhere.space_login("test")
    foreign = elsewhere.csrf(elsewhere.get("/espace"))
    refused = given.browser.post(url, data={"csrf_token": foreign})
    assert refused.status_code == 403 and "Traceback" not in refused.text
    narrowed = given.browser.post(
        f"/espace/accords/{given.consent_id}/elements",
        data={"csrf_token": foreign, "scope": [OPTIONAL]},
    )
    assert narrowed.status_code == 403
    assert status(broker, given.consent_id) == "active"
    assert userinfo(broker, given.token["access_token"]) == 200


def test_attack_withdrawing_another_citizens_consent(broker):
    mine = give_consent(broker, "Cantine de Villebourg")
    intruder = Browser(broker.url)
    intruder.space_login("nom_composé")
    csrf = intruder.csrf(intruder.get("/espace"))
    url = f"/espace/accords/{mine.consent_id}/retrait"
    shown = intruder.get(url)
    assert shown.status_code == 404 and "Page introuvable" in shown.text
    assert "Cantine de Villebourg" not in shown.text
    posted = intruder.post(url, data={"csrf_token": csrf})
    assert posted.status_code == 404 and "Page introuvable" in posted.text
    assert status(broker, mine.consent_id) == "active"
    assert userinfo(broker, mine.token["access_token"]) == 200


def test_unknown_or_absurd_consent_ids_get_a_readable_not_found_page(broker):
    browser = Browser(broker.url)
    browser.space_login("test")
    for grant_id in ("inconnu", "x" * 500, "%3Cscript%3E"):
        page = browser.get(f"/espace/accords/{grant_id}/retrait")
        assert page.status_code == 404, grant_id
        assert "Page introuvable" in page.text and "Traceback" not in page.text
