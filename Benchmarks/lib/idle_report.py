#!/usr/bin/env python3
"""Markdown tables from idle-connections.sh's per-server JSON files (lib/idle_client.py output)."""
import json
import sys

RSS_TARGET_MB = 150.0   # decimal megabytes
P99_TARGET_MS = 10.0


def mb(kb) -> str:
    return "–" if kb is None else f"{kb * 1024 / 1e6:.1f} MB"


def lat(p) -> str:
    if not p or not p.get("count"):
        return "–"
    s = f"{p['p50_ms']:.2f} / {p['p99_ms']:.2f} / {p['max_ms']:.2f}"
    return s + (f" ({p['errors']} errors)" if p.get("errors") else "")


BUSY_LIMIT = 70.0  # % of the machine: client + server alone are about 50 %


def busy(p) -> str:
    return "–" if p is None else f"{p:.0f} %" + (" ⚠" if p > BUSY_LIMIT else "")


def get(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def main(paths) -> None:
    runs = [json.load(open(p)) for p in paths]
    print("| server | held | RSS before | RSS with idle conns | per conn | server fds | fresh conn p50 / p99 / max (ms) | machine busy during it | before: p50 / p99 / max (ms) | connect+req+close p50 / p99 (ms) | 2nd request on held |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for d in runs:
        base = get(d, "baseline", "memory", "rss_kb")
        idle = get(d, "idle", "memory", "rss_kb")
        held = get(d, "open", "open")
        per = f"{(idle - base) * 1024 / held / 1000:.1f} kB" if base is not None and idle is not None and held else "–"
        fc = get(d, "idle", "fresh_connects")
        fcs = f"{fc['p50_ms']:.2f} / {fc['p99_ms']:.2f}" if fc and fc.get("count") else "–"
        rc = d.get("recheck")
        rcs = f"{rc['ok']} ok, {rc['failed']} failed" if rc else "–"
        opened = "–" if held is None else f"{held:,} / {get(d, 'open', 'wanted'):,}"
        errs = get(d, "open", "errors")
        if errs:
            opened += " (" + ", ".join(f"{k}: {v}" for k, v in errs.items()) + ")"
        print(f"| {d['label']} | {opened} | {mb(base)} | {mb(idle)} | {per} | {get(d, 'idle', 'memory', 'fds') or '–'} "
              f"| {lat(get(d, 'idle', 'probe'))} | {busy(get(d, 'idle', 'probe', 'machine_busy_pct'))} | {lat(get(d, 'baseline', 'probe'))} | {fcs} | {rcs} |")
    print()
    print("MB = 10^6 bytes. `per conn` = (RSS with idle connections − RSS before) / connections held. "
          "`server fds` = open file descriptors of the server process(es) while the connections are held. "
          "`machine busy` = share of the whole machine's CPU (both cores) busy during the fresh-connection probe "
          "(/proc/stat); client and server together account for about 50 %, more means something else ran.")
    if any((get(d, "idle", "probe", "machine_busy_pct") or 0) > BUSY_LIMIT for d in runs):
        print()
        print(f"⚠ = machine more than {BUSY_LIMIT:.0f} % busy during the probe: another process competed for the cores, "
              "so that row's latencies are not reliable.")
    for d in runs:
        if not d.get("complete"):
            print()
            print(f"**{d['label']}: run incomplete** — {d.get('error', 'unknown error')}"
                  + ("" if d.get("server_alive_after", True) else "; the server process had exited"))
        elif not d.get("server_alive_after", True):
            print()
            print(f"**{d['label']}: the server process had exited by the end of the run.**")

    gw = [d for d in runs if d.get("server") == "gateway"]
    if not gw:
        return
    d = gw[0]
    idle = get(d, "idle", "memory", "rss_kb")
    p99 = get(d, "idle", "probe", "p99_ms")
    held = get(d, "open", "open") or 0
    wanted = get(d, "open", "wanted") or 0
    print()
    print("Targets for krea-gateway:")
    print()
    print("| target | measured | met |")
    print("|---|---:|:---:|")
    print(f"| holds {wanted:,} idle keep-alive connections | {held:,} | {'yes' if held == wanted and wanted else '**no**'} |")
    rss_mb = None if idle is None else idle * 1024 / 1e6
    print(f"| RSS < {RSS_TARGET_MB:.0f} MB with them open | {mb(idle)} | "
          f"{'–' if rss_mb is None else ('yes' if rss_mb < RSS_TARGET_MB else '**no**')} |")
    print(f"| fresh connection p99 < {P99_TARGET_MS:.0f} ms ({get(d, 'idle', 'probe', 'count') or 0} sequential requests) | "
          f"{'–' if p99 is None else f'{p99:.2f} ms'} | {'–' if p99 is None else ('yes' if p99 < P99_TARGET_MS else '**no**')} |")


if __name__ == "__main__":
    main(sys.argv[1:])
