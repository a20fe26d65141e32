#!/usr/bin/env bash
# krea-gateway vs. the LiteLLM proxy, side by side on this machine, in one run, doing the same job:
# one routed model name (`krea-2-medium`), priced per image (0.030 USD), under a budget, forwarded
# to the same upstream process — the Krea simulator run on its own by
# `krea-gateway demo --simulators-only --step-seconds 0` (config/litellm-gateway.yaml). The gateway
# speaks Krea's async API to it; LiteLLM (`openai/…` model) speaks OpenAI's images API to the
# simulator's OpenAI-compatible `POST /v1/images/generations`, which answers at once.
#
#  1. Rates: wrk (lib/submission.lua, keep-alive, one fixed POST) for LITELLM_DURATION after a
#     LITELLM_WARMUP warm-up, at each c of LITELLM_CONCURRENCY, against
#       - the gateway's `POST /v1/generations` (202 with a queued job that the gateway then follows),
#       - the gateway's OpenAI front door `POST /v1/images/generations` (waits for the image URL),
#       - LiteLLM's `POST /v1/images/generations` (the image URL, synchronously), with each worker
#         count of LITELLM_WORKERS.
#     Target: the gateway ≥ 50 × LiteLLM's requests/s at every c (the best LiteLLM row at that c).
#  2. Budget: LITELLM_BUDGET_TOTAL submissions, LITELLM_BUDGET_INFLIGHT in flight, against a budget
#     for 33 images (0.99 USD) — each of the gateway's two front doors (its own key each) and
#     LiteLLM (a fresh 1-worker proxy). The gateway must admit exactly 33 (else exit 1); what
#     LiteLLM admits and spends is reported.
#
# Prints a Markdown report on stdout (progress on stderr); raw output goes to
# Benchmarks/results/litellm-<timestamp>/. Everything listens on 127.0.0.1 and every process the
# script starts is stopped on exit. Before measuring it waits (up to LITELLM_QUIET_WAIT_S) for a
# quiet machine and holds /tmp/quiet.lock while it measures.
#
#   Benchmarks/litellm.sh
#
# Knobs (environment): LITELLM_CONCURRENCY (default "16 64"), LITELLM_WORKERS (default "1 2"),
# LITELLM_DURATION (default 12s), LITELLM_WARMUP (default 3s), LITELLM_BUDGET_TOTAL (200),
# LITELLM_BUDGET_INFLIGHT (50), LITELLM_VENV (default Benchmarks/results/litellm-venv; created from
# Benchmarks/requirements-litellm.txt when missing), LITELLM_QUIET_WAIT_S (default 900: the wait for
# a quiet machine before starting), LITELLM_ROW_WAIT_S (default 300: the same before each row),
# LITELLM_ROW_ATTEMPTS (default 3: a row disturbed by other work is measured again), plus the build
# knobs in lib/common.sh (GATEWAY_BIN, GATEWAY_SCRATCH, BENCH_SKIP_BUILD).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/submission_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/submission_common.sh"

CONCURRENCY="${LITELLM_CONCURRENCY:-16 64}"
WORKERS="${LITELLM_WORKERS:-1 2}"
DURATION="${LITELLM_DURATION:-12s}"
WARMUP="${LITELLM_WARMUP:-3s}"
BUDGET_TOTAL="${LITELLM_BUDGET_TOTAL:-200}"
BUDGET_INFLIGHT="${LITELLM_BUDGET_INFLIGHT:-50}"
VENV="${LITELLM_VENV:-$RESULTS_DIR/litellm-venv}"
QUIET_WAIT_S="${LITELLM_QUIET_WAIT_S:-900}"
ROW_WAIT_S="${LITELLM_ROW_WAIT_S:-300}"
ROW_ATTEMPTS="${LITELLM_ROW_ATTEMPTS:-3}"
QUIET_PCT=25                            # % of one core the rest of the machine may use during a row
note_knobs LITELLM_CONCURRENCY LITELLM_WORKERS LITELLM_DURATION LITELLM_WARMUP LITELLM_BUDGET_TOTAL \
           LITELLM_BUDGET_INFLIGHT LITELLM_VENV LITELLM_QUIET_WAIT_S LITELLM_ROW_WAIT_S LITELLM_ROW_ATTEMPTS

