#!/usr/bin/env bash
# 10,000 clients waiting at once with `Prefer: wait` (API.md §3): a fresh release
# `krea-gateway demo` (simulators in-process) holds one job that never ends; WAIT_CLIENTS clients,
# each on its own connection, GET it with `Prefer: wait=WAIT_SECONDS` (lib/wait_clients.py). While
# they wait, the gateway's thread count and RSS (/proc) and its gateway_waiting_requests gauge are
# read; then every client must get its 200 when the wait runs out. Prints a Markdown report.
#
#   Benchmarks/prefer-wait.sh
#
# Knobs: WAIT_CLIENTS (default 10000), WAIT_SECONDS (default 20), plus the build knobs in lib/common.sh.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

CLIENTS="${WAIT_CLIENTS:-10000}"
WAIT="${WAIT_SECONDS:-20}"
KEY="kgw_demo_0123456789abcdef0123456789abcdef"
note_knobs WAIT_CLIENTS WAIT_SECONDS

raise_nofile 30000
[ "$(ulimit -n)" -ge $((CLIENTS + 1000)) ] || die "ulimit -n $(ulimit -n) is too low for $CLIENTS clients"
build_gateway
new_run_dir prefer-wait

port="$(free_port)"; krea="$(free_port)"; evolink="$(free_port)"
config="$RUN_DIR/gateway.yaml"
sed -e "s/127.0.0.1:9101/127.0.0.1:$krea/; s/127.0.0.1:9102/127.0.0.1:$evolink/; s/level: info/level: warning/" \
    "$REPO_ROOT/config/demo.yaml" >"$config"
printf 'server:\n  listen: "127.0.0.1:%s"\n  max_connections: %s\n' "$port" $((CLIENTS + 500)) >"$RUN_DIR/server.yaml"
python3 - "$config" "$RUN_DIR/server.yaml" <<'PY'
import re, sys
config, server = sys.argv[1:]
text = open(config).read()
text = re.sub(r"(?m)^server:\n(?:  .*\n)*", open(server).read(), text, count=1)
open(config, "w").write(text)
PY
log "starting krea-gateway demo on 127.0.0.1:$port"
"$gateway_bin" demo --config "$config" --step-seconds 3600 >"$RUN_DIR/gateway.log" 2>&1 &
pid=$!
STARTED_PIDS+=("$pid")
wait_healthy "$port" "$pid" 60 || { tail -n 20 "$RUN_DIR/gateway.log" >&2; die "the gateway did not start"; }
job="$(curl -s -X POST -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    --data '{"model":"krea-2-medium","prompt":"a job that never ends [sim:never]"}' "http://127.0.0.1:$port/v1/generations" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
log "job $job; $CLIENTS clients wait ${WAIT}s on it"
python3 "$BENCH_DIR/lib/wait_clients.py" --port "$port" --pid "$pid" --clients "$CLIENTS" --wait "$WAIT" \
    --open-concurrency 200 --job "$job" --key "$KEY" --json "$RUN_DIR/result.json"
kill -0 "$pid" 2>/dev/null || die "the gateway died (see $RUN_DIR/gateway.log)"
stop_pid "$pid"

{
    echo "### \`Prefer: wait\`: $CLIENTS clients waiting at once"
    echo
    echo "Command: \`$(bench_command prefer-wait.sh)\`"
    echo
    echo "A fresh release \`krea-gateway demo --step-seconds 3600\` (config/demo.yaml on free ports, \`server.max_connections\`"
    echo "raised to $((CLIENTS + 500)), log level warning) holds one job that never ends (\`[sim:never]\`). \`Benchmarks/lib/wait_clients.py\`"
    echo "opens $CLIENTS connections (200 at a time) and sends \`GET /v1/generations/<id>\` with \`Prefer: wait=$WAIT\` on each; one second"
    echo "after the last is sent it reads the gateway's threads and VmRSS from /proc and \`gateway_waiting_requests\` from /metrics."
    echo
    machine_info_md
    echo
    python3 - "$RUN_DIR/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("| clients | waiting at once | gateway threads (idle → waiting) | gateway RSS (idle → waiting) | per waiting client | answers | errors |")
print("|---:|---:|---:|---:|---:|---|---:|")
per = (r["rss_waiting_kb"] - r["rss_before_kb"]) / max(r["waiting_at_once"], 1)
print(f"| {r['clients']:,} | {r['waiting_at_once']:,} | {r['threads_before']} → {r['threads_waiting']} "
      f"| {r['rss_before_kb'] / 1024:.1f} → {r['rss_waiting_kb'] / 1024:.1f} MiB | {per:.1f} KiB "
      f"| {', '.join(f'{k}: {v:,}' for k, v in sorted(r['statuses'].items()))} | {r['errors']} |")
print()
print(f"All {r['clients']:,} requests were sent within {r['all_sent_after_s']} s; the answers came when the wait ran out, "
      f"spread over {r['answers_spread_s']} s. Each waiting client is a suspended task and an open connection, no thread.")
PY
} | tee "$RUN_DIR/report.md"
