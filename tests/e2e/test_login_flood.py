"""A flood of wrong passwords at concurrency 64 against a real demo identity provider process,
with the shipped argon2id cost (19 MiB a hash): a bounded number of hashes run at once, so the
process's memory stays near its baseline plus that bound, and its discovery and token
endpoints keep answering at their usual pace.

The flood comes from 64 source addresses (Linux routes all of 127.0.0.0/8 to the loopback
interface), each guessing a few unknown logins from fresh browsers: below every throttle, so
that each attempt really costs a hash. The throttles themselves are tested in
tests/broker/demo/idp/test_login_throttle.py."""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from broker.core.settings import Settings
from broker.demo.idp.hashing import HASHER, HASHES_AT_ONCE
from broker.demo.idp.registration import demo_client_secret
from tests.helpers import pkce_pair
from tests.pg_cluster import free_port

CONCURRENCY = 64
ATTEMPTS_EACH = 4
HASH_MIB = HASHER.memory_cost / 1024
SLACK_MIB = 40  # the interpreter's own growth under load: buffers, request objects, arenas
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
SECRET = "flood-test-secret-0123456789-0123456789-0123456789"
SITE = "identite-demo"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def idp_process(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "BROKER_KEY_ENCRYPTION_SECRET": SECRET,
        "BROKER_VAR_DIR": str(tmp_path),
        "BROKER_ISSUER": "http://127.0.0.1:8000",
        "BROKER_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "broker.cli", "demo", "idp", "run", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{base}/{SITE}/.well-known/openid-configuration", timeout=1)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the demo identity provider did not start") from None
            time.sleep(0.1)
    settings = Settings(key_encryption_secret=SECRET, issuer="http://127.0.0.1:8000")
    yield process, base, settings
    process.terminate()
    process.wait(10)


def authorize_params(redirect_uri: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": "consent-broker",
        "redirect_uri": redirect_uri,
        "scope": "openid",
        "state": "s",
        "nonce": "n",
        "code_challenge": pkce_pair()[1],
        "code_challenge_method": "S256",
    }


async def guesser(base: str, address: str, redirect_uri: str) -> list[int]:
    statuses = []
    transport = httpx.AsyncHTTPTransport(local_address=address)
    for attempt in range(ATTEMPTS_EACH):
        async with httpx.AsyncClient(transport=transport, base_url=base, timeout=60) as http:
            page = await http.get(f"/{SITE}/authorize", params=authorize_params(redirect_uri))
            ticket = CSRF.search(page.text).group(1)
            answer = await http.post(
                f"/{SITE}/login",
                data={
                    "csrf_token": ticket,
                    "login": f"nobody-{address}-{attempt}",
                    "password": "x",
                },
            )
            statuses.append(answer.status_code)
    await transport.aclose()
    return statuses


async def timings(base: str, settings: Settings, stop: asyncio.Event) -> list[float]:
    """Discovery and a token request (a wrong code: client authenticated, code refused), one
    after the other until ``stop``; the seconds each took."""
    seen = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        while not stop.is_set():
            started = time.perf_counter()
            discovery = await http.get(f"/{SITE}/.well-known/openid-configuration")
            token = await http.post(
                f"/{SITE}/token",
                data={"grant_type": "authorization_code", "code": "nope", "redirect_uri": "x"},
                auth=("consent-broker", demo_client_secret(settings)),
            )
            assert discovery.status_code == 200 and token.status_code == 400, token.text
            seen.append(time.perf_counter() - started)
            await asyncio.sleep(0.02)
    return seen


def test_a_login_flood_keeps_memory_bounded_and_other_endpoints_fast(idp_process):
    process, base, settings = idp_process
    redirect_uri = f"{settings.issuer_url}/federation/{SITE}/callback"

    async def scenario():
        # Warm up: one hash of each kind has run, its memory is the process's own now.
        await guesser(base, "127.0.3.1", redirect_uri)
        baseline_rss = rss_mib(process.pid)
        stop_probe = asyncio.Event()
        calm_stop = asyncio.Event()
        calm_task = asyncio.create_task(timings(base, settings, calm_stop))
        await asyncio.sleep(1.0)
        calm_stop.set()
        calm = await calm_task
        peak = [baseline_rss]

        async def sample() -> None:
            while not stop_probe.is_set():
                peak.append(rss_mib(process.pid))
                await asyncio.sleep(0.02)

        sampler = asyncio.create_task(sample())
        probe = asyncio.create_task(timings(base, settings, stop_probe))
        started = time.perf_counter()
        flood = await asyncio.gather(
            *(guesser(base, f"127.0.2.{n + 1}", redirect_uri) for n in range(CONCURRENCY))
        )
        flood_seconds = time.perf_counter() - started
        stop_probe.set()
        during = await probe
        await sampler
        return baseline_rss, max(peak), calm, during, flood, flood_seconds

    baseline, peak, calm, during, flood, flood_seconds = asyncio.run(scenario())
    statuses = [s for each in flood for s in each]
    hashed = statuses.count(401)
    print(
        f"\nlogin flood: {len(statuses)} attempts at concurrency {CONCURRENCY} in "
        f"{flood_seconds:.1f} s ({hashed} hashed, {statuses.count(503)} told to come back); "
        f"RSS {baseline:.0f} MiB -> peak {peak:.0f} MiB (bound {HASHES_AT_ONCE} x "
        f"{HASH_MIB:.0f} MiB); discovery+token p50 {statistics.median(calm) * 1000:.1f} ms "
        f"calm, {statistics.median(during) * 1000:.1f} ms during the flood"
    )
    assert set(statuses) <= {401, 503} and hashed >= CONCURRENCY
    assert peak - baseline < HASHES_AT_ONCE * HASH_MIB + SLACK_MIB
    # The usual pace, within what two cores shared with the flood's own client allow.
    assert statistics.median(during) < max(10 * statistics.median(calm), 0.1)
