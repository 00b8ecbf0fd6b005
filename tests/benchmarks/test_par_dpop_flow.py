"""The flow benchmark's par-dpop row (benchmarks/flows.py --flow par-dpop): the driver's DPoP
proofs, and whole flows over real HTTP against both sides it compares, each configured as the
benchmark configures it: node oidc-provider (benchmarks/peer/server.js --par-dpop) and the broker
with a client registered with ``require_par`` and ``dpop``.

Node and npm are on every machine here: if they are missing the peer's test fails and says so
(see tests/e2e/test_interop_oidc_provider.py, whose fixture installs the peer)."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from joserfc import jws
from joserfc.jwk import ECKey

from tests.e2e.test_interop_oidc_provider import node_peer_installed  # noqa: F401 (fixture)
from tests.helpers import register_client
from tests.servers import bound_socket

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from dpop_proofs import DPoPClient, asks_for_nonce  # noqa: E402

REDIRECT = "http://127.0.0.1:9/cb"
USERINFO = "http://127.0.0.1:4000/me"


def decoded(proof: str, client: DPoPClient) -> tuple[dict, dict]:
    """The proof's header and claims, its signature checked with the key its header names."""
    header = json.loads(base64.urlsafe_b64decode(proof.split(".")[0] + "=="))
    key = ECKey.import_key(header["jwk"])
    assert key.thumbprint() == client.thumbprint
    verified = jws.deserialize_compact(proof, key, algorithms=["ES256"])
    return verified.headers(), json.loads(verified.payload)


def test_a_proof_names_its_request_and_carries_only_the_public_key() -> None:
    client = DPoPClient()
    header, claims = decoded(client.proof("POST", "http://127.0.0.1:4000/token?x=1#f"), client)
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256"
    assert set(header["jwk"]) == {"kty", "crv", "x", "y"}  # no "d"
    assert claims["htm"] == "POST"
    assert claims["htu"] == "http://127.0.0.1:4000/token"  # no query, no fragment (§4.2)
    assert abs(claims["iat"] - time.time()) < 5
    assert "ath" not in claims and "nonce" not in claims


def test_every_proof_has_its_own_jti_and_ath_hashes_the_token() -> None:
    client = DPoPClient()
    first = decoded(client.proof("GET", USERINFO, access_token="at-1"), client)[1]
    second = decoded(client.proof("GET", USERINFO, access_token="at-1"), client)[1]
    assert first["jti"] != second["jti"]
    expected = base64.urlsafe_b64encode(hashlib.sha256(b"at-1").digest()).rstrip(b"=").decode()
    assert first["ath"] == expected


def test_a_server_nonce_goes_into_the_next_proofs_to_that_server_only() -> None:
    client = DPoPClient()
    client.note_nonce("http://127.0.0.1:4000/token", "n-1")
    assert decoded(client.proof("GET", USERINFO), client)[1]["nonce"] == "n-1"
    assert "nonce" not in decoded(client.proof("GET", "http://127.0.0.1:5000/me"), client)[1]
    client.note_nonce(USERINFO, None)  # an answer without DPoP-Nonce keeps the last one
    assert decoded(client.proof("GET", USERINFO), client)[1]["nonce"] == "n-1"


def test_nonce_challenges_are_told_from_other_refusals() -> None:
    assert asks_for_nonce(400, b'{"error":"use_dpop_nonce"}', None)
    assert asks_for_nonce(401, b"", 'DPoP error="use_dpop_nonce", algs="ES256"')
    assert not asks_for_nonce(400, b'{"error":"invalid_dpop_proof"}', None)
    assert not asks_for_nonce(400, b'{"error_description":"use_dpop_nonce"}', None)
    assert not asks_for_nonce(401, b"", 'DPoP error="invalid_token"')
    assert not asks_for_nonce(200, b'{"error":"use_dpop_nonce"}', None)


def drive(flow: str, *args: str) -> dict:
    """One second of flows.py at two virtual users; its JSON result."""
    done = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "flows.py"),
            f"--flow={flow}",
            "--concurrency=2",
            "--duration=1",
            "--warmup=0",
            "--no-check",
            "--json",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.fixture
def peer(node_peer_installed: Path) -> Iterator[str]:  # noqa: F811
    """The benchmark's peer with its par-dpop client, requiring DPoP nonces too (so that the
    driver's retry is exercised; the benchmark's rows run without)."""
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    process = subprocess.Popen(
        [
            "node",
            "server.js",
            f"--port={port}",
            "--client-secret=s3cret",
            f"--redirect-uri={REDIRECT}",
            "--par-dpop",
            "--dpop-nonce",
        ],
        cwd=node_peer_installed,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = json.loads(process.stdout.readline() or "{}")  # type: ignore[union-attr]
        assert ready.get("par_dpop") and ready.get("dpop_nonce"), process.stderr.read()  # type: ignore[union-attr]
        yield ready["issuer"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_par_dpop_flows_against_the_peer(peer: str) -> None:
    side = ["--profile=peer", f"--issuer={peer}", "--client-id=bench", "--client-secret=s3cret"]
    result = drive("par-dpop", *side, f"--redirect-uri={REDIRECT}")
    assert result["flows"] > 0 and result["errors"] == 0, result["error_samples"]
    assert result["steps"]["POST /request"]["n_per_flow"] == 1
    # The peer asks each new client instance for a nonce once, at its first token request.
    assert result["dpop_nonce_retries"] >= 1
    assert result["steps"]["POST /token"]["n_per_flow"] < 1.5

    # The peer's client must push: the plain code flow is refused.
    refused = drive("code", *side, f"--redirect-uri={REDIRECT}")
    assert refused["flows"] == 0 and set(refused["errors_by_kind"]) == {"authorization_error"}


def test_par_dpop_flows_against_the_broker(broker) -> None:
    client = register_client(
        broker.state, name="Bench", scope="openid profile", require_par=True, dpop=True
    )
    side = [
        "--profile=ours",
        f"--issuer={broker.url}",
        f"--client-id={client.client_id}",
        f"--client-secret={client.client_secret}",
        f"--redirect-uri={client.redirect_uri}",
    ]
    result = drive("par-dpop", *side)
    assert result["flows"] > 0 and result["errors"] == 0, result["error_samples"]
    assert result["steps"]["POST /par"]["n_per_flow"] == 1
    assert result["dpop_nonce_retries"] == 0  # the broker asks for no nonce by default

    refused = drive("code", *side)
    assert refused["flows"] == 0 and set(refused["errors_by_kind"]) == {"authorization_error"}
