# shellcheck shell=bash disable=SC2034
# Shared helpers for Benchmarks/*.sh (sourced, not run).
#
# Environment knobs, all optional:
#   BENCH_SERVERS      which servers to run, in order (default: "gateway nginx hummingbird")
#   GATEWAY_BIN        use this krea-gateway binary as is (no build)
#   GATEWAY_SCRATCH    scratch path for building the gateway (default: <repo>/.build)
#   HUMMINGBIRD_BIN    use this hummingbird-hello binary as is (no build)
#   BENCH_SKIP_BUILD=1 don't run `swift build` (binaries must already exist at the default paths)
#
# Everything listens on 127.0.0.1 only; nothing here sends traffic anywhere else.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
RESULTS_DIR="$BENCH_DIR/results"
mkdir -p "$RESULTS_DIR"

BENCH_STARTED_AT="$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
BENCH_LOADAVG="$(cut -d' ' -f1-3 /proc/loadavg)"

# The knobs this run was given, as they would be typed before the script's name.
BENCH_ENV_PREFIX=""
# note_knobs VAR...: adds each variable that is set to BENCH_ENV_PREFIX (each script names its own).
note_knobs() {
    local v
    for v in "$@"; do
        if [ -n "${!v+x}" ]; then BENCH_ENV_PREFIX+="$v=\"${!v}\" "; fi
    done
}
note_knobs BENCH_SERVERS BENCH_CONCURRENCY BENCH_DURATION BENCH_WARMUP IDLE_CONNECTIONS IDLE_PROBES \
           IDLE_TIMEOUT_S GATEWAY_BIN GATEWAY_SCRATCH HUMMINGBIRD_BIN BENCH_SKIP_BUILD
# bench_command SCRIPT: the exact command line of this run, for the report.
bench_command() { echo "${BENCH_ENV_PREFIX}Benchmarks/$1"; }

BENCH_SERVERS="${BENCH_SERVERS:-gateway nginx hummingbird}"
HEALTH_BODY='{"status":"ok"}'

# Temp dir for nginx prefix, logs of this run, etc.; removed on exit.
BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/krea-bench.XXXXXX")"
STARTED_PIDS=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

bench_cleanup() {
    local pid
    for pid in "${STARTED_PIDS[@]:-}"; do
        [ -n "$pid" ] || continue
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${STARTED_PIDS[@]:-}"; do
        [ -n "$pid" ] || continue
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    STARTED_PIDS=()
    rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# Stop one server we started (by pid) and forget it.
stop_pid() {
    local pid="$1" p
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    local keep=()
    for p in "${STARTED_PIDS[@]:-}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    STARTED_PIDS=("${keep[@]:-}")
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Raise the open-file limit as far as the hard limit allows (servers inherit it).
raise_nofile() {
    local want="${1:-20000}" hard
    hard="$(ulimit -Hn)"
    if [ "$hard" != "unlimited" ] && [ "$hard" -lt "$want" ]; then want="$hard"; fi
    ulimit -n "$want" || die "cannot raise ulimit -n to $want"
}

cpu_model() { grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'; }

# How an idle CPU waits, when the kernel says: in a VM, waking a halted vCPU costs tens of µs unless
# the guest polls a while before halting (cpuidle-haltpoll, `guest_halt_poll_ns`; the kernel's
# default is 200000), and every c = 1 latency here crosses CPUs several times per request.
idle_info_md() {
    local dir=/sys/devices/system/cpu/cpuidle params=/sys/module/haltpoll/parameters line
    [ -r "$dir/current_driver" ] || return 0
    line="- CPU idle: driver \`$(cat "$dir/current_driver")\`, governor \`$(cat "$dir/current_governor_ro" 2>/dev/null || cat "$dir/current_governor" 2>/dev/null || echo '?')\`"
    if [ -r "$params/guest_halt_poll_ns" ]; then
        line="$line; guest halt polling: \`guest_halt_poll_ns\` = $(cat "$params/guest_halt_poll_ns")"
    fi
    echo "$line"
}

# Markdown bullet list describing the machine and tool versions.
machine_info_md() {
    echo "- Date: $BENCH_STARTED_AT"
    echo "- Machine: \`nproc\` = $(nproc), CPU: $(cpu_model), memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "- Load average (1/5/15 min) when the script started: $BENCH_LOADAVG"
    echo "- Kernel: $(uname -sr); $(grep -m1 PRETTY_NAME /etc/os-release 2>/dev/null | cut -d= -f2 | tr -d '"')"
    idle_info_md
    echo "- Tools: $(swift --version 2>/dev/null | head -1 | sed 's/ (.*//'); $(nginx -v 2>&1 | sed 's/.*: //'); wrk $(wrk --version 2>&1 | head -1 | awk '{print $2}'); Python $(python3 -c 'import platform; print(platform.python_version())')"
    local rev
    rev="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || true)"
    echo "- Gateway source: ${rev:-no commit yet}$( [ -n "$(git -C "$REPO_ROOT" status --porcelain -- Sources Package.swift 2>/dev/null)" ] && echo ' (with uncommitted changes)')"
}

# ---------------------------------------------------------------- builds

gateway_bin=""
hummingbird_bin=""

build_gateway() {
    if [ -n "${GATEWAY_BIN:-}" ]; then
        gateway_bin="$GATEWAY_BIN"
    else
        local scratch="${GATEWAY_SCRATCH:-$REPO_ROOT/.build}"
        if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
            log "building krea-gateway (release, scratch $scratch)"
            swift build -c release --product krea-gateway --package-path "$REPO_ROOT" --scratch-path "$scratch" >&2 \
                || die "gateway build failed"
        fi
        gateway_bin="$(swift build -c release --package-path "$REPO_ROOT" --scratch-path "$scratch" --show-bin-path)/krea-gateway"
    fi
    [ -x "$gateway_bin" ] || die "no gateway binary at $gateway_bin"
}

build_hummingbird() {
    if [ -n "${HUMMINGBIRD_BIN:-}" ]; then
        hummingbird_bin="$HUMMINGBIRD_BIN"
    else
        local pkg="$BENCH_DIR/hummingbird-hello"
        if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
            log "building hummingbird-hello (release)"
            swift build -c release --package-path "$pkg" --scratch-path "$pkg/.build" >&2 \
                || die "hummingbird-hello build failed"
        fi
        hummingbird_bin="$(swift build -c release --package-path "$pkg" --scratch-path "$pkg/.build" --show-bin-path)/hummingbird-hello"
    fi
    [ -x "$hummingbird_bin" ] || die "no hummingbird-hello binary at $hummingbird_bin"
}

build_servers() {
    local s
    for s in $BENCH_SERVERS; do
        case "$s" in
            gateway) build_gateway ;;
            hummingbird) build_hummingbird ;;
            nginx) command -v nginx >/dev/null || die "nginx not installed (apt-get install nginx-light)" ;;
            *) die "unknown server '$s' in BENCH_SERVERS" ;;
        esac
    done
}

