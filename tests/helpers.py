"""Helpers shared by the tests: registering clients, PKCE values, and a scripted browser."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from broker.admin.clients import ClientRegistration, add_client
from broker.admin.habilitations import HabilitationRequest, add_habilitation
from broker.app import BrokerState
from broker.oidc.authorize import requested_data_scopes

REDIRECT_URI = "http://127.0.0.1:9/cb"
DEMO_IDP = "identite-demo"  # eidas1, every test citizen
STRONG_IDP = "identite-demo-renforcee"  # eidas2/eidas3, password then a one-time code
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')
ONE_TIME_CODE = re.compile(r'id="code-demo">(\d{6})<')
TICKED = re.compile(r'<input[^>]*name="scope" value="([^"]+)"[^>]*checked')


@dataclass
class RegisteredClient:
    client_id: str
    client_secret: str | None
    redirect_uri: str
    scope: str


def register_client(
    state: BrokerState,
    name: str = "Service de test",
    scope: str = "openid profile birth email",
    habilitated: bool = True,
    **kwargs,
) -> RegisteredClient:
    """A client of the service ``name``; unless ``habilitated`` is false, the service also gets
    a habilitation for the data scopes among ``scope``."""
    kwargs.setdefault("redirect_uris", [REDIRECT_URI])
    with state.db.transaction() as session:
        created = add_client(session, ClientRegistration(name=name, scope=scope, **kwargs))
    data_scopes = sorted(requested_data_scopes(scope.split()))
    if habilitated and data_scopes:
        habilitate(state, name, " ".join(data_scopes))
    return RegisteredClient(
        created["client_id"], created.get("client_secret"), kwargs["redirect_uris"][0], scope
    )


def habilitate(state: BrokerState, service: str, scopes: str, **kwargs) -> dict:
    kwargs.setdefault("purpose", "Tarification sociale de la cantine scolaire")
    kwargs.setdefault("legal_basis", "Code de l'éducation, article L. 131-13")
    kwargs.setdefault("create_service", True)
    with state.db.transaction() as session:
        return add_habilitation(
            session, HabilitationRequest(service=service, scopes=scopes, **kwargs)
        )


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class AuthorizationRequest:
    client: RegisteredClient
    verifier: str = ""
    state: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.verifier:
            self.verifier, self.challenge = pkce_pair()
        else:
            self.challenge = pkce_pair_for(self.verifier)

    def params(self) -> dict[str, str]:
        params = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.client.redirect_uri,
            "scope": self.client.scope,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
        }
        params.update(self.extra)
        return {k: v for k, v in params.items() if v is not None}


def pkce_pair_for(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Browser:
    """A citizen's browser: keeps cookies, follows the broker's pages, never auto-redirects."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=10)

    def close(self) -> None:
        self.http.close()

    def get(self, url: str, **kwargs) -> httpx.Response:
        return self.http.get(urljoin(self.base_url, url), **kwargs)

    def post(self, url: str, **kwargs) -> httpx.Response:
        return self.http.post(urljoin(self.base_url, url), **kwargs)

    def authorize(self, request: AuthorizationRequest) -> httpx.Response:
        return self.get("/authorize", params=request.params())

    @staticmethod
    def csrf(page: httpx.Response) -> str:
        match = CSRF.search(page.text)
        assert match, f"no step token on page {page.status_code}"
        return match.group(1)

    def login(
        self, login_url: str, login: str = "test", password: str = "123", idp: str = DEMO_IDP
    ) -> httpx.Response:
        """Chooses ``idp`` on the choice page and signs in there; returns the broker's answer
        to the provider's callback (a redirect to the next step)."""
        page = self.get(login_url)
        assert page.status_code == 200, page.text
        leave = self.post(login_url, data={"csrf_token": self.csrf(page), "idp": idp})
        assert leave.status_code == 303, leave.text
        return self.upstream_login(leave.headers["location"], login, password)

    def upstream_login(
        self, authorize_url: str, login: str = "test", password: str = "123"
    ) -> httpx.Response:
        """At the identity provider: the password (and the one-time code it shows, on the
        strengthened one), then back to the broker's callback."""
        at_idp = self.get(authorize_url)
        if at_idp.status_code == 200:
            at_idp = self.post(
                form_url(authorize_url, at_idp.text),
                data={"csrf_token": self.csrf(at_idp), "login": login, "password": password},
            )
            if at_idp.status_code == 200 and ONE_TIME_CODE.search(at_idp.text):
                code = ONE_TIME_CODE.search(at_idp.text).group(1)
                at_idp = self.post(
                    form_url(authorize_url, at_idp.text),
                    data={"csrf_token": self.csrf(at_idp), "code": code},
                )
        assert at_idp.status_code == 303, at_idp.text
        return self.get(at_idp.headers["location"])

    def consent(
        self, consent_url: str, decision: str = "approve", ticked: list[str] | None = None
    ) -> httpx.Response:
        """Posts the consent form as a browser would: the optional items' checkboxes are
        ticked as the page shows them, unless ``ticked`` says which ones to leave ticked."""
        page = self.get(consent_url)
        assert page.status_code == 200, page.text
        shown = TICKED.findall(page.text)
        data = {
            "csrf_token": self.csrf(page),
            "decision": decision,
            "scope": shown if ticked is None else ticked,
        }
        return self.post(consent_url, data=data)

    def space_login(
        self, login: str = "test", password: str = "123", idp: str = DEMO_IDP
    ) -> httpx.Response:
        """Signs in to the citizen's space (/espace) through ``idp``."""
        page = self.get("/espace/connexion")
        assert page.status_code == 200, page.text
        leave = self.post("/espace/connexion", data={"csrf_token": self.csrf(page), "idp": idp})
        assert leave.status_code == 303, leave.text
        return self.upstream_login(leave.headers["location"], login, password)

    def sign_in(
        self,
        request: AuthorizationRequest,
        login: str = "test",
        password: str = "123",
        decision: str = "approve",
        ticked: list[str] | None = None,
        idp: str = DEMO_IDP,
    ) -> dict[str, str]:
        """The whole front channel; returns the parameters the client receives."""
        response = self.authorize(request)
        assert response.status_code == 303, response.text
        location = response.headers["location"]
        if location.endswith("/login"):
            response = self.login(location, login, password, idp)
            assert response.status_code == 303, response.text
            location = response.headers["location"]
        if location.endswith("/consent"):
            response = self.consent(location, decision, ticked)
            assert response.status_code == 303, response.text
            location = response.headers["location"]
        assert location.startswith(request.client.redirect_uri), location
        return query(location)


def form_url(page_url: str, page_text: str) -> str:
    """The absolute URL of the first form on a page."""
    match = FORM_ACTION.search(page_text)
    assert match, "no form on the page"
    return urljoin(page_url, html.unescape(match.group(1)))


def redeem(
    base_url: str, client: RegisteredClient, code: str, verifier: str | None, **overrides
) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    data.update(overrides)
    return httpx.post(
        f"{base_url}/token",
        data=data,
        auth=(client.client_id, client.client_secret or ""),
        timeout=10,
    )


def at_login_page(broker, **client_kwargs) -> tuple[RegisteredClient, Browser, str]:
    """A new client and a new browser, stopped at the login page of a fresh interaction."""
    client = register_client(broker.state, **client_kwargs)
    browser = Browser(broker.url)
    login_url = browser.authorize(AuthorizationRequest(client)).headers["location"]
    return client, browser, login_url
