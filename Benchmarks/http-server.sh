#!/usr/bin/env bash
# HTTP server throughput/latency: wrk against GET /healthz ({"status":"ok"}, application/json),
# keep-alive, on krea-gateway, nginx (1 worker) and a Hummingbird 2 hello server, side by side in
# one run. Prints a Markdown report on stdout (progress on stderr); raw wrk output goes to
# Benchmarks/results/http-server-<timestamp>/.
#
#   Benchmarks/http-server.sh
#
# Knobs (environment): BENCH_SERVERS (default "gateway nginx hummingbird"), BENCH_CONCURRENCY
# (default "16 64 256"), BENCH_DURATION (default 10s), BENCH_WARMUP (default 2s), plus the build
# knobs in lib/common.sh (GATEWAY_BIN, GATEWAY_SCRATCH, HUMMINGBIRD_BIN, BENCH_SKIP_BUILD).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

CONCURRENCY="${BENCH_CONCURRENCY:-16 64 256}"
DURATION="${BENCH_DURATION:-10s}"
WARMUP="${BENCH_WARMUP:-2s}"
THREADS=2
WRK_TIMEOUT=5s

command -v wrk >/dev/null || die "wrk not installed (apt-get install wrk)"
command -v nginx >/dev/null || case " $BENCH_SERVERS " in *" nginx "*) die "nginx not installed (apt-get install nginx-light)";; esac

raise_nofile 20000
build_servers
new_run_dir http-server
start_all

# CPU ticks (utime+stime) of a server: its process and direct children (nginx's worker).
cpu_ticks() {
    local pid="$1" total=0 p
    for p in "$pid" $(pgrep -P "$pid" 2>/dev/null || true); do
        if [ -r "/proc/$p/stat" ]; then
            total=$((total + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
        fi
    done
    echo "$total"
}

# Busy CPU ticks of the whole machine (all cores), from /proc/stat.
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
# CPU ticks of this shell's finished children (wrk, once waited for), from /proc/$$/stat.
children_ticks() { sed 's/^.*) //' "/proc/$$/stat" | awk '{print $14 + $15}'; }

RESULTS="$RUN_DIR/results.jsonl"
: >"$RESULTS"
for c in $CONCURRENCY; do
    for s in $BENCH_SERVERS; do
        url="http://127.0.0.1:${PORTS[$s]}/healthz"
        log "$s c=$c: warm-up $WARMUP"
        wrk -t"$THREADS" -c"$c" -d"$WARMUP" --timeout "$WRK_TIMEOUT" "$url" >"$RUN_DIR/warmup-$s-c$c.txt" 2>&1 \
            || die "wrk warm-up failed for $s"
        log "$s c=$c: measuring $DURATION"
        t0="$(cpu_ticks "${PIDS[$s]}")"; m0="$(machine_ticks)"; w0="$(children_ticks)"
        wrk -t"$THREADS" -c"$c" -d"$DURATION" --latency --timeout "$WRK_TIMEOUT" \
            -s "$BENCH_DIR/lib/summary.lua" "$url" >"$RUN_DIR/wrk-$s-c$c.txt" 2>&1 \
            || die "wrk failed for $s"
        t1="$(cpu_ticks "${PIDS[$s]}")"; m1="$(machine_ticks)"; w1="$(children_ticks)"
        kill -0 "${PIDS[$s]}" 2>/dev/null || die "$s died during the run (see $RUN_DIR/$s.log)"
        summary="$(grep '^BENCH_SUMMARY ' "$RUN_DIR/wrk-$s-c$c.txt" | sed 's/^BENCH_SUMMARY //')"
        [ -n "$summary" ] || die "no summary in $RUN_DIR/wrk-$s-c$c.txt"
        printf '{"server":"%s","label":"%s","c":%d,"cpu_ticks":%d,"wrk_ticks":%d,"machine_ticks":%d,"clk_tck":%d,"wrk":%s}\n' \
            "$s" "$(server_label "$s")" "$c" "$((t1 - t0))" "$((w1 - w0))" "$((m1 - m0))" "$(getconf CLK_TCK)" "$summary" >>"$RESULTS"
        grep -E 'Requests/sec|^ +99%' "$RUN_DIR/wrk-$s-c$c.txt" | tr -s ' ' | paste -sd' ' | sed "s/^/    /" >&2
    done
done

{
    echo "### HTTP server: wrk against \`GET /healthz\`, keep-alive"
    echo
    echo "Command: \`$(bench_command http-server.sh)\`"
    echo
    echo "Each row: \`wrk -t$THREADS -c<C> -d$DURATION --latency --timeout $WRK_TIMEOUT -s Benchmarks/lib/summary.lua http://127.0.0.1:<port>/healthz\`,"
    echo "right after a $WARMUP warm-up with the same \`-t/-c\`. Every server answers \`GET /healthz\` with"
    echo "\`200 {\"status\":\"ok\"}\` and \`Content-Type: application/json\` (checked before the run). nginx runs 1 worker"
    echo "(\`Benchmarks/nginx/nginx.conf.template\`), Hummingbird its defaults (\`Benchmarks/hummingbird-hello\`), the gateway"
    echo "\`Benchmarks/config/bench.yaml\`. wrk and the server share the same $(nproc) cores, so these figures are"
    echo "lower than on separate machines and the client's own CPU use is part of every number."
    echo
    machine_info_md
    echo
    python3 "$BENCH_DIR/lib/wrk_report.py" "$RESULTS"
    echo
    echo "Raw wrk output: \`${RUN_DIR#"$REPO_ROOT"/}/\` (git-ignored)."
} | tee "$RUN_DIR/report.md"
