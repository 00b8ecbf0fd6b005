"""Helpers shared by the citizen space's tests (no test here): a consent given through the
real flow for a service whose habilitation says who is responsible (set as an administrator
sets it), the identity read at the real /userinfo, journal rows written directly for what a
real flow cannot produce cheaply (refused calls, calls by API key under made-up identities),
and a scan of pages for codes a citizen must never read."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import httpx
from sqlalchemy import insert

from broker.admin.consent_information import StatedInformation
from broker.catalogue.products import PRODUCTS
from broker.catalogue.scopes import REGISTRY
from broker.core.db import table_of
from broker.store.data_access_models import AccessJournal
from consent.models import ConsentGrant
from tests.helpers import (
    AuthorizationRequest,
    Browser,
    RegisteredClient,
    habilitate,
    redeem,
    register_client,
)

REQUIRED = "cnaf_quotient_familial"
OPTIONAL = "cnaf_adresse"
INFORMATION: dict[str, Any] = {
    "controller": "Mairie de Villebourg, service des écoles",
    "contact": "ecoles@villebourg.example",
    "dpo": "https://villebourg.example/dpo",
    "retention": "Jusqu'à la fin de l'année scolaire, puis deux ans pour les recours.",
    "reasons": {
        REQUIRED: "Pour calculer le prix du repas selon vos revenus.",
        OPTIONAL: "Pour vous envoyer la facture.",
    },
    "if_refused": "Apportez votre attestation de quotient familial à la mairie.",
}
LEGAL_BASIS_URL = "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000038901859"
JOURNAL = table_of(AccessJournal)


@dataclass
class Given:
    browser: Browser
    token: dict
    client: RegisteredClient
    service_id: str
    citizen_id: str

    @property
    def client_id(self) -> str:
        return self.client.client_id

    @property
    def consent_id(self) -> str:
        return self.token["consent_id"]


def give_consent(
    broker,
    service: str,
    *,
    browser: Browser | None = None,
    login: str = "test",
    ticked: tuple[str, ...] = (OPTIONAL,),
    information: bool = True,
    notification_uri: str | None = None,
    client: RegisteredClient | None = None,
    extra: dict | None = None,
) -> Given:
    """A consent to ``service`` (required and optional items of the CAF), approved through
    the real sign-in and consent screen; the habilitation states who is responsible and links
    its legal basis unless ``information`` is false. ``client``: approve again for that
    client."""
    if client is None:
        kwargs = {"notification_uri": notification_uri} if notification_uri else {}
        client = register_client(
            broker.state,
            name=service,
            scope=f"openid given_name family_name {REQUIRED} {OPTIONAL}",
            habilitated=False,
            **kwargs,
        )
        stated = StatedInformation(
            controller=INFORMATION["controller"],
            contact=INFORMATION["contact"],
            dpo=INFORMATION["dpo"],
            retention=INFORMATION["retention"],
            reasons=tuple(f"{scope}={text}" for scope, text in INFORMATION["reasons"].items()),
            if_refused=INFORMATION["if_refused"],
        )
        habilitate(
            broker.state,
            service,
            f"{REQUIRED} {OPTIONAL}",
            optional_scopes=OPTIONAL,
            **({"information": stated, "legal_basis_url": LEGAL_BASIS_URL} if information else {}),
        )
    browser = browser or Browser(broker.url)
    request = AuthorizationRequest(client, extra=extra or {})
    received = browser.sign_in(request, login=login, ticked=list(ticked))
    response = redeem(broker.url, client, received["code"], request.verifier)
    assert response.status_code == 200, response.text
    token = response.json()
    with broker.state.db.reader() as session:
        grant = session.get(ConsentGrant, token["consent_id"])
        assert grant is not None
        return Given(browser, token, client, grant.service_id, grant.citizen_id)


def read_userinfo(broker, given: Given) -> str:
    """The service reads the citizen's identity at the broker's /userinfo with its access
    token, as a real service does (the broker journals the release); the answer's request id,
    the journal row's."""
    answer = httpx.get(
        f"{broker.url}/userinfo",
        headers={"Authorization": f"Bearer {given.token['access_token']}"},
    )
    assert answer.status_code == 200, answer.text
    return answer.headers["x-request-id"]


def journal_row(broker, given: Given, *, at: int | None = None, **fields) -> str:
    """One row in the access journal about ``given``'s citizen and service, written as the
    broker writes an identity release unless ``fields`` say otherwise; its request id."""
    row = journal_entry(given, at=at, **fields)
    with broker.state.db.begin() as conn:
        conn.execute(insert(JOURNAL), row)
    return row["request_id"]


def journal_entry(given: Given, *, at: int | None = None, **fields) -> dict:
    """The values of such a row (to write many at once)."""
    request_id = secrets.token_hex(8)
    return {
        "at": at or int(time.time()),
        "request_id": request_id,
        "service_id": given.service_id,
        "habilitation_id": None,
        "credential": "userinfo",
        "credential_id": None,
        "client_id": given.client_id,
        "citizen_id": given.citizen_id,
        "subject": None,
        "identity_digest": None,
        "product": "identity",
        "mode": "openid",
        "scopes": ["openid", "given_name", "family_name"],
        "recipient": None,
        "outcome": "ok",
        "status": 200,
        "error_code": None,
        "cached": False,
        "latency_ms": 0,
        **fields,
    }


# Codes a citizen must never read: scope names with an underscore (the others are plain words
# such as "email" or "profile"), ``openid``, and the data API's product keys and paths.
CODES = re.compile(
    r"\b("
    + "|".join(
        sorted(
            [re.escape(n) for n in REGISTRY.names() if "_" in n or n == "openid"]
            + [re.escape(p.key) for p in PRODUCTS]
            + [re.escape("/v3/")],
            key=len,
            reverse=True,
        )
    )
    + r")"
)


class TextOnly(HTMLParser):
    """The text a person reads: element content, without attributes, scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skipping += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def codes_in(html: str) -> list[str]:
    """Scope names and product paths in the text of a page (attributes left aside)."""
    parser = TextOnly()
    parser.feed(html)
    return sorted(set(CODES.findall(" ".join(parser.parts))))
