#!/usr/bin/env bash
# Thread hand-off: what it costs on this machine to wake a thread that sleeps in epoll_wait, as the
# gateway's loops and AsyncHTTPClient's loop do. Two threads pass a token through eventfds
# (Benchmarks/lib/handoff.c), free to run on any CPU, then both pinned to CPU 0 (taskset). Every
# submission through the gateway crosses threads four times more than one straight to the provider
# (gateway loop → provider-client loop → provider → provider-client loop → gateway loop): part of
# what the gateway adds at c = 1 on a given host (Benchmarks/submission.sh).
#
#   Benchmarks/handoff.sh
#
# Knobs (environment): HANDOFF_ROUNDS (round trips per measurement, default 20000),
# HANDOFF_REPEATS (measurements of each kind, default 5). Needs a C compiler (cc) and taskset.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

ROUNDS="${HANDOFF_ROUNDS:-20000}"
REPEATS="${HANDOFF_REPEATS:-5}"
note_knobs HANDOFF_ROUNDS HANDOFF_REPEATS
command -v cc >/dev/null || die "no C compiler (apt-get install gcc)"
command -v taskset >/dev/null || die "taskset not installed (util-linux)"
new_run_dir handoff
BIN="$RUN_DIR/handoff"
cc -O2 -pthread -o "$BIN" "$BENCH_DIR/lib/handoff.c"

free=() pinned=()
for _ in $(seq 1 "$REPEATS"); do
    free+=("$("$BIN" "$ROUNDS")")
    pinned+=("$(taskset -c 0 "$BIN" "$ROUNDS")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

{
    echo "### Thread hand-off: waking a thread that waits in epoll_wait"
    echo
    echo "Command: \`$(bench_command handoff.sh)\`"
    echo
    echo "Two threads pass a token back and forth $ROUNDS times through eventfds, each waiting in \`epoll_wait\`"
    echo "(\`Benchmarks/lib/handoff.c\`, \`cc -O2\`); a round trip is two hand-offs. $REPEATS measurements of each kind,"
    echo "alternating; the threads free to run on any CPU, then both on CPU 0 (\`taskset -c 0\`)."
    echo
    machine_info_md
    echo
    echo "| threads | round trips (µs, each measurement) | median round trip | one hand-off |"
    echo "|---|---|---:|---:|"
    m=$(median "${free[@]}"); echo "| any CPU | ${free[*]} | $m µs | $(awk -v m="$m" 'BEGIN {printf "%.1f", m / 2}') µs |"
    m=$(median "${pinned[@]}"); echo "| one CPU | ${pinned[*]} | $m µs | $(awk -v m="$m" 'BEGIN {printf "%.1f", m / 2}') µs |"
    echo
    echo "A submission through the gateway hands off four times more than one straight to the provider;"
    echo "at c = 1 each hand-off is on the critical path."
} | tee "$RUN_DIR/report.md"
