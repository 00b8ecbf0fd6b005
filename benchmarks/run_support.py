"""Starting and stopping the processes a benchmark measures: each in its own process group,
always stopped (SIGTERM, or the signal given, then SIGKILL after 10 s), only on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

# flows.py --flow: how each side's client is registered for it. par-dpop: requests pushed
# (RFC 9126) and tokens bound to a DPoP key (RFC 9449), on both sides; same client_secret_basic.
BROKER_CLIENT_FLAGS = {"code": (), "par-dpop": ("--require-par", "--dpop")}
PEER_CLIENT_FLAGS = {"code": (), "par-dpop": ("--par-dpop",)}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def taskset(cpu: int | str | None) -> list[str]:
    """Pins a command to a CPU (or a list such as "0,1"); None pins nothing."""
    return ["taskset", "-c", str(cpu)] if cpu is not None else []


def tail(path: Path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def url_answers(url: str) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    json.loads(r.read())
                    return True
        except Exception:
            return False
        return False

    return ready


def wait_ready(
    proc: subprocess.Popen, ready: Callable[[], bool], timeout: float, logfile: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"server exited with {proc.returncode} before ready; log:\n{tail(logfile)}"
            )
        if ready():
            return
        time.sleep(0.2)
    raise RuntimeError(f"server not ready after {timeout}s; log:\n{tail(logfile)}")


@contextmanager
def server(
    cmd: list[str],
    *,
    cwd: Path,
    env: dict | None,
    logfile: Path,
    ready_url: str | None = None,
    ready: Callable[[], bool] | None = None,
    timeout: float = 60,
    stop_signal: int = signal.SIGTERM,
) -> Iterator[subprocess.Popen]:
    """Start a server in its own process group; always stop it."""
    log(f"starting: {' '.join(cmd)}")
    check = ready or url_answers(ready_url or "")
    fh = open(logfile, "wb")  # noqa: SIM115 - closed when the server stops, below
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=fh,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_ready(proc, check, timeout, logfile)
        log(f"ready (pid {proc.pid})")
        yield proc
    finally:
        stop(proc, stop_signal)
        fh.close()


def stop(proc: subprocess.Popen, stop_signal: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, stop_signal)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    # the leader is gone; make sure no child of its group survives
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def federation_env(broker_port: int, idp_port: int) -> dict[str, str]:
    """The settings that tie the broker and the demo identity providers together."""
    return {
        "BROKER_ISSUER": f"http://127.0.0.1:{broker_port}",
        "BROKER_DEMO_IDP_URL": f"http://127.0.0.1:{idp_port}",
    }


def demo_idps(
    broker: str,
    env: dict,
    cwd: Path,
    port: int,
    cpu: int | str | None,
    password_profile: str | None,
    logfile: Path,
):  # type: ignore[no-untyped-def]
    """``broker demo idp run``: the upstream identity providers every flow goes through, in a
    process of their own (pinned to ``cpu``: not the measured server's core)."""
    profile = ["--password-profile", password_profile] if password_profile else []
    cmd = [*taskset(cpu), broker, "demo", "idp", "run", "--port", str(port), *profile]
    return server(
        cmd,
        cwd=cwd,
        env=env,
        logfile=logfile,
        ready_url=f"http://127.0.0.1:{port}/identite-demo/.well-known/openid-configuration",
    )


def prepare_broker(
    broker: str,
    env: dict,
    cwd: Path,
    redirect: str,
    password_profile: str | None,
    client_flags: Sequence[str] = (),
) -> dict:
    """Migrates the broker's database, registers the demo identity providers (at
    ``BROKER_DEMO_IDP_URL`` in ``env``) and the benchmark's client (with ``client_flags``, e.g.
    ``BROKER_CLIENT_FLAGS["par-dpop"]``); returns the client's registration (``client_id``,
    ``client_secret``). ``password_profile`` is the demo identity providers' (see
    ``demo_idp_command``), not the broker's."""

    def setup(*argv: str) -> str:
        log(f"setup: broker {' '.join(argv)}")
        done = subprocess.run(
            [broker, *argv],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"`broker {' '.join(argv)}` failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
        return done.stdout

    setup("db", "upgrade")
    setup("demo", "seed")
    registration = setup(
        "clients",
        "add",
        "--name",
        "Bench",
        "--redirect-uri",
        redirect,
        "--scope",
        "openid profile",
        "--auth-method",
        "client_secret_basic",
        *client_flags,
    )
    return json.loads(registration[registration.index("{") :])  # the JSON the command prints
