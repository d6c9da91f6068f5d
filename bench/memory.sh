#!/usr/bin/env bash
# Memory per mostly-idle user: peak RSS with 1 user and with N users, each user doing one GET and
# then sleeping 1 s, each on its own keep-alive connection, held ~HOLD s after full ramp-up.
#
#   bench/memory.sh [-n USERS[,USERS...]] [-H HOLD_SECONDS] [-t kload,locust,oha] [-s] [-o results/FILE.json]
#
# Defaults: -n 10000, -H 20, -t kload,locust,oha. Reports (peakRSS(N) - peakRSS(1)) / (N - 1) in KiB,
# and the same divided by the users actually reached (peak count of ESTABLISHED connections at
# nginx, sampled every second with ss), since a tool may not ramp all the way on one core.
# "TCP conns opened" (distinct connections in nginx's access log) should equal the users: more
# means the tool reconnects instead of keeping one keep-alive connection per user.
# The generator is pinned to CPU $LOAD_CPU (0), nginx to CPU $NGINX_CPU (1).
#
#   kload : KLOAD_BIN run bench/idle-users.kload --users N --spawn-rate 2000 --run-time T ...
#   locust: IdleUser (FastHttpUser, wait_time = constant(1)) from bench/locustfile.py, -r 2000
#   locust-noca: IdleUserNoCA, the same without geventhttpclient's per-user CA bundle (for -s: see
#           bench/locustfile.py; over HTTP it is IdleUser)
#   oha   : -c N -q N (N connections sharing N req/s, so ~1 req/s each). Reference only: oha keeps
#           every request's result in memory, so its RSS also grows with the request count.
#
# -s: the same over HTTPS (nginx with BENCH_TLS=1: HTTP/1.1 over TLS, self-signed certificate, see
#     bench/nginx.sh): every user holds its own TLS connection. kload and oha get --insecure; Locust's
#     FastHttpUser does not verify certificates (IdleUser sets insecure = True).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

USERS_LIST="10000"
HOLD=20
TOOLS="kload,locust,oha"
OUT=""
RATE=2000
SCHEME=http
while getopts "n:H:t:o:sh" opt; do
    case "$opt" in
        n) USERS_LIST="$OPTARG" ;;
        H) HOLD="${OPTARG%s}" ;;
        t) TOOLS="$OPTARG" ;;
        o) OUT="$OPTARG" ;;
        s) SCHEME=https ;;
        *) sed -n '2,23p' "$0"; exit 2 ;;
    esac
done
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="${OUT:-$BENCH_DIR/results/memory-$STAMP.json}"
bench_setup memory   # sets WORK and BENCH_NGINX_PREFIX, takes the bench lock
cd "$REPO_DIR"

ensure_base
INSECURE=()
if [[ "$SCHEME" == https ]]; then
    command -v openssl >/dev/null || apt_install openssl
    export BENCH_TLS=1
    INSECURE=(--insecure)
fi
ulimit -n "$(ulimit -Hn)"   # the generator needs one fd per user
trap '"$BENCH_DIR/nginx.sh" stop || true; [[ -n "${SAMPLER:-}" ]] && kill "$SAMPLER" 2>/dev/null || true' EXIT
PORT=$("$BENCH_DIR/nginx.sh" start | sed -n 's/^PORT=\([0-9]*\).*/\1/p')
URL="$SCHEME://127.0.0.1:$PORT"
say "nginx on $URL; users ${USERS_LIST}; hold ${HOLD}s after ramp-up at $RATE users/s; fd limit $(ulimit -n)"

ROWS="$WORK/rows.jsonl"
: >"$ROWS"

# Background sampler: "seconds established_connections" once a second at nginx's port.
start_sampler() {
    local f="$1"
    (
        while sleep 1; do
            echo "$SECONDS $(ss -Htn state established "( sport = :$PORT )" | wc -l)"
        done
    ) >"$f" &
    SAMPLER=$!
}
stop_sampler() { kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; SAMPLER=""; }

# one_run TOOL USERS RUNTIME_S -> sets R_RSS_KB R_CONNS R_RPS (and M_* from measure)
one_run() {
    local tool="$1" n="$2" rt="$3" name="$1-$2"
    start_sampler "$WORK/$name.conns"
    case "$tool" in
        kload)
            measure "$name" -- "$KLOAD" run "$BENCH_DIR/idle-users.kload" --host "$URL" "${INSECURE[@]}" \
                --users "$n" --spawn-rate "$RATE" --run-time "${rt}s" --headless --only-summary ;;
        locust|locust-noca)
            local class=IdleUser
            [[ "$tool" == locust-noca ]] && class=IdleUserNoCA
            measure "$name" -- "$VENV/bin/locust" -f "$BENCH_DIR/locustfile.py" "$class" --headless \
                -u "$n" -r "$RATE" -t "${rt}s" -H "$URL" --only-summary --loglevel WARNING ;;
        oha)
            measure "$name" -- "$OHA_BIN" "${INSECURE[@]}" -c "$n" -q "$n" -z "${rt}s" --no-tui "$URL/" ;;
    esac
    stop_sampler
    R_RSS_KB="$M_RSS_KB"
    R_CONNS=$(awk 'BEGIN {m=0} $2>m {m=$2} END {print m}' "$WORK/$name.conns")
    R_RPS=$(python3 -c "print(round($M_NGINX_REQ/max($M_WALL,0.001)))")
    say "$name: rc=$M_RC peak RSS ${R_RSS_KB} KiB, peak connections $R_CONNS, $M_NGINX_REQ requests (${R_RPS}/s), CPU ${M_CPU}s in ${M_WALL}s"
}

