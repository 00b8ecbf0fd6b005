"""The runnable blocks of docs/integration.md, run as they are written against real servers.

A block is runnable when an HTML comment ``<!-- snippet: NAME -->`` stands right above its
fence (invisible on the rendered page). Shell blocks run in bash, with the ``broker`` command of
this environment on the database of the broker the test started, and the variables the guide
names (``ACCESS_TOKEN``, ``API_KEY``, ``DATA_API_URL``, ``HABILITATION_ID``) set; Python blocks
are executed as a module, with the environment variables they read (or, for the Authlib
example, its constants replaced). The browser's part (sign-in at the demo identity provider,
consent) is done by the test, as the end-to-end tests do it; the callback URL it ends on is
handed back to the snippet, as a web framework would.

The broker, the data API and the simulators run on loopback sockets; the broker's
``data_api_url`` is the data API's real address, so that discovery's ``protected_resources``,
which the quick start reads, leads to it."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from broker.resources.app import build_resource_state, create_resource_asgi_app
from tests.conftest import PROVIDER_READ_TIMEOUT, TEST_SECRET
from tests.helpers import Browser, register_client
from tests.servers import LiveServer, bound_socket, serve_app, start_server

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "integration.md"
SNIPPET = re.compile(r"<!-- snippet: ([\w-]+) -->\n```(\w+)\n(.*?)\n```", re.DOTALL)
RUN = {
    "register",
    "requests-oauthlib",
    "access-token-curl",
    "apikey-issue",
    "apikey-curl",
    "authlib",
}
CURL = shutil.which("curl")
needs_curl = pytest.mark.skipif(CURL is None, reason="no curl on this machine")


@dataclass(frozen=True)
class Snippet:
    language: str
    code: str


def snippets() -> dict[str, Snippet]:
    found: dict[str, Snippet] = {}
    for name, language, code in SNIPPET.findall(GUIDE.read_text()):
        assert name not in found, f"two snippets named {name!r}"
        found[name] = Snippet(language, code)
    return found


def test_every_marked_snippet_is_run_here():
    """A block marked runnable that no test runs, or a test whose block lost its mark, fails."""
    assert set(snippets()) == RUN


@dataclass(frozen=True)
class Servers:
    broker: LiveServer
    data_api: LiveServer


@pytest.fixture
def servers(settings_factory, simulators) -> Iterator[Servers]:
    api_socket = bound_socket()
    data_api_url = f"http://127.0.0.1:{api_socket.getsockname()[1]}"
    with start_server(lambda issuer: settings_factory(issuer, data_api_url=data_api_url)) as broker:
        settings = broker.settings.model_copy(
            update={
                "providers_url": simulators,
                "provider_read_timeout": PROVIDER_READ_TIMEOUT,
                "provider_connect_timeout": 0.5,
                "redis_url": "",
            }
        )
        state = build_resource_state(settings)
        try:
            with serve_app(create_resource_asgi_app(settings, state), api_socket):
                yield Servers(broker, LiveServer(url=data_api_url, state=state))
        finally:
            state.db.dispose()


def run_shell(name: str, broker: LiveServer, **variables: str) -> subprocess.CompletedProcess[str]:
    """The block in bash (stopping at the first failing command), the ``broker`` command on
    ``broker``'s database, ``variables`` in its environment."""
    snippet = snippets()[name]
    assert snippet.language == "sh"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BROKER_")}
    environ.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}",
        BROKER_DATABASE_URL=broker.settings.database_url,
        BROKER_VAR_DIR=str(broker.settings.var_dir),
        BROKER_KEY_ENCRYPTION_SECRET=TEST_SECRET,
        BROKER_LOG_FORMAT="text",
        **variables,
    )
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", snippet.code],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result