# ---------------------------------------------------------------- servers

# start_server NAME PORT LOGFILE -> sets SERVER_PID (the process whose RSS we read; for nginx the master)
start_server() {
    local name="$1" port="$2" logf="$3"
    case "$name" in
        gateway)
            BENCH_PORT="$port" "$gateway_bin" serve --config "$BENCH_DIR/config/bench.yaml" >"$logf" 2>&1 &
            SERVER_PID=$!
            ;;
        hummingbird)
            "$hummingbird_bin" "$port" >"$logf" 2>&1 &
            SERVER_PID=$!
            ;;
        nginx)
            local prefix="$BENCH_TMP/nginx-$port"
            mkdir -p "$prefix"
            sed -e "s|@PORT@|$port|g" -e "s|@PREFIX@|$prefix|g" \
                "$BENCH_DIR/nginx/nginx.conf.template" >"$prefix/nginx.conf"
            nginx -p "$prefix" -c "$prefix/nginx.conf" -e stderr >"$logf" 2>&1 &
            SERVER_PID=$!
            ;;
        *) die "unknown server $name" ;;
    esac
    STARTED_PIDS+=("$SERVER_PID")
}

# wait_healthy PORT PID [TIMEOUT_S]: until GET /healthz answers 200
wait_healthy() {
    local port="$1" pid="$2" timeout="${3:-30}"
    for _ in $(seq 1 $((timeout * 10))); do
        kill -0 "$pid" 2>/dev/null || return 1
        if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/healthz" 2>/dev/null)" = 200 ]; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# check_response NAME PORT: the route must answer exactly the same thing on every server.
check_response() {
    local name="$1" port="$2" hdrs body ctype
    hdrs="$BENCH_TMP/hdrs-$name"
    body="$(curl -s --max-time 5 -D "$hdrs" "http://127.0.0.1:$port/healthz")" || die "$name: GET /healthz failed"
    [ "$body" = "$HEALTH_BODY" ] || die "$name: /healthz body is '$body', expected '$HEALTH_BODY'"
    ctype="$(grep -i '^content-type:' "$hdrs" | tr -d '\r' | sed 's/^[^:]*: *//')"
    case "$ctype" in
        application/json*) ;;
        *) die "$name: /healthz Content-Type is '$ctype', expected application/json" ;;
    esac
    { echo "== $name GET /healthz"; tr -d '\r' <"$hdrs"; echo "$body"; } >&2
}

# Start every server in BENCH_SERVERS; fills PORTS[name], PIDS[name].
declare -A PORTS PIDS
start_all() {
    local s port
    for s in $BENCH_SERVERS; do
        port="$(free_port)"
        log "starting $s on 127.0.0.1:$port"
        start_server "$s" "$port" "$RUN_DIR/$s.log"
        wait_healthy "$port" "$SERVER_PID" 60 || { cat "$RUN_DIR/$s.log" >&2; die "$s did not become healthy on port $port"; }
        check_response "$s" "$port"
        PORTS[$s]="$port"
        PIDS[$s]="$SERVER_PID"
    done
}

server_label() {
    case "$1" in
        gateway) echo "krea-gateway (ours)" ;;
        nginx) echo "nginx $(nginx -v 2>&1 | sed 's|.*nginx/||') (1 worker)" ;;
        hummingbird) echo "Hummingbird 2.28.1" ;;
        *) echo "$1" ;;
    esac
}

# RUN_DIR: raw outputs of this run, under Benchmarks/results/ (git-ignored).
new_run_dir() {
    RUN_DIR="$RESULTS_DIR/$1-$(date -u +%Y%m%dT%H%M%SZ)"
    mkdir -p "$RUN_DIR"
    log "raw output in ${RUN_DIR#"$REPO_ROOT"/}"
}
