#!/usr/bin/env python3
"""Orchestrator: the same OIDC flows against the peer and against ours.

For each side, in this order:

  peer  node oidc-provider (benchmarks/peer/server.js), dev interactions,
        memory storage, started as `taskset -c 0 node server.js --port P`
  ours  the broker: `broker db upgrade`, `broker demo seed`, `broker clients
        add …` on a fresh SQLite file, then `taskset -c 0 broker run --host
        127.0.0.1 --port P`

it starts the server on a free loopback port, waits for its discovery
document, runs benchmarks/flows.py pinned to CPU 1 at each concurrency asked
for, and stops the server (SIGTERM to its process group, SIGKILL after 10 s).
After the flow rows, on the same server, it runs the token-endpoint benchmark
(flows.py --mode token): mint --token-codes codes through the front channel
(not measured), then redeem them all and measure POST /token alone. Then it
prints the tables, the ratios ours/peer, and writes the same as Markdown to
benchmarks/results/latest.md (and JSON to latest.json), or to --out.

    python benchmarks/run_flows.py                      # both sides, c=16, 15 s
    python benchmarks/run_flows.py --only peer --concurrency 8,16,32
    python benchmarks/run_flows.py --ceiling --only peer   # + driver's own ceiling
    python benchmarks/run_flows.py --duration 5 --server-warmup 2 --out /tmp/short.md  # short check

`--ceiling` also runs the driver against benchmarks/mock_server.py (a trivial
server with the broker's flow contract and no crypto) to show how many flows/s
and plain requests/s the driver itself can produce.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from contextlib import suppress
from pathlib import Path

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

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEER_DIR = HERE / "peer"
FLOWS = HERE / "flows.py"
MOCK = HERE / "mock_server.py"
RESULTS = HERE / "results"

PEER_CLIENT_ID = "bench"


def run_driver(args, extra: list[str], server_pid: int, warmup: float, out_json: Path) -> dict:
    cmd = [
        sys.executable,
        str(FLOWS),
        "--concurrency",
        str(extra.pop(0)),
        "--duration",
        str(args.duration),
        "--warmup",
        str(warmup),
        "--timeout",
        str(args.timeout),
        "--client",
        args.client,
        f"--prompt={args.prompt}",
        "--server-pid",
        str(server_pid),
        "--json-out",
        str(out_json),
        *extra,
    ]
    if args.driver_cpu is not None:
        cmd += ["--cpu", str(args.driver_cpu)]
    limit = warmup + args.duration + args.timeout + 60
    subprocess.run(cmd, check=True, timeout=limit, stdin=subprocess.DEVNULL)
    return json.loads(out_json.read_text())


def token_enabled(args) -> bool:
    return not args.no_token


def run_token_driver(args, side: str, extra: list[str], server_pid: int, out_json: Path) -> dict:
    """flows.py --mode token on the running server; a failure is returned, not raised,
    so that the side's flow rows are kept."""
    cmd = [
        sys.executable,
        str(FLOWS),
        "--mode",
        "token",
        "--concurrency",
        str(args.token_concurrency),
        "--codes",
        str(args.token_codes),
        "--mint-limit",
        str(args.mint_limit),
        "--redeem-limit",
        str(args.redeem_limit),
        "--timeout",
        str(args.timeout),
        "--client",
        args.client,
        f"--prompt={args.prompt}",
        "--server-pid",
        str(server_pid),
        "--json-out",
        str(out_json),
        *extra,
    ]
    if args.driver_cpu is not None:
        cmd += ["--cpu", str(args.driver_cpu)]
    limit = args.mint_limit + args.redeem_limit + 4 * args.timeout + 60
    log(
        f"{side}: token endpoint: minting up to {args.token_codes} codes (<= {args.mint_limit:g} s), then redeeming"
    )
    try:
        subprocess.run(cmd, check=True, timeout=limit, stdin=subprocess.DEVNULL)
        r = json.loads(out_json.read_text())
    except (subprocess.SubprocessError, OSError, ValueError) as exc:
        return {"mode": "token", "side": side, "failed": f"token endpoint: {exc}"}
    r["side"] = side
    return r