WRK_TIMEOUT=10s
STEP_SECONDS=0
PRICE_USD="0.030"
BUDGET_IMAGES=33
BUDGET_USD="0.99"                       # BUDGET_IMAGES × PRICE_USD
LOAD_BUDGET_USD=1000000000              # LiteLLM's budget in the rate runs: never reached
GATEWAY_CONFIG="$BENCH_DIR/config/litellm-gateway.yaml"
LITELLM_TEMPLATE="$BENCH_DIR/config/litellm.yaml.template"
REQUIREMENTS="$BENCH_DIR/requirements-litellm.txt"
LOAD_KEY="kgw_bench_load_0123456789abcdef0123456789abcdef"
BUDGET_KEY_GENERATIONS="kgw_bench_budget_gen_0123456789abcdef0123456789"
BUDGET_KEY_OPENAI="kgw_bench_budget_oai_0123456789abcdef0123456789"
KREA_KEY="bench-krea-key"
LITELLM_MASTER_KEY="sk-bench-litellm-master-key"
BODY='{"model":"krea-2-medium","prompt":"a lighthouse on a cliff at dusk, oil painting"}'
LUA="$BENCH_DIR/lib/submission.lua"
LOCK=/tmp/quiet.lock
TIMEFORMAT='%3U %3S'

command -v wrk >/dev/null || die "wrk not installed (apt-get install wrk)"
for c in $CONCURRENCY; do [[ "$c" =~ ^[1-9][0-9]*$ ]] || die "bad concurrency '$c'"; done
for w in $WORKERS; do [[ "$w" =~ ^[1-9][0-9]*$ ]] || die "bad worker count '$w'"; done
[ "$(python3 -c "from decimal import Decimal as D; print(D('$PRICE_USD') * $BUDGET_IMAGES == D('$BUDGET_USD'))")" = True ] \
    || die "BUDGET_USD is not $BUDGET_IMAGES × $PRICE_USD"

# ---------------------------------------------------------------- cleanup

LITELLM_PGIDS=()
LOCK_HELD=0
# Stop a LiteLLM proxy: its whole process group (started with setsid, so the group is its own).
stop_litellm_group() {
    local pgid="$1" p keep=()
    kill -TERM -- "-$pgid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        pgrep -g "$pgid" >/dev/null 2>&1 || break
        sleep 0.1
    done
    kill -KILL -- "-$pgid" 2>/dev/null || true
    wait "$pgid" 2>/dev/null || true
    for p in "${LITELLM_PGIDS[@]:-}"; do [ "$p" = "$pgid" ] || keep+=("$p"); done
    LITELLM_PGIDS=("${keep[@]:-}")
    keep=()
    for p in "${STARTED_PIDS[@]:-}"; do [ "$p" = "$pgid" ] || keep+=("$p"); done
    STARTED_PIDS=("${keep[@]:-}")
}
# shellcheck disable=SC2317  # run by the EXIT trap
litellm_cleanup() {
    local pgid
    for pgid in "${LITELLM_PGIDS[@]:-}"; do
        [ -n "$pgid" ] && stop_litellm_group "$pgid"
    done
    if [ "$LOCK_HELD" = 1 ]; then rm -f "$LOCK"; LOCK_HELD=0; fi
    bench_cleanup
}
trap litellm_cleanup EXIT

# ---------------------------------------------------------------- setup

raise_nofile 20000

# LiteLLM in its own virtualenv, pinned by requirements-litellm.txt.
if [ ! -x "$VENV/bin/litellm" ]; then
    log "creating the LiteLLM virtualenv $VENV (pip install -r ${REQUIREMENTS#"$REPO_ROOT"/})"
    python3 -m venv "$VENV" >&2 || die "cannot create $VENV"
    "$VENV/bin/pip" install -q -r "$REQUIREMENTS" >&2 || die "pip install -r $REQUIREMENTS failed"
fi
LITELLM_VERSION="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))')"
WANT_VERSION="$(sed -n 's/^litellm\[proxy\]==//p' "$REQUIREMENTS")"
[ "$LITELLM_VERSION" = "$WANT_VERSION" ] || die "LiteLLM $LITELLM_VERSION in $VENV, but $REQUIREMENTS pins $WANT_VERSION"
log "LiteLLM $LITELLM_VERSION ($VENV)"

build_gateway
new_run_dir litellm
RESULTS="$RUN_DIR/results.jsonl"
: >"$RESULTS"
cp "$GATEWAY_CONFIG" "$RUN_DIR/litellm-gateway.yaml"

