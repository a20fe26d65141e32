"""Markdown tables for Benchmarks/tls.sh from its results.jsonl: keep-alive and handshake rates of
the gateway's TLS listener next to nginx's (median of the rounds), and what gzip costs on a large
JSON answer. Usage: python3 tls_report.py RESULTS.jsonl"""
import json
import statistics
import sys


def rate(row):
    return row["wrk"]["requests"] / (row["wrk"]["duration_us"] / 1e6)


def cpu_per_request_us(row):
    return row["cpu_ticks"] / row["clk_tck"] * 1e6 / max(row["wrk"]["requests"], 1)


def errors(row):
    w = row["wrk"]
    return w["err_connect"] + w["err_read"] + w["err_write"] + w["err_status"] + w["err_timeout"]


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    print("| measure | krea-gateway | nginx (1 worker) | gateway / nginx | target |")
    print("|---|---:|---:|---:|---|")
    for kind, target in (("keep-alive", "≥ 0.5 ×"), ("handshakes", "≥ 0.5 ×")):
        by_server = {}
        for server in ("gateway", "nginx"):
            picked = [r for r in rows if r["label"].startswith(kind) and r["server"] == server]
            by_server[server] = picked
        gateway = statistics.median(rate(r) for r in by_server["gateway"])
        nginx = statistics.median(rate(r) for r in by_server["nginx"])
        ratio = gateway / nginx
        c = by_server["gateway"][0]["c"]
        what = "requests/s, keep-alive, c = %d" % c if kind == "keep-alive" else "handshakes/s (new connection per request), c = %d" % c
        print("| %s, median of %d rounds | %s | %s | **%.2f ×** | %s: %s |" % (
            what, len(by_server["gateway"]), f"{gateway:,.0f}", f"{nginx:,.0f}", ratio, target, "yes" if ratio >= 0.5 else "**no**"))
        g_cpu = statistics.median(cpu_per_request_us(r) for r in by_server["gateway"])
        n_cpu = statistics.median(cpu_per_request_us(r) for r in by_server["nginx"])
        g_p50 = statistics.median(r["wrk"]["p50_us"] for r in by_server["gateway"]) / 1000
        n_p50 = statistics.median(r["wrk"]["p50_us"] for r in by_server["nginx"]) / 1000
        print("| %s: server CPU per request, p50 | %.0f µs, %.3f ms | %.0f µs, %.3f ms | %.2f × CPU | — |" % (
            kind, g_cpu, g_p50, n_cpu, n_p50, g_cpu / n_cpu))
        errs = sum(errors(r) for r in by_server["gateway"] + by_server["nginx"])
        if errs:
            print("| %s: wrk errors (all rows) | %d | | | |" % (kind, errs))
    print()
    def row(label, server):
        return next((r for r in rows if r["label"] == label and r["server"] == server), None)
    print("| `/openapi.json`, c = 1 | requests/s | mean latency | server CPU per request | bytes on the wire per answer |")
    print("|---|---:|---:|---:|---:|")
    for server, transport, prefix in (("gateway", "plain HTTP", "openapi"), ("gateway", "TLS", "openapi-tls"), ("nginx", "TLS", "openapi-tls")):
        for suffix, name in (("identity", "as it is"), ("gzip", "gzip")):
            r = row(prefix + "-" + suffix, server)
            if r is None:
                continue
            print("| %s (%s), %s | %s | %.3f ms | %.0f µs | %s |" % (
                "krea-gateway" if server == "gateway" else "nginx", transport, name, f"{rate(r):,.0f}", r["wrk"]["mean_us"] / 1000,
                cpu_per_request_us(r), f"{r['wrk']['bytes'] / max(r['wrk']['requests'], 1):,.0f}"))
    print()
    def cost(prefix, server):
        identity, gzipped = row(prefix + "-identity", server), row(prefix + "-gzip", server)
        return gzipped["wrk"]["mean_us"] / identity["wrk"]["mean_us"], gzipped["wrk"]["mean_us"] - identity["wrk"]["mean_us"]
    plain, _ = cost("openapi", "gateway")
    tls, added = cost("openapi-tls", "gateway")
    print("The gateway's gzip answer takes %.2f × the time of its uncompressed one over plain HTTP and %.2f × over TLS "
          "(target: < 2 ×: %s)." % (plain, tls, "yes" if max(plain, tls) < 2 else "**no**"))
    if row("openapi-tls-gzip", "nginx"):
        peer, peer_added = cost("openapi-tls", "nginx")
        print("nginx's takes %.2f × over TLS; the time gzip adds is %.2f × nginx's on the same body at the same level." % (peer, added / peer_added))

if __name__ == "__main__":
    main(sys.argv[1])
