"""The citizen space's first page, over real HTTP: current consents first, one card per
service and purpose, each with its last access; ended consents folded below in a compact
list; never a scope code."""

from __future__ import annotations

import html
import re
import time

from sqlalchemy import update

from broker.core.db import table_of
from consent.models import ConsentGrant
from tests.consent.test_space_support import OPTIONAL, codes_in, give_consent, journal_row
from tests.helpers import AuthorizationRequest, Browser, register_client

GRANT = table_of(ConsentGrant)


def cards(page: str) -> list[str]:
    """The current consents' cards (sections), in page order."""
    return re.findall(r'<section class="panel consent"[^>]*data-consent="([^"]+)"', page)


def ended_part(page: str) -> str:
    start = page.find('<details class="panel ended-consents"')
    return page[start : page.find("</details>", start)] if start >= 0 else ""


def test_current_consents_come_first_and_ended_ones_are_folded_below(broker):
    kept = give_consent(broker, "Cantine de Villebourg")
    ended = give_consent(broker, "Bourse communale", browser=kept.browser)
    page = kept.browser.get(f"/espace/accords/{ended.consent_id}/retrait")
    kept.browser.post(
        f"/espace/accords/{ended.consent_id}/retrait", data={"csrf_token": kept.browser.csrf(page)}
    )
    refused_client = register_client(broker.state, name="Médiathèque", scope="openid email")
    kept.browser.sign_in(AuthorizationRequest(refused_client), decision="refuse")

    space = kept.browser.get("/espace").text
    assert cards(space) == [kept.consent_id]
    folded = ended_part(space)
    assert "<summary>Accords terminés (2)</summary>" in folded
    assert f'data-consent="{ended.consent_id}" data-status="revoked"' in folded
    assert 'data-status="refused"' in folded and "Médiathèque" in folded
    # Compact: one line each, no card, no list of ticked items.
    assert "data-list" not in folded and "data-scope" not in folded
    assert space.index('class="panel consent"') < space.index("ended-consents")
    assert codes_in(space) == []


def test_several_approvals_for_the_same_purpose_make_one_card(broker):
    first = give_consent(broker, "Cantine de Villebourg")
    second = give_consent(
        broker,
        "Cantine de Villebourg",
        browser=first.browser,
        client=first.client,
        extra={"prompt": "consent"},
    )
    with broker.state.db.begin() as conn:  # the first approval was given the day before
        conn.execute(
            update(GRANT)
            .where(GRANT.c.id == first.consent_id)
            .values(created_at=int(time.time()) - 86400)
        )
    space = first.browser.get("/espace").text
    assert cards(space) == [second.consent_id]
    assert "(et aussi le " in space


def test_each_card_shows_its_last_access_by_its_own_service_only(broker):
    canteen = give_consent(broker, "Cantine de Villebourg")
    grant = give_consent(broker, "Bourse communale", browser=canteen.browser)
    now = int(time.time())
    journal_row(broker, canteen, at=now - 7200)  # its identity read at userinfo
    journal_row(
        broker,
        canteen,
        at=now - 3600,
        product="dss/quotient_familial",
        mode="france_connect",
        credential="access_token",
        scopes=["cnaf_quotient_familial"],
    )
    # Neither a refused call nor a call by API key (under no consent) is the consent's access.
    journal_row(broker, canteen, at=now - 60, status=403, outcome="forbidden", scopes=[])
    journal_row(
        broker,
        canteen,
        at=now - 30,
        client_id=None,
        citizen_id=None,
        product="dss/quotient_familial",
        mode="identite",
        credential="api_key",
    )
    space = canteen.browser.get("/espace").text
    sections = dict(
        zip(cards(space), space.split('<section class="panel consent"')[1:], strict=True)
    )
    assert f'data-last-access="{now - 3600}"' in sections[canteen.consent_id]
    assert f'href="/espace/acces?service={canteen.service_id}"' in sections[canteen.consent_id]
    assert 'data-last-access=""' in sections[grant.consent_id]
    assert "Aucun pour l'instant" in html.unescape(sections[grant.consent_id])


def test_an_optional_item_withdrawn_shows_as_such_on_the_card(broker):
    given = give_consent(broker, "Cantine de Villebourg")
    page = given.browser.get(f"/espace/accords/{given.consent_id}/retrait")
    given.browser.post(
        f"/espace/accords/{given.consent_id}/elements",
        data={"csrf_token": given.browser.csrf(page), "scope": [OPTIONAL]},
    )
    space = given.browser.get("/espace").text
    assert f'data-scope="{OPTIONAL}" class="withdrawn"' in space
    assert "retiré le " in space and "<summary>Historique</summary>" in space


def test_a_citizen_without_consents_reads_so(broker):
    browser = Browser(broker.url)
    browser.space_login("nom_composé")
    space = browser.get("/espace").text
    assert "Vous n'avez encore donné aucun accord." in html.unescape(space)
    assert "ended-consents" not in space