export LL_GATEWAY_PORT LL_KREA_PORT
LL_GATEWAY_PORT="$(free_port)"
LL_KREA_PORT="$(free_port)"
while [ "$LL_KREA_PORT" = "$LL_GATEWAY_PORT" ]; do LL_KREA_PORT="$(free_port)"; done

# LiteLLM's environment: no logging but errors, and nothing fetched from the internet — the local
# cost map and local copies of everything else it would download; any other outbound HTTP is
# pointed at a closed loopback port (only 127.0.0.1 is reached directly).
litellm_env=(
    LITELLM_LOG=ERROR
    LITELLM_LOCAL_MODEL_COST_MAP=True
    LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS=True
    LITELLM_LOCAL_BLOG_POSTS=True
    LITELLM_LOCAL_AUTOROUTER_PRESETS=True
    LITELLM_LOCAL_POLICY_TEMPLATES=True
    LITELLM_DONT_SHOW_FEEDBACK_BOX=True
    HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9
    http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 all_proxy=http://127.0.0.1:9
    "NO_PROXY=127.0.0.1,localhost" "no_proxy=127.0.0.1,localhost"
)

# litellm_config BUDGET OUT: the config template with the simulator's port, key and a budget.
litellm_config() {
    sed -e "s|@SIM_PORT@|$LL_KREA_PORT|; s|@SIM_API_KEY@|$KREA_KEY|; s|@BUDGET_USD@|$1|; s|@MASTER_KEY@|$LITELLM_MASTER_KEY|" \
        "$LITELLM_TEMPLATE" >"$2"
}

# start_litellm NAME WORKERS CONFIG: sets LL_PID (= its process group) and LL_PORT.
start_litellm() {
    local name="$1" workers="$2" config="$3" t0 t1
    LL_PORT="$(free_port)"
    log "$name: starting the LiteLLM proxy ($workers worker(s)) on 127.0.0.1:$LL_PORT"
    t0="$(date +%s.%N)"
    (cd "$RUN_DIR" && exec env "${litellm_env[@]}" setsid "$VENV/bin/litellm" --config "$config" \
        --host 127.0.0.1 --port "$LL_PORT" --num_workers "$workers") >"$RUN_DIR/$name.log" 2>&1 &
    LL_PID=$!
    LITELLM_PGIDS+=("$LL_PID")
    STARTED_PIDS+=("$LL_PID")
    sleep 0.2
    [ "$(ps -o pgid= -p "$LL_PID" | tr -d ' ')" = "$LL_PID" ] || die "$name: LiteLLM is not the leader of its own process group"
    for _ in $(seq 1 1200); do
        kill -0 "$LL_PID" 2>/dev/null || { tail -n 30 "$RUN_DIR/$name.log" >&2; die "$name: LiteLLM exited at start-up"; }
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$LL_PORT/health/liveliness" 2>/dev/null)" = 200 ] && break
        sleep 0.1
    done
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$LL_PORT/health/liveliness")" = 200 ] \
        || { tail -n 30 "$RUN_DIR/$name.log" >&2; die "$name: LiteLLM not healthy after 120 s"; }
    t1="$(date +%s.%N)"
    LL_STARTUP_S="$(python3 -c "print(f'{$t1 - $t0:.1f}')")"
    log "$name: healthy after $LL_STARTUP_S s"
}

# Ticks of CPU used so far by a process group (LiteLLM: the CLI, its uvicorn master and workers).
group_ticks() {
    local pgid="$1" total=0 pid
    for pid in $(pgrep -g "$pgid" 2>/dev/null); do total=$((total + $(cpu_ticks "$pid"))); done
    echo "$total"
}
group_rss_kb() {
    local pgid="$1" total=0 pid
    for pid in $(pgrep -g "$pgid" 2>/dev/null); do total=$((total + $(rss_kb "$pid"))); done
    echo "$total"
}
front_ticks() { if [ "$1" = group ]; then group_ticks "$2"; else cpu_ticks "$2"; fi; }
front_rss() { if [ "$1" = group ]; then group_rss_kb "$2"; else rss_kb "$2"; fi; }

