#!/usr/bin/env bash
# Soak: SOAK_SUBMISSIONS (default 1,000,000) `POST /v1/generations` through one gateway process
# with the SQLite store, RSS sampled every SOAK_SAMPLE_S (default 10) seconds. Target: flat after
# the warm-up, no sample more than 5 % above the first one after SOAK_WARMUP_FRACTION (default
# 0.2) of the submissions. Every job runs to its end: the Krea simulator (its own process,
# `krea-gateway demo --simulators-only`) finishes it after two steps of SOAK_STEP_SECONDS and
# calls the gateway back; the key has a budget, so every job also writes its ledger lines.
#
#   Benchmarks/soak.sh
#
# Knobs (environment): SOAK_SUBMISSIONS, SOAK_C (default 128 connections, 2 wrk threads),
# SOAK_SAMPLE_S, SOAK_WARMUP_FRACTION, SOAK_STEP_SECONDS (default 0.01), plus the build knobs in
# lib/common.sh.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

N="${SOAK_SUBMISSIONS:-1000000}"
C="${SOAK_C:-128}"
SAMPLE_S="${SOAK_SAMPLE_S:-10}"
WARMUP_FRACTION="${SOAK_WARMUP_FRACTION:-0.2}"
STEP_SECONDS="${SOAK_STEP_SECONDS:-0.01}"
note_knobs SOAK_SUBMISSIONS SOAK_C SOAK_SAMPLE_S SOAK_WARMUP_FRACTION SOAK_STEP_SECONDS
[[ "$N" =~ ^[1-9][0-9]*$ && "$C" =~ ^[1-9][0-9]*$ ]] || die "bad SOAK_SUBMISSIONS or SOAK_C"
command -v wrk >/dev/null || die "wrk not installed (apt-get install wrk)"

TOKEN="kgw_soak_0123456789abcdef0123456789abcdef"
MASTER="soak-master-key"
BODY='{"model":"krea-2-medium","prompt":"a lighthouse on a cliff at dusk, oil painting"}'

raise_nofile 20000
build_gateway
new_run_dir soak
STATE_DIR="$RUN_DIR/state"
GW_PORT="$(free_port)"
SIM_PORT="$(free_port)"
while [ "$SIM_PORT" = "$GW_PORT" ]; do SIM_PORT="$(free_port)"; done
CONFIG="$RUN_DIR/soak.yaml"
cat >"$CONFIG" <<YAML
# Written by Benchmarks/soak.sh.
server:
  listen: "127.0.0.1:$GW_PORT"
  public_base_url: "http://127.0.0.1:$GW_PORT"
state:
  dir: "$STATE_DIR"
admin:
  master_key: "$MASTER"
providers:
  krea: {kind: krea, base_url: "http://127.0.0.1:$SIM_PORT", api_key: "soak-krea-key", timeout_s: 10, poll_interval_s: 2}
models:
  krea-2-medium: {provider: krea, upstream_model: "krea-2/medium", price: {base_usd: "0.030"}}
logging: {level: warning}
keys:
  - {id: soak, name: "Soak key", key: "$TOKEN", budget: {limit_usd: "100000000.00", period: monthly}}
YAML

log "simulators: 127.0.0.1:$SIM_PORT (step ${STEP_SECONDS}s)"
"$gateway_bin" demo --simulators-only --config "$CONFIG" --step-seconds "$STEP_SECONDS" >"$RUN_DIR/simulators.log" 2>&1 &
SIM_PID=$!
STARTED_PIDS+=("$SIM_PID")
for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$SIM_PORT/" 2>/dev/null)" != 000 ] && break
    sleep 0.1
done

# stop_gateway: SIGTERM and wait for the drain and the final checkpoint (up to 120 s).
stop_gateway() {
    kill -TERM "$GW_PID" 2>/dev/null || true
    for _ in $(seq 1 1200); do
        kill -0 "$GW_PID" 2>/dev/null || break
        sleep 0.1
    done
    stop_pid "$GW_PID"
}

start_serve() {
    "$gateway_bin" serve --config "$CONFIG" >>"$RUN_DIR/gateway.log" 2>&1 &
    GW_PID=$!
    STARTED_PIDS+=("$GW_PID")
    wait_healthy "$GW_PORT" "$GW_PID" 300 || { tail -n 30 "$RUN_DIR/gateway.log" >&2; die "gateway did not become healthy"; }
}
log "gateway: 127.0.0.1:$GW_PORT, state.dir $STATE_DIR"
start_serve
code="$(curl -s -o "$RUN_DIR/first.json" -w '%{http_code}' --max-time 10 -X POST -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $TOKEN" --data "$BODY" "http://127.0.0.1:$GW_PORT/v1/generations")"
[ "$code" = 202 ] || die "first submission answered $code: $(cat "$RUN_DIR/first.json")"
FIRST_ID="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$RUN_DIR/first.json")"

SAMPLES="$RUN_DIR/samples.jsonl"
STOP_FILE="$RUN_DIR/stop-sampler"
python3 "$BENCH_DIR/lib/soak_sampler.py" "$GW_PID" "$GW_PORT" "$SAMPLE_S" "$SAMPLES" "$STOP_FILE" &
SAMPLER_PID=$!
STARTED_PIDS+=("$SAMPLER_PID")

