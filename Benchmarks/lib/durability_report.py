#!/usr/bin/env python3
"""Markdown for durability.sh: one row per measurement, then the median ratio against the target."""
import json
import statistics
import sys

RATIO_TARGET = 0.80   # requests/s with the SQLite store / memory only, c = 64


def rate(w):
    secs = w["duration_us"] / 1e6
    return w["requests"] / secs if secs else 0.0


def main(results_path, sizes_path):
    rows = [json.loads(line) for line in open(results_path) if line.strip()]
    sizes = {}
    try:
        sizes = {s["round"]: s["state_kb"] for s in (json.loads(line) for line in open(sizes_path) if line.strip())}
    except FileNotFoundError:
        pass
    print("| round | store | requests/s | p50 | p99 | max | non-2xx | socket errors | gateway CPU | RSS after | state.dir after |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        w = r["wrk"]
        secs = w["duration_us"] / 1e6
        cpu = f"{r['cpu_ticks'] / r['clk_tck'] / secs * 100:.0f} %" if secs else "–"
        errors = sum(w[k] for k in ("err_connect", "err_read", "err_write", "err_timeout"))
        size = f"{sizes[r['round']] / 1024:.1f} MiB" if r["config"] == "sqlite" and r["round"] in sizes else "–"
        print(f"| {r['round']} | {r['config']} | {rate(w):,.0f} | {w['p50_us'] / 1000:.3f} ms | {w['p99_us'] / 1000:.3f} ms "
              f"| {w['max_us'] / 1000:.1f} ms | {w['err_status']} | {errors} | {cpu} | {r['rss_kb'] / 1024:.0f} MiB | {size} |")
    print()
    medians = {}
    for store in ("memory", "sqlite"):
        rates = [rate(r["wrk"]) for r in rows if r["config"] == store]
        if rates:
            medians[store] = statistics.median(rates)
    if len(medians) == 2 and medians["memory"]:
        ratio = medians["sqlite"] / medians["memory"]
        verdict = "met" if ratio >= RATIO_TARGET else "**missed**"
        print(f"Median requests/s: SQLite {medians['sqlite']:,.0f}, memory {medians['memory']:,.0f}: "
              f"ratio **{ratio:.3f}** (target ≥ {RATIO_TARGET}: {verdict}).")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")