# wait_row_quiet HOW PID: before a row, wait (up to ROW_WAIT_S) until the rest of the machine — all
# but the front door and the simulator — used < QUIET_PCT % of one core over 3 s.
wait_row_quiet() {
    local how="$1" pid="$2" deadline=$((SECONDS + ROW_WAIT_S)) b0 b1 f0 f1 s0 s1 other tck
    tck="$(getconf CLK_TCK)"
    while :; do
        take_lock || true
        b0="$(busy_ticks)"; f0="$(front_ticks "$how" "$pid")"; s0="$(cpu_ticks "$SIM_PID")"
        sleep 3
        b1="$(busy_ticks)"; f1="$(front_ticks "$how" "$pid")"; s1="$(cpu_ticks "$SIM_PID")"
        other=$(((b1 - b0 - (f1 - f0) - (s1 - s0)) * 100 / (3 * tck)))
        [ "$other" -lt "$QUIET_PCT" ] && return 0
        if [ "$SECONDS" -ge "$deadline" ]; then log "still busy (${other} % of a core) after ${ROW_WAIT_S} s; measuring anyway"; return 0; fi
        log "something else uses ${other} % of a core; waiting"
        sleep 7
    done
}

# rate SIDE LABEL PORT PATH TOKEN C HOW PID: warm-up, then the measured wrk run; one line in
# results.jsonl. A run during which the rest of the machine used more than QUIET_PCT % of a core is
# measured again (at most ROW_ATTEMPTS times in all; the last attempt is kept and flagged if disturbed).
rate() {
    local side="$1" label="$2" port="$3" path="$4" token="$5" c="$6" how="$7" pid="$8"
    local name="rate-$side-c$c" f0 f1 s0 s1 b0 b1 wrk_cpu summary rss threads=2 attempt secs other tck
    tck="$(getconf CLK_TCK)"
    [ "$c" -ge 2 ] || threads=1
    wait_row_quiet "$how" "$pid"
    log "$name: warm-up $WARMUP"
    SUB_TOKEN="$token" SUB_BODY="$BODY" wrk -t"$threads" -c"$c" -d"$WARMUP" --timeout "$WRK_TIMEOUT" -s "$LUA" \
        "http://127.0.0.1:$port$path" >"$RUN_DIR/warmup-$name.txt" 2>&1 || die "wrk warm-up failed for $name"
    for attempt in $(seq 1 "$ROW_ATTEMPTS"); do
        [ "$attempt" = 1 ] || wait_row_quiet "$how" "$pid"
        log "$name: measuring $DURATION$([ "$attempt" = 1 ] || echo " (attempt $attempt)")"
        b0="$(busy_ticks)"; f0="$(front_ticks "$how" "$pid")"; s0="$(cpu_ticks "$SIM_PID")"
        { time SUB_TOKEN="$token" SUB_BODY="$BODY" wrk -t"$threads" -c"$c" -d"$DURATION" --latency --timeout "$WRK_TIMEOUT" -s "$LUA" \
            "http://127.0.0.1:$port$path" >"$RUN_DIR/wrk-$name.txt" 2>&1; } 2>"$RUN_DIR/wrk-cpu-$name.txt" || die "wrk failed for $name"
        f1="$(front_ticks "$how" "$pid")"; s1="$(cpu_ticks "$SIM_PID")"; b1="$(busy_ticks)"
        rss="$(front_rss "$how" "$pid")"
        kill -0 "$pid" 2>/dev/null || die "$name: the front door died during the run (see $RUN_DIR)"
        kill -0 "$SIM_PID" 2>/dev/null || die "$name: the simulator died during the run (see $RUN_DIR/simulator.log)"
        wrk_cpu="$(awk '{printf "%.3f", $1 + $2}' "$RUN_DIR/wrk-cpu-$name.txt")"
        summary="$(grep '^BENCH_SUMMARY ' "$RUN_DIR/wrk-$name.txt" | sed 's/^BENCH_SUMMARY //')"
        [ -n "$summary" ] || die "no summary in $RUN_DIR/wrk-$name.txt"
        cp "$RUN_DIR/wrk-$name.txt" "$RUN_DIR/wrk-$name.attempt$attempt.txt"
        grep -E 'Requests/sec|^ +(50|99)%|Non-2xx' "$RUN_DIR/wrk-$name.txt" | tr -s ' ' | paste -sd' ' | sed "s/^/    /" >&2
        secs="$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['duration_us'] / 1e6)" "$summary")"
        other="$(python3 -c "print(int(max(0, $b1 - $b0 - ($f1 - $f0) - ($s1 - $s0) - $wrk_cpu * $tck) / $tck / $secs * 100))")"
        [ "$other" -gt "$QUIET_PCT" ] || break
        log "$name: the rest of the machine used ${other} % of a core during the run"
    done
    printf '{"kind":"rate","side":"%s","label":"%s","path":"%s","c":%d,"attempts":%d,"front_ticks":%d,"sim_ticks":%d,"busy_ticks":%d,"wrk_cpu_s":%s,"clk_tck":%d,"rss_kb":%d,"wrk":%s}\n' \
        "$side" "$label" "$path" "$c" "$attempt" "$((f1 - f0))" "$((s1 - s0))" "$((b1 - b0))" "$wrk_cpu" "$tck" "${rss:-0}" "$summary" >>"$RESULTS"
}

