#!/usr/bin/env bash
# Generation submission: wrk POSTs one fixed generation request, keep-alive, and measures two things.
#
#  1. Routing: `POST /v1/generations` through the gateway (→ its Krea adapter → the Krea simulator)
#     against the same submission straight to the simulator
#     (`POST /generate/image/krea/krea-2/medium`), at each concurrency of SUBMISSION_CONCURRENCY;
#     the gateway's added latency is gateway minus direct. Target: added p50 < 0.25 ms at c = 1.
#  2. Budgets: `POST /v1/generations` at c = SUBMISSION_BUDGET_C with budgets, rate limits and a
#     10,000-key table (lib/submission_config.py) against one plain key with no budget or limit
#     (config/submission-plain.yaml), alternating over SUBMISSION_ROUNDS rounds.
#     Target: requests/s with budgets ≥ 0.9 × without (median round of each).
#
# Every measurement gets its own fresh `krea-gateway demo` process (the Krea simulator runs inside
# it) on its own free ports. Prints a Markdown report on stdout (progress on stderr); raw output goes
# to Benchmarks/results/submission-<timestamp>/.
#
#   Benchmarks/submission.sh
#
# Knobs (environment): SUBMISSION_CONCURRENCY (default "1 64"), SUBMISSION_BUDGET_C (default 64),
# SUBMISSION_ROUNDS (default 3), SUBMISSION_KEYS (filler keys, default 10000), BENCH_DURATION
# (default 10s), BENCH_WARMUP (default 2s), plus the build knobs in lib/common.sh (GATEWAY_BIN,
# GATEWAY_SCRATCH, BENCH_SKIP_BUILD).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/submission_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/submission_common.sh"

CONCURRENCY="${SUBMISSION_CONCURRENCY:-1 64}"
BUDGET_C="${SUBMISSION_BUDGET_C:-64}"
ROUNDS="${SUBMISSION_ROUNDS:-3}"
FILLER_KEYS="${SUBMISSION_KEYS:-10000}"
DURATION="${BENCH_DURATION:-10s}"
WARMUP="${BENCH_WARMUP:-2s}"
WRK_TIMEOUT=5s
STEP_SECONDS=3600           # simulator: a job stays `queued` for an hour
note_knobs SUBMISSION_CONCURRENCY SUBMISSION_BUDGET_C SUBMISSION_ROUNDS SUBMISSION_KEYS

PLAIN_CONFIG="$BENCH_DIR/config/submission-plain.yaml"
BENCH_KEY="kgw_bench_0123456789abcdef0123456789abcdef"   # the key in both configs
KREA_KEY="bench-krea-key"                                # providers.krea.api_key in both configs
PROMPT="a lighthouse on a cliff at dusk, oil painting"
GATEWAY_BODY="{\"model\":\"krea-2-medium\",\"prompt\":\"$PROMPT\"}"
# What the gateway's Krea adapter sends upstream for GATEWAY_BODY (defaults applied).
DIRECT_BODY="{\"prompt\":\"$PROMPT\",\"aspect_ratio\":\"1:1\",\"resolution\":\"1K\"}"
GATEWAY_PATH="/v1/generations"
DIRECT_PATH="/generate/image/krea/krea-2/medium"
LUA="$BENCH_DIR/lib/submission.lua"
TIMEFORMAT='%3U %3S'

command -v wrk >/dev/null || die "wrk not installed (apt-get install wrk)"
for c in $CONCURRENCY $BUDGET_C; do
    [[ "$c" =~ ^[1-9][0-9]*$ ]] || die "bad concurrency '$c'"
done

raise_nofile 20000
build_gateway
new_run_dir submission

LIMITS_CONFIG="$RUN_DIR/submission-limits.yaml"
log "generating the budgets-and-limits config ($FILLER_KEYS filler keys)"
python3 "$BENCH_DIR/lib/submission_config.py" --base "$PLAIN_CONFIG" --out "$LIMITS_CONFIG" \
    --bench-key "$BENCH_KEY" --keys "$FILLER_KEYS"
cp "$PLAIN_CONFIG" "$RUN_DIR/submission-plain.yaml"

RESULTS="$RUN_DIR/results.jsonl"
: >"$RESULTS"

config_file() { if [ "$1" = limits ]; then echo "$LIMITS_CONFIG"; else echo "$PLAIN_CONFIG"; fi; }

