#!/usr/bin/env python3
"""Markdown tables from submission.sh's results.jsonl (one line per measurement)."""
import json
import statistics
import sys

ADDED_P50_TARGET_MS = 0.25   # routing: gateway p50 minus direct p50 at c = 1
BUDGET_RATIO_TARGET = 0.90   # budgets: requests/s with budgets and limits / without


def ms(us: float) -> str:
    return f"{us / 1000:.3f} ms"


def rate(w: dict) -> float:
    secs = w["duration_us"] / 1e6
    return w["requests"] / secs if secs else 0.0


def socket_errors(w: dict) -> int:
    return sum(w[k] for k in ("err_connect", "err_read", "err_write", "err_timeout"))


def cpu(r: dict) -> str:
    secs = r["wrk"]["duration_us"] / 1e6
    return f"{r['cpu_ticks'] / r['clk_tck'] / secs * 100:.0f} %" if secs else "–"


def wrk_cpu(r: dict) -> str:
    secs = r["wrk"]["duration_us"] / 1e6
    return f"{r['wrk_cpu_s'] / secs * 100:.0f} %" if secs else "–"


def rest_cpu(r: dict) -> str:
    """Machine-wide busy CPU minus the gateway process and wrk: other processes, interrupts."""
    secs = r["wrk"]["duration_us"] / 1e6
    if not secs:
        return "–"
    rest = (r["busy_ticks"] - r["cpu_ticks"]) / r["clk_tck"] - r["wrk_cpu_s"]
    return f"{max(rest, 0) / secs * 100:.0f} %"


def rss(r: dict) -> str:
    return f"{r['rss_kb'] / 1024:.0f} MiB"


def main(path: str) -> None:
    rows = [json.loads(line) for line in open(path) if line.strip()]
    routing = [r for r in rows if r["group"] == "routing"]
    budgets = [r for r in rows if r["group"] == "budgets"]

    if routing:
        print("#### 1. Routing: `POST /v1/generations` through the gateway vs. straight to the simulator")
        print()
        print("| c | path | requests/s | p50 | p90 | p99 | max | non-2xx | socket errors | gateway CPU | wrk CPU | rest CPU | RSS after |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        by = {}
        for r in routing:
            w = r["wrk"]
            by[(r["c"], r["target"])] = w
            label = "gateway → simulator" if r["target"] == "gateway" else "straight to simulator"
            print(f"| {r['c']} | {label} | {rate(w):,.0f} | {ms(w['p50_us'])} | {ms(w['p90_us'])} | {ms(w['p99_us'])} "
                  f"| {ms(w['max_us'])} | {w['err_status']} | {socket_errors(w)} | {cpu(r)} | {wrk_cpu(r)} | {rest_cpu(r)} | {rss(r)} |")
        print()
        print("`non-2xx` is wrk's count of answers with status ≥ 400; `socket errors` adds its connect/read/write/timeout "
              "errors. `gateway CPU` is the gateway process's user+system CPU time over the run divided by wall time "
              "(100 % = one core; it includes the in-process simulator), `wrk CPU` the same for wrk, `rest CPU` the machine's "
              "other busy time (/proc/stat: other processes, interrupts not charged to a process); a large `rest CPU` means "
              "something else ran on the machine during that row. `RSS after` is the gateway's VmRSS at the end of the run. "
              "wrk's latency percentiles have 1 µs resolution.")
        print()
        print(f"Gateway's added latency (gateway minus direct, same c). Target: added p50 < {ADDED_P50_TARGET_MS} ms at c = 1.")
        print()
        print("| c | added p50 | added p99 | requests/s gateway / direct | added p50 < 0.25 ms |")
        print("|---:|---:|---:|---:|:---:|")
        for c in sorted({c for c, _ in by}):
            g, d = by.get((c, "gateway")), by.get((c, "direct"))
            if not g or not d:
                continue
            added50 = (g["p50_us"] - d["p50_us"]) / 1000
            added99 = (g["p99_us"] - d["p99_us"]) / 1000
            ratio = rate(g) / rate(d) if rate(d) else 0.0
            verdict = ("yes" if added50 < ADDED_P50_TARGET_MS else "**no**") if c == 1 else "(target is at c = 1)"
            print(f"| {c} | {added50:+.3f} ms | {added99:+.3f} ms | {ratio:.2f} | {verdict} |")
        print()

    if budgets:
        print("#### 2. Budgets: `POST /v1/generations` with budgets, rate limits and the key table vs. one plain key")
        print()
        print("| round | config | c | start-up | requests/s | p50 | p99 | max | non-2xx | socket errors | gateway CPU | wrk CPU | rest CPU | RSS after |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        rates = {"plain": [], "limits": []}
        for r in budgets:
            w = r["wrk"]
            rates[r["config"]].append(rate(w))
            label = "budgets + limits + key table" if r["config"] == "limits" else "no budgets, 1 plain key"
            print(f"| {r['round']} | {label} | {r['c']} | {r['startup_s']:.2f} s | {rate(w):,.0f} | {ms(w['p50_us'])} "
                  f"| {ms(w['p99_us'])} | {ms(w['max_us'])} | {w['err_status']} | {socket_errors(w)} | {cpu(r)} | {wrk_cpu(r)} "
                  f"| {rest_cpu(r)} | {rss(r)} |")
        print()
        print("`start-up` is the time from launching the process to its first `200` on `GET /healthz` (includes loading the "
              "config). Rounds alternate which config runs first.")
        if rates["plain"] and rates["limits"]:
            print()
            print(f"Target: requests/s with budgets and limits ≥ {BUDGET_RATIO_TARGET:.2f} × without (within 10 %), judged on the "
                  "median round of each config (one disturbed round cannot decide it); best round and mean for reference.")
            print()
            print("| statistic over rounds | no budgets | budgets + limits | ratio | ≥ 0.90 |")
            print("|---|---:|---:|---:|:---:|")
            for stat, fn in (("median", statistics.median), ("best", max), ("mean", statistics.mean)):
                plain, limits = fn(rates["plain"]), fn(rates["limits"])
                ratio = limits / plain if plain else 0.0
                verdict = "yes" if ratio >= BUDGET_RATIO_TARGET else "**no**"
                if stat != "median":
                    verdict = f"({verdict})"
                print(f"| {stat} | {plain:,.0f} | {limits:,.0f} | {ratio:.3f} | {verdict} |")


if __name__ == "__main__":
    main(sys.argv[1])