def peer_lru_size(args) -> int:
    """LRU entries for the peer's memory adapter so that no minted code is evicted
    before it is redeemed: about 6-11 new entries per flow were observed, plus the
    access token and promotions per redemption; 16 per code leaves a margin."""
    return 16 * args.token_codes + 1000


def side_peer(args, tmp: Path) -> list[dict]:
    if not (PEER_DIR / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError(
            "benchmarks/peer/node_modules is missing: run `npm ci` in benchmarks/peer"
        )
    port, cb_port = free_port(), free_port()
    redirect = f"http://127.0.0.1:{cb_port}/cb"
    secret = os.urandom(24).hex()
    cmd = [
        *taskset(args.server_cpu),
        "node",
        "server.js",
        "--port",
        str(port),
        f"--client-id={PEER_CLIENT_ID}",
        f"--client-secret={secret}",
        f"--redirect-uri={redirect}",
        *PEER_CLIENT_FLAGS[args.flow],
    ]
    if token_enabled(args):
        cmd.append(f"--lru-size={peer_lru_size(args)}")
    issuer = f"http://127.0.0.1:{port}"
    with server(
        cmd,
        cwd=PEER_DIR,
        env=None,
        logfile=tmp / "peer.log",
        ready_url=issuer + "/.well-known/openid-configuration",
    ) as proc:
        return measure_side(
            args,
            "peer",
            proc.pid,
            tmp,
            [
                "--profile",
                "peer",
                f"--issuer={issuer}",
                f"--client-id={PEER_CLIENT_ID}",
                f"--client-secret={secret}",
                f"--redirect-uri={redirect}",
            ],
        )


def measure_side(args, side: str, pid: int, tmp: Path, driver_args: list[str]) -> list[dict]:
    """Every concurrency's flow row, then the token endpoint, on one running server."""
    driver_args = [*driver_args, f"--flow={args.flow}"]
    results = []
    for i, c in enumerate(args.concurrency):
        warm = args.warmup + (args.server_warmup if i == 0 else 0)
        r = run_driver(args, [c, *driver_args], pid, warm, tmp / f"{side}-{c}.json")
        r["side"] = side
        results.append(r)
    if token_enabled(args):
        results.append(run_token_driver(args, side, driver_args, pid, tmp / f"{side}-token.json"))
    return results


def broker_cmd(args) -> str:
    if args.broker:
        return args.broker
    cand = REPO / ".venv" / "bin" / "broker"
    if cand.exists():
        return str(cand)
    found = shutil.which("broker")
    if not found:
        raise RuntimeError(
            "`broker` console script not found (.venv/bin/broker); install the project first"
        )
    return found


def side_ours(args, tmp: Path) -> list[dict]:
    broker = broker_cmd(args)
    env = os.environ.copy()
    env.pop("BROKER_ISSUER", None)
    env["BROKER_DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
    env["BROKER_VAR_DIR"] = str(tmp / "var")  # dev secret, demo keys: not the repo's var/
    for kv in args.broker_env:
        k, _, v = kv.partition("=")
        env[k] = v
    port, cb_port, idp_port = free_port(), free_port(), free_port()
    redirect = f"http://127.0.0.1:{cb_port}/cb"
    env |= federation_env(port, idp_port)

    client = prepare_broker(
        broker, env, REPO, redirect, args.password_profile, BROKER_CLIENT_FLAGS[args.flow]
    )
    client_id, client_secret = client["client_id"], client["client_secret"]

    cmd = [*taskset(args.server_cpu), broker, "run", "--host", "127.0.0.1", "--port", str(port)]
    issuer = f"http://127.0.0.1:{port}"
    idps = demo_idps(
        broker, env, REPO, idp_port, args.driver_cpu, args.password_profile, tmp / "idp.log"
    )
    with (
        idps,
        server(
            cmd,
            cwd=REPO,
            env=env,
            logfile=tmp / "ours.log",
            ready_url=issuer + "/.well-known/openid-configuration",
        ) as proc,
    ):
        return measure_side(
            args,
            "ours",
            proc.pid,
            tmp,
            [
                "--profile",
                "ours",
                f"--issuer={issuer}",
                f"--client-id={client_id}",
                f"--client-secret={client_secret}",
                f"--redirect-uri={redirect}",
            ],
        )


def side_ceiling(args, tmp: Path) -> list[dict]:
    """The driver against a trivial server: its own ceiling, not a result."""
    port, cb_port = free_port(), free_port()
    redirect = f"http://127.0.0.1:{cb_port}/cb"
    secret = os.urandom(24).hex()
    cmd = [
        *taskset(args.server_cpu),
        sys.executable,
        str(MOCK),
        "--port",
        str(port),
        "--client-id=bench",
        f"--client-secret={secret}",
    ]
    issuer = f"http://127.0.0.1:{port}"
    results = []
    c = max(args.concurrency)
    with server(
        cmd,
        cwd=REPO,
        env=None,
        logfile=tmp / "mock.log",
        ready_url=issuer + "/.well-known/openid-configuration",
    ) as proc:
        r = run_driver(
            args,
            [
                c,
                "--profile",
                "ours",
                f"--issuer={issuer}",
                "--client-id=bench",
                f"--client-secret={secret}",
                f"--redirect-uri={redirect}",
            ],
            proc.pid,
            args.warmup,
            tmp / "ceiling-flows.json",
        )
        r["side"] = "ceiling (mock, flows)"
        results.append(r)
        r = run_driver(
            args,
            [c, "--profile", "ping", f"--url={issuer}/ping"],
            proc.pid,
            args.warmup,
            tmp / "ceiling-ping.json",
        )
        r["side"] = "ceiling (mock, GET /ping)"
        results.append(r)
    return results


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------


def cmd_out(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine(args) -> dict:
    model = ""
    lscpu = cmd_out(["lscpu"])
    for line in lscpu.splitlines():
        if line.lower().startswith("model name"):
            model = line.split(":", 1)[1].strip()
        elif line.lower().startswith("hypervisor vendor"):
            model += f" ({line.split(':', 1)[1].strip()} guest)"
    peer_ver = ""
    with suppress(OSError, ValueError, KeyError):
        peer_ver = json.loads(
            (PEER_DIR / "node_modules" / "oidc-provider" / "package.json").read_text()
        )["version"]
    try:
        import uvloop

        uv = uvloop.__version__
    except ImportError:
        uv = "not installed"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_model": model or platform.processor(),
        "cpus_online": os.cpu_count(),
        "server_cpu": args.server_cpu,
        "driver_cpu": args.driver_cpu,
        "python": platform.python_version(),
        "uvloop": uv,
        "node": cmd_out(["node", "--version"]) or "not found",
        "oidc_provider": peer_ver or "not installed",
        "kernel": platform.release(),
    }


COLS = [
    ("side", "side"),
    ("concurrency", "conc"),
    ("flows_per_s", "flows/s"),
    ("p50_ms", "p50 ms"),
    ("p99_ms", "p99 ms"),
    ("token_p50_ms", "token p50"),
    ("token_p99_ms", "token p99"),
    ("errors", "errors"),
    ("requests_per_flow", "req/flow"),
    ("server_cpu", "server cpu"),
    ("driver_cpu", "driver cpu"),
]


def fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"
    return str(v)


def ratios(results: list[dict]) -> list[dict]:
    peer = {r["concurrency"]: r for r in results if r["side"] == "peer"}
    ours = {r["concurrency"]: r for r in results if r["side"] == "ours"}
    out = []
    for c in sorted(set(peer) & set(ours)):
        p, o = peer[c], ours[c]
        out.append(
            {
                "concurrency": c,
                "flows_ratio": round(o["flows_per_s"] / p["flows_per_s"], 3)
                if p["flows_per_s"]
                else None,
                "p50_ratio": round(o["p50_ms"] / p["p50_ms"], 3)
                if o["p50_ms"] and p["p50_ms"]
                else None,
                "p99_ratio": round(o["p99_ms"] / p["p99_ms"], 3)
                if o["p99_ms"] and p["p99_ms"]
                else None,
            }
        )
    return out


TOKEN_COLS = [
    ("side", "side"),
    ("concurrency", "conc"),
    ("redeemed", "codes"),
    ("requests_per_s", "req/s"),
    ("p50_ms", "p50 ms"),
    ("p99_ms", "p99 ms"),
    ("errors", "errors"),
    ("unredeemed", "unredeemed"),
    ("mint_s", "mint s"),
    ("max_code_age_s", "oldest code s"),
    ("server_cpu", "server cpu"),
    ("driver_cpu", "driver cpu"),
]


def token_ratio(tokens: list[dict]) -> dict | None:
    by = {r["side"]: r for r in tokens}
    p, o = by.get("peer"), by.get("ours")
    if not p or not o:
        return None
    return {
        "concurrency": o["concurrency"],
        "rps_ratio": round(o["requests_per_s"] / p["requests_per_s"], 3)
        if p["requests_per_s"]
        else None,
        "p50_ratio": round(o["p50_ms"] / p["p50_ms"], 3) if o["p50_ms"] and p["p50_ms"] else None,
        "p99_ratio": round(o["p99_ms"] / p["p99_ms"], 3) if o["p99_ms"] and p["p99_ms"] else None,
    }


def token_text_table(tokens: list[dict], trat: dict | None) -> str:
    rows = [[h for _, h in TOKEN_COLS]] + [
        [f"{r['side']} token endpoint" if k == "side" else fmt(r.get(k)) for k, _ in TOKEN_COLS]
        for r in tokens
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TOKEN_COLS))]
    lines = ["token endpoint alone (POST /token, authorization_code + client_secret_basic + PKCE):"]
    lines += [
        "  ".join(
            cell.rjust(w) if i else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=False))
        )
        for row in rows
    ]
    lines.insert(2, "  ".join("-" * w for w in widths))
    if trat:
        lines.append("")
        lines.append(
            f"ratio ours/peer, token endpoint @ c={trat['concurrency']}: req/s x{fmt(trat['rps_ratio'])}"
            f"   p50 x{fmt(trat['p50_ratio'])}   p99 x{fmt(trat['p99_ratio'])}"
        )
    return "\n".join(lines)