# budget SIDE LABEL PORT PATH TOKEN: the budget test; its JSON in RUN_DIR/budget-SIDE.json.
budget() {
    local side="$1" label="$2" port="$3" path="$4" token="$5" inflight="${6:-$BUDGET_INFLIGHT}"
    log "budget-$side: $BUDGET_TOTAL submissions, $inflight in flight, budget $BUDGET_USD USD ($BUDGET_IMAGES images)"
    python3 "$BENCH_DIR/lib/litellm_budget.py" --port "$port" --path "$path" --key "$token" --body "$BODY" \
        --total "$BUDGET_TOTAL" --concurrency "$inflight" --json "$RUN_DIR/budget-$side.json" >&2 \
        || die "budget-$side: the budget client failed"
    python3 - "$RUN_DIR/budget-$side.json" "$side" "$label" "$path" <<'PY'
import json, sys
path, side, label, route = sys.argv[1:]
r = json.load(open(path))
r.update(side=side, label=label, path=route)
json.dump(r, open(path, "w"), indent=1)
PY
}

# take_lock: hold /tmp/quiet.lock ("litellm benchmark") as soon as nobody else does (others avoid
# starting builds while it exists); put it back if it disappeared while held. True when held.
take_lock() {
    if [ "$LOCK_HELD" = 1 ]; then
        [ -e "$LOCK" ] || echo "litellm benchmark" >"$LOCK"
        return 0
    fi
    [ -e "$LOCK" ] && return 1
    echo "litellm benchmark" >"$LOCK"
    LOCK_HELD=1
    log "holding $LOCK"
}

# Quiet machine: take the lock, then wait until the last 5 s used < 30 % of one core.
wait_quiet() {
    local deadline=$((SECONDS + QUIET_WAIT_S)) b0 b1 busy tck held
    tck="$(getconf CLK_TCK)"
    while :; do
        take_lock || true
        b0="$(busy_ticks)"; sleep 5; b1="$(busy_ticks)"
        busy=$(((b1 - b0) * 100 / (5 * tck)))
        held=""
        if [ "$LOCK_HELD" != 1 ]; then held="; $LOCK held by: $(head -c 80 "$LOCK" 2>/dev/null | tr -d '\n')"; fi
        if [ -z "$held" ] && [ "$busy" -lt 30 ]; then
            QUIET_NOTE="the machine was quiet when measuring began (${busy} % of one core busy over 5 s)"
            return 0
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            QUIET_NOTE="**the machine was not quiet** when measuring began (${busy} % of one core busy over 5 s$held); waited ${QUIET_WAIT_S} s, then measured anyway"
            log "warning: still busy after ${QUIET_WAIT_S} s; measuring anyway"
            return 0
        fi
        log "machine busy (${busy} % of one core over 5 s$held); waiting"
        sleep 25
    done
}

wait_quiet
MEASURE_LOADAVG="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- the upstream

log "starting the Krea simulator alone: krea-gateway demo --simulators-only --step-seconds $STEP_SECONDS (127.0.0.1:$LL_KREA_PORT)"
"$gateway_bin" demo --simulators-only --config "$GATEWAY_CONFIG" --step-seconds "$STEP_SECONDS" >"$RUN_DIR/simulator.log" 2>&1 &
SIM_PID=$!
STARTED_PIDS+=("$SIM_PID")
for _ in $(seq 1 300); do
    kill -0 "$SIM_PID" 2>/dev/null || { cat "$RUN_DIR/simulator.log" >&2; die "the simulator exited"; }
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$LL_KREA_PORT/jobs/none" 2>/dev/null)" = 401 ] && break
    sleep 0.1
