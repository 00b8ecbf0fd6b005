"""The access log of real servers, as ``broker demo run`` writes it for its five
applications: every line read from the process's stderr names the method, the path without
its query string, the status, the duration and the request id the response carried."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

APPS = {
    # app name -> path asked, with a query string that must not be logged
    "broker": "/.well-known/openid-configuration",
    "online-service": "/",
    "data-api": "/v3/ping",
    "simulators": "/cnaf/qf/v1/sante",
    "demo-idp": "/identite-demo/.well-known/openid-configuration",
}
PERSONAL_QUERY = {"nomNaissance": "Dupont-Lajoie", "prenoms": "Marie"}


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


@pytest.fixture
def demo_run(tmp_path: Path):
    """``broker demo run`` in a process of its own; yields the apps' URLs and its stderr."""
    ports = free_ports(5)
    urls = dict(zip(APPS, (f"http://127.0.0.1:{port}" for port in ports), strict=True))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BROKER_", "OTEL_"))}
    env.update(BROKER_VAR_DIR=str(tmp_path / "var"), BROKER_LOG_FORMAT="json")
    stderr_path = tmp_path / "stderr.log"
    command = [
        *(sys.executable, "-m", "broker.cli", "demo", "run", "--host", "127.0.0.1"),
        *("--port", str(ports[0]), "--service-port", str(ports[1])),
        *("--data-api-port", str(ports[2]), "--simulators-port", str(ports[3])),
        *("--idp-port", str(ports[4]), "--password-profile", "benchmark"),
    ]
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=stderr
        )
    try:
        wait_ready(urls.values(), process, stderr_path)
        yield urls, stderr_path
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ready(urls, process: subprocess.Popen, stderr_path: Path) -> None:
    deadline = time.monotonic() + 90
    pending = set(urls)
    while pending:
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"demo run did not start:\n{stderr_path.read_text()[-3000:]}")
        for url in list(pending):
            try:
                if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                    pending.discard(url)
            except httpx.HTTPError:
                pass
        time.sleep(0.2)


def access_lines(stderr_path: Path) -> list[dict]:
    lines = []
    for raw in stderr_path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if entry.get("logger") == "broker.access":
            lines.append(entry)
    return lines


def test_every_app_logs_method_path_status_duration_and_request_id(demo_run):
    urls, stderr_path = demo_run
    ids = {}
    for app, path in APPS.items():
        response = httpx.get(urls[app] + path, params=PERSONAL_QUERY, timeout=10)
        assert response.status_code == 200, (app, response.status_code)
        ids[app] = response.headers["x-request-id"]
        # A proxy's request id is kept, and logged.
        forwarded = f"support-{app}-0001"
        kept = httpx.get(urls[app] + path, headers={"X-Request-ID": forwarded}, timeout=10)
        assert kept.headers["x-request-id"] == forwarded

    deadline = time.monotonic() + 5
    while True:
        by_id = {line.get("request_id"): line for line in access_lines(stderr_path)}
        wanted = [*ids.values(), *(f"support-{app}-0001" for app in APPS)]
        if all(request_id in by_id for request_id in wanted) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    log = stderr_path.read_text(encoding="utf-8")
    for app, path in APPS.items():
        line = by_id.get(ids[app])
        assert line is not None, f"no access line for {app}:\n{log[-3000:]}"
        assert line["event"] == "request" and line["app"] == app
        assert line["method"] == "GET" and line["path"] == path and line["status"] == 200
        assert isinstance(line["duration_ms"], int | float) and line["duration_ms"] >= 0
        assert by_id[f"support-{app}-0001"]["path"] == path
    assert "Dupont-Lajoie" not in log and "nomNaissance" not in log
    # Probes are counted, not logged at INFO.
    assert not [line for line in by_id.values() if line["path"].startswith("/health/")]
