#!/usr/bin/env bash
# TLS: krea-gateway's own TLS listener against nginx (1 worker) with the same certificate (ECDSA
# P-256, made here with the openssl CLI), side by side in one run:
#   1. keep-alive: wrk -c64 GET /healthz over TLS (one handshake per connection, then requests);
#   2. handshakes: wrk -c16 with `Connection: close`, so every request is a new TCP connection and
#      a full TLS handshake (wrk does not resume sessions);
#   3. gzip: the gateway's /openapi.json (a ~140 KB JSON answer) over plain HTTP with and without
#      `Accept-Encoding: gzip`, c = 1: what compressing it costs against sending it as it is; and
#      nginx serving the same file with `gzip on` at the same level, as the peer.
# Prints a Markdown report on stdout (progress on stderr); raw wrk output goes to
# Benchmarks/results/tls-<timestamp>/.
#
#   Benchmarks/tls.sh
#
# Knobs (environment): BENCH_DURATION (default 10s), BENCH_WARMUP (default 2s), plus the build
# knobs in lib/common.sh (GATEWAY_BIN, GATEWAY_SCRATCH, BENCH_SKIP_BUILD).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

DURATION="${BENCH_DURATION:-10s}"
WARMUP="${BENCH_WARMUP:-2s}"
WRK_TIMEOUT=5s
command -v wrk >/dev/null || die "wrk not installed (apt-get install wrk)"
command -v nginx >/dev/null || die "nginx not installed (apt-get install nginx-light)"
command -v openssl >/dev/null || die "openssl not installed (apt-get install openssl)"

raise_nofile 20000
BENCH_SERVERS=gateway
build_gateway
new_run_dir tls

# One certificate for both servers.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$BENCH_TMP/key.pem" -out "$BENCH_TMP/cert.pem" \
    -days 2 -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null

# nginx: the benchmark template with its listener turned into a TLS one (same protocols and suites).
NGINX_PORT="$(free_port)"
mkdir -p "$BENCH_TMP/nginx"
sed -e "s|@PREFIX@|$BENCH_TMP/nginx|g" -e "s|@PORT@|$NGINX_PORT|g" "$BENCH_DIR/nginx/nginx.conf.template" \
    | sed -e "s|listen 127.0.0.1:$NGINX_PORT backlog=4096;|listen 127.0.0.1:$NGINX_PORT ssl backlog=4096;\n        ssl_certificate $BENCH_TMP/cert.pem;\n        ssl_certificate_key $BENCH_TMP/key.pem;\n        ssl_protocols TLSv1.2 TLSv1.3;\n        ssl_session_tickets on;\n        location = /openapi.json { alias $REPO_ROOT/Sources/GatewayApp/Resources/openapi.json; default_type application/json; gzip on; gzip_comp_level 3; gzip_types application/json; gzip_min_length 1024; }|" \
    >"$BENCH_TMP/nginx/nginx.conf"
nginx -p "$BENCH_TMP/nginx" -c "$BENCH_TMP/nginx/nginx.conf" -e stderr >"$RUN_DIR/nginx.log" 2>&1 &
NGINX_PID=$!
STARTED_PIDS+=("$NGINX_PID")

# The gateway: the benchmark config with a TLS listener on the same certificate.
GATEWAY_PORT="$(free_port)" GATEWAY_TLS_PORT="$(free_port)"
sed -e "s|^server:|server:\n  tls: {listen: \"127.0.0.1:$GATEWAY_TLS_PORT\", cert_file: \"$BENCH_TMP/cert.pem\", key_file: \"$BENCH_TMP/key.pem\"}|" \
    "$BENCH_DIR/config/bench.yaml" >"$BENCH_TMP/gateway.yaml"
BENCH_PORT="$GATEWAY_PORT" "$gateway_bin" serve --config "$BENCH_TMP/gateway.yaml" >"$RUN_DIR/gateway.log" 2>&1 &
GATEWAY_PID=$!
STARTED_PIDS+=("$GATEWAY_PID")

for url in "https://127.0.0.1:$NGINX_PORT/healthz" "https://127.0.0.1:$GATEWAY_TLS_PORT/healthz" "http://127.0.0.1:$GATEWAY_PORT/healthz"; do
    for _ in $(seq 1 100); do
        curl -fsS --cacert "$BENCH_TMP/cert.pem" "$url" >/dev/null 2>&1 && break
        sleep 0.1
    done
    curl -fsS --cacert "$BENCH_TMP/cert.pem" "$url" | grep -q '"ok"' || die "$url did not answer (see $RUN_DIR/*.log)"
done

