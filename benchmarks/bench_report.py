"""The report of benchmarks/bench.py: medians over the rounds, the ratios the targets are
stated in, as text, as Markdown, and into README.md between the bench markers."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"
TARGET = "peer-redis"
REFERENCE = "peer-memory"
PAR_DPOP = "par-dpop"


def row_name(side: str, flow: str) -> str:
    """A row's name: the side for the code flow, `<side> par-dpop` for PAR + DPoP."""
    return side if flow == "code" else f"{side} {flow}"


def median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


def spread(values: list[float | None]) -> tuple[float, float] | None:
    present = [v for v in values if v is not None]
    return (min(present), max(present)) if present else None


def measure(results: list[dict], rate_key: str) -> dict:
    return {
        "rounds": len(results),
        "cpu_ms": median([r.get("cpu_ms_per_unit") for r in results]),
        "cpu_ms_range": spread([r.get("cpu_ms_per_unit") for r in results]),
        "rate": median([r.get(rate_key) for r in results]),
        "rate_range": spread([r.get(rate_key) for r in results]),
        "p50_ms": median([r.get("p50_ms") for r in results]),
        "p99_ms": median([r.get("p99_ms") for r in results]),
        "errors": sum(r.get("errors", 0) for r in results),
        "server_cpu": median([r.get("server_cpu") for r in results]),
        "store_cpu": median([r.get("store_cpu") for r in results]),
        "driver_cpu": median([r.get("driver_cpu") for r in results]),
        "driver_cpu_ms": median([r.get("driver_cpu_ms_per_unit") for r in results]),
        "dpop_nonce_retries": sum(r.get("dpop_nonce_retries") or 0 for r in results),
    }


def ratio(mine: float | None, theirs: float | None) -> float | None:
    return round(mine / theirs, 2) if mine and theirs else None


def summarise(runs: list[dict]) -> dict:
    rows: dict[str, dict] = {}
    for name in dict.fromkeys(run["row"] for run in runs):
        mine = [run for run in runs if run["row"] == name]
        rows[name] = {
            "side": mine[0]["side"],
            "flow": mine[0].get("flow", "code"),
            "workers": mine[0]["workers"],
            "flows": measure([run["flows"] for run in mine], "flows_per_s"),
            "token": measure([run["token"] for run in mine if "token" in run], "requests_per_s")
            if any("token" in run for run in mine)
            else None,
        }
    for row in rows.values():
        for kind in ("flows", "token"):
            figures = row[kind]
            if not figures:
                continue
            for peer in (TARGET, REFERENCE):
                # A row is compared with the peer running the same flow.
                other = rows.get(row_name(peer, row["flow"]), {}).get(kind)
                if not other:
                    continue
                # Per core: the peer's CPU per flow over ours (above 1: ours needs less).
                figures[f"vs_{peer}_cpu"] = ratio(other["cpu_ms"], figures["cpu_ms"])
                figures[f"vs_{peer}_rate"] = ratio(figures["rate"], other["rate"])
        code_row = rows.get(row["side"]) if row["flow"] != "code" and row["workers"] == 1 else None
        if code_row and row["flows"]["cpu_ms"] and code_row["flows"]["cpu_ms"]:
            # What the flow variant costs the same side per flow, over its code flow.
            row["flows"]["added_cpu_ms"] = round(
                row["flows"]["cpu_ms"] - code_row["flows"]["cpu_ms"], 3
            )
    on_both_cores = {row["workers"]: row for name, row in rows.items() if "cores" in name}
    one, two = on_both_cores.get(1), on_both_cores.get(2)
    scaling = None
    if one and two:
        scaling = {
            "rate": ratio(two["flows"]["rate"], one["flows"]["rate"]),
            "cpu_ms": ratio(one["flows"]["cpu_ms"], two["flows"]["cpu_ms"]),
        }
    return {"rows": rows, "scaling": scaling}


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, tuple):
        return f"{fmt(value[0], digits)}–{fmt(value[1], digits)}"
    return f"{value:.{digits}f}"


