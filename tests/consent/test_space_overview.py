"""The citizen space's first page, over real HTTP: current consents first, one card per
service and purpose, listing the items of all its approvals, each with its last access
(under that consent only); ended consents folded below in a compact list; never a scope
code."""

from __future__ import annotations

import html
import re
import time

import httpx
from sqlalchemy import select, update

from broker.core.db import table_of
from broker.store.data_access_models import AccessJournal
from consent.models import ConsentGrant
from tests.consent.test_space_support import (
    OPTIONAL,
    REQUIRED,
    codes_in,
    give_consent,
    journal_row,
    read_userinfo,
)
from tests.helpers import AuthorizationRequest, Browser, register_client

GRANT = table_of(ConsentGrant)
JOURNAL = table_of(AccessJournal)


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
    given_before(broker, first.consent_id, 86400)  # the first approval, the day before
    space = first.browser.get("/espace").text
    assert cards(space) == [second.consent_id]
    assert "(et aussi le " in space


def given_before(broker, consent_id: str, seconds: int) -> None:
    """The consent as if given ``seconds`` ago."""
    with broker.state.db.begin() as conn:
        conn.execute(
            update(GRANT)
            .where(GRANT.c.id == consent_id)
            .values(created_at=int(time.time()) - seconds)
        )


def sections_of(page: str) -> dict[str, str]:
    """Each current consent's card, by consent id."""
    return dict(zip(cards(page), page.split('<section class="panel consent"')[1:], strict=True))


def journaled_at(broker, request_id: str) -> int:
    with broker.state.db.connect() as conn:
        return conn.execute(select(JOURNAL.c.at).where(JOURNAL.c.request_id == request_id)).scalar()


def test_each_card_shows_its_last_access_by_its_own_service_only(broker, data_api):
    canteen = give_consent(broker, "Cantine de Villebourg")
    grant = give_consent(broker, "Bourse communale", browser=canteen.browser)
    read_userinfo(broker, canteen)  # its identity read at userinfo
    read = httpx.get(
        f"{data_api.url}/v3/dss/quotient_familial/france_connect",
        headers={"Authorization": f"Bearer {canteen.token['access_token']}"},
    )
    assert read.status_code == 200, read.text
    last = journaled_at(broker, read.headers["x-request-id"])
    # Neither a refused call nor a call by API key (under no consent) is the consent's access,
    # however recent.
    later = int(time.time()) + 60
    journal_row(broker, canteen, at=later, status=403, outcome="forbidden", scopes=[])
    journal_row(
        broker,
        canteen,
        at=later + 1,
        client_id=None,
        citizen_id=None,
        product="dss/quotient_familial",
        mode="identite",
        credential="api_key",
    )
    sections = sections_of(canteen.browser.get("/espace").text)
    assert f'data-last-access="{last}"' in sections[canteen.consent_id]
    assert f'href="/espace/acces?service={canteen.service_id}"' in sections[canteen.consent_id]
    assert 'data-last-access=""' in sections[grant.consent_id]
    assert "Aucun pour l'instant" in html.unescape(sections[grant.consent_id])


def test_a_consent_given_again_after_a_withdrawal_has_no_access_yet(broker):
    first = give_consent(broker, "Cantine de Villebourg")
    released = read_userinfo(broker, first)
    given_before(broker, first.consent_id, 7200)  # given two hours ago, read an hour ago
    with broker.state.db.begin() as conn:
        conn.execute(
            update(JOURNAL)
            .where(JOURNAL.c.request_id == released)
            .values(at=int(time.time()) - 3600)
        )
    page = first.browser.get("/espace").text
    assert 'data-last-access=""' not in sections_of(page)[first.consent_id]
    confirm = first.browser.get(f"/espace/accords/{first.consent_id}/retrait")
    first.browser.post(
        f"/espace/accords/{first.consent_id}/retrait",
        data={"csrf_token": first.browser.csrf(confirm)},
    )
    again = give_consent(
        broker,
        "Cantine de Villebourg",
        browser=first.browser,
        client=first.client,
        extra={"prompt": "consent"},
    )
    card = sections_of(first.browser.get("/espace").text)[again.consent_id]
    assert 'data-last-access=""' in card
    assert "Aucun pour l'instant" in html.unescape(card)


def test_a_card_lists_the_items_of_all_its_approvals(broker):
    first = give_consent(broker, "Cantine de Villebourg")  # with the optional item
    second = give_consent(
        broker,
        "Cantine de Villebourg",
        browser=first.browser,
        client=first.client,
        ticked=(),
        extra={"prompt": "consent"},
    )
    given_before(broker, first.consent_id, 86400)
    card = sections_of(first.browser.get("/espace").text)[second.consent_id]
    # The newest approval left the optional item out; the first one still shares it, and
    # withdrawing the card ends both.
    assert f'data-scope="{OPTIONAL}"' in card and f'data-scope="{REQUIRED}"' in card
    confirm = first.browser.get(f"/espace/accords/{second.consent_id}/retrait").text
    assert f'data-scope="{OPTIONAL}"' in confirm.split('class="data-list"')[1].split("</ul>")[0]


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