done
check_post simulator-openai "$LL_KREA_PORT" /v1/images/generations "$KREA_KEY" "$BODY" 200

# ---------------------------------------------------------------- krea-gateway

# start_gateway_proc NAME: a fresh `krea-gateway serve` on a new free port (LL_GATEWAY_PORT); sets GW_PID.
start_gateway_proc() {
    local name="$1"
    LL_GATEWAY_PORT="$(free_port)"
    log "$name: starting krea-gateway serve (127.0.0.1:$LL_GATEWAY_PORT)"
    "$gateway_bin" serve --config "$GATEWAY_CONFIG" >"$RUN_DIR/$name.log" 2>&1 &
    GW_PID=$!
    STARTED_PIDS+=("$GW_PID")
    wait_healthy "$LL_GATEWAY_PORT" "$GW_PID" 60 || { tail -n 30 "$RUN_DIR/$name.log" >&2; die "$name: the gateway did not become healthy"; }
}

# Each rate row gets its own fresh gateway process (as in submission.sh): the gateway keeps every job
# it has seen in memory, LiteLLM keeps nothing per request.
for c in $CONCURRENCY; do
    start_gateway_proc "gateway-generations-c$c"
    check_post "gateway-generations-c$c" "$LL_GATEWAY_PORT" /v1/generations "$LOAD_KEY" "$BODY" 202
    rate gateway-generations "krea-gateway \`POST /v1/generations\` (202, async job)" \
        "$LL_GATEWAY_PORT" /v1/generations "$LOAD_KEY" "$c" pid "$GW_PID"
    stop_pid "$GW_PID"
    start_gateway_proc "gateway-openai-c$c"
    check_post "gateway-openai-c$c" "$LL_GATEWAY_PORT" /v1/images/generations "$LOAD_KEY" "$BODY" 200
    grep -q '"url":"https://gen.krea.ai/images/' "$RUN_DIR/gateway-openai-c$c.check.json" || die "the gateway's OpenAI answer has no image URL"
    rate gateway-openai "krea-gateway \`POST /v1/images/generations\` (waits for the image)" \
        "$LL_GATEWAY_PORT" /v1/images/generations "$LOAD_KEY" "$c" pid "$GW_PID"
    stop_pid "$GW_PID"
done

start_gateway_proc gateway-budget
budget gateway-generations "krea-gateway \`POST /v1/generations\`" "$LL_GATEWAY_PORT" /v1/generations "$BUDGET_KEY_GENERATIONS"
budget gateway-openai "krea-gateway \`POST /v1/images/generations\`" "$LL_GATEWAY_PORT" /v1/images/generations "$BUDGET_KEY_OPENAI"
sleep 1  # every admitted job completes within milliseconds; let the last settle
for pair in "gateway-generations:$BUDGET_KEY_GENERATIONS" "gateway-openai:$BUDGET_KEY_OPENAI"; do
    curl -s --max-time 5 -H "Authorization: Bearer ${pair#*:}" "http://127.0.0.1:$LL_GATEWAY_PORT/v1/usage" \
        >"$RUN_DIR/usage-${pair%%:*}.json" || die "GET /v1/usage failed"
done
kill -0 "$GW_PID" 2>/dev/null || die "the gateway died (see $RUN_DIR/gateway-budget.log)"
stop_pid "$GW_PID"

# ---------------------------------------------------------------- LiteLLM

litellm_config "$LOAD_BUDGET_USD" "$RUN_DIR/litellm-load.yaml"
litellm_config "$BUDGET_USD" "$RUN_DIR/litellm-budget.yaml"
declare -A LL_STARTUP
for w in $WORKERS; do
    start_litellm "litellm-w$w" "$w" "$RUN_DIR/litellm-load.yaml"
    LL_STARTUP[$w]="$LL_STARTUP_S"
    check_post "litellm-w$w" "$LL_PORT" /v1/images/generations "$LITELLM_MASTER_KEY" "$BODY" 200
    for c in $CONCURRENCY; do
        rate "litellm-w$w" "LiteLLM $LITELLM_VERSION \`POST /v1/images/generations\`, $w worker$([ "$w" = 1 ] || echo s)" \
            "$LL_PORT" /v1/images/generations "$LITELLM_MASTER_KEY" "$c" group "$LL_PID"
    done
    stop_litellm_group "$LL_PID"
