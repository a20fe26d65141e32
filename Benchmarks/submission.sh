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

CONCURRENCY="${SUBMISSION_CONCURRENCY:-1 64}"
BUDGET_C="${SUBMISSION_BUDGET_C:-64}"
ROUNDS="${SUBMISSION_ROUNDS:-3}"
FILLER_KEYS="${SUBMISSION_KEYS:-10000}"
DURATION="${BENCH_DURATION:-10s}"
WARMUP="${BENCH_WARMUP:-2s}"
WRK_TIMEOUT=5s
STEP_SECONDS=3600           # simulator: a job stays `queued` for an hour
for _v in SUBMISSION_CONCURRENCY SUBMISSION_BUDGET_C SUBMISSION_ROUNDS SUBMISSION_KEYS; do
    if [ -n "${!_v+x}" ]; then BENCH_ENV_PREFIX+="$_v=\"${!_v}\" "; fi
done
unset _v

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

cpu_ticks() {
    local pid="$1"
    if [ -r "/proc/$pid/stat" ]; then sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}'; else echo 0; fi
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# Busy ticks of the whole machine, all CPUs (user nice system irq softirq steal).
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }

# start_gateway CONFIG NAME: a fresh `krea-gateway demo` with the Krea simulator in-process, on
# two new free ports. Sets GW_PID, GW_PORT, SIM_PORT, STARTUP_S.
start_gateway() {
    local cfg="$1" name="$2" t0 t1
    GW_PORT="$(free_port)"
    SIM_PORT="$(free_port)"
    while [ "$SIM_PORT" = "$GW_PORT" ]; do SIM_PORT="$(free_port)"; done
    log "$name: starting krea-gateway demo (gateway 127.0.0.1:$GW_PORT, Krea simulator 127.0.0.1:$SIM_PORT)"
    t0="$(date +%s.%N)"
    SUB_GATEWAY_PORT="$GW_PORT" SUB_KREA_PORT="$SIM_PORT" \
        "$gateway_bin" demo --config "$cfg" --step-seconds "$STEP_SECONDS" >"$RUN_DIR/$name.log" 2>&1 &
    GW_PID=$!
    STARTED_PIDS+=("$GW_PID")
    wait_healthy "$GW_PORT" "$GW_PID" 120 || { tail -n 30 "$RUN_DIR/$name.log" >&2; die "$name: gateway did not become healthy"; }
    t1="$(date +%s.%N)"
    STARTUP_S="$(python3 -c "print(f'{$t1 - $t0:.2f}')")"
}

# check_post NAME PORT PATH TOKEN BODY WANT: one request by curl; the status must be WANT.
check_post() {
    local name="$1" port="$2" path="$3" token="$4" body="$5" want="$6" code
    code="$(curl -s -o "$RUN_DIR/$name.check.json" -w '%{http_code}' --max-time 10 -X POST \
        -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
        --data "$body" "http://127.0.0.1:$port$path")" || die "$name: POST $path failed"
    [ "$code" = "$want" ] || { cat "$RUN_DIR/$name.check.json" >&2; echo >&2; die "$name: POST $path answered $code, expected $want"; }
    log "$name: POST $path -> $code $(head -c 160 "$RUN_DIR/$name.check.json")"
}

RESULTS="$RUN_DIR/results.jsonl"
: >"$RESULTS"

# measure GROUP CONFIG_NAME TARGET C ROUND: warm-up then the measured wrk run against the running
# process; appends one line to results.jsonl.
measure() {
    local group="$1" config="$2" target="$3" c="$4" round="$5" port path token body threads name t0 t1 b0 b1 rss wrk_cpu summary
    if [ "$target" = gateway ]; then
        port="$GW_PORT" path="$GATEWAY_PATH" token="$BENCH_KEY" body="$GATEWAY_BODY"
    else
        port="$SIM_PORT" path="$DIRECT_PATH" token="$KREA_KEY" body="$DIRECT_BODY"
    fi
    threads=2
    [ "$c" -ge 2 ] || threads=1
    name="$group-$config-$target-c$c-r$round"
    log "$name: warm-up $WARMUP"
    SUB_TOKEN="$token" SUB_BODY="$body" wrk -t"$threads" -c"$c" -d"$WARMUP" --timeout "$WRK_TIMEOUT" -s "$LUA" \
        "http://127.0.0.1:$port$path" >"$RUN_DIR/warmup-$name.txt" 2>&1 || die "wrk warm-up failed for $name"
    log "$name: measuring $DURATION"
    b0="$(busy_ticks)"
    t0="$(cpu_ticks "$GW_PID")"
    # bash's `time` gives wrk's own CPU time (TIMEFORMAT: user and system seconds).
    { time SUB_TOKEN="$token" SUB_BODY="$body" wrk -t"$threads" -c"$c" -d"$DURATION" --latency --timeout "$WRK_TIMEOUT" -s "$LUA" \
        "http://127.0.0.1:$port$path" >"$RUN_DIR/wrk-$name.txt" 2>&1; } 2>"$RUN_DIR/wrk-cpu-$name.txt" || die "wrk failed for $name"
    t1="$(cpu_ticks "$GW_PID")"
    b1="$(busy_ticks)"
    rss="$(rss_kb "$GW_PID")"
    wrk_cpu="$(awk '{printf "%.3f", $1 + $2}' "$RUN_DIR/wrk-cpu-$name.txt")"
    kill -0 "$GW_PID" 2>/dev/null || die "$name: the gateway died during the run (see $RUN_DIR/$name.log)"
    summary="$(grep '^BENCH_SUMMARY ' "$RUN_DIR/wrk-$name.txt" | sed 's/^BENCH_SUMMARY //')"
    [ -n "$summary" ] || die "no summary in $RUN_DIR/wrk-$name.txt"
    printf '{"group":"%s","config":"%s","target":"%s","c":%d,"round":%d,"startup_s":%s,"cpu_ticks":%d,"busy_ticks":%d,"wrk_cpu_s":%s,"clk_tck":%d,"rss_kb":%d,"wrk":%s}\n' \
        "$group" "$config" "$target" "$c" "$round" "$STARTUP_S" "$((t1 - t0))" "$((b1 - b0))" "$wrk_cpu" "$(getconf CLK_TCK)" "${rss:-0}" "$summary" >>"$RESULTS"
    grep -E 'Requests/sec|^ +(50|99)%|Non-2xx' "$RUN_DIR/wrk-$name.txt" | tr -s ' ' | paste -sd' ' | sed "s/^/    /" >&2
}

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