log "soak: $N submissions at c=$C"
t0="$(date +%s.%N)"
SOAK_TOKEN="$TOKEN" SOAK_BODY="$BODY" SOAK_PER_THREAD=$(((N + 1) / 2)) \
    wrk -t2 -c"$C" -d6h --latency --timeout 70s -s "$BENCH_DIR/lib/soak.lua" \
    "http://127.0.0.1:$GW_PORT/v1/generations" >"$RUN_DIR/wrk.txt" 2>&1 &
WRK_PID=$!
STARTED_PIDS+=("$WRK_PID")
# wrk's threads stop at their count, but wrk itself sleeps out -d: stop it (SIGINT prints the
# summary) once the gateway has admitted them all.
while kill -0 "$WRK_PID" 2>/dev/null; do
    admitted="$(curl -s --max-time 5 "http://127.0.0.1:$GW_PORT/metrics" | awk '/^gateway_jobs\{/ {n += $2} END {printf "%d", n}')"
    [ "${admitted:-0}" -gt "$N" ] && break
    kill -0 "$GW_PID" 2>/dev/null || die "the gateway died during the soak (see $RUN_DIR/gateway.log)"
    sleep 1
done
sleep 2
kill -INT "$WRK_PID" 2>/dev/null || true
wait "$WRK_PID" || true
t1="$(date +%s.%N)"
summary="$(grep '^SOAK_SUMMARY ' "$RUN_DIR/wrk.txt" | sed 's/^SOAK_SUMMARY //')"
[ -n "$summary" ] || die "no summary in $RUN_DIR/wrk.txt"
log "load done: $summary"

# Every job to its end (the simulator calls back; a job still open is polled after 2 s).
for _ in $(seq 1 120); do
    open="$(curl -s --max-time 5 "http://127.0.0.1:$GW_PORT/metrics" | awk '/^gateway_jobs\{status="(queued|running)"\}/ {n += $2} END {print n + 0}')"
    [ "$open" = 0 ] && break
    sleep 1
done
sleep "$SAMPLE_S"  # one more sample with everything finished
touch "$STOP_FILE"
wait "$SAMPLER_PID" || true

spend="$(curl -s --max-time 30 -H "Authorization: Bearer $MASTER" "http://127.0.0.1:$GW_PORT/admin/spend?group_by=key")"
state_kb="$(du -sk "$STATE_DIR" | awk '{print $1}')"
log "restart on the same state.dir"
stop_gateway
r0="$(date +%s.%N)"
start_serve
r1="$(date +%s.%N)"
restart_rss="$(awk '/^VmRSS:/ {print $2}' "/proc/$GW_PID/status")"
metrics="$(curl -s --max-time 10 "http://127.0.0.1:$GW_PORT/metrics")"
first_status="$(curl -s -o "$RUN_DIR/first-after.json" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$GW_PORT/v1/generations/$FIRST_ID")"
first_status="$first_status $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("status"))' "$RUN_DIR/first-after.json")"
stop_gateway

python3 - "$RUN_DIR/facts.json" "$N" "$WARMUP_FRACTION" "$summary" "$spend" "$t0" "$t1" "$state_kb" "$r0" "$r1" "$restart_rss" "$first_status" "$metrics" <<'PY'
import json, sys
out, n, warmup, summary, spend, t0, t1, state_kb, r0, r1, rss, first, metrics = sys.argv[1:]
summary = json.loads(summary)
row = next(r for r in json.loads(spend)["data"] if r["group"] == "soak")
in_memory = sum(int(float(line.rsplit(" ", 1)[1])) for line in metrics.splitlines() if line.startswith("gateway_jobs_in_memory{"))
json.dump({
    "submissions": int(n), "warmup_fraction": float(warmup), "answers": summary["answers"], "unexpected": summary["unexpected"],
    "p50_us": summary["p50_us"], "p99_us": summary["p99_us"], "duration_s": float(t1) - float(t0),
    "admitted": row["requests"], "completed": row["completed"], "state_mib": int(state_kb) / 1024,
    "restart_s": float(r1) - float(r0), "restart_rss_kb": int(rss), "restart_in_memory": in_memory, "first_job_status": first,
}, open(out, "w"))
PY

{
    echo "### Soak: one process, $(printf "%'d" "$N") submissions, RSS over time"
    echo
    echo "Command: \`$(bench_command soak.sh)\`"
    echo
    echo "One \`krea-gateway serve\` with the SQLite store (\`state.dir\` under the run directory) and a key with a budget;"
    echo "the Krea simulator in its own process (\`demo --simulators-only --step-seconds $STEP_SECONDS\`) finishes each job and calls"
    echo "back, so every job is admitted, reserved, submitted, called back, re-read, settled and written. wrk (2 threads, $C"
    echo "connections, \`Benchmarks/lib/soak.lua\`) sends each submission with \`Prefer: wait=60\`, so a connection submits again"
    echo "once its last job has finished (the gateway runs at the rate it finishes jobs; nothing piles up), and stops after"
    echo "$(printf "%'d" "$N") answers. RSS of the gateway and its"
    echo "\`/metrics\` are sampled every $SAMPLE_S s (\`Benchmarks/lib/soak_sampler.py\`)."
    echo
    machine_info_md
    echo
    python3 "$BENCH_DIR/lib/soak_report.py" "$SAMPLES" "$RUN_DIR/facts.json"
    echo
    echo "Raw samples, wrk output, logs and config: \`${RUN_DIR#"$REPO_ROOT"/}/\` (git-ignored; the state directory is"
    echo "deleted after the run)."
} | tee "$RUN_DIR/report.md"
rm -rf "$STATE_DIR"
