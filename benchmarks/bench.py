#!/usr/bin/env python3
"""`make bench`: ours against node oidc-provider, side by side, in interleaved rounds.

Rows (each side alone on CPU 0 with its stores, the load driver on CPU 1):

  peer-memory          oidc-provider, its memory adapter (a reference, not a target)
  peer-redis           oidc-provider on Redis (benchmarks/peer/redis_adapter.js)
  ours-sqlite          the embedded default: SQLite, flow state in process memory
  ours-postgres-redis  the production configuration: PostgreSQL, flow state in Redis

then the same four sides again with the flow a FAPI 2.0 client runs (`<side> par-dpop`: the
authorization request pushed first, RFC 9126; the token and userinfo requests with DPoP proofs,
RFC 9449; each side's client registered to require both), then, on both cores (server, stores and
driver unpinned), ours-postgres-redis with one worker and with two. Each row runs complete flows
(authorize → login → consent → token → userinfo, with `prompt=consent`), then the token endpoint
alone on the same server (not on the par-dpop rows unless --par-dpop-token). Every store is a dedicated
instance started for the row (benchmarks/stores.py); its CPU counts per flow with the server's.

Each round runs every row once, in order; the report gives the median of the rounds. It is
printed, written to benchmarks/results/bench.md (.json next to it) and, with --readme, into
README.md between the bench markers.

    .venv/bin/python benchmarks/bench.py                       # 3 rounds, every row
    .venv/bin/python benchmarks/bench.py --rounds 1 --duration 5 --sides ours-sqlite --no-workers
    .venv/bin/python benchmarks/bench.py --rounds 1 --duration 5 --flows par-dpop --no-workers
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench_report import markdown, row_name, summarise, text_table, write_readme
from run_flows import broker_cmd, machine, peer_lru_size
from run_support import (
    BROKER_CLIENT_FLAGS,
    PEER_CLIENT_FLAGS,
    demo_idps,
    federation_env,
    free_port,
    log,
    prepare_broker,
    server,
    taskset,
)
from stores import Store, store_for

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEER_DIR = HERE / "peer"
FLOWS = HERE / "flows.py"
SIDES = {
    "peer-memory": ("peer", []),
    "peer-redis": ("peer", ["redis"]),
    "ours-sqlite": ("ours", []),
    "ours-postgres-redis": ("ours", ["postgres", "redis"]),
}
FLOW_KINDS = tuple(BROKER_CLIENT_FLAGS)  # code, par-dpop
WORKERS_SIDE = "ours-postgres-redis"
BOTH_CORES = "0,1"


def driver(
    args,
    mode: str,
    side_args: list[str],
    pid: int,
    stores: list[Store],
    out: Path,
    *,
    concurrency: int,
    warmup: float,
    driver_cpu: int | None,
) -> dict:
    cmd = [
        sys.executable,
        str(FLOWS),
        "--mode",
        mode,
        "--concurrency",
        str(concurrency),
        "--timeout",
        "10",
        f"--prompt={args.prompt}",
        "--server-pid",
        str(pid),
        "--json-out",
        str(out),
        *side_args,
    ]
    for store in stores:
        cmd += ["--store-pid", str(store.pid)]
    if driver_cpu is not None:
        cmd += ["--cpu", str(driver_cpu)]
    if mode == "flows":
        cmd += ["--duration", str(args.duration), "--warmup", str(warmup)]
        limit = warmup + args.duration + 80
    else:
        cmd += [
            "--codes",
            str(args.token_codes),
            "--mint-limit",
            str(args.mint_limit),
            "--redeem-limit",
            str(args.redeem_limit),
        ]
        limit = args.mint_limit + args.redeem_limit + 100
    subprocess.run(cmd, check=True, timeout=limit, stdin=subprocess.DEVNULL)
    return json.loads(out.read_text())


def start_peer(
    stack: ExitStack, args, tmp: Path, stores: list[Store], cpu, flow: str
) -> tuple[int, list[str]]:
    if not (PEER_DIR / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError(
            "benchmarks/peer/node_modules is missing: run `npm ci` in benchmarks/peer"
        )
    port, secret = free_port(), os.urandom(24).hex()
    redirect = f"http://127.0.0.1:{free_port()}/cb"
    cmd = [
        *taskset(cpu),
        "node",
        "server.js",
        "--port",
        str(port),
        "--client-id=bench",
        f"--client-secret={secret}",
        f"--redirect-uri={redirect}",
        *PEER_CLIENT_FLAGS[flow],
    ]
    redis = [s for s in stores if s.kind == "redis"]
    if redis:
        cmd += ["--adapter", "redis", "--redis-url", redis[0].url]
    elif not args.no_token:
        cmd.append(f"--lru-size={peer_lru_size(args)}")
    issuer = f"http://127.0.0.1:{port}"
    proc = stack.enter_context(
        server(
            cmd,
            cwd=PEER_DIR,
            env=None,
            logfile=tmp / f"peer-{port}.log",
            ready_url=issuer + "/.well-known/openid-configuration",
        )
    )
    return proc.pid, [
        "--profile",
        "peer",
        f"--flow={flow}",
        f"--issuer={issuer}",
        "--client-id=bench",
        f"--client-secret={secret}",
        f"--redirect-uri={redirect}",
    ]


def start_ours(
    stack: ExitStack, args, tmp: Path, stores: list[Store], cpu, flow: str, workers: int = 1
) -> tuple[int, list[str]]:
    broker = broker_cmd(args)
    workdir = Path(tempfile.mkdtemp(dir=tmp, prefix="ours-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROKER_")}
    env |= {
        "BROKER_VAR_DIR": str(workdir / "var"),
        "BROKER_DATABASE_URL": f"sqlite:///{workdir}/bench.db",
    }
    for store in stores:
        env["BROKER_DATABASE_URL" if store.kind == "postgres" else "BROKER_REDIS_URL"] = store.url
    for kv in args.broker_env:
        key, _, value = kv.partition("=")
        env[key] = value
    port = free_port()
    redirect = f"http://127.0.0.1:{free_port()}/cb"
    idp_port = free_port()
    env |= federation_env(port, idp_port)

    client = prepare_broker(
        broker, env, REPO, redirect, args.password_profile, BROKER_CLIENT_FLAGS[flow]
    )
    # The demo identity providers: a process of their own, on the driver's core (the broker's
    # CPU is what is measured; the provider's is like the driver's, outside).
    driver_cpu = getattr(args, "driver_cpu", None)
    stack.enter_context(
        demo_idps(
            broker, env, REPO, idp_port, driver_cpu, args.password_profile, workdir / "idp.log"
        )
    )
    cmd = [
        *taskset(cpu),
        broker,
        "run",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    issuer = f"http://127.0.0.1:{port}"
    proc = stack.enter_context(
        server(
            cmd,
            cwd=REPO,
            env=env,
            logfile=workdir / "ours.log",
            ready_url=issuer + "/.well-known/openid-configuration",
        )
    )
    return proc.pid, [
        "--profile",
        "ours",
        f"--flow={flow}",
        f"--issuer={issuer}",
        f"--client-id={client['client_id']}",
        f"--client-secret={client['client_secret']}",
        f"--redirect-uri={redirect}",
    ]


def run_row(
    args,
    tmp: Path,
    row: str,
    side: str,
    flow: str = "code",
    *,
    workers: int = 1,
    both_cores: bool = False,
) -> dict:
    kind, store_kinds = SIDES[side]
    server_cpu = BOTH_CORES if both_cores else args.server_cpu
    driver_cpu = None if both_cores else args.driver_cpu
    concurrency = args.workers_concurrency if both_cores else args.concurrency
    out: dict = {"row": row, "side": side, "flow": flow, "workers": workers}
    with ExitStack() as stack:
        stores = [stack.enter_context(store_for(k)(tmp, server_cpu)) for k in store_kinds]
        if kind == "peer":
            pid, side_args = start_peer(stack, args, tmp, stores, server_cpu, flow)
        else:
            pid, side_args = start_ours(stack, args, tmp, stores, server_cpu, flow, workers)
        name = f"{row.replace(' ', '-').replace(',', '')}-{free_port()}"
        out["flows"] = driver(
            args,
            "flows",
            side_args,
            pid,
            stores,
            tmp / f"{name}-flows.json",
            concurrency=concurrency,
            warmup=args.warmup + args.server_warmup,
            driver_cpu=driver_cpu,
        )
        if measures_token(args, flow) and not both_cores:
            out["token"] = driver(
                args,
                "token",
                side_args,
                pid,
                stores,
                tmp / f"{name}-token.json",
                concurrency=args.concurrency,
                warmup=0,
                driver_cpu=driver_cpu,
            )
    return out


def measures_token(args, flow: str) -> bool:
    return not args.no_token and (flow == "code" or args.par_dpop_token)


def plan(args) -> list[tuple[str, str, str, int, bool]]:
    """(row, side, flow, workers, on both cores): the code-flow rows, then the par-dpop rows,
    then the workers rows (code flow)."""
    rows = [
        (row_name(side, flow), side, flow, 1, False) for flow in args.flows for side in args.sides
    ]
    if not args.no_workers:
        rows += [
            (f"{WORKERS_SIDE} 1 worker, 2 cores", WORKERS_SIDE, "code", 1, True),
            (f"{WORKERS_SIDE} 2 workers, 2 cores", WORKERS_SIDE, "code", 2, True),
        ]
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sides", default=",".join(SIDES), help="comma list of " + ", ".join(SIDES))
    ap.add_argument(
        "--flows",
        default=",".join(FLOW_KINDS),
        help="comma list of "
        + ", ".join(FLOW_KINDS)
        + ": the plain code flow, and PAR + DPoP (each side's client requires both)",
    )
    ap.add_argument(
        "--par-dpop-token",
        action="store_true",
        help="also measure the token endpoint alone (with DPoP proofs) on the par-dpop rows",
    )
    ap.add_argument("--no-workers", action="store_true", help="skip the 1 and 2 worker rows")
    ap.add_argument("--no-token", action="store_true", help="skip the token endpoint")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--workers-concurrency", type=int, default=32)
    ap.add_argument("--duration", type=float, default=15.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--server-warmup", type=float, default=7.0)
    ap.add_argument("--prompt", default="consent")
    ap.add_argument(
        "--password-profile",
        default="benchmark",
        choices=("benchmark", "standard"),
        help="ours: the demo accounts' argon2id cost (the peer checks no password)",
    )
    ap.add_argument("--token-codes", type=int, default=3000)
    ap.add_argument("--mint-limit", type=float, default=30.0)
    ap.add_argument("--redeem-limit", type=float, default=15.0)
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--driver-cpu", type=int, default=1)
    ap.add_argument("--broker", help="the broker console script (default .venv/bin/broker)")
    ap.add_argument("--broker-env", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--out", default=str(HERE / "results" / "bench.md"))
    ap.add_argument("--readme", action="store_true", help="write the table into README.md")
    ap.add_argument("--keep-tmp", action="store_true")
    args = ap.parse_args(argv)
    args.sides = [s for s in args.sides.split(",") if s]
    unknown = set(args.sides) - set(SIDES)
    if unknown:
        ap.error(f"unknown sides: {', '.join(sorted(unknown))}")
    args.flows = [f for f in args.flows.split(",") if f]
    unknown = set(args.flows) - set(FLOW_KINDS)
    if unknown or not args.flows:
        ap.error(f"--flows: a comma list of {', '.join(FLOW_KINDS)}")
    if len(os.sched_getaffinity(0)) < 2 or not shutil.which("taskset"):
        ap.error("needs 2 CPUs and taskset: each side has one core, the driver the other")
    os.sched_setaffinity(0, {args.driver_cpu})  # the orchestrator stays off the server's core
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    log(f"work dir {tmp}")
    runs: list[dict] = []
    failures: list[str] = []
    try:
        for round_number in range(1, args.rounds + 1):
            for row, side, flow, workers, both in plan(args):
                log(f"round {round_number}/{args.rounds}: {row}")
                try:
                    result = run_row(args, tmp, row, side, flow, workers=workers, both_cores=both)
                except (RuntimeError, subprocess.SubprocessError, OSError, ValueError) as exc:
                    failures.append(f"round {round_number}, {row}: {exc}")
                    log(f"FAILED {row}: {exc}")
                    continue
                runs.append({"round": round_number, **result})
    finally:
        if args.keep_tmp:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    summary = summarise(runs)
    info = machine(argparse.Namespace(server_cpu=args.server_cpu, driver_cpu=args.driver_cpu))
    print(text_table(summary))
    for failure in failures:
        print(f"FAILED {failure}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = markdown(summary, info, args, failures)
    out.write_text(report)
    out.with_suffix(".json").write_text(
        json.dumps({"machine": info, "runs": runs, "summary": summary}, indent=2)
    )
    log(f"wrote {out}")
    if args.readme:
        write_readme(REPO / "README.md", summary, info, args)
        log("wrote the table into README.md")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
