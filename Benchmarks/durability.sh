#!/usr/bin/env bash
# Durability cost: `POST /v1/generations` at c = DURABILITY_C with the SQLite store (state.dir on
# this machine's disk: WAL, synchronous = FULL, group commit) against memory only (state.dir: ""),
# alternating over DURABILITY_ROUNDS rounds, each measurement in a fresh `krea-gateway demo`
# process (the Krea simulator in-process) and, for SQLite, a fresh empty state.dir.
# Both configs are the plain submission config with a budget on the key, so every admitted job
# writes its job row and its ledger line before the provider is called, and its provider job id
# before the 202. Target: requests/s with SQLite ≥ 0.8 × memory only (median round of each).
#
#   Benchmarks/durability.sh
#
# Knobs (environment): DURABILITY_C (default 64), DURABILITY_ROUNDS (default 3), BENCH_DURATION
# (default 10s), BENCH_WARMUP (default 2s), DURABILITY_STATE_ROOT (where the state dirs go; default
# the run directory under Benchmarks/results), plus the build knobs in lib/common.sh.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/submission_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/submission_common.sh"

C="${DURABILITY_C:-64}"
ROUNDS="${DURABILITY_ROUNDS:-3}"
DURATION="${BENCH_DURATION:-10s}"
WARMUP="${BENCH_WARMUP:-2s}"
WRK_TIMEOUT=5s
STEP_SECONDS=3600
note_knobs DURABILITY_C DURABILITY_ROUNDS

PLAIN_CONFIG="$BENCH_DIR/config/submission-plain.yaml"
BENCH_KEY="kgw_bench_0123456789abcdef0123456789abcdef"
GATEWAY_BODY='{"model":"krea-2-medium","prompt":"a lighthouse on a cliff at dusk, oil painting"}'
GATEWAY_PATH="/v1/generations"
LUA="$BENCH_DIR/lib/submission.lua"
TIMEFORMAT='%3U %3S'

command -v wrk >/dev/null || die "wrk not installed (apt-get install wrk)"
[[ "$C" =~ ^[1-9][0-9]*$ ]] || die "bad concurrency '$C'"

raise_nofile 20000
build_gateway
new_run_dir durability
STATE_ROOT="${DURABILITY_STATE_ROOT:-$RUN_DIR}"
RESULTS="$RUN_DIR/results.jsonl"
: >"$RESULTS"

# make_config NAME STATE_DIR: the plain config with state.dir set and a budget on the key.
make_config() {
    local out="$RUN_DIR/durability-$1.yaml"
    sed "s|^  dir: \"\".*|  dir: \"$2\"|" "$PLAIN_CONFIG" >"$out"
    printf '    budget: {limit_usd: "10000000.00", period: monthly}\n' >>"$out"
    echo "$out"
}

for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then order="memory sqlite"; else order="sqlite memory"; fi
    for store in $order; do
        state=""
        [ "$store" = sqlite ] && state="$STATE_ROOT/state-r$r"
        config="$(make_config "$store-r$r" "$state")"
        start_gateway "$config" "durability-$store-r$r"
        check_post "durability-$store-r$r" "$GW_PORT" "$GATEWAY_PATH" "$BENCH_KEY" "$GATEWAY_BODY" 202
        measure durability "$store" gateway "$C" "$r"
        if [ "$store" = sqlite ]; then
            du -sk "$state" | awk -v r="$r" '{printf "{\"round\":%d,\"state_kb\":%d}\n", r, $1}' >>"$RUN_DIR/state-size.jsonl"
        fi
        stop_pid "$GW_PID"
    done
done

{
    echo "### Durability: submissions with the SQLite store vs. memory only"
    echo
    echo "Command: \`$(bench_command durability.sh)\`"
    echo
    echo "Each row is a fresh \`krea-gateway demo --step-seconds $STEP_SECONDS\` process (Krea simulator in-process) on"
    echo "\`Benchmarks/config/submission-plain.yaml\` with a budget on the key and \`state.dir\` set to \`\"\"\` (memory) or"
    echo "to a fresh directory (SQLite: WAL, \`synchronous = FULL\`, group commit) under \`${STATE_ROOT#"$REPO_ROOT"/}\`."
    echo "Every 202 means the job, its ledger line and its provider job id are committed to disk. After one request checked by"
    echo "curl, a $WARMUP warm-up and then:"
    echo
    echo '```'
    echo "SUB_TOKEN='$BENCH_KEY' SUB_BODY='$GATEWAY_BODY' \\"
    echo "  wrk -t2 -c$C -d$DURATION --latency --timeout $WRK_TIMEOUT -s Benchmarks/lib/submission.lua http://127.0.0.1:<port>$GATEWAY_PATH"
    echo '```'
    echo
    machine_info_md
    echo "Disk under the state directory: \`$(df -h "$STATE_ROOT" | awk 'NR==2 {print $1 " (" $2 ", mounted on " $6 ")"}')\`."
    echo
    python3 "$BENCH_DIR/lib/durability_report.py" "$RESULTS" "$RUN_DIR/state-size.jsonl"
    echo
    echo "Raw wrk output, gateway logs and configs: \`${RUN_DIR#"$REPO_ROOT"/}/\` (git-ignored)."
} | tee "$RUN_DIR/report.md"
