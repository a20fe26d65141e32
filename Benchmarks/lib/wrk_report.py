#!/usr/bin/env python3
"""Markdown tables from http-server.sh's results.jsonl (one line per server and concurrency)."""
import json
import sys


OTHER_CPU_LIMIT = 20.0  # % of one core used by something else during a row: flag it


def ms(us: float) -> str:
    return f"{us / 1000:.2f} ms"


def main(path: str) -> None:
    rows = [json.loads(line) for line in open(path) if line.strip()]
    print("| c | server | requests/s | p50 | p99 | max | errors | server CPU | wrk CPU | other CPU |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    rps = {}
    disturbed = set()  # concurrency levels where something else used the machine during a row
    for r in rows:
        w = r["wrk"]
        secs = w["duration_us"] / 1e6
        rate = w["requests"] / secs if secs else 0.0
        rps[(r["c"], r["server"])] = rate
        errors = sum(w[k] for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
        def pct(ticks: int) -> str:
            return f"{ticks / r['clk_tck'] / secs * 100:.0f} %" if secs else "–"
        other = r["machine_ticks"] - r["cpu_ticks"] - r["wrk_ticks"]
        flag = ""
        if secs and other / r["clk_tck"] / secs * 100 > OTHER_CPU_LIMIT:
            disturbed.add(r["c"])
            flag = " ⚠"
        print(
            f"| {r['c']} | {r['label']} | {rate:,.0f} | {ms(w['p50_us'])} | {ms(w['p99_us'])} "
            f"| {ms(w['max_us'])} | {errors} | {pct(r['cpu_ticks'])} | {pct(r['wrk_ticks'])} | {pct(max(0, other))}{flag} |"
        )
    print()
    print("`server CPU` is the server's user+system CPU time over the run divided by wall time "
          "(100 % = one core, 200 % = the whole machine), `wrk CPU` the same for wrk, `other CPU` the machine's remaining "
          "busy time (/proc/stat; other processes, interrupts): a large `other CPU` means something else ran during "
          "that row. `errors` adds wrk's connect/read/write/timeout errors and non-2xx answers.")

    if disturbed:
        print()
        print(f"⚠ = `other CPU` above {OTHER_CPU_LIMIT:.0f} %: another process competed for the cores during that row, "
              "so its figures (and the ratios at that c) are not reliable.")
    servers = {r["server"] for r in rows}
    if "gateway" not in servers:
        return
    print()
    print("Targets: krea-gateway ≥ 0.5 × nginx requests/s and > Hummingbird requests/s, in the same run.")
    print()
    print("| c | ours / nginx | ≥ 0.5 × nginx | ours / Hummingbird | faster than Hummingbird | machine undisturbed |")
    print("|---:|---:|:---:|---:|:---:|:---:|")
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
        cells.append("**no** ⚠" if c in disturbed else "yes")
        print(f"| {c} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
