"""The consent screen's preview over real HTTP: values read from the provider simulators for
the signed-in citizen, shown before approval, never stored; a failing provider is shown as
such and does not block the decision."""

from __future__ import annotations

import pytest
from sqlmodel import select

from broker.store.data_access_models import AccessJournal
from consent.models import ConsentGrant
from tests.helpers import AuthorizationRequest, Browser, register_client
from tests.servers import start_server

SCOPE = "openid profile cnaf_quotient_familial cnous_statut_boursier"


@pytest.fixture
def broker_with_providers(settings_factory, simulators):
    with start_server(
        lambda issuer: settings_factory(issuer, providers_url=simulators, provider_read_timeout=2.0)
    ) as server:
        yield server


def at_consent(broker, login="test"):
    client = register_client(broker.state, name="Bourse", scope=SCOPE)
    browser = Browser(broker.url)
    login_url = browser.authorize(AuthorizationRequest(client)).headers["location"]
    consent_url = browser.login(login_url, login).headers["location"]
    return client, browser, consent_url


def test_preview_shows_the_citizens_values_before_approval(broker_with_providers):
    broker = broker_with_providers
    _, browser, consent_url = at_consent(broker)
    plain = browser.get(consent_url)
    assert "?apercu=1" in plain.text and "2\u00a0550" not in plain.text
    assert "24/08/1962" not in plain.text
    preview = browser.get(consent_url + "?apercu=1")
    assert preview.status_code == 200
    assert "2\u00a0550\u00a0€" in preview.text
    assert "DUBOIS" in preview.text and "24/08/1962" in preview.text  # identity, as received
    with broker.state.db.reader() as s:
        assert s.exec(select(ConsentGrant)).all() == []  # nothing decided, nothing kept
        assert s.exec(select(AccessJournal)).all() == []
    # The decision still works from the preview page.
    response = browser.post(
        consent_url, data={"csrf_token": browser.csrf(preview), "decision": "approve"}
    )
    assert response.status_code == 303 and "code=" in response.headers["location"]


def test_a_failing_provider_is_shown_and_does_not_block(broker_with_providers):
    broker = broker_with_providers
    _, browser, consent_url = at_consent(broker, login="scenario_erreur_serveur")
    preview = browser.get(consent_url + "?apercu=1")
    assert preview.status_code == 200
    assert "pas pu être affichées" in preview.text
    response = browser.post(
        consent_url, data={"csrf_token": browser.csrf(preview), "decision": "approve"}
    )
    assert response.status_code == 303


def test_attack_preview_of_someone_elses_interaction(broker_with_providers):
    broker = broker_with_providers
    _, _, consent_url = at_consent(broker)
    stranger = Browser(broker.url)
    response = stranger.get(consent_url + "?apercu=1")
    assert response.status_code == 403 and "2\u00a0550" not in response.text
