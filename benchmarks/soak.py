#!/usr/bin/env python3
"""`make soak`: ten minutes of flows on the production configuration at about 70 % of its
capacity, to show what a long run does that a short one hides (leaks, errors that come with
time, latency that drifts).

It starts a dedicated PostgreSQL and Redis (benchmarks/stores.py) and `broker run --workers 2`,
measures the capacity (closed loop, 15 s), then runs an open loop at --load of it for
--minutes: one flow started every 1/rate s, latency counted from each flow's slot. Every 5 s it
samples the broker's memory (the RSS of its process tree) and Redis's. It prints, and writes to
benchmarks/results/soak.md (.json next to it): errors, p50 / p99, the RSS at 1 minute and at
the end, and the RSS over time. Everything stops by itself: the run lasts --minutes plus about
a minute, and only 127.0.0.1 is used.

    .venv/bin/python benchmarks/soak.py                    # 10 minutes at 70 %
    .venv/bin/python benchmarks/soak.py --minutes 2        # a shorter check
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench import BOTH_CORES, FLOWS, HERE, start_ours
from run_support import log
from stores import store_for

SAMPLE_EVERY = 5.0


def tree_rss_mib(pid: int) -> float:
    """The resident memory of ``pid`` and its descendants, in MiB."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry)] = int(fields["PPid"].strip())
        rss[int(entry)] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo.extend(child for child, parent in parents.items() if parent == current)
    return round(total / 1024, 1)


def redis_memory_mib(url: str) -> float | None:
    port = url.rsplit(":", 1)[1].split("/")[0]
    info = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", port, "info", "memory"],
        capture_output=True,
        text=True,
        timeout=5,
    ).stdout
    for line in info.splitlines():
        if line.startswith("used_memory:"):
            return round(int(line.split(":")[1]) / 2**20, 1)
    return None


def flows(side_args: list[str], pid: int, out: Path, seconds: float, **options) -> subprocess.Popen:
    cmd = [sys.executable, str(FLOWS), *side_args, "--server-pid", str(pid), "--json-out", str(out)]
    cmd += ["--duration", str(seconds), "--timeout", "10"]
    for key, value in options.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--load", type=float, default=0.7, help="share of the measured capacity")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=64, help="most flows in flight at once")
    ap.add_argument("--password-profile", default="benchmark", choices=("benchmark", "standard"))
    ap.add_argument("--broker", help="the broker console script (default .venv/bin/broker)")
    ap.add_argument("--out", default=str(HERE / "results" / "soak.md"))
    args = ap.parse_args(argv)
    args.broker_env = []
    tmp = Path(tempfile.mkdtemp(prefix="soak-"))
    samples: list[dict] = []
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, tmp, True)  # last: after every process has stopped
        stores = [
            stack.enter_context(store_for(kind)(tmp, BOTH_CORES)) for kind in ("postgres", "redis")
        ]
        redis = stores[1]
        pid, side_args = start_ours(stack, args, tmp, stores, BOTH_CORES, args.workers)
        log("measuring the capacity (closed loop, 15 s)")
        probe = flows(side_args, pid, tmp / "capacity.json", 15, warmup=5, concurrency=32)
        probe.wait(timeout=120)
        capacity = json.loads((tmp / "capacity.json").read_text())["flows_per_s"]
        rate = round(capacity * args.load, 1)
        seconds = args.minutes * 60
        log(f"capacity {capacity} flows/s: soaking at {rate} flows/s for {args.minutes:g} min")
        started = time.monotonic()
        soak = flows(
            side_args,
            pid,
            tmp / "soak.json",
            seconds,
            warmup=0,
            rate=rate,
            concurrency=args.concurrency,
        )
        while soak.poll() is None:
            elapsed = time.monotonic() - started
            if elapsed > seconds + 120:
                soak.kill()
                raise SystemExit("the soak driver did not stop in time")
            samples.append(
                {
                    "s": round(elapsed),
                    "broker_rss_mib": tree_rss_mib(pid),
                    "redis_mib": redis_memory_mib(redis.url),
                }
            )
            time.sleep(SAMPLE_EVERY)
        result = json.loads((tmp / "soak.json").read_text())
    report = summary(args, capacity, rate, result, samples)
    print(report["text"])
    out = Path(args.out)
    out.write_text(report["text"] + "\n")
    out.with_suffix(".json").write_text(
        json.dumps({**report, "samples": samples, "driver": result}, indent=2)
    )
    log(f"wrote {out}")
    return 0 if result["errors"] == 0 else 1


def at(samples: list[dict], second: float) -> dict:
    return min(samples, key=lambda s: abs(s["s"] - second))


def summary(args, capacity: float, rate: float, result: dict, samples: list[dict]) -> dict:
    one, last = at(samples, 60), samples[-1]
    most = max(s["broker_rss_mib"] for s in samples)
    lines = [
        "# Soak: PostgreSQL + Redis, "
        f"{args.workers} workers, {args.minutes:g} minutes at {args.load:.0%} of capacity",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} CPUs "
        "(server, stores and driver share them)",
        f"- Capacity (closed loop, 32 users): {capacity} flows/s; soak rate: {rate} flows/s "
        f"(open loop, at most {args.concurrency} in flight)",
        f"- Flows: {result['flows']} ({result['flows_per_s']} flows/s), errors: {result['errors']}"
        + (f" {result['errors_by_kind']}" if result["errors"] else ""),
        f"- Latency of a whole flow, from its slot: p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms; token request p99 {result['token_p99_ms']} ms",
        f"- Broker RSS (both workers and their parent): {one['broker_rss_mib']} MiB at "
        f"{one['s']} s, {last['broker_rss_mib']} MiB at {last['s']} s (most: {most} MiB)",
        f"- Redis memory: {one['redis_mib']} MiB at {one['s']} s, {last['redis_mib']} MiB at "
        f"{last['s']} s",
        f"- Command: `python benchmarks/soak.py {' '.join(sys.argv[1:])}`".rstrip(),
    ]
    return {
        "text": "\n".join(lines),
        "capacity": capacity,
        "rate": rate,
        "rss_1min_mib": one["broker_rss_mib"],
        "rss_end_mib": last["broker_rss_mib"],
    }


if __name__ == "__main__":
    sys.exit(main())