def text_table(results: list[dict], rat: list[dict]) -> str:
    rows = [[h for _, h in COLS]] + [[fmt(r.get(k)) for k, _ in COLS] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLS))]
    lines = [
        "  ".join(
            cell.rjust(w) if i else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=False))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if rat:
        lines.append("")
        for x in rat:
            lines.append(
                f"ratio ours/peer @ c={x['concurrency']}: flows/s x{fmt(x['flows_ratio'])}"
                f"   p50 x{fmt(x['p50_ratio'])}   p99 x{fmt(x['p99_ratio'])}"
            )
    elif any(r["side"] == "peer" for r in results) != any(r["side"] == "ours" for r in results):
        lines.append("")
        lines.append("ratio ours/peer: n/a (only one side was run)")
    return "\n".join(lines)


def markdown(
    results: list[dict],
    rat: list[dict],
    m: dict,
    args,
    tokens: list[dict] | None = None,
    trat: dict | None = None,
) -> str:
    tokens = tokens or []
    out = ["# OIDC flow benchmark: latest results", ""]
    out.append(f"- Date: {m['date']}")
    out.append(f"- Machine: {m['cpu_model']}, {m['cpus_online']} CPUs online, Linux {m['kernel']}")
    out.append(
        f"- Cores used: server pinned to CPU {m['server_cpu']} (`taskset -c {m['server_cpu']}`), "
        f"driver pinned to CPU {m['driver_cpu']} (`sched_setaffinity`)"
    )
    out.append(f"- Driver: Python {m['python']}, uvloop {m['uvloop']}, client `{args.client}`")
    out.append(
        f"- Peer: node {m['node']}, oidc-provider {m['oidc_provider']} (dev interactions, memory adapter)"
    )
    out.append(
        f"- Each row: {args.duration:g} s measured after {args.warmup:g} s warm-up "
        f"(+{args.server_warmup:g} s on the first row of each server); request timeout {args.timeout:g} s"
    )
    out.append(
        f"- Authorize requests carry `prompt={args.prompt}`"
        if args.prompt
        else "- Authorize requests carry no `prompt`"
    )
    if args.flow == "par-dpop":
        out.append(
            "- Flow `par-dpop` on both sides: each authorization request pushed first (RFC 9126), "
            "the token and userinfo requests with DPoP proofs (RFC 9449, ES256, one key per "
            "virtual user); each side's client must push and gets DPoP-bound tokens"
        )
    if "ours" in {r["side"] for r in results}:
        out.append(
            "- Ours: demo identity provider, argon2id password hashes seeded with "
            + (
                f"`--password-profile {args.password_profile}`"
                if args.password_profile
                else "the default (standard) cost"
            )
        )
    out.append(f"- Command: `python benchmarks/run_flows.py {' '.join(sys.argv[1:])}`".rstrip())
    out.append("")
    out.append("| " + " | ".join(h for _, h in COLS) + " |")
    out.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(COLS))) + "|")
    for r in results:
        out.append("| " + " | ".join(fmt(r.get(k)) for k, _ in COLS) + " |")
    out.append("")
    if rat:
        out.append("## Ratio ours/peer")
        out.append("")
        out.append("| concurrency | flows/s ours/peer | p50 ours/peer | p99 ours/peer |")
        out.append("|---:|---:|---:|---:|")
        for x in rat:
            out.append(
                f"| {x['concurrency']} | {fmt(x['flows_ratio'])} | {fmt(x['p50_ratio'])} | {fmt(x['p99_ratio'])} |"
            )
        out.append("")
    else:
        out.append("Ratio ours/peer: n/a (only one side was run).")
        out.append("")
    if tokens:
        out.append("## Token endpoint alone")
        out.append("")
        out.append(
            f"`POST /token` only (authorization_code, `client_secret_basic`, PKCE `code_verifier`), after the flow "
            f"rows, on the same server. Phase 1 (not measured) mints up to {args.token_codes} codes through the "
            f"front channel at c={args.token_concurrency}, for at most {args.mint_limit:g} s; phase 2 redeems them "
            f"all, oldest first, at c={args.token_concurrency}, for at most {args.redeem_limit:g} s. req/s = "
            "codes redeemed with 200 and an `access_token` / phase 2 wall time; p50/p99 over those requests; "
            "errors = any other answer."
            + (
                f" The peer runs with a memory-adapter LRU of {peer_lru_size(args)} entries (library default: "
                "1,000), so that no code is evicted before it is redeemed."
                if any(r["side"] == "peer" for r in tokens)
                else ""
            )
        )
        out.append("")
        out.append("| " + " | ".join(h for _, h in TOKEN_COLS) + " |")
        out.append(
            "|" + "|".join("---" if i == 0 else "---:" for i in range(len(TOKEN_COLS))) + "|"
        )
        for r in tokens:
            out.append("| " + " | ".join(fmt(r.get(k)) for k, _ in TOKEN_COLS) + " |")
        out.append("")
        if trat:
            out.append("| concurrency | req/s ours/peer | p50 ours/peer | p99 ours/peer |")
            out.append("|---:|---:|---:|---:|")
            out.append(
                f"| {trat['concurrency']} | {fmt(trat['rps_ratio'])} | {fmt(trat['p50_ratio'])} "
                f"| {fmt(trat['p99_ratio'])} |"
            )
        else:
            out.append("Ratio ours/peer: n/a (the token endpoint was measured on one side only).")
        out.append("")
    errs = [
        (r["side"], r["concurrency"], k, n, r["error_samples"].get(k, ""))
        for r in results
        for k, n in r["errors_by_kind"].items()
    ]
    errs += [
        (f"{r['side']} token endpoint", r["concurrency"], k, n, r["error_samples"].get(k, ""))
        for r in tokens
        for k, n in r["errors_by_kind"].items()
    ]
    errs += [
        (
            f"{r['side']} token endpoint, phase 1 (minting)",
            r["concurrency"],
            k,
            n,
            r["mint_error_samples"].get(k, ""),
        )
        for r in tokens
        for k, n in r["mint_errors_by_kind"].items()
    ]
    if errs:
        out.append("## Errors")
        out.append("")
        for side, c, k, n, sample in errs:
            out.append(f"- {side} c={c}: `{k}` x{n}: {sample[:200]}")
        out.append("")
    out.append("## Per-request latency (p50 / p99 ms, requests per flow)")
    out.append("")
    for r in results:
        if not r.get("steps"):
            continue
        out.append(
            f"- {r['side']} c={r['concurrency']}: "
            + "; ".join(
                f"`{k}` x{v['n_per_flow']} {fmt(v['p50_ms'])}/{fmt(v['p99_ms'])}"
                for k, v in r["steps"].items()
            )
        )
    out.append("")
    out.append(
        "Columns: flows/s = complete flows (authorize → login → consent → token → userinfo) finished in the "
        "measured window; p50/p99 = whole-flow latency; token = the token request alone; server/driver cpu = "
        "fraction of one core used during the window (server near 1.0 and driver well below = server-bound, "
        "as intended). See benchmarks/README.md."
    )
    out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="OIDC flow benchmark: ours vs node oidc-provider")
    ap.add_argument(
        "--concurrency",
        "-c",
        default="16",
        help="virtual users; a comma list runs each (default 16)",
    )
    ap.add_argument(
        "--duration", "-d", type=float, default=15.0, help="measured seconds per run (default 15)"
    )
    ap.add_argument(
        "--warmup", type=float, default=3.0, help="unmeasured seconds before each run (default 3)"
    )
    ap.add_argument(
        "--server-warmup",
        type=float,
        default=10.0,
        help="extra warm-up for the first run on a fresh server (JIT, caches; default 10)",
    )
    ap.add_argument("--timeout", type=float, default=10.0, help="per-request timeout (default 10)")
    ap.add_argument(
        "--flow",
        choices=tuple(BROKER_CLIENT_FLAGS),
        default="code",
        help="code (default), or par-dpop: requests pushed (RFC 9126) and DPoP-bound tokens "
        "(RFC 9449), each side's client registered for it (not the ceiling)",
    )
    ap.add_argument(
        "--only",
        choices=("peer", "ours", "ceiling"),
        help="run one side only (ceiling: only the driver's ceiling, implies --ceiling)",
    )
    ap.add_argument(
        "--ceiling",
        action="store_true",
        help="also measure the driver's ceiling on a trivial server",
    )
    ap.add_argument(
        "--client", choices=("raw", "aiohttp"), default="raw", help="driver HTTP client"
    )
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--driver-cpu", type=int, default=1)
    ap.add_argument(
        "--prompt",
        default="consent",
        help="OIDC prompt sent on every authorize (default consent: both sides show the consent "
        "page on every flow; '' omits it)",
    )
    ap.add_argument(
        "--password-profile",
        choices=("standard", "benchmark"),
        help="passed to `broker demo seed --password-profile` (default: not passed, i.e. the "
        "broker's standard argon2id cost)",
    )
    ap.add_argument("--broker", help="path of the broker console script (default .venv/bin/broker)")
    ap.add_argument(
        "--broker-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for the broker commands (repeatable)",
    )
    ap.add_argument("--no-token", action="store_true", help="skip the token-endpoint benchmark")
    ap.add_argument(
        "--token-codes",
        type=int,
        default=5000,
        help="token endpoint: codes minted (unmeasured), then redeemed (measured) (default 5000)",
    )
    ap.add_argument(
        "--token-concurrency",
        type=int,
        help="token endpoint: virtual users for both phases (default: the first --concurrency)",
    )
    ap.add_argument(
        "--mint-limit",
        type=float,
        default=40.0,
        help="token endpoint: stop minting codes after this many seconds (default 40)",
    )
    ap.add_argument(
        "--redeem-limit",
        type=float,
        default=15.0,
        help="token endpoint: stop redeeming after this many seconds (codes live 60 s; default 15)",
    )
    ap.add_argument(
        "--out",
        default=str(RESULTS / "latest.md"),
        help="Markdown report path; the JSON goes next to it (default results/latest.md)",
    )
    ap.add_argument(
        "--keep-tmp", action="store_true", help="keep the temporary dir (logs, DB, JSON)"
    )
    args = ap.parse_args(argv)
    try:
        args.concurrency = [int(x) for x in str(args.concurrency).split(",") if x.strip()]
    except ValueError:
        ap.error("--concurrency: integers, comma separated")
    if not args.concurrency or min(args.concurrency) < 1:
        ap.error("--concurrency must be >= 1")
    if args.token_concurrency is None:
        args.token_concurrency = args.concurrency[0]
    if (
        args.token_concurrency < 1
        or args.token_codes < 1
        or args.mint_limit <= 0
        or args.redeem_limit <= 0
    ):
        ap.error("bad --token-concurrency/--token-codes/--mint-limit/--redeem-limit")
    if args.mint_limit + args.redeem_limit > 58:
        log(
            "WARNING: --mint-limit + --redeem-limit > 58 s: the oldest codes may expire (60 s) before redemption"
        )

    ncpu = len(os.sched_getaffinity(0))
    if ncpu < 2 or shutil.which("taskset") is None:
        log("WARNING: fewer than 2 CPUs or no taskset: server and driver are not pinned apart")
        args.server_cpu = args.driver_cpu = None
    else:
        # the orchestrator itself stays off the server's core too
        os.sched_setaffinity(0, {args.driver_cpu})

    if args.only == "ceiling":
        args.ceiling = True
        sides = []
    else:
        sides = [args.only] if args.only else ["peer", "ours"]
    tmp = Path(tempfile.mkdtemp(prefix="bench-flows-"))
    log(f"work dir {tmp}")
    results: list[dict] = []
    failures: list[str] = []
    try:
        if args.ceiling:
            results += side_ceiling(args, tmp)
        for side in sides:
            try:
                results += (side_peer if side == "peer" else side_ours)(args, tmp)
            except (RuntimeError, subprocess.SubprocessError, ValueError, KeyError, OSError) as exc:
                failures.append(f"{side}: {exc}")
                log(f"side {side} failed: {exc}")
    finally:
        if args.keep_tmp:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    tokens = [r for r in results if r.get("mode") == "token"]
    results = [r for r in results if r.get("mode") != "token"]
    failures += [f"{r['side']}: {r['failed']}" for r in tokens if "failed" in r]
    tokens = [r for r in tokens if "failed" not in r]
    rat = ratios(results)
    trat = token_ratio(tokens)
    print()
    print(text_table(results, rat))
    if tokens:
        print()
        print(token_text_table(tokens, trat))
    for f in failures:
        print(f"FAILED {f}")
    if results or tokens:
        m = machine(args)
        md = markdown(results, rat, m, args, tokens, trat)
        if failures:
            md += "\n## Failed sides\n\n" + "\n".join(f"- {f}" for f in failures) + "\n"
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(md)
        out.with_suffix(".json").write_text(
            json.dumps(
                {
                    "machine": m,
                    "results": results,
                    "ratios": rat,
                    "token_results": tokens,
                    "token_ratio": trat,
                },
                indent=2,
            )
        )
        log(f"wrote {out} and {out.with_suffix('.json')}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
