#!/usr/bin/env python3
"""Overhead of the data API (resource server) on top of a data provider.

Sets up a fresh SQLite database (migrations, demo seed, a habilitation with every CAF scope
and an API key), starts the provider simulators and the data API with ``taskset``, then:

1. **provider alone**: GETs the CAF simulator's own family-quotient URL directly, open loop at
   ``--rate`` requests/s for ``--duration`` s;
2. **through the data API**: the same question as an API Particulier call
   (``/v3/dss/quotient_familial/identite``, API key, identity parameters, recipient), at the
   same rate: the data API authenticates the key, checks scopes, rate limit and parameters,
   calls the simulator over HTTP, masks, and journals the call in SQLite before answering;
3. **throughput**: closed loop at ``--concurrency`` through the data API, to find its requests/s
   on one core (the simulator runs on the other core, with the load driver).

Added latency = (2) - (1), percentile by percentile. Results go to
``benchmarks/results/data_api.md`` and ``.json``.

    python benchmarks/data_api.py [--rate 200] [--duration 15] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_flows import REPO, free_port, log, machine, server, taskset

RESULTS = Path(__file__).resolve().parent / "results"
SECRET = "benchmark-key-encryption-secret-0123456789abcdef"
IDENTITY = {  # Angela Claire Louise DUBOIS, the reference test citizen (family quotient 2550)
    "nomNaissance": "DUBOIS",
    "prenoms[]": ["Angela", "Claire", "Louise"],
    "anneeDateNaissance": "1962",
    "moisDateNaissance": "8",
    "jourDateNaissance": "24",
    "sexeEtatCivil": "F",
    "codeCogInseePaysNaissance": "99100",
    "codeCogInseeCommuneNaissance": "75107",
    "recipient": "13002526500013",
}
PROVIDER_QUERY = {  # what the CAF adapter sends for the same person (see adapters/cnaf.py)
    "nomNaissance": "DUBOIS",
    "prenoms": "Angela Claire Louise",
    "sexe": "2",
    "dateNaissance": "19620824",
    "codePaysNaissance": "99100",
    "codeInseeLieuNaissance": "75107",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def query_pairs(params: dict) -> list[tuple[str, str]]:
    pairs = []
    for key, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, item))
    return pairs


async def open_loop(url: str, params, headers: dict, rate: float, duration: float) -> dict:
    """Requests started at a fixed rate, whatever the answers: latency as a client sees it."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def one() -> None:
            started = time.perf_counter()
            try:
                async with http.get(url, params=params, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        errors[str(response.status)] = errors.get(str(response.status), 0) + 1
                        return
            except aiohttp.ClientError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                return
            latencies.append((time.perf_counter() - started) * 1000)

        tasks = []
        start = time.perf_counter()
        n = int(rate * duration)
        for i in range(n):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return {
        "requests": n,
        "ok": len(latencies),
        "errors": errors,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "mean_ms": statistics.fmean(latencies) if latencies else float("nan"),
    }


async def closed_loop(
    url: str, params, headers: dict, concurrency: int, duration: float, pid: int
) -> dict:
    done, errors = 0, 0
    stop_at = time.perf_counter() + duration
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def user() -> None:
            nonlocal done, errors
            while time.perf_counter() < stop_at:
                async with http.get(url, params=params, headers=headers) as response:
                    await response.read()
                    if response.status == 200:
                        done += 1
                    else:
                        errors += 1

        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        await asyncio.gather(*(user() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
        cpu = (cpu_seconds(pid) - cpu0) / elapsed
    return {
        "concurrency": concurrency,
        "req_per_s": done / elapsed,
        "errors": errors,
        "server_cpu": cpu,
        "req_per_s_per_core": done / elapsed / max(cpu, 0.01),
    }


def broker_cli(env: dict, *args: str) -> str:
    broker = str(Path(sys.executable).parent / "broker")
    result = subprocess.run(
        [broker, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=180, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"broker {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--driver-cpu", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS / "data_api.md")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.driver_cpu})
    tmp = Path(tempfile.mkdtemp(prefix="bench-data-api-"))
    sim_port, api_port = free_port(), free_port()
    env = {
        **os.environ,
        "BROKER_DATABASE_URL": f"sqlite:///{tmp / 'broker.db'}",
        "BROKER_ISSUER": "http://127.0.0.1:9",
        "BROKER_KEY_ENCRYPTION_SECRET": SECRET,
        "BROKER_VAR_DIR": str(tmp / "var"),
        "BROKER_PROVIDERS_URL": f"http://127.0.0.1:{sim_port}",
    }
    broker_cli(env, "db", "upgrade")
    broker_cli(env, "demo", "seed")
    habilitation = json.loads(
        broker_cli(
            env,
            "habilitations",
            "add",
            "--service",
            "Benchmark",
            "--create-service",
            "--purpose",
            "benchmark",
            "--legal-basis",
            "benchmark",
            "--rate-limit",
            "600000",
            "--recipient",
            "13002526500013",
            "--scopes",
            "cnaf_quotient_familial cnaf_allocataires cnaf_enfants cnaf_adresse",
        )
    )
    key = json.loads(
        broker_cli(env, "apikeys", "issue", habilitation["id"], "--name", "Banc d'essai")
    )["api_key"]
    broker = str(Path(sys.executable).parent / "broker")
    simulator_url = f"http://127.0.0.1:{sim_port}"
    api_url = f"http://127.0.0.1:{api_port}"
    with (
        server(
            [*taskset(args.driver_cpu), broker, "simulators", "run", "--port", str(sim_port)],
            cwd=REPO,
            env=env,
            logfile=tmp / "simulators.log",
            ready_url=f"{simulator_url}/cnaf/qf/v1/sante",
        ),
        server(
            [*taskset(args.server_cpu), broker, "resources", "run", "--port", str(api_port)],
            cwd=REPO,
            env=env,
            logfile=tmp / "data_api.log",
            ready_url=f"{api_url}/v3/ping",
        ) as api,
    ):
        direct = (
            f"{simulator_url}/cnaf/qf/v1/allocataires/quotient",
            query_pairs(PROVIDER_QUERY),
            {},
        )
        through = (
            f"{api_url}/v3/dss/quotient_familial/identite",
            query_pairs(IDENTITY),
            {"X-Api-Key": key},
        )
        log(f"warm-up {args.warmup} s")
        asyncio.run(open_loop(*through, args.rate, args.warmup))
        asyncio.run(open_loop(*direct, args.rate, args.warmup))
        log(f"provider alone, {args.rate} req/s for {args.duration} s")
        alone = asyncio.run(open_loop(*direct, args.rate, args.duration))
        log(f"through the data API, {args.rate} req/s for {args.duration} s")
        via = asyncio.run(open_loop(*through, args.rate, args.duration))
        log(f"throughput, concurrency {args.concurrency} for {args.duration} s")
        throughput = asyncio.run(closed_loop(*through, args.concurrency, args.duration, api.pid))
    report = {
        "machine": machine(args),
        "rate": args.rate,
        "duration_s": args.duration,
        "provider_alone": alone,
        "through_data_api": via,
        "throughput": throughput,
        "added_p50_ms": via["p50_ms"] - alone["p50_ms"],
        "added_p99_ms": via["p99_ms"] - alone["p99_ms"],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2))
    args.out.write_text(markdown(report))
    print(markdown(report))
    return 0 if not via["errors"] and not alone["errors"] else 1


def markdown(r: dict) -> str:
    m, a, v, t = r["machine"], r["provider_alone"], r["through_data_api"], r["throughput"]
    return f"""# Data API overhead: latest results

- Date: {m["date"]}
- Machine: {m["cpu_model"]}, {m["cpus_online"]} CPUs online, Linux {m["kernel"]}
- Data API pinned to CPU {m["server_cpu"]}; simulators and load driver on CPU {m["driver_cpu"]}
- Call: `GET /v3/dss/quotient_familial/identite` with an API key, 9 identity parameters and
  `recipient`; every CAF scope; SQLite journal; JSON access log at INFO
- Open loop at {r["rate"]:.0f} requests/s for {r["duration_s"]:.0f} s per row
- Command: `python benchmarks/data_api.py --rate {r["rate"]:.0f}`

| path | ok | errors | p50 ms | p99 ms | mean ms |
|---|---:|---:|---:|---:|---:|
| provider simulator alone | {a["ok"]} | {sum(a["errors"].values())} | {a["p50_ms"]:.2f} | {a["p99_ms"]:.2f} | {a["mean_ms"]:.2f} |
| through the data API | {v["ok"]} | {sum(v["errors"].values())} | {v["p50_ms"]:.2f} | {v["p99_ms"]:.2f} | {v["mean_ms"]:.2f} |
| **added by the data API** | | | **{r["added_p50_ms"]:.2f}** | **{r["added_p99_ms"]:.2f}** | |

Throughput through the data API (closed loop, concurrency {t["concurrency"]}):
**{t["req_per_s"]:.0f} requests/s** with the data API at {t["server_cpu"]:.2f} of a core
(≈ {t["req_per_s_per_core"]:.0f} requests/s per core), {t["errors"]} errors.
"""


if __name__ == "__main__":
    sys.exit(main())
