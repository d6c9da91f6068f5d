#!/usr/bin/env bash
# User-space instructions per request of kload and oha, counted by valgrind (callgrind).
#
#   bench/instructions.sh [-t kload,oha] [-c CONNECTIONS]
#
# Timing figures on a shared virtual machine move by ±10 % from run to run; an instruction count
# does not. Each tool runs twice under callgrind against the same one-worker nginx, for 2 s and
# for 5 s, with -c connections (50). The difference in instructions divided by the difference in
# requests is the cost of one more request: start-up, parsing the scenario and writing the
# report cancel out. Counts instructions, not time (a cache miss or a lock costs more than its
# instructions), so use it to compare changes and tools, next to peers.sh for the time.
#
# Needs valgrind (installed with apt if missing). Load goes to 127.0.0.1 only.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONC=50
TOOLS="kload,oha"
while getopts "t:c:h" opt; do
    case "$opt" in
        t) TOOLS="$OPTARG" ;;
        c) CONC="$OPTARG" ;;
        *) sed -n '2,13p' "$0"; exit 2 ;;
    esac
done
bench_setup instructions
cd "$REPO_DIR"
ensure_base
command -v valgrind >/dev/null || apt_install valgrind
trap '"$BENCH_DIR/nginx.sh" stop || true' EXIT
PORT=$("$BENCH_DIR/nginx.sh" start | sed -n 's/^PORT=\([0-9]*\).*/\1/p')
URL="http://127.0.0.1:$PORT"

# run TOOL SECONDS: prints "REQUESTS INSTRUCTIONS" (requests as counted by nginx)
run() {
    local tool=$1 secs=$2 before after out
    before=$("$BENCH_DIR/nginx.sh" requests)
    case "$tool" in
        kload) out=$(timeout $((secs + 120)) valgrind --tool=callgrind --callgrind-out-file=/dev/null \
            "$KLOAD" run "$BENCH_DIR/one-request.kload" --host "$URL" -u "$CONC" -r 1000 \
            -t "${secs}s" --headless --only-summary 2>&1) ;;
        oha) out=$(timeout $((secs + 120)) valgrind --tool=callgrind --callgrind-out-file=/dev/null \
            "$OHA_BIN" -z "${secs}s" -c "$CONC" --no-tui "$URL/" 2>&1) ;;
    esac
    after=$("$BENCH_DIR/nginx.sh" requests)
    echo "$((after - before)) $(echo "$out" | sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | head -1)"
}

echo "| tool | requests (2 s / 5 s) | **instructions per request** |"
echo "|---|---:|---:|"
for tool in ${TOOLS//,/ }; do
    case "$tool" in
        kload) if ! KLOAD=$(resolve_kload); then echo "| kload | skipped: $KLOAD | |"; continue; fi ;;
        oha) if ! ensure_oha; then echo "| oha | skipped: not installed (INSTALL_OHA=1) | |"; continue; fi ;;
        *) echo "unknown tool $tool" >&2; exit 2 ;;
    esac
    read -r r2 i2 < <(run "$tool" 2)
    read -r r5 i5 < <(run "$tool" 5)
    if (( r5 <= r2 )) || [[ -z "$i2" || -z "$i5" ]]; then
        echo "| $tool | $r2 / $r5 | failed (no requests or no count) |"
        continue
    fi
    echo "| $tool | $r2 / $r5 | **$(( (i5 - i2) / (r5 - r2) ))** |"
done