def table_lines(summary: dict) -> list[str]:
    rows = summary["rows"]
    lines = [
        "| row | CPU-ms per flow (range) | flows/s (range) | p50 / p99 ms | errors "
        "| ours/peer-Redis per core | ours/peer-memory per core |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in rows.items():
        if row["workers"] != 1 or "cores" in name:
            continue
        f = row["flows"]
        lines.append(
            f"| {name} | {fmt(f['cpu_ms'], 2)} ({fmt(f['cpu_ms_range'], 2)}) "
            f"| {fmt(f['rate'])} ({fmt(f['rate_range'])}) | {fmt(f['p50_ms'])} / {fmt(f['p99_ms'])} "
            f"| {f['errors']} | {fmt(f.get(f'vs_{TARGET}_cpu'), 2)} "
            f"| {fmt(f.get(f'vs_{REFERENCE}_cpu'), 2)} |"
        )
    lines += par_dpop_notes(rows)
    tokens = [(name, row) for name, row in rows.items() if row["token"]]
    if tokens:
        lines += [
            "",
            "| token endpoint alone | CPU-ms per request | req/s (range) | p50 / p99 ms | errors "
            "| ours/peer-Redis per core | ours/peer-Redis req/s |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, row in tokens:
            t = row["token"]
            lines.append(
                f"| {name} | {fmt(t['cpu_ms'], 2)} | {fmt(t['rate'], 0)} ({fmt(t['rate_range'], 0)}) "
                f"| {fmt(t['p50_ms'])} / {fmt(t['p99_ms'])} | {t['errors']} "
                f"| {fmt(t.get(f'vs_{TARGET}_cpu'), 2)} | {fmt(t.get(f'vs_{TARGET}_rate'), 2)} |"
            )
    cores = [(name, row) for name, row in rows.items() if "cores" in name]
    if cores:
        lines += [
            "",
            "| both cores (server, stores and driver share them) | flows/s (range) "
            "| CPU-ms per flow | server / stores / driver CPU |",
            "|---|---:|---:|---:|",
        ]
        for name, row in cores:
            f = row["flows"]
            lines.append(
                f"| {name} | {fmt(f['rate'])} ({fmt(f['rate_range'])}) | {fmt(f['cpu_ms'], 2)} "
                f"| {fmt(f['server_cpu'], 2)} / {fmt(f['store_cpu'], 2)} / {fmt(f['driver_cpu'], 2)} |"
            )
        if summary["scaling"]:
            s = summary["scaling"]
            lines.append(
                f"\n2 workers / 1 worker: flows/s ×{fmt(s['rate'], 2)}; CPU per flow "
                f"1 worker / 2 workers ×{fmt(s['cpu_ms'], 2)}"
            )
    return lines


def par_dpop_notes(rows: dict) -> list[str]:
    """What the par-dpop rows are, what they add per flow, and whether nonces were asked for."""
    variants = {name: row for name, row in rows.items() if row["flow"] == PAR_DPOP}
    if not variants:
        return []
    added = [
        f"{row['side']} {fmt(row['flows']['added_cpu_ms'], 2)}"
        for row in variants.values()
        if row["flows"].get("added_cpu_ms") is not None
    ]
    retries = sum(row["flows"]["dpop_nonce_retries"] for row in variants.values())
    lines = [
        "",
        f"Rows `{PAR_DPOP}`: the flow of a FAPI 2.0 client on both sides, the same client "
        "authentication (`client_secret_basic`): the authorization request pushed first (RFC "
        "9126, 201 and a `request_uri`; the browser goes to the authorization endpoint with "
        "`client_id` and `request_uri` only), the token and userinfo requests with DPoP proofs "
        "(RFC 9449, ES256, one key per virtual user, a fresh proof per request, `ath` at "
        "userinfo); each side's client is registered to require both, DPoP-bound tokens, no "
        "server nonce. Their ratios are to the peer's par-dpop rows.",
    ]
    if added:
        lines.append(
            f"PAR + DPoP add, in CPU-ms per flow over the same side's code flow: {', '.join(added)}."
        )
    if retries:
        lines.append(f"DPoP requests retried with a server nonce: {retries}.")
    return lines


def text_table(summary: dict) -> str:
    return "\n".join(table_lines(summary))


def header(info: dict, args) -> list[str]:
    return [
        f"Measured {info['date']} on {info['cpu_model']}, {info['cpus_online']} CPUs, "
        f"Linux {info['kernel']}; Python {info['python']}, node {info['node']}, "
        f"oidc-provider {info['oidc_provider']}. Median of {args.rounds} interleaved rounds, "
        f"{args.duration:g} s measured per row at {args.concurrency} virtual users "
        f"(`prompt={args.prompt}`). Our flows sign in through the demo identity provider, a "
        "separate OpenID Connect provider process (choice page, its login with the "
        f"`{args.password_profile}` argon2id cost, then the broker's callback exchanging the code "
        "and reading userinfo over HTTP): it runs on CPU 1 with the driver, and its CPU is not "
        "counted; the peer signs in locally and checks no password. Each side and its stores "
        "pinned to CPU 0, the driver to CPU 1; CPU-ms per flow counts the server and its stores "
        "(Redis, PostgreSQL). "
        f"Command: `python benchmarks/bench.py {' '.join(sys.argv[1:])}`.".replace("  ", " "),
        "",
    ]


def markdown(summary: dict, info: dict, args, failures: list[str]) -> str:
    lines = ["# Benchmark: ours against node oidc-provider", "", *header(info, args)]
    lines += table_lines(summary)
    if failures:
        lines += ["", "## Failed rows", "", *(f"- {f}" for f in failures)]
    return "\n".join(lines) + "\n"


def write_readme(readme: Path, summary: dict, info: dict, args) -> None:
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        raise SystemExit(f"{readme} has no {README_START} … {README_END} markers")
    before, rest = text.split(README_START, 1)
    _, after = rest.split(README_END, 1)
    block = "\n".join(
        [README_START, "", *header(info, args), *table_lines(summary), "", README_END]
    )
    readme.write_text(before + block + after)
