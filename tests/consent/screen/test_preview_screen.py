"""The consent screen's preview over real HTTP: asked for with a button of the consent form,
it goes through a waiting page that refreshes itself (no script) to the page that reads the
provider simulators for the signed-in citizen; the values are shown before approval, never
stored; a slow or failing provider is described in words that say only what is true."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from sqlmodel import select

from broker.store.data_access_models import AccessJournal
from consent.models import ConsentGrant
from tests.consent.screen.consent_pages import (
    PREVIEW_READ_TIMEOUT,
    at_consent,
    refresh_target,
    text,
)
from tests.helpers import Browser

NUDGE = "cela n'empêche pas"
WAITING_LIST = re.compile(r"<ul data-waiting-providers>(.*?)</ul>", re.S)


def waiting_providers(page) -> list[str]:
    """The providers the waiting page says it is asking, in its list."""
    found = WAITING_LIST.search(text(page))
    assert found, "no list of providers on the waiting page"
    return [item.strip() for item in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]


def preview(at, ticked=()):
    """Presses the preview button; returns the waiting page and the preview it leads to."""
    asked = at.post("preview", ticked)
    assert asked.status_code == 303, asked.text
    waiting = at.browser.get(asked.headers["location"])
    assert waiting.status_code == 200
    return waiting, at.browser.get(refresh_target(waiting))


def test_preview_shows_the_citizens_values_before_approval(broker_with_providers):
    broker = broker_with_providers
    at = at_consent(broker)
    plain = at.page()
    assert 'name="decision" value="preview"' in plain.text  # a button of the same form
    assert "2\u00a0550" not in plain.text and "preview-values" not in plain.text
    asked = at.post("preview")
    assert asked.status_code == 303
    location = urlsplit(asked.headers["location"])
    assert location.path == at.url  # the waiting page, by GET, sealed
    assert parse_qs(location.query).keys() == {"attente", "sceau"}
    waiting = at.browser.get(asked.headers["location"])
    assert waiting_providers(waiting) == ["La CAF ou la MSA", "Le Cnous"]
    seconds = int(PREVIEW_READ_TIMEOUT + broker.settings.provider_connect_timeout + 0.999)
    assert f"Cela peut prendre jusqu'à {seconds} secondes." in text(waiting)
    assert "2\u00a0550" not in text(waiting)  # nothing read yet
    target = urlsplit(refresh_target(waiting))
    assert target.path == at.url and parse_qs(target.query).keys() == {"apercu", "sceau"}
    shown = at.browser.get(refresh_target(waiting))
    assert shown.status_code == 200
    assert "2\u00a0550\u00a0€" in text(shown)
    family_name = re.search(r"<li data-scope=\"family_name\">.*?</li>", shown.text, re.S)
    assert "DUBOIS" in family_name.group(0)  # identity, as received
    assert "1962" in text(shown)  # the beneficiaries' birth date, read from the CAF
    # Only the provider that sent values is said to have been read.
    read = "Les valeurs ci-dessous viennent d'être lues auprès de la CAF ou de la MSA."
    assert read in text(shown)
    assert "Le Cnous n'a trouvé aucune donnée à votre nom." in text(shown)
    assert "Votre identité est celle reçue lors de votre connexion." in text(shown)
    assert 'value="preview"' not in text(shown)  # already shown
    with broker.state.db.reader() as s:
        assert s.exec(select(ConsentGrant)).all() == []  # nothing decided, nothing kept
        assert s.exec(select(AccessJournal)).all() == []
    # The decision still works from the preview page.
    response = at.browser.post(
        at.url, data={"csrf_token": at.browser.csrf(shown), "decision": "approve"}
    )
    assert response.status_code == 303 and "code=" in response.headers["location"]


def test_a_failing_provider_is_named_and_nothing_pushes_to_approve(broker_with_providers):
    broker = broker_with_providers
    at = at_consent(broker, login="scenario_maintenance")
    _, shown = preview(at)
    assert shown.status_code == 200
    page = text(shown)
    assert "Nous n'avons pas pu lire ces données auprès de la CAF ou de la MSA." in page
    assert "La CAF ou la MSA est en maintenance." in page
    assert "Le Cnous est en maintenance." in page
    assert (
        "Si vous acceptez, le service les demandera lui-même à la CAF ou à la MSA. "
        "Si vous refusez, il ne les demandera pas." in page
    )
    assert "Aucune valeur n'a pu être lue auprès de la CAF ou de la MSA." in page
    assert "Aucune valeur n'a pu être lue auprès du Cnous." in page
    assert "viennent d'être lues" not in page  # no provider answered: no such claim
    assert NUDGE not in page
    response = at.browser.post(
        at.url, data={"csrf_token": at.browser.csrf(shown), "decision": "approve"}
    )
    assert response.status_code == 303


def test_a_slow_provider_gets_the_waiting_page_then_its_own_words(broker_with_providers):
    at = at_consent(broker_with_providers, login="scenario_lent")
    waiting, shown = preview(at)
    assert waiting_providers(waiting) == ["La CAF ou la MSA", "Le Cnous"]
    assert shown.status_code == 200
    assert "La CAF ou la MSA n'a pas répondu à temps." in text(shown)
    assert "Le Cnous n'a pas répondu à temps." in text(shown)
    assert "viennent d'être lues" not in text(shown) and NUDGE not in text(shown)


def test_the_waiting_page_is_skipped_when_no_provider_is_asked(broker_with_providers):
    from tests.consent.screen.consent_pages import demo_client

    client = demo_client(
        broker_with_providers.state,
        name="Emploi de Démo",
        scope="openid given_name family_name pole_emploi_inscription",
        retention="Un an.",
    )
    at = at_consent(broker_with_providers, client=client)
    asked = at.post("preview")
    assert parse_qs(urlsplit(asked.headers["location"]).query).keys() == {"apercu", "sceau"}
    shown = at.browser.get(asked.headers["location"])
    assert "Ces données ne peuvent pas être affichées ici : France Travail ne les donne" in text(
        shown
    )
    assert (
        "Si vous acceptez, le service les demandera lui-même à France Travail. "
        "Si vous refusez, il ne les demandera pas." in text(shown)
    )


def test_attack_preview_of_someone_elses_interaction(broker_with_providers):
    broker = broker_with_providers
    at = at_consent(broker)
    stranger = Browser(broker.url)
    for query in ("?apercu=1", "?attente=1"):
        response = stranger.get(at.url + query)
        assert response.status_code == 403 and "2\u00a0550" not in response.text
    forged = stranger.post(
        at.url, data={"csrf_token": at.browser.csrf(at.page()), "decision": "preview"}
    )
    assert forged.status_code == 403 and "location" not in forged.headers


def test_the_waiting_page_carries_the_ticks_to_the_preview(broker_with_providers):
    at = at_consent(broker_with_providers)
    asked = at.post("preview", ticked=["cnaf_allocataires"])
    query = parse_qs(urlsplit(asked.headers["location"]).query)
    assert query.keys() == {"attente", "choix", "sceau"}
    assert query["choix"] == ["cnaf_allocataires"]
    waiting = at.browser.get(asked.headers["location"])
    target = parse_qs(urlsplit(refresh_target(waiting)).query)
    assert target.keys() == {"apercu", "choix", "sceau"}
    assert target["choix"] == ["cnaf_allocataires"]
    assert target["sceau"] != query["sceau"]  # a seal per step


def test_attack_no_refresh_to_elsewhere_from_a_made_up_interaction(broker_with_providers):
    at = at_consent(broker_with_providers)
    for path in ("/interaction/x;url=https:%2F%2Fevil.example/consent", "/interaction/x/consent"):
        response = at.browser.get(path + "?attente=1")
        assert response.status_code in (400, 403, 404) and "http-equiv" not in response.text