done

# The budget test on a fresh proxy with 1 worker: the in-memory budget is per worker process.
start_litellm litellm-budget 1 "$RUN_DIR/litellm-budget.yaml"
LL_STARTUP[budget]="$LL_STARTUP_S"
budget litellm-w1 "LiteLLM $LITELLM_VERSION \`POST /v1/images/generations\`, 1 worker" "$LL_PORT" /v1/images/generations "$LITELLM_MASTER_KEY"
sleep 2  # LiteLLM adds spend in a success callback after answering; let it run
curl -s --max-time 5 -H "Authorization: Bearer $LITELLM_MASTER_KEY" "http://127.0.0.1:$LL_PORT/provider/budgets" \
    >"$RUN_DIR/litellm-provider-budgets.json" || die "GET /provider/budgets failed"
stop_litellm_group "$LL_PID"
# For reference, the same on another fresh proxy one request at a time: what its budget does without
# concurrency.
start_litellm litellm-budget-sequential 1 "$RUN_DIR/litellm-budget.yaml"
LL_STARTUP[budget-sequential]="$LL_STARTUP_S"
budget litellm-w1-sequential "LiteLLM $LITELLM_VERSION, 1 worker, **1 in flight** (reference)" "$LL_PORT" /v1/images/generations "$LITELLM_MASTER_KEY" 1
sleep 2
curl -s --max-time 5 -H "Authorization: Bearer $LITELLM_MASTER_KEY" "http://127.0.0.1:$LL_PORT/provider/budgets" \
    >"$RUN_DIR/litellm-sequential-provider-budgets.json" || die "GET /provider/budgets failed"
stop_litellm_group "$LL_PID"
stop_pid "$SIM_PID"
if [ "$LOCK_HELD" = 1 ]; then rm -f "$LOCK"; LOCK_HELD=0; fi

# ---------------------------------------------------------------- report

cat >"$RUN_DIR/meta.json" <<EOF
{"litellm_version": "$LITELLM_VERSION", "workers": "$WORKERS", "concurrency": "$CONCURRENCY",
 "duration": "$DURATION", "warmup": "$WARMUP", "budget_usd": "$BUDGET_USD", "budget_images": $BUDGET_IMAGES,
 "price_usd": "$PRICE_USD", "budget_total": $BUDGET_TOTAL, "budget_inflight": $BUDGET_INFLIGHT,
 "litellm_startup_s": {$(for k in "${!LL_STARTUP[@]}"; do printf '"%s": %s,' "$k" "${LL_STARTUP[$k]}"; done | sed 's/,$//')}}
EOF

