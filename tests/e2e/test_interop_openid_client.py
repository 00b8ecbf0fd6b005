"""Interoperability with a relying party we did not write: openid-client 6 (panva's certified
library, on oauth4webapi), under node, as a FAPI 2.0 service of the running broker: discovery,
a pushed authorization request, private_key_jwt, DPoP-bound tokens, userinfo, refresh,
revocation and RP-initiated logout, over real HTTP. Every protocol check on the client side is
the library's own (tests/e2e/interop_rp/rp.js); this test plays the citizen's browser and reads
what the library reports.

Node and npm are on every machine here: if they are missing this test fails and says so; it
is never skipped."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import Browser, query, register_client
from tests.servers import LiveServer, start_server

RP_DIR = Path(__file__).resolve().parent / "interop_rp"
INSTALLED = RP_DIR / "node_modules" / ".installed-lock-digest"
SCOPE = "openid profile cnaf_quotient_familial cnaf_enfants"  # a recurring consent: refreshable
AFTER_LOGOUT = "http://127.0.0.1:9/apres-deconnexion"
STEP_TIMEOUT = 30
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(scope="session")
def node_with_openid_client() -> str:
    """The node executable, with openid-client and its dependencies installed once per lockfile
    (``npm ci``; a lock keeps test workers apart)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail(
            "node and npm are needed for the openid-client interoperability test: "
            "install Node.js 20+"
        )
    wanted = hashlib.sha256((RP_DIR / "package-lock.json").read_bytes()).hexdigest()
    with (RP_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not INSTALLED.is_file() or INSTALLED.read_text() != wanted:
            subprocess.run([npm, "ci", "--silent"], cwd=RP_DIR, check=True, timeout=300)
            INSTALLED.write_text(wanted)
    return node


class NodeRelyingParty:
    """rp.js in a node process: one JSON command a line in, one JSON answer a line out."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.hello = self._answer("start")

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put("")

    def _answer(self, step: str) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=STEP_TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"openid-client gave no answer to {step!r}") from None
        if not line:
            self.process.wait(timeout=5)
            raise AssertionError(f"node stopped at {step!r}: {self.process.stderr.read()}")
        return json.loads(line)

    def step(self, step: str, **params: Any) -> dict[str, Any]:
        self.process.stdin.write(json.dumps({"step": step, **params}) + "\n")
        self.process.stdin.flush()
        return self._answer(step)

    def succeeds(self, step: str, **params: Any) -> dict[str, Any]:
        answer = self.step(step, **params)
        assert answer["ok"], f"openid-client refused at {step!r}: {answer}"
        return answer


@pytest.fixture
def relying_party(node_with_openid_client) -> Iterator[NodeRelyingParty]:
    process = subprocess.Popen(
        [node_with_openid_client, "rp.js"],
        cwd=RP_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield NodeRelyingParty(process)
    finally:
        with contextlib.suppress(OSError):  # node may have stopped already
            process.stdin.write(json.dumps({"step": "exit"}) + "\n")
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def through_the_browser(browser: Browser, url: str, redirect_uri: str) -> str:
    """The citizen follows the service's authorization address: the broker, the demo identity
    provider's login, the consent screen (when the broker shows it); returns the address the
    broker sends them back to."""
    response = browser.get(url)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    if location.endswith("/login"):
        response = browser.login(location)
        assert response.status_code == 303, response.text
        location = response.headers["location"]
    if location.endswith("/consent"):
        response = browser.consent(location)
        assert response.status_code == 303, response.text
        location = response.headers["location"]
    assert location.startswith(f"{redirect_uri}?"), location
    return location


def answered(answer: dict[str, Any], path: str) -> dict[str, Any]:
    """The library's last request to ``path`` during a step (after any nonce retry)."""
    requests = [r for r in answer["wire"] if r["path"] == path]
    assert requests, f"openid-client made no request to {path}: {answer['wire']}"
    return requests[-1]


def assert_proof(request: dict[str, Any], url: str, nonce_required: bool, ath: bool) -> None:
    proof = request["dpop_proof"]
    assert proof, f"no DPoP proof on {request}"
    assert (proof["typ"], proof["alg"], proof["has_jwk"]) == ("dpop+jwt", "ES256", True)
    assert (proof["htm"], proof["htu"], proof["ath"]) == (request["method"], url, ath)
    if nonce_required:
        assert proof["nonce"], "accepted without the nonce the broker requires"


@pytest.fixture(params=[False, True], ids=["dpop", "dpop-nonce-required"])
def fapi_broker(request, settings_factory) -> Iterator[tuple[LiveServer, bool]]:
    """The broker, with DPoP server nonces (RFC 9449 §8) not required, then required."""
    nonce_required = request.param
    with start_server(
        lambda issuer: settings_factory(issuer, dpop_require_nonce=nonce_required)
    ) as server:
        yield server, nonce_required


def test_openid_client_as_a_fapi2_service(fapi_broker, relying_party):
    broker, nonce_required = fapi_broker
    rp = relying_party
    client = register_client(
        broker.state,
        name="Cantine (openid-client)",
        scope=SCOPE,
        auth_method="private_key_jwt",
        jwks={"keys": [rp.hello["client_jwk"]]},
        profile="fapi2",
        post_logout_redirect_uris=(AFTER_LOGOUT,),
    )
    discovered = rp.succeeds(
        "discover",
        issuer=broker.url,
        client_id=client.client_id,
        redirect_uri=client.redirect_uri,
        post_logout_redirect_uri=AFTER_LOGOUT,
    )
    assert discovered["issuer"] == broker.url
    par_endpoint = discovered["pushed_authorization_request_endpoint"]
    assert par_endpoint == f"{broker.url}/par", "no PAR endpoint advertised"
    assert "ES256" in (discovered["dpop_signing_alg_values_supported"] or []), "no DPoP advertised"
    jkt = discovered["dpop_jkt"]

    # A pushed request, authenticated with private_key_jwt and DPoP-bound (RFC 9449 §10): the
    # browser carries only client_id and request_uri.
    pushed = rp.succeeds("authorize", scope=SCOPE, redirect_uri=client.redirect_uri)
    assert pushed["parameters"] == ["client_id", "request_uri"]
    par = answered(pushed, "/par")
    assert par["status"] == 201 and par["client_assertion_type"] == JWT_BEARER
    assert_proof(par, par_endpoint, nonce_required, ath=False)
    browser = Browser(broker.url)
    callback = through_the_browser(browser, pushed["url"], client.redirect_uri)

    # The library checked state and iss, redeemed the code (private_key_jwt + DPoP), checked
    # the ID token's signature and claims, and fetched userinfo with a DPoP proof.
    signed_in = rp.succeeds("callback", url=callback)
    token = answered(signed_in, "/token")
    assert token["status"] == 200 and token["client_assertion_type"] == JWT_BEARER
    assert_proof(token, f"{broker.url}/token", nonce_required, ath=False)
    assert answered(signed_in, "/jwks")["status"] == 200
    userinfo = answered(signed_in, "/userinfo")
    assert userinfo["status"] == 200 and userinfo["authorization"] == "DPoP"
    assert_proof(userinfo, f"{broker.url}/userinfo", nonce_required, ath=True)
    assert signed_in["token_type"] == "dpop"
    assert signed_in["access_token_claims"]["cnf"] == {"jkt": jkt}
    assert signed_in["scope"] == SCOPE and signed_in["refresh_token"]
    claims = signed_in["id_token_claims"]
    assert claims["iss"] == broker.url and claims["aud"] in ([client.client_id], client.client_id)
    assert claims["acr"] == "eidas1"
    assert signed_in["userinfo"]["sub"] == claims["sub"]
    assert signed_in["userinfo"]["family_name"] == "DUBOIS"
    # Bound to the library's key: the same token as a bearer token is refused.
    as_bearer = httpx.get(
        f"{broker.url}/userinfo",
        headers={"Authorization": f"Bearer {signed_in['access_token']}"},
    )
    assert as_bearer.status_code == 401

    # Refresh, with the same key, twice: the new access tokens are bound to it and work. A
    # FAPI 2.0 client's refresh token is not rotated (FAPI 2.0 Security Profile §5.3.2.1), so
    # the library keeps the one it has.
    for _ in range(2):
        refreshed = rp.succeeds("refresh")
        assert_proof(answered(refreshed, "/token"), f"{broker.url}/token", nonce_required, False)
        assert refreshed["token_type"] == "dpop" and refreshed["refresh_token"] is None
        assert refreshed["access_token_claims"]["cnf"] == {"jkt": jkt}
        assert refreshed["access_token"] != signed_in["access_token"]
        assert refreshed["userinfo"]["sub"] == claims["sub"]

    # Revocation: the library's next use of either token is refused.
    revoked = rp.succeeds("revoke")
    assert [r["status"] for r in revoked["wire"] if r["path"] == "/revoke"] == [200, 200]
    at_userinfo = revoked["userinfo_after_revocation"]
    assert not at_userinfo["ok"], "a revoked access token still worked at userinfo"
    assert [c["scheme"] for c in at_userinfo["challenges"]] == ["dpop"]
    assert at_userinfo["challenges"][0]["parameters"]["error"] == "invalid_token"
    at_token = revoked["refresh_after_revocation"]
    assert not at_token["ok"] and at_token["error"] == "invalid_grant"

    # RP-initiated logout: the broker's session, then the provider's, then back to the service.
    logout = rp.succeeds("logout", post_logout_redirect_uri=AFTER_LOGOUT, state="au-revoir")
    out = browser.get(logout["url"])
    assert out.status_code == 303, out.text
    back = browser.get(out.headers["location"])  # the identity provider's logout
    assert back.status_code == 303, back.text
    onward = browser.get(back.headers["location"])
    assert onward.headers["location"] == f"{AFTER_LOGOUT}?state=au-revoir"

    # Signed out: a silent request now comes back with login_required, which the library reads
    # as an error response (after its own state and iss checks).
    silent = rp.succeeds("authorize", scope=SCOPE, redirect_uri=client.redirect_uri, prompt="none")
    answer = browser.get(silent["url"])
    assert answer.status_code == 303, answer.text
    assert query(answer.headers["location"]).get("error") == "login_required"
    refused = rp.step("callback", url=answer.headers["location"])
    assert not refused["ok"] and refused["error"] == "login_required"
