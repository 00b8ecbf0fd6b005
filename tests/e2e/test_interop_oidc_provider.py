"""Interoperability with an implementation we did not write: node ``oidc-provider`` (the peer
of benchmarks/peer/, started with ``--pivot``) federated as an upstream identity provider, over
real HTTP, through to a service's ID token.

Node and npm are on every machine here: if they are missing this test fails and says so; it
is never skipped."""

from __future__ import annotations

import fcntl
import html
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest

from broker.admin.identity_providers import ProviderRegistration, add_provider
from broker.keys.vault import KeyVault
from tests.e2e.test_code_flow import verify_id_token
from tests.helpers import AuthorizationRequest, Browser, redeem, register_client
from tests.servers import bound_socket

PEER = Path(__file__).resolve().parents[2] / "benchmarks" / "peer"
FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S | re.I)
HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', re.I)
SECRET = "interop-secret-0123456789abcdef0123456789"


@pytest.fixture(scope="session")
def node_peer_installed() -> Path:
    """The peer's packages, installed once (``npm ci``; a lock keeps test workers apart)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("node and npm are needed for the interoperability test: install Node.js 20+")
    with (PEER / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (PEER / "node_modules" / "oidc-provider").is_dir():
            subprocess.run([npm, "ci", "--silent"], cwd=PEER, check=True, timeout=300)
    return PEER


@pytest.fixture
def oidc_provider(broker, node_peer_installed) -> Iterator[str]:
    """node oidc-provider on a free port, registered in the broker's registry."""
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    redirect_uri = f"{broker.url}/federation/oidc-provider/callback"
    process = subprocess.Popen(
        [
            "node",
            "server.js",
            "--port",
            str(port),
            "--pivot",
            "--client-id",
            "consent-broker",
            "--client-secret",
            SECRET,
            "--redirect-uri",
            redirect_uri,
        ],
        cwd=node_peer_installed,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = json.loads(process.stdout.readline() or "{}")
        assert ready.get("ready") and ready.get("pivot"), process.stderr.read()
        with broker.state.db.transaction() as session:
            added = add_provider(
                session,
                KeyVault(broker.settings.secret),
                ProviderRegistration(
                    name="node oidc-provider",
                    issuer=ready["issuer"],
                    client_id="consent-broker",
                    client_secret=SECRET,
                    scopes="openid given_name family_name birthdate gender birthplace birthcountry",
                    acr_values=("eidas1",),
                    id_token_algs=("ES256",),
                    provider_id="oidc-provider",
                ),
                broker.url,
            )
        assert added["redirect_uri"] == redirect_uri
        yield ready["issuer"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def through_the_peer(browser: Browser, location: str) -> str:
    """Follows the peer's own pages (its development login, then its consent) until it sends
    the browser back to the broker; returns that address."""
    for _ in range(12):
        if "/federation/" in location:
            return location
        response = browser.get(location)
        if response.status_code in (302, 303):
            location = urljoin(location, response.headers["location"])
            continue
        assert response.status_code == 200, response.text
        action, inner = FORM.search(response.text).groups()
        data = {name: html.unescape(value) for name, value in HIDDEN.findall(inner)}
        if 'name="login"' in inner:
            data.update(login="angela", password="any")
        response = browser.post(urljoin(location, html.unescape(action)), data=data)
        location = urljoin(location, response.headers["location"])
    raise AssertionError("the peer never sent the browser back")


def test_a_flow_through_node_oidc_provider(broker, oidc_provider):
    client = register_client(broker.state)
    browser = Browser(broker.url)
    request = AuthorizationRequest(client)
    login_url = browser.authorize(request).headers["location"]
    page = browser.get(login_url)
    assert 'value="oidc-provider"' in page.text
    leave = browser.post(login_url, data={"csrf_token": browser.csrf(page), "idp": "oidc-provider"})
    assert leave.headers["location"].startswith(f"{oidc_provider}/auth?")
    callback = through_the_peer(browser, leave.headers["location"])
    answer = browser.get(callback)
    assert answer.status_code == 303, answer.text
    consent = browser.consent(answer.headers["location"])
    received = dict(
        part.split("=", 1) for part in consent.headers["location"].split("?", 1)[1].split("&")
    )
    token = redeem(broker.url, client, received["code"], request.verifier).json()
    claims = verify_id_token(broker.url, token["id_token"], client.client_id, request.nonce)
    assert claims["idp"] == "oidc-provider" and claims["acr"] == "eidas1"
    info = browser.http.get(
        f"{broker.url}/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"}
    ).json()
    assert info["family_name"] == "DUBOIS" and info["birthplace"] == "75107"
