#!/usr/bin/env bash
# 10,000 concurrent idle keep-alive connections: for each server (started fresh), a Python asyncio
# client (lib/idle_client.py) opens the connections, sends one GET /healthz on each, reads the
# answer and holds them open; then it samples the server's RSS (/proc/PID/status VmRSS) and times
# 1,000 sequential requests on a fresh connection. Prints a Markdown report on stdout (progress on
# stderr); raw output goes to Benchmarks/results/idle-connections-<timestamp>/.
#
#   Benchmarks/idle-connections.sh
#
# Knobs (environment): BENCH_SERVERS (default "gateway nginx hummingbird"; nginx and Hummingbird
# are references only, the targets are the gateway's), IDLE_CONNECTIONS (default 10000),
# IDLE_PROBES (default 1000), IDLE_TIMEOUT_S (default 240, bound on each client run), plus the
# build knobs in lib/common.sh.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

CONNECTIONS="${IDLE_CONNECTIONS:-10000}"
PROBES="${IDLE_PROBES:-1000}"
FRESH=200
HOLD=3
CLIENT_TIMEOUT="${IDLE_TIMEOUT_S:-240}"

raise_nofile 20000
[ "$(ulimit -n)" -ge $((CONNECTIONS + 1000)) ] || die "ulimit -n $(ulimit -n) is too low for $CONNECTIONS connections"
build_servers
new_run_dir idle-connections

CLIENT_CMD="python3 Benchmarks/lib/idle_client.py --port <port> --pid <server pid> --connections $CONNECTIONS --open-concurrency 100 --hold $HOLD --probe-requests $PROBES --fresh-connects $FRESH --timeout $CLIENT_TIMEOUT --json <out>"
JSONS=()
for s in $BENCH_SERVERS; do
    port="$(free_port)"
    log "starting $s on 127.0.0.1:$port"
    start_server "$s" "$port" "$RUN_DIR/$s.log"
    pid="$SERVER_PID"
    wait_healthy "$port" "$pid" 60 || { cat "$RUN_DIR/$s.log" >&2; die "$s did not become healthy"; }
    check_response "$s" "$port"
    sleep 1
    out="$RUN_DIR/$s.json"
    rc=0
    timeout --signal=KILL $((CLIENT_TIMEOUT + 30)) \
        python3 "$BENCH_DIR/lib/idle_client.py" --port "$port" --pid "$pid" --connections "$CONNECTIONS" \
        --open-concurrency 100 --hold "$HOLD" --probe-requests "$PROBES" --fresh-connects "$FRESH" \
        --timeout "$CLIENT_TIMEOUT" --json "$out" 2> >(tee "$RUN_DIR/$s-client.log" >&2) || rc=$?
    [ "$rc" = 0 ] || log "client for $s exited $rc (its partial results are reported)"
    alive=yes
    kill -0 "$pid" 2>/dev/null || alive=no
    python3 - "$out" "$s" "$(server_label "$s")" "$alive" <<'EOF'
import json, sys
path, name, label, alive = sys.argv[1:]
try:
    d = json.load(open(path))
except (OSError, ValueError):
    d = {"complete": False, "error": "client wrote no results"}
d["server"], d["label"], d["server_alive_after"] = name, label, alive == "yes"
json.dump(d, open(path, "w"), indent=1)
EOF
    JSONS+=("$out")
    stop_pid "$pid"
    sleep 1
done

{
    echo "### $(python3 -c "print(f'{$CONNECTIONS:,}')") idle keep-alive connections"
    echo
    echo "Command: \`$(bench_command idle-connections.sh)\`"
    echo
    echo "Per server, started fresh: \`$CLIENT_CMD\`."
    echo "The client opens $CONNECTIONS connections to \`127.0.0.1\` (100 opening at a time), sends \`GET /healthz\` on each and"
    echo "reads the answer, holds them all ${HOLD} s, then reads the server's RSS (VmRSS of the process and its children, so"
    echo "nginx counts master + worker) and, with all of them still open, times $PROBES sequential requests on one fresh"
    echo "keep-alive connection and $FRESH × connect + request + close. At the end it sends a second request on every held"
    echo "connection to check that the server still serves them. Client and server share the same $(nproc) cores; the latencies"
    echo "are measured in Python and include its overhead (compare with the baseline, taken before opening the connections)."
    echo
    machine_info_md
    echo
    python3 "$BENCH_DIR/lib/idle_report.py" "${JSONS[@]}"
    echo
    echo "Raw output: \`${RUN_DIR#"$REPO_ROOT"/}/\` (git-ignored)."
} | tee "$RUN_DIR/report.md"
