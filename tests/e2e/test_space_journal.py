"""The citizen's space shows every access to their data: calls with their access token and
calls by API key about their identity, newest first, paginated; never another citizen's."""

from __future__ import annotations

import html
import re

import httpx

from consent.models import ConsentGrant
from tests.consent.test_space_support import codes_in
from tests.e2e.data_api_support import DINUM, api_key, identite_params
from tests.helpers import AuthorizationRequest, Browser, redeem, register_client

QF = "/v3/dss/quotient_familial"
LOGIN = "nom_composé"


def signed_in_with_token(
    broker, login=LOGIN, service="CCAS de Villebourg", scope="openid cnaf_quotient_familial"
):
    client = register_client(broker.state, name=service, scope=scope)
    browser = Browser(broker.url)
    request = AuthorizationRequest(client)
    received = browser.sign_in(request, login=login)
    tokens = redeem(broker.url, client, received["code"], request.verifier).json()
    return browser, tokens


def accesses(page: httpx.Response) -> list[str]:
    return re.findall(r'data-access="([^"]+)"', page.text)


def test_journal_lists_token_and_api_key_accesses_newest_first(broker, data_api):
    browser, tokens = signed_in_with_token(broker)
    by_token = httpx.get(
        f"{data_api.url}{QF}/france_connect",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert by_token.status_code == 200, by_token.text
    key = api_key(broker, "cnaf_quotient_familial")
    by_key = httpx.get(
        f"{data_api.url}{QF}/identite",
        params={**identite_params(LOGIN), "recipient": DINUM},
        headers={"Authorization": f"Bearer {key.secret}"},
    )
    assert by_key.status_code == 200, by_key.text
    page = browser.get("/espace/acces")
    assert page.status_code == 200
    assert accesses(page) == [by_key.headers["x-request-id"], by_token.headers["x-request-id"]]
    assert "CCAS de Villebourg" in page.text

    # Another citizen sees neither.
    other = Browser(broker.url)
    other.space_login("test", "123")
    assert accesses(other.get("/espace/acces")) == []
    export = other.get("/espace/export.json").json()
    assert export["journal"] == []
    # The export says who received the data and under which identifier the service knows
    # the citizen (GDPR article 15: recipients).
    by_id = {row["request_id"]: row for row in browser.get("/espace/export.json").json()["journal"]}
    assert set(by_id) == {by_key.headers["x-request-id"], by_token.headers["x-request-id"]}
    assert by_id[by_key.headers["x-request-id"]]["recipient"] == DINUM
    assert by_id[by_token.headers["x-request-id"]]["subject"]
    readable = html.unescape(browser.get("/espace/mes-donnees").text)
    assert f"Données remises à l'organisme de SIRET {DINUM}" in readable
    assert readable.count("data-subject>") == 1


def test_journal_is_paginated(broker, data_api):
    browser, tokens = signed_in_with_token(broker)
    ids = []
    for _ in range(23):
        response = httpx.get(
            f"{data_api.url}{QF}/france_connect",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        ids.append(response.headers["x-request-id"])
    first, second = browser.get("/espace/acces"), browser.get("/espace/acces?page=2")
    assert accesses(first) == ids[::-1][:20] and accesses(second) == ids[::-1][20:]
    assert 'rel="next"' in first.text and 'rel="prev"' in second.text
    # Out-of-range and malformed page numbers give a page, never an error.
    assert accesses(browser.get("/espace/acces?page=99")) == accesses(second)
    assert browser.get("/espace/acces?page=abc").status_code == 200


def cells(page: httpx.Response, request_id: str) -> dict[str, str]:
    """One journal row's cells by column label, as a person reads them."""
    row = page.text.split(f'data-access="{request_id}"')[1].split("</tr>")[0]
    found = re.findall(r'<td role="cell" data-label="([^"]+)"[^>]*>(.*?)</td>', row, re.S)
    return {html.unescape(label): html.unescape(value.strip()) for label, value in found}


def test_journal_names_the_provider_the_data_and_whether_the_identity_was_sent(broker, data_api):
    browser, tokens = signed_in_with_token(
        broker, scope="openid given_name family_name cnaf_quotient_familial"
    )
    by_token = httpx.get(
        f"{data_api.url}{QF}/france_connect",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    key = api_key(broker, "cnaf_quotient_familial", service="Logiciel des agents du CCAS")
    by_key = httpx.get(
        f"{data_api.url}{QF}/identite",
        params={**identite_params(LOGIN), "recipient": DINUM},
        headers={"Authorization": f"Bearer {key.secret}"},
    )
    given = released_identity(broker, tokens)
    page = browser.get("/espace/acces")
    token_row = cells(page, by_token.headers["x-request-id"])
    assert token_row["Source"].startswith("Caisse nationale des allocations familiales")
    assert token_row["Données"] == "Votre quotient familial CAF ou MSA"
    assert token_row["Votre identité"].startswith("Oui : le courtier l'a envoyée")
    key_row = cells(page, by_key.headers["x-request-id"])
    assert key_row["Service"] == "Logiciel des agents du CCAS"
    assert key_row["Votre identité"].startswith("Oui : le logiciel d'un agent")
    identity_row = cells(page, given)
    assert identity_row["Source"] == "Le courtier de consentement"
    assert identity_row["Données"] == "Vos prénoms ; Votre nom de naissance"
    assert identity_row["Votre identité"] == "Lue par le service auprès du courtier"
    assert identity_row["Résultat"] == "Identité transmise"
    assert codes_in(page.text) == []

    english = browser.get("/espace/acces?lang=en")
    identity_row = cells(english, given)
    assert identity_row["Data"] == "Your given names; Your birth name"
    assert cells(english, by_token.headers["x-request-id"])["Source"].startswith(
        "National Family Allowance Fund"
    )
    assert codes_in(english.text) == []


def released_identity(broker, tokens) -> str:
    """The service reads the citizen's identity at the broker's /userinfo, as a real service
    does; the broker journals the release under the answer's request id."""
    answer = httpx.get(
        f"{broker.url}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert answer.status_code == 200, answer.text
    return answer.headers["x-request-id"]


def test_journal_filters_by_service_and_keeps_the_filter_across_pages(broker, data_api):
    browser, tokens = signed_in_with_token(broker)
    key = api_key(broker, "cnaf_quotient_familial", service="Logiciel des agents du CCAS")
    by_key = httpx.get(
        f"{data_api.url}{QF}/identite",
        params={**identite_params(LOGIN), "recipient": DINUM},
        headers={"Authorization": f"Bearer {key.secret}"},
    )
    ids = [
        httpx.get(
            f"{data_api.url}{QF}/france_connect",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        ).headers["x-request-id"]
        for _ in range(21)
    ]
    everything = browser.get("/espace/acces")
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]+)</option>', everything.text)
    assert [name for _, name in options] == [
        "Tous les services",
        "CCAS de Villebourg",
        "Logiciel des agents du CCAS",
    ]
    ccas = options[1][0]
    first = browser.get("/espace/acces", params={"service": ccas})
    assert accesses(first) == ids[::-1][:20] and by_key.headers["x-request-id"] not in first.text
    assert f'<option value="{ccas}" selected>' in first.text
    assert f'href="/espace/acces?service={ccas}&amp;page=2" rel="next"' in first.text
    second = browser.get("/espace/acces", params={"service": ccas, "page": "2"})
    assert accesses(second) == ids[::-1][20:]
    assert f'href="/espace/acces?service={ccas}&amp;page=1" rel="prev"' in second.text
    only_key = browser.get("/espace/acces", params={"service": key.service_id})
    assert accesses(only_key) == [by_key.headers["x-request-id"]]


def test_attack_journal_filter_on_another_citizens_or_a_made_up_service(broker, data_api):
    browser, tokens = signed_in_with_token(broker)
    httpx.get(
        f"{data_api.url}{QF}/france_connect",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    _, other_tokens = signed_in_with_token(broker, login="test", service="Crèche")
    other = httpx.get(
        f"{data_api.url}{QF}/france_connect",
        headers={"Authorization": f"Bearer {other_tokens['access_token']}"},
    )
    with broker.state.db.reader() as session:
        theirs = [session.get(ConsentGrant, other_tokens["consent_id"]).service_id]
    for service in [*theirs, "inconnu", "x" * 300, "<script>"]:
        page = browser.get("/espace/acces", params={"service": service})
        assert page.status_code == 200 and "data-filter-rejected" in page.text, service
        assert other.headers["x-request-id"] not in page.text
        assert "<script>" not in page.text
