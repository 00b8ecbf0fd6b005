"""The stores a benchmarked side runs on, each a dedicated instance started for the run, so that
its CPU can be pinned and counted like the server's:

- Redis (`redis-server`), with the append-only file fsynced every second (`appendfsync
  everysec`), as a deployment that keeps its flow state across a restart would run it;
- PostgreSQL (a fresh cluster from `initdb` in the run's temp dir; the server's defaults, so
  every commit is flushed to disk as in production).

Each yields a `Store` (its URL and the pid of its process tree) and stops the instance at the
end. Only 127.0.0.1 is ever listened on.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from run_support import free_port, log, server, taskset


@dataclass(frozen=True)
class Store:
    kind: str
    url: str
    pid: int


def redis_ready(port: int) -> bool:
    probe = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "ping"],
        capture_output=True,
        text=True,
        timeout=5,
    )
    return probe.stdout.strip() == "PONG"


@contextmanager
def redis_store(tmp: Path, cpu: int | None) -> Iterator[Store]:
    if not shutil.which("redis-server"):
        raise RuntimeError("redis-server is not installed (Debian package redis-server)")
    port = free_port()
    workdir = tmp / f"redis-{port}"
    workdir.mkdir()
    cmd = [
        *taskset(cpu),
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--dir",
        str(workdir),
    ]
    with server(
        cmd, cwd=workdir, env=None, logfile=workdir / "redis.log", ready=lambda: redis_ready(port)
    ) as proc:
        yield Store("redis", f"redis://127.0.0.1:{port}/0", proc.pid)


def postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if not path:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (Debian package postgresql)")
    return path


def as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: run it as the postgres user then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def postgres_ready(port: int) -> bool:
    probe = subprocess.run(
        [postgres_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-q"],
        capture_output=True,
        timeout=5,
    )
    return probe.returncode == 0


@contextmanager
def postgres_store(tmp: Path, cpu: int | None) -> Iterator[Store]:
    port = free_port()
    workdir = tmp / f"postgres-{port}"
    workdir.mkdir()
    data = workdir / "data"
    if os.geteuid() == 0:
        tmp.chmod(0o711)  # the postgres user goes through the run's dir to its own
        shutil.chown(workdir, "postgres", "postgres")
    started = time.monotonic()
    subprocess.run(
        [
            *as_postgres_user(),
            postgres_bin("initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    log(f"initdb in {time.monotonic() - started:.1f} s")
    cmd = [
        *as_postgres_user(),
        *taskset(cpu),
        postgres_bin("postgres"),
        "-D",
        str(data),
        "-p",
        str(port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        f"unix_socket_directories={workdir}",
    ]
    logfile = tmp / f"postgres-{port}.log"
    with server(
        cmd,
        cwd=tmp,
        env=None,
        logfile=logfile,
        ready=lambda: postgres_ready(port),
        stop_signal=signal.SIGINT,  # a fast shutdown: the benchmark's clients are gone
    ) as proc:
        subprocess.run(
            [
                postgres_bin("createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "bench",
            ],
            check=True,
            timeout=30,
        )
        yield Store("postgres", f"postgresql://postgres@127.0.0.1:{port}/bench", proc.pid)


def store_for(kind: str):
    return {"redis": redis_store, "postgres": postgres_store}[kind]