cpu_ticks() {  # utime+stime of a process and its direct children (nginx's worker)
    local pid="$1" total=0 p
    for p in "$pid" $(pgrep -P "$pid" 2>/dev/null || true); do
        [ -r "/proc/$p/stat" ] && total=$((total + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
    done
    echo "$total"
}

RESULTS="$RUN_DIR/results.jsonl"
: >"$RESULTS"
# measure LABEL SERVER PID URL C THREADS [wrk args...]
measure() {
    local label="$1" server="$2" pid="$3" url="$4" c="$5" threads="$6"
    shift 6
    log "$label, $server: warm-up $WARMUP"
    wrk -t"$threads" -c"$c" -d"$WARMUP" --timeout "$WRK_TIMEOUT" "$@" "$url" >"$RUN_DIR/warmup-$label-$server.txt" 2>&1 || die "wrk warm-up failed"
    log "$label, $server: measuring $DURATION"
    local t0 t1
    t0="$(cpu_ticks "$pid")"
    wrk -t"$threads" -c"$c" -d"$DURATION" --latency --timeout "$WRK_TIMEOUT" -s "$BENCH_DIR/lib/summary.lua" "$@" "$url" \
        >"$RUN_DIR/wrk-$label-$server.txt" 2>&1 || die "wrk failed for $label $server"
    t1="$(cpu_ticks "$pid")"
    kill -0 "$pid" 2>/dev/null || die "$server died during $label"
    local summary
    summary="$(grep '^BENCH_SUMMARY ' "$RUN_DIR/wrk-$label-$server.txt" | sed 's/^BENCH_SUMMARY //')"
    [ -n "$summary" ] || die "no summary in $RUN_DIR/wrk-$label-$server.txt"
    printf '{"label":"%s","server":"%s","c":%d,"cpu_ticks":%d,"clk_tck":%d,"wrk":%s}\n' \
        "$label" "$server" "$c" "$((t1 - t0))" "$(getconf CLK_TCK)" "$summary" >>"$RESULTS"
    grep -E 'Requests/sec|^ +50%' "$RUN_DIR/wrk-$label-$server.txt" | tr -s ' ' | paste -sd' ' | sed "s/^/    /" >&2
}

for round in 1 2; do
    measure "keep-alive-r$round" nginx "$NGINX_PID" "https://127.0.0.1:$NGINX_PORT/healthz" 64 2
    measure "keep-alive-r$round" gateway "$GATEWAY_PID" "https://127.0.0.1:$GATEWAY_TLS_PORT/healthz" 64 2
    measure "handshakes-r$round" nginx "$NGINX_PID" "https://127.0.0.1:$NGINX_PORT/healthz" 16 2 -H "Connection: close"
    measure "handshakes-r$round" gateway "$GATEWAY_PID" "https://127.0.0.1:$GATEWAY_TLS_PORT/healthz" 16 2 -H "Connection: close"
done
measure "openapi-identity" gateway "$GATEWAY_PID" "http://127.0.0.1:$GATEWAY_PORT/openapi.json" 1 1
measure "openapi-gzip" gateway "$GATEWAY_PID" "http://127.0.0.1:$GATEWAY_PORT/openapi.json" 1 1 -H "Accept-Encoding: gzip"
measure "openapi-tls-identity" gateway "$GATEWAY_PID" "https://127.0.0.1:$GATEWAY_TLS_PORT/openapi.json" 1 1
measure "openapi-tls-gzip" gateway "$GATEWAY_PID" "https://127.0.0.1:$GATEWAY_TLS_PORT/openapi.json" 1 1 -H "Accept-Encoding: gzip"
measure "openapi-tls-identity" nginx "$NGINX_PID" "https://127.0.0.1:$NGINX_PORT/openapi.json" 1 1
measure "openapi-tls-gzip" nginx "$NGINX_PID" "https://127.0.0.1:$NGINX_PORT/openapi.json" 1 1 -H "Accept-Encoding: gzip"
nginx_gzip_bytes="$(curl -s --cacert "$BENCH_TMP/cert.pem" -H 'Accept-Encoding: gzip' "https://127.0.0.1:$NGINX_PORT/openapi.json" | wc -c)"
identity_bytes="$(curl -s "http://127.0.0.1:$GATEWAY_PORT/openapi.json" | wc -c)"
gzip_bytes="$(curl -s -H 'Accept-Encoding: gzip' "http://127.0.0.1:$GATEWAY_PORT/openapi.json" | wc -c)"

{
    echo "### TLS: the gateway's listener vs. nginx on the same certificate; gzip's cost"
    echo
    echo "Command: \`$(bench_command tls.sh)\`"
    echo
    echo "Both servers use one ECDSA P-256 certificate made by \`openssl req\` for the run, TLS 1.2 and 1.3 (wrk negotiates"
    echo "TLS 1.3 with both). nginx: \`Benchmarks/nginx/nginx.conf.template\` (1 worker) with \`listen ... ssl\`; the gateway:"
    echo "\`Benchmarks/config/bench.yaml\` with \`server.tls\`. Keep-alive rows: \`wrk -t2 -c64 -d$DURATION https://.../healthz\`;"
    echo "handshake rows: \`wrk -t2 -c16 -H 'Connection: close'\`, a new connection and a full handshake per request."
    echo "Two rounds each, alternating servers. gzip rows: \`wrk -t1 -c1\` on the gateway's plain \`/openapi.json\`"
    echo "($identity_bytes bytes; $gzip_bytes gzipped), without and with \`Accept-Encoding: gzip\`, over plain HTTP and over"
    echo "TLS; nginx serves the same file over TLS with \`gzip on; gzip_comp_level 3\` ($nginx_gzip_bytes bytes gzipped)."
    echo "wrk and the servers share the same $(nproc) cores."
    echo
    machine_info_md
    echo
    python3 "$BENCH_DIR/lib/tls_report.py" "$RESULTS"
    echo
    echo "Raw wrk output: \`${RUN_DIR#"$REPO_ROOT"/}/\` (git-ignored)."
} | tee "$RUN_DIR/report.md"
