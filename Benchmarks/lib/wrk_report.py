#!/usr/bin/env python3
"""Markdown tables from http-server.sh's results.jsonl (one line per server and concurrency)."""
import json
import sys


def ms(us: float) -> str:
    return f"{us / 1000:.2f} ms"


def main(path: str) -> None:
    rows = [json.loads(line) for line in open(path) if line.strip()]
    print("| c | server | requests/s | p50 | p99 | max | errors | server CPU |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    rps = {}
    for r in rows:
        w = r["wrk"]
        secs = w["duration_us"] / 1e6
        rate = w["requests"] / secs if secs else 0.0
        rps[(r["c"], r["server"])] = rate
        errors = sum(w[k] for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
        cpu = r["cpu_ticks"] / r["clk_tck"] / secs * 100 if secs else 0.0
        print(
            f"| {r['c']} | {r['label']} | {rate:,.0f} | {ms(w['p50_us'])} | {ms(w['p99_us'])} "
            f"| {ms(w['max_us'])} | {errors} | {cpu:.0f} % |"
        )
    print()
    print("`server CPU` is the server's user+system CPU time over the run divided by wall time "
          "(100 % = one core). `errors` adds wrk's connect/read/write/timeout errors and non-2xx answers.")

    servers = {r["server"] for r in rows}
    if "gateway" not in servers:
        return
    print()
    print("Targets: krea-gateway ≥ 0.5 × nginx requests/s and > Hummingbird requests/s, in the same run.")
    print()
    print("| c | ours / nginx | ≥ 0.5 × nginx | ours / Hummingbird | faster than Hummingbird |")
    print("|---:|---:|:---:|---:|:---:|")
    for c in sorted({r["c"] for r in rows}):
        ours = rps.get((c, "gateway"))
        cells = []
        for ref, need in (("nginx", 0.5), ("hummingbird", 1.0)):
            other = rps.get((c, ref))
            if ours is None or not other:
                cells += ["–", "–"]
                continue
            ratio = ours / other
            ok = ratio >= need if need == 0.5 else ratio > need
            cells += [f"{ratio:.2f}", "yes" if ok else "**no**"]
        print(f"| {c} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