# 1. Routing: gateway vs direct, a fresh process for each measurement.
for c in $CONCURRENCY; do
    for target in gateway direct; do
        start_gateway "$PLAIN_CONFIG" "routing-$target-c$c"
        if [ "$target" = gateway ]; then
            check_post "routing-$target-c$c" "$GW_PORT" "$GATEWAY_PATH" "$BENCH_KEY" "$GATEWAY_BODY" 202
        else
            check_post "routing-$target-c$c" "$SIM_PORT" "$DIRECT_PATH" "$KREA_KEY" "$DIRECT_BODY" 200
        fi
        measure routing plain "$target" "$c" 1
        stop_pid "$GW_PID"
    done
done

# 2. Budgets: limits vs plain, alternating which goes first in each round.
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then order="plain limits"; else order="limits plain"; fi
    for config in $order; do
        start_gateway "$(config_file "$config")" "budgets-$config-r$r"
        log "budgets-$config-r$r: healthy after ${STARTUP_S} s"
        check_post "budgets-$config-r$r" "$GW_PORT" "$GATEWAY_PATH" "$BENCH_KEY" "$GATEWAY_BODY" 202
        measure budgets "$config" gateway "$BUDGET_C" "$r"
        stop_pid "$GW_PID"
    done
done

wrk_cmd() { # PATH
    echo "wrk -t<T> -c<C> -d$DURATION --latency --timeout $WRK_TIMEOUT -s Benchmarks/lib/submission.lua http://127.0.0.1:<port>$1"
}

{
    echo "### Generation submission: gateway vs. straight to the Krea simulator; budgets and limits on vs. off"
    echo
    echo "Command: \`$(bench_command submission.sh)\`"
    echo
    echo "Every row is its own fresh gateway process, started with"
    echo "\`SUB_GATEWAY_PORT=<free port> SUB_KREA_PORT=<free port> krea-gateway demo --config <config> --step-seconds $STEP_SECONDS\`,"
    echo "which runs the Krea simulator inside the gateway's process on \`SUB_KREA_PORT\`. After one request checked by curl"
    echo "(202 from the gateway, 200 from the simulator), a $WARMUP warm-up and then the measurement with the same \`-t/-c\`:"
    echo
    echo '```'
    echo "# through the gateway"
    echo "SUB_TOKEN='$BENCH_KEY' SUB_BODY='$GATEWAY_BODY' \\"
    echo "  $(wrk_cmd "$GATEWAY_PATH")"
    echo "# straight to the simulator (the body the gateway's Krea adapter sends for the request above)"
    echo "SUB_TOKEN='$KREA_KEY' SUB_BODY='$DIRECT_BODY' \\"
    echo "  $(wrk_cmd "$DIRECT_PATH")"
    echo '```'
    echo
    echo "(\`<T>\` is 2, or 1 at c = 1; \`Benchmarks/lib/submission.lua\` sets method, body, \`Content-Type\` and \`Authorization\`"
    echo "and keeps wrk's static-request path.) The simulator's step is $STEP_SECONDS s and the provider's \`poll_interval_s\` is 60,"
    echo "while each process lives well under a minute: every job stays \`queued\`, the gateway never polls or receives a"
    echo "callback during a run, so the figures are the submission path alone. The gateway keeps every job in memory"
    echo "(\`state.dir: \"\"\`), so each run adds one job per request (the RSS column). wrk, the gateway and the simulator share"
    echo "the same $(nproc) cores: the gateway rows pay for the simulator's work as well as their own, and the client's CPU use is"
    echo "part of every number."
    echo
    echo "Configs: no budgets = \`Benchmarks/config/submission-plain.yaml\` (one plain \`key:\`, no team, no budget, no"
    echo "rpm/max_concurrent). Budgets and limits = that file with its \`keys:\` replaced by"
    echo "\`python3 Benchmarks/lib/submission_config.py --keys $FILLER_KEYS\`: $FILLER_KEYS filler keys, each with \`key_sha256\`,"
    echo "a team (100 budgeted teams), a daily budget, \`rpm\` and \`max_concurrent\`, then the benchmark key (\`key_sha256\`,"
    echo "budget 10,000,000 USD monthly, rpm and max_concurrent 100,000,000, team \`bench\` with a 10,000,000 USD monthly budget)."
    echo
    machine_info_md
    echo
    python3 "$BENCH_DIR/lib/submission_report.py" "$RESULTS"
    echo
    echo "Raw wrk output, gateway logs and both configs: \`${RUN_DIR#"$REPO_ROOT"/}/\` (git-ignored)."
} | tee "$RUN_DIR/report.md"
