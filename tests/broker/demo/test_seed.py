"""The demo seed: the demo service's habilitation states everything the consent screen can tell
a citizen, an older one is brought up to date in place, and the service has its logo."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest
from sqlalchemy import event, update
from sqlmodel import select

from broker.admin.clients import set_service_logo
from broker.admin.consent_information import checked_information, unstated
from broker.admin.habilitations import list_habilitations
from broker.catalogue.scopes import REGISTRY
from broker.core.db import Database
from broker.demo.seed import (
    DEMO_CLIENT_ID,
    DEMO_DATA_SCOPES,
    DEMO_INFORMATION,
    DEMO_REASONS,
    DEMO_SCOPE,
    DEMO_SERVICE_NAME,
    seed_demo_habilitation,
    seed_demo_logo,
)
from broker.demo.service_logo import DEMO_LOGO, DEMO_LOGO_TYPE
from broker.store.data_access_models import Habilitation
from broker.store.models import OAuthClient, Service
from tests.helpers import AuthorizationRequest, Browser, RegisteredClient

CONSENT_COLUMNS = ("controller", "contact", "dpo", "retention", "reasons", "if_refused")
SVG = "{http://www.w3.org/2000/svg}"


def demo_habilitations(database_url: str) -> list[dict]:
    db = Database(database_url)
    with db.reader() as session:
        listed = list_habilitations(session)
    db.dispose()
    return [h for h in listed if h["service"] == DEMO_SERVICE_NAME]


def test_the_demo_habilitation_states_everything(database_url):
    """The test databases are seeded: the demo's habilitation as ``broker demo seed`` makes it."""
    [habilitation] = demo_habilitations(database_url)
    expected = checked_information(DEMO_INFORMATION, DEMO_DATA_SCOPES)
    assert {c: habilitation[c] for c in CONSENT_COLUMNS} == expected
    assert unstated(habilitation) == []
    assert all(habilitation[c] for c in CONSENT_COLUMNS)
    # A reason for every item the consent screen lists for the demo service, identity items
    # included; none for openid, which it does not list (that reason would never be shown).
    listed = {s.name for _, items in REGISTRY.group_by_provider(DEMO_SCOPE.split()) for s in items}
    assert set(habilitation["reasons"]) == listed == set(DEMO_REASONS)
    assert "openid" in DEMO_SCOPE.split() and "openid" not in listed
    assert habilitation["contact"].endswith(".example")  # a reserved domain (RFC 2606)
    assert habilitation["dpo"].endswith(".example")


# What older seeds stored: nothing (before the consent information existed), then a reason for
# openid too (before reasons for items the screen does not list were refused).
OLDER_SEEDS = {
    "no information": dict.fromkeys(CONSENT_COLUMNS),
    "a reason for openid": {
        "reasons": {
            "openid": "Pour vous reconnaître quand vous revenez sur le site de la cantine.",
            **DEMO_REASONS,
        }
    },
}


@pytest.mark.parametrize("older", OLDER_SEEDS.values(), ids=OLDER_SEEDS.keys())
def test_an_older_demo_habilitation_is_brought_up_to_date_in_place(database_url, older):
    """A database seeded by an older seed gets the current information, under the same
    habilitation (the consents given under it stand); seeding again changes nothing."""
    [before] = demo_habilitations(database_url)
    db = Database(database_url)
    with db.transaction() as session:
        session.execute(update(Habilitation).where(Habilitation.id == before["id"]).values(older))
    assert demo_habilitations(database_url) != [before]
    with db.transaction() as session:
        assert seed_demo_habilitation(session) == before["id"]
    writes: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        if not statement.lstrip().upper().startswith("SELECT"):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    with db.transaction() as session:
        assert seed_demo_habilitation(session) == before["id"]
        assert seed_demo_logo(session) == DEMO_LOGO_TYPE
    event.remove(db.engine, "before_cursor_execute", record)
    db.dispose()
    assert [w for w in writes if re.match(r"\s*(INSERT|UPDATE|DELETE)", w, re.I)] == []
    assert demo_habilitations(database_url) == [before]


def test_the_seed_keeps_a_logo_the_operator_set(database_url):
    db = Database(database_url)
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    with db.transaction() as session:
        set_service_logo(session, DEMO_SERVICE_NAME, png)
    with db.transaction() as session:
        assert seed_demo_logo(session) == "image/png"
    with db.reader() as session:
        service = session.exec(select(Service).where(Service.name == DEMO_SERVICE_NAME)).one()
    db.dispose()
    assert service.logo == png


def test_attack_demo_logo_carries_nothing_that_runs_or_loads():
    """Shapes and fill colours only: no script, no event handler, no style, no link."""
    root = ElementTree.fromstring(DEMO_LOGO)
    allowed = {"svg", "rect", "path", "circle"}
    for element in root.iter():
        assert element.tag.removeprefix(SVG) in allowed, element.tag
        for attribute in element.attrib:
            assert not attribute.lower().startswith("on") and "href" not in attribute.lower()
            assert attribute not in ("style", "class")
    assert not re.search(rb"script|style|href|url\(|<!|&", DEMO_LOGO, re.IGNORECASE)


def test_the_consent_screen_shows_the_demo_logo_served_by_the_broker(broker):
    with broker.state.db.reader() as session:
        client = session.get(OAuthClient, DEMO_CLIENT_ID)
        service = session.get(Service, client.service_id)
    assert (service.logo, service.logo_type) == (DEMO_LOGO, DEMO_LOGO_TYPE)
    demo = RegisteredClient(DEMO_CLIENT_ID, None, client.redirect_uris[0], DEMO_SCOPE)
    browser = Browser(broker.url)
    login = browser.authorize(AuthorizationRequest(demo)).headers["location"]
    page = browser.get(browser.login(login).headers["location"])
    assert page.status_code == 200
    assert f'src="/services/{service.id}/logo"' in page.text
    logo = browser.get(f"/services/{service.id}/logo")
    assert logo.status_code == 200 and logo.content == DEMO_LOGO
    assert logo.headers["content-type"] == DEMO_LOGO_TYPE
    assert logo.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in logo.headers["content-security-policy"]
    browser.close()