skip() {
    echo "$1: skipped ($2)"
    python3 -c 'import json,sys; print(json.dumps(dict(tool=sys.argv[1], status="skipped", note=sys.argv[2])))' "$1" "$2" >>"$ROWS"
}

IFS=, read -ra TOOL_LIST <<<"$TOOLS"
IFS=, read -ra NS <<<"$USERS_LIST"
for tool in "${TOOL_LIST[@]}"; do
    case "$tool" in
        kload) if ! KLOAD=$(resolve_kload); then skip kload "$KLOAD"; continue; fi ;;
        locust|locust-noca) ensure_locust ;;
        oha) if ! ensure_oha; then skip oha "not installed: cargo install oha --locked, or INSTALL_OHA=1"; continue; fi ;;
        *) skip "$tool" "unknown tool"; continue ;;
    esac
    for n in "${NS[@]}"; do
        rt=$(( (n + RATE - 1) / RATE + HOLD ))
        MEASURE_TIMEOUT=$((rt + 60))
        one_run "$tool" 1 "$rt"
        if [[ "$M_RC" != 0 || "$M_NGINX_REQ" -lt 1 ]]; then
            skip "$tool" "1-user run failed (exit $M_RC, $M_NGINX_REQ requests): $(grep -v '^\s*$' "$WORK/$tool-1.out" | tail -1 | cut -c1-160)"
            continue 2
        fi
        rss1="$R_RSS_KB"; conns1="$R_CONNS"; cpu1="$M_CPU"
        sleep 2
        one_run "$tool" "$n" "$rt"
        status=ok
        [[ "$M_RC" == 0 ]] || status="exit $M_RC"
        python3 - >>"$ROWS" <<EOF
import json
n, reached = $n, $R_CONNS
d = $R_RSS_KB - $rss1
print(json.dumps(dict(tool="$tool", scheme="$SCHEME", status="$status", users=n, run_time_s=$rt, hold_s=$HOLD, spawn_rate=$RATE,
    rss1_kb=$rss1, rssN_kb=$R_RSS_KB, conns1=$conns1, connsN_peak=reached,
    kb_per_user=round(d / (n - 1), 1), kb_per_reached_user=round(d / (reached - 1), 1) if reached > 1 else None,
    requests_nginx=$M_NGINX_REQ, req_per_s=$R_RPS, non200=$M_LOG_NON200, tcp_connections_opened=$M_LOG_CONNS, cpu1_s=$cpu1, cpuN_s=$M_CPU, wallN_s=$M_WALL,
    load_cpu_other_pct=$M_CPU0_OTHER_PCT)))
EOF
        sleep 2
    done
done

mkdir -p "$(dirname "$OUT")"
SCHEME="$SCHEME" python3 - "$ROWS" "$OUT" "$STAMP" <<'EOF'
import json, os, sys
rows_f, out, stamp = sys.argv[1:]
rows = [json.loads(l) for l in open(rows_f)]
json.dump(dict(kind="memory", timestamp=stamp, scheme=os.environ.get("SCHEME", "http"), loadavg_at_end=open("/proc/loadavg").read().split()[:3],
               results=rows), open(out, "w"), indent=2)
print()
print(f"{os.environ.get('SCHEME', 'http').upper()}; load average at end {' '.join(open('/proc/loadavg').read().split()[:3])}")
print()
print("| tool | users asked | users reached (peak conns) | peak RSS 1 user MiB | peak RSS N users MiB | **KiB / user** | KiB / reached user | TCP conns opened at N | req/s at N | CPU s at N | note |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for r in rows:
    if r["status"] == "skipped":
        print(f"| {r['tool']} | skipped: {r['note']} |" + " |" * 9)
        continue
    kr = "–" if r["kb_per_reached_user"] is None else r["kb_per_reached_user"]
    print(f"| {r['tool']} | {r['users']:,} | {r['connsN_peak']:,} | {r['rss1_kb']/1024:.1f} | {r['rssN_kb']/1024:.1f} | **{r['kb_per_user']}** | {kr} "
          f"| {r['tcp_connections_opened']:,} | {r['req_per_s']:,} | {r['cpuN_s']} | {r['status']} |")
print()
print(f"JSON: {out}")
EOF
