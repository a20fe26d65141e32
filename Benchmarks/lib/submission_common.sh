# Shared by submission.sh and durability.sh: start a fresh `krea-gateway demo` (the Krea simulator
# in-process), check one request, and measure with wrk. The caller sets RUN_DIR, RESULTS, gateway_bin,
# STEP_SECONDS, WARMUP, DURATION, WRK_TIMEOUT, LUA, and GATEWAY_PATH/BENCH_KEY/GATEWAY_BODY (and
# DIRECT_PATH/KREA_KEY/DIRECT_BODY for the "direct" target).
# shellcheck shell=bash

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