def json_documents(text: str) -> list[Any]:
    """The JSON documents printed one after the other (the commands print one each)."""
    decoder, documents, position = json.JSONDecoder(), [], 0
    while position < len(text.rstrip()):
        while text[position].isspace():
            position += 1
        document, position = decoder.raw_decode(text, position)
        documents.append(document)
    return documents


def load_module(code: str, name: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": f"integration_guide_{name.replace('-', '_')}"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Authlib's deprecation notice on import, as the guide says
        exec(compile(code, f"docs/integration.md <{name}>", "exec"), namespace)
    return namespace


def sign_in_and_consent(broker: LiveServer, authorization_url: str) -> str:
    """The citizen's browser, from the authorization URL the service made to the callback URL
    the broker sends it back to (never followed: the service is not running)."""
    browser = Browser(broker.url)
    try:
        response = browser.get(authorization_url)
        assert response.status_code == 303, response.text
        response = browser.login(response.headers["location"], "test", "123")
        assert response.status_code == 303, response.text
        response = browser.consent(response.headers["location"])
        assert response.status_code == 303, response.text
        return response.headers["location"]
    finally:
        browser.close()


def register(servers: Servers) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Step 1 of the quick start: the client, the habilitation, and what was said on stderr."""
    result = run_shell("register", servers.broker)
    client, habilitation = json_documents(result.stdout)
    return client, habilitation, result.stderr


@contextlib.contextmanager
def oauthlib_environment(monkeypatch, **variables: str) -> Iterator[None]:
    """The snippet sets oauthlib's variables itself: they are put back as they were after."""
    for name in ("OAUTHLIB_INSECURE_TRANSPORT", "OAUTHLIB_RELAX_TOKEN_SCOPE", "DATA_API_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    yield


def test_register_warns_then_approves_the_habilitation_of_the_loosely_named_service(servers):
    client, habilitation, stderr = register(servers)
    assert client["scope"] == "openid profile cnaf_quotient_familial"
    assert client["client_secret"] and client["redirect_uris"] == ["http://127.0.0.1:5000/callback"]
    assert "no active habilitation" in stderr and "cnaf_quotient_familial" in stderr
    assert habilitation["service"] == client["service"] == "Mairie de Villebourg – Cantine scolaire"
    assert habilitation["scopes"] == ["cnaf_quotient_familial"] and habilitation["active"]


@needs_curl
def test_quick_start_code_flow_with_requests_oauthlib(servers, monkeypatch):
    client, _, _ = register(servers)
    snippet = snippets()["requests-oauthlib"]
    assert snippet.language == "python"
    with oauthlib_environment(
        monkeypatch,
        BROKER_ISSUER=servers.broker.url,
        CLIENT_ID=client["client_id"],
        CLIENT_SECRET=client["client_secret"],
    ):
        rp = load_module(snippet.code, "requests-oauthlib")
        assert rp["DATA_API"] == servers.data_api.url, "read from discovery's protected_resources"

        session: dict[str, str] = {}
        url = rp["start_login"](session)
        assert "code_challenge_method=S256" in url and "nonce=" in url
        callback = sign_in_and_consent(servers.broker, url)
        assert callback.startswith("http://127.0.0.1:5000/callback?")
        login = rp["finish_login"](session, callback)
        data = rp["quotient_familial"](login["token"])

    assert session == {}, "state, verifier and nonce are used once"
    assert login["userinfo"]["sub"] == login["sub"]
    assert login["userinfo"]["family_name"] == "DUBOIS"
    assert login["token"]["scope"] == ["openid", "profile", "cnaf_quotient_familial"]
    assert login["token"]["consent_id"] and login["token"]["refresh_token"]
    assert data["quotient_familial"]["valeur"] > 0

    by_curl = run_shell(
        "access-token-curl",
        servers.broker,
        ACCESS_TOKEN=login["token"]["access_token"],
        DATA_API_URL=servers.data_api.url,
    )
    assert json.loads(by_curl.stdout)["data"] == data


def test_quick_start_refuses_a_callback_of_another_login(servers, monkeypatch):
    client, _, _ = register(servers)
    with oauthlib_environment(
        monkeypatch,
        BROKER_ISSUER=servers.broker.url,
        CLIENT_ID=client["client_id"],
        CLIENT_SECRET=client["client_secret"],
    ):
        rp = load_module(snippets()["requests-oauthlib"].code, "requests-oauthlib")
        first, second = {}, {}
        callback = sign_in_and_consent(servers.broker, rp["start_login"](first))
        rp["start_login"](second)
        with pytest.raises(ValueError, match="no login in progress"):
            rp["finish_login"](second, callback)
        forged = callback.replace(
            urlencode({"iss": servers.broker.url}), urlencode({"iss": "https://evil.example"})
        )
        assert forged != callback
        with pytest.raises(ValueError, match="unexpected issuer"):
            rp["finish_login"](first, forged)


def test_development_caveat_oauthlib_refuses_plain_http_without_the_flag(monkeypatch):
    """What the guide says of non-Authlib libraries: plain http is refused unless
    OAUTHLIB_INSECURE_TRANSPORT is set (and nothing is sent)."""
    from oauthlib.oauth2.rfc6749.errors import InsecureTransportError
    from requests_oauthlib import OAuth2Session

    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    with pytest.raises(InsecureTransportError):
        OAuth2Session("client").fetch_token("http://127.0.0.1:9/token", code="c")
    with pytest.raises(InsecureTransportError):
        OAuth2Session("client").authorization_url("http://127.0.0.1:9/authorize")


@needs_curl
def test_quick_start_api_key_with_curl(servers):
    _, habilitation, _ = register(servers)
    issued = run_shell("apikey-issue", servers.broker, HABILITATION_ID=habilitation["id"])
    [key] = json_documents(issued.stdout)
    assert key["habilitation_id"] == habilitation["id"] and key["api_key"]

    answer = run_shell(
        "apikey-curl", servers.broker, API_KEY=key["api_key"], DATA_API_URL=servers.data_api.url
    )
    body = json.loads(answer.stdout)
    assert body["data"]["quotient_familial"]["valeur"] > 0, body

    rights = httpx.get(
        f"{servers.data_api.url}/v3/introspect", headers={"X-Api-Key": key["api_key"]}, timeout=10
    )
    assert rights.status_code == 200, "the guide sends the key's holder there"

    refused = run_shell(
        "apikey-curl", servers.broker, API_KEY="bpk_not-a-key", DATA_API_URL=servers.data_api.url
    )
    assert json.loads(refused.stdout)["errors"], "curl -s prints the JSON:API error too"


def test_authlib_example_with_its_constants_replaced(servers):
    snippet = snippets()["authlib"]
    redirect_uri = re.search(r'^REDIRECT_URI = "([^"]+)"', snippet.code, re.MULTILINE).group(1)
    scope = re.search(r'^SCOPE = "([^"]+)"', snippet.code, re.MULTILINE).group(1)
    client = register_client(
        servers.broker.state, name="Cantine", scope=scope, redirect_uris=[redirect_uri]
    )
    code = snippet.code
    for constant, value in (
        ("ISSUER", servers.broker.url),
        ("CLIENT_ID", client.client_id),
        ("CLIENT_SECRET", client.client_secret),
    ):
        code, replaced = re.subn(
            rf'^{constant} = "[^"]*"', f"{constant} = {value!r}", code, flags=re.MULTILINE
        )
        assert replaced == 1, constant
    rp = load_module(code, "authlib")
    session: dict[str, str] = {}
    callback = sign_in_and_consent(servers.broker, rp["start_login"](session))
    signed_in = rp["finish_login"](session, callback)
    assert signed_in["acr"] == "eidas1" and signed_in["family_name"] == "DUBOIS"
    assert set(signed_in) >= {"sub", "given_name", "birthdate", "birthplace", "email"}
