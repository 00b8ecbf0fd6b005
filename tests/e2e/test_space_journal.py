"""The citizen's space shows every access to their data: calls with their access token and
calls by API key about their identity, newest first, paginated; never another citizen's."""

from __future__ import annotations

import re

import httpx

from tests.e2e.data_api_support import DINUM, api_key, identite_params
from tests.helpers import AuthorizationRequest, Browser, redeem, register_client

QF = "/v3/dss/quotient_familial"
LOGIN = "nom_composé"


def signed_in_with_token(broker, login=LOGIN):
    client = register_client(
        broker.state, name="CCAS de Villebourg", scope="openid cnaf_quotient_familial"
    )
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
    assert len(browser.get("/espace/export.json").json()["journal"]) == 2


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
