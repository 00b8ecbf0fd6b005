"""Shared by the consent screen's tests (the browser's too): a client whose habilitation states
everything the screen can show, and a browser stopped at its consent screen."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import update

from broker.store.data_access_models import Habilitation
from tests.helpers import (
    AuthorizationRequest,
    Browser,
    RegisteredClient,
    habilitate,
    register_client,
)

SERVICE = "Cantine de Démo"
REQUIRED = "cnaf_quotient_familial"
OPTIONAL = ("cnaf_adresse", "cnaf_allocataires")
STUDENT = "cnous_statut_boursier"  # required, at a second provider
SCOPE = f"openid given_name family_name {REQUIRED} {' '.join(OPTIONAL)} {STUDENT}"
INFORMATION: dict[str, Any] = {
    "controller": "Mairie de Démo-sur-Mer",
    "contact": "cantine@demo-sur-mer.example",
    "dpo": "https://demo-sur-mer.example/dpo",
    "retention": "Deux ans après la fin de l'année scolaire.",
    "reasons": {
        REQUIRED: "Le tarif du repas dépend du quotient familial.",
        "cnaf_adresse": "Pour vous envoyer la facture.",
    },
    "if_refused": "Apportez votre attestation de quotient familial à l'accueil de la mairie.",
}
PREVIEW_READ_TIMEOUT = 1.0  # the slow scenario (tests/conftest.py SLOW_SECONDS) runs past it
REFRESH = re.compile(r'<meta http-equiv="refresh" content="0;url=([^"]+)">')


def describe(state, habilitation_id: str, **fields) -> None:
    """Sets the consent information of a habilitation, as ``broker habilitations add`` does."""
    with state.db.transaction() as session:
        session.exec(
            update(Habilitation).where(Habilitation.id == habilitation_id).values(**fields)
        )


def demo_client(state, name: str = SERVICE, scope: str = SCOPE, **information):
    """A client whose habilitation has optional items and, unless given, every text."""
    client = register_client(state, name=name, scope=scope, habilitated=False)
    data_scopes = [s for s in scope.split() if s.startswith(("cnaf_", "cnous_", "pole_emploi"))]
    created = habilitate(
        state,
        name,
        " ".join(data_scopes),
        optional_scopes=" ".join(s for s in OPTIONAL if s in data_scopes),
    )
    describe(state, created["id"], **(information or INFORMATION))
    return client


@dataclass
class AtConsent:
    client: RegisteredClient
    browser: Browser
    request: AuthorizationRequest
    url: str  # the consent page's path

    def page(self, query: str = "") -> httpx.Response:
        return self.browser.get(self.url + query)

    def post(self, decision: str, ticked=(), **extra) -> httpx.Response:
        form = self.page()
        data = {"csrf_token": self.browser.csrf(form), "decision": decision, "scope": list(ticked)}
        data.update(extra)
        return self.browser.post(self.url, data=data)


def at_consent(broker, login: str = "test", client=None) -> AtConsent:
    client = client or demo_client(broker.state)
    browser = Browser(broker.url)
    request = AuthorizationRequest(client)
    login_url = browser.authorize(request).headers["location"]
    consent_url = browser.login(login_url, login).headers["location"]
    assert consent_url.endswith("/consent"), consent_url
    return AtConsent(client, browser, request, urlsplit(consent_url).path)


def text(page: httpx.Response) -> str:
    """A page's text with its character references decoded (Jinja writes ' as &#39;)."""
    return html.unescape(page.text)


def refresh_target(page: httpx.Response) -> str:
    match = REFRESH.search(page.text)
    assert match, "no refresh on the waiting page"
    return html.unescape(match.group(1))