status=0
python3 "$BENCH_DIR/lib/litellm_report.py" "$RUN_DIR" >"$RUN_DIR/tables.md" || status=$?
{
    echo "### krea-gateway vs. LiteLLM: the same routed, priced, budgeted image request"
    echo
    echo "Command: \`$(bench_command litellm.sh)\`"
    echo
    echo "Both front doors route the model name \`krea-2-medium\`, price it at $PRICE_USD USD per image, check a budget, and"
    echo "forward to **the same upstream process**: the Krea simulator run on its own,"
    echo "\`krea-gateway demo --simulators-only --config Benchmarks/config/litellm-gateway.yaml --step-seconds $STEP_SECONDS\`"
    echo "(step 0: a job is \`completed\` as soon as it exists). Per request:"
    echo
    echo "- **krea-gateway \`POST /v1/generations\`** (\`krea-gateway serve\`, same config, a fresh process for each row and one for the"
    echo "  budget test): authenticates the key, validates, prices,"
    echo "  reserves the price in the key's budget, submits to the simulator's Krea API (\`POST /generate/image/krea/krea-2/medium\`,"
    echo "  200 with a queued job), stores the job and answers **202** with it. In the background it then polls the job"
    echo "  (\`poll_interval_s: 0.001\`, no callbacks), sees it \`completed\` and turns the reservation into spend: two upstream calls"
    echo "  per request, the second after the answer (its CPU cost is in this row's CPU columns: the poll runs during the measurement)."
    echo "- **krea-gateway \`POST /v1/images/generations\`** (its OpenAI front door): the same, but the answer waits for that poll and"
    echo "  is **200 with the image URL** (\`{\"created\",\"data\":[{\"url\"}]}\`): both upstream calls before the answer."
    echo "- **LiteLLM $LITELLM_VERSION \`POST /v1/images/generations\`**: checks the master key, routes \`krea-2-medium\` to its"
    echo "  \`openai/krea-2-medium\` deployment, its router checks the route's budget, calls the simulator's OpenAI-compatible"
    echo "  \`POST /v1/images/generations\` (\`Sources/ProviderSimulators/Krea/OpenAIImagesEndpoint.swift\`: 200 with an image URL at once,"
    echo "  no job kept) and answers **200 with the image URL**; it prices the image (\`output_cost_per_image: 0.030\`) and adds it to"
    echo "  the budget's spend in a success callback. One upstream call per request."
    echo
    echo "LiteLLM setup (\`Benchmarks/config/litellm.yaml.template\`, \`pip install -r Benchmarks/requirements-litellm.txt\`):"
    echo "\`litellm --config <config> --host 127.0.0.1 --port <port> --num_workers <w>\` (uvicorn; its docs say to match the workers"
    echo "to the CPU count, \`$(nproc)\` here, so the rates are measured with 1 and with $(nproc)), \`LITELLM_LOG=ERROR\`, no callbacks, spend"
    echo "logs off, \`LITELLM_LOCAL_MODEL_COST_MAP=True\` and the other \`LITELLM_LOCAL_*\` switches so it fetches nothing, no database."
    echo "**Its budget is the router's in-memory budget**, \`router_settings.provider_budget_config\` on the \`openai\` provider, which"
    echo "serves only this route: LiteLLM's per-key, per-team and proxy-wide budgets need its Postgres database (prisma, whose engine"
    echo "it downloads at start-up — this machine has no internet); without one its proxy-wide \`max_budget\` is not enforced (LiteLLM"
    echo "logs a warning saying so when it is set). The router's budget is per worker process (shared only through Redis), so the budget test runs LiteLLM"
    echo "with 1 worker. The gateway keeps its ledger and jobs in memory too (\`state.dir: \"\"\`)."
    echo
    echo "Rates: \`SUB_TOKEN=<key> SUB_BODY='$BODY' wrk -t2 -c<c> -d$DURATION --latency --timeout $WRK_TIMEOUT -s Benchmarks/lib/submission.lua <url>\`"
    echo "after a $WARMUP warm-up on the same process, started once the rest of the machine has used < $QUIET_PCT % of a core for 3 s"
    echo "(waiting up to $ROW_WAIT_S s). wrk, the front door and the simulator share the machine's $(nproc) cores; the"
    echo "CPU columns are CPU time per answered request (LiteLLM: all its processes), \"other\" is what the rest of the machine used."
    echo "Budget: \`python3 Benchmarks/lib/litellm_budget.py --total $BUDGET_TOTAL --concurrency $BUDGET_INFLIGHT\` ($BUDGET_INFLIGHT threads, each"
    echo "with its own keep-alive connection, released together) against a budget of $BUDGET_USD USD = $BUDGET_IMAGES × $PRICE_USD."
    echo
    machine_info_md
    echo "- LiteLLM: $LITELLM_VERSION (Python $("$VENV/bin/python" -c 'import platform; print(platform.python_version())')); start-up to its first healthy answer: $(for k in $WORKERS budget budget-sequential; do printf '%s: %s s; ' "$(case "$k" in budget) echo 'budget-test proxy (1 worker)';; budget-sequential) echo 'sequential budget-test proxy';; *) echo "$k worker(s)";; esac)" "${LL_STARTUP[$k]}"; done | sed 's/; $//')"
    echo "- Whole tree: $(git -C "$REPO_ROOT" rev-parse --short HEAD)$( [ -n "$(git -C "$REPO_ROOT" status --porcelain 2>/dev/null)" ] && echo ' + uncommitted changes')"
    echo "- Measuring: $QUIET_NOTE; load average then $MEASURE_LOADAVG"
    echo
    cat "$RUN_DIR/tables.md"
    echo
    echo "Raw wrk output, logs, configs and the budget tests' JSON: \`${RUN_DIR#"$REPO_ROOT"/}/\` (git-ignored)."
} | tee "$RUN_DIR/report.md"
[ "$status" = 0 ] || log "error: a check failed (see the report above)"
exit "$status"
