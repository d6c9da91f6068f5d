#!/usr/bin/env bash
# The web UI of `kload run` (without --headless) against the demo target: how long from the
# command to the UI answering, the size of the page's snapshot for scenarios/kibray.kload, and
# the CPU kload uses while the UI waits with a page connected (no test) and while it serves a
# test of the guide's "Basic Test" (100 users at 10 per second).
#
#   bench/webui.sh [-n STARTS] [-i IDLE_SECONDS] [-s STEADY_SECONDS]
#
# Defaults: -n 5 starts (the median is printed), -i 30 s idle, -s 30 s of test before the
# snapshot is measured. KLOAD_BIN (target/release/kload) is the binary; a debug build gives
# larger CPU figures. Everything listens on 127.0.0.1. A page is stood in for by curl reading
# GET /events (the stream the page reads): the server does the same work for it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STARTS=5
IDLE=30
STEADY=30
while getopts "n:i:s:h" opt; do
    case "$opt" in
        n) STARTS="$OPTARG" ;;
        i) IDLE="$OPTARG" ;;
        s) STEADY="$OPTARG" ;;
        *) sed -n '2,12p' "$0"; exit 2 ;;
    esac
done
bench_setup webui
cd "$REPO_DIR"
command -v curl >/dev/null || apt_install curl
[[ -x "$KLOAD_BIN" ]] || { say "no $KLOAD_BIN: cargo build --release (or set KLOAD_BIN)"; exit 1; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

now_ms() { date +%s%3N; }
# CPU time of a process's threads in ns (schedstat: finer than the 10 ms ticks of stat).
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ ns += $1 } END { printf "%.0f", ns }'; }
wait_line() {   # FILE PATTERN: waits up to 20 s for a line
    for _ in $(seq 1 2000); do
        grep -q "$2" "$1" && return 0
        sleep 0.01
    done
    say "no \"$2\" in $1"; cat "$1" >&2; exit 1
}

"$KLOAD_BIN" demo --serve --port 0 >"$WORK/demo.log" 2>&1 &
pids+=($!)
wait_line "$WORK/demo.log" 'serving the Kibray API at http://'
target="$(sed -n 's/.*serving the Kibray API at \(http:[^ ]*\).*/\1/p' "$WORK/demo.log")"

# Start-up: from the command to the first 200 from GET / (the URL is read from its line).
times=()
for i in $(seq 1 "$STARTS"); do
    log="$WORK/start-$i.log"
    t0="$(now_ms)"
    "$KLOAD_BIN" run scenarios/kibray.kload -H "$target" -P 0 >/dev/null 2>"$log" &
    pid=$!
    wait_line "$log" '^web UI: http://'
    url="$(sed -n 's/^web UI: \(http:[^ ]*\) .*/\1/p' "$log")"
    until curl -fso /dev/null "$url/"; do sleep 0.005; done
    times+=($(( $(now_ms) - t0 )))
    kill -INT "$pid"; wait "$pid" || true
done
sorted="$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')"
median="$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (STARTS + 1) / 2 ))p")"
echo "start to the UI answering: median ${median} ms (of ${STARTS}: ${sorted% })"

# One UI for the rest.
log="$WORK/ui.log"
"$KLOAD_BIN" run scenarios/kibray.kload -H "$target" -P 0 >"$WORK/ui.out" 2>"$log" &
ui=$!
pids+=($ui)
wait_line "$log" '^web UI: http://'
url="$(sed -n 's/^web UI: \(http:[^ ]*\) .*/\1/p' "$log")"
curl -fso /dev/null "$url/"

idle_cpu() {   # LABEL: kload's CPU over IDLE seconds, as a share of one core
    local before after
    before="$(cpu_ns "$ui")"
    sleep "$IDLE"
    after="$(cpu_ns "$ui")"
    awk -v t=$(( after - before )) -v s="$IDLE" -v l="$1" \
        'BEGIN { printf "CPU %s: %.3f %% of a core (%.1f ms over %d s)\n", l, 100 * t / 1e9 / s, t / 1e6, s }'
}
idle_cpu "of an idle UI, no page"
curl -sN "$url/events" >"$WORK/events-idle.txt" &
reader=$!
pids+=($reader)
idle_cpu "of an idle UI, a page connected"
kill "$reader"
echo "snapshot before a test: $(curl -fs "$url/snapshot" | wc -c) bytes"

curl -fs -X POST "$url/swarm" -d user_count=100 -d spawn_rate=10 >/dev/null
say "the guide's Basic Test: 100 users at 10/s for ${STEADY} s"
sleep "$STEADY"
curl -fs "$url/snapshot" >"$WORK/snapshot.json"
bytes="$(wc -c <"$WORK/snapshot.json")"
gz="$(gzip -c "$WORK/snapshot.json" | wc -c)"
rows="$(grep -o '"median_response_time"' "$WORK/snapshot.json" | wc -l)"
points="$(grep -o '"rps"' "$WORK/snapshot.json" | wc -l)"
echo "snapshot after ${STEADY} s of the test: ${bytes} bytes (${gz} gzipped; ${rows} rows with Aggregated, ${points} chart points)"
users="$(curl -fs "$url/stats/requests" | sed -n 's/.*"user_count": *\([0-9]*\).*/\1/p')"
before="$(cpu_ns "$ui")"
sleep 10
after="$(cpu_ns "$ui")"
awk -v t=$(( after - before )) -v u="$users" \
    'BEGIN { printf "CPU of kload running the test (%s users, load generation included): %.1f %% of a core\n", u, 100 * t / 1e9 / 10 }'
curl -fs "$url/stop" >/dev/null
kill -INT "$ui"
wait "$ui" || true
