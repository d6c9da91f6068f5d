#!/usr/bin/env bash
# HTTPS load generation against one nginx worker (bench/nginx.sh with BENCH_TLS=1: HTTP/1.1 over TLS,
# self-signed EC P-256 certificate, session tickets on), oha vs kload, one tool after another.
#
#   bench/tls.sh [-d SECONDS] [-c CONNECTIONS] [-m keepalive,close] [-t oha,kload] [-r ROUNDS] [-o results/FILE.json]
#
# Modes:
#   keepalive  each connection is kept for the whole run (one TLS handshake per connection):
#              oha --insecure -c C -z Ds --no-tui; kload run bench/one-request.kload --insecure -u C.
#              Measures the cost of a request over an established TLS connection (req / CPU-s).
#   close      a new connection, hence a new TLS handshake, for every request:
#              oha --disable-keepalive; kload run bench/one-request-close.kload (`Connection: close`,
#              so nginx closes after each response and kload reconnects). Measures the handshake's
#              cost: req / CPU-s and CPU-µs of the generator per new TLS connection.
# With -r N the runs are interleaved (round 1: keepalive oha, keepalive kload, close oha, close kload;
# round 2: ...) and a summary gives median and range, and kload / oha per round.
#
# The TLS connections a tool opened, and how many of them resumed a TLS session (nginx's
# $ssl_session_reused), are counted in nginx's access log; in close mode they should equal the requests.
# BENCH_TLS_RESUME=off makes nginx refuse resumption (no tickets, no session cache): full handshakes only.
#
# Environment: as bench/peers.sh (KLOAD_BIN, OHA_BIN, BENCH_RT=1, BENCH_NICE, LOAD_CPU, NGINX_CPU,
# INSTALL_OHA=1), plus BENCH_TLS_RESUME=off.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION=10
CONC=50
MODES="keepalive,close"
TOOLS="oha,kload"
OUT=""
ROUNDS=1
while getopts "d:c:m:t:o:r:h" opt; do
    case "$opt" in
        d) DURATION="${OPTARG%s}" ;;
        c) CONC="$OPTARG" ;;
        m) MODES="$OPTARG" ;;
        t) TOOLS="$OPTARG" ;;
        o) OUT="$OPTARG" ;;
        r) ROUNDS="$OPTARG" ;;
        *) sed -n '2,23p' "$0"; exit 2 ;;
    esac
done
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="${OUT:-$BENCH_DIR/results/tls-$STAMP.json}"
bench_setup tls   # sets WORK and BENCH_NGINX_PREFIX, takes the bench lock
MEASURE_TIMEOUT=$((DURATION + 60))
cd "$REPO_DIR"

ensure_base
command -v openssl >/dev/null || apt_install openssl
export BENCH_TLS=1
trap '"$BENCH_DIR/nginx.sh" stop || true' EXIT
PORT=$("$BENCH_DIR/nginx.sh" start | sed -n 's/^PORT=\([0-9]*\).*/\1/p')
URL="https://127.0.0.1:$PORT"
ACCESS_LOG="$BENCH_NGINX_PREFIX/access.log"
say "nginx on $URL (CPU $NGINX_CPU, TLS resumption ${BENCH_TLS_RESUME:-on}); generators on CPU $LOAD_CPU; ${DURATION}s x $CONC connections; work dir $WORK"

ROWS="$WORK/rows.jsonl"
: >"$ROWS"

# record MODE TOOL TOOL_REQUESTS NOTE: one row from measure's M_* and this run's access-log lines
record() {
    # this run's lines are the last M_LOG_REQ of the log (status reads are not logged): distinct
    # connections, and those whose handshake resumed a session ($ssl_session_reused = "r")
    local resumed
    resumed=$(tail -n "$M_LOG_REQ" "$ACCESS_LOG" | awk '$5=="r" {c[$4]=1} END {print length(c)}')
    [[ "$M_LOG_REQ" -gt 0 ]] || resumed=0
    python3 - "$@" "$resumed" >>"$ROWS" <<EOF
import json, sys
mode, tool, tool_req, note, resumed = sys.argv[1:6]
cpu = float("$M_CPU"); wall = float("$M_WALL"); req = int("$M_NGINX_REQ"); conns = int("$M_LOG_CONNS")
print(json.dumps(dict(
    mode=mode, tool=tool, round=int("$ROUND"), status="ok", note=note, exit_code=int("$M_RC"),
    requests_nginx=req, requests_access_log=int("$M_LOG_REQ"), non200_access_log=int("$M_LOG_NON200"),
    tls_connections_access_log=conns, tls_resumed_connections=int(resumed),
    requests_per_connection=round(int("$M_LOG_REQ") / conns, 2) if conns else None,
    requests_tool=int(tool_req) if tool_req.isdigit() else None,
    wall_s=wall, cpu_user_s=float("$M_USER"), cpu_sys_s=float("$M_SYS"), cpu_user_sys_s=cpu,
    req_per_cpu_s=round(req / cpu) if cpu > 0 else None,
    req_per_wall_s=round(req / wall) if wall > 0 else None,
    cpu_us_per_connection=round(cpu * 1e6 / conns, 1) if conns and mode == "close" else None,   # keepalive: 50 handshakes, not a per-handshake cost
    peak_rss_kb=int("$M_RSS_KB"),
    nginx_worker_cpu_pct=float("$M_NGINX_CPU_PCT"),
    load_cpu_other_pct=float("$M_CPU0_OTHER_PCT"))))
EOF
}

declare -A SKIPPED=()
skip() {   # skip MODE TOOL REASON
    echo "$1 $2: skipped ($3)"
    SKIPPED[$1-$2]=1
    python3 -c 'import json,sys; print(json.dumps(dict(mode=sys.argv[1], tool=sys.argv[2], status="skipped", note=sys.argv[3])))' "$1" "$2" "$3" >>"$ROWS"
}

run_oha() {   # run_oha MODE
    local mode="$1" extra=()
    if ! ensure_oha; then skip "$mode" oha "not installed: cargo install oha --locked, or INSTALL_OHA=1"; return; fi
    [[ "$mode" == close ]] && extra=(--disable-keepalive)
    measure "$mode-oha" -- "$OHA_BIN" --insecure "${extra[@]}" -c "$CONC" -z "${DURATION}s" --no-tui "$URL/"
    # "[200] 123456 responses" lines of the status code distribution
    record "$mode" oha "$(awk '/^ *\[[0-9]+\] [0-9]+ responses/ {n+=$2} END {print n+0}' "$WORK/$mode-oha.out")" \
        "oha --insecure ${extra[*]} -c $CONC -z ${DURATION}s --no-tui ($("$OHA_BIN" --version | head -1))"
}

run_kload() {   # run_kload MODE
    local mode="$1" bin file=one-request.kload
    if ! bin=$(resolve_kload); then skip "$mode" kload "$bin"; return; fi
    [[ "$mode" == close ]] && file=one-request-close.kload
    measure "$mode-kload" -- "$bin" run "$BENCH_DIR/$file" --host "$URL" --insecure --users "$CONC" \
        --spawn-rate 1000 --run-time "${DURATION}s" --headless --only-summary
    if [[ "$M_RC" != 0 ]]; then
        skip "$mode" kload "exit $M_RC: $(grep -v '^\s*$' "$WORK/$mode-kload.out" | tail -1 | cut -c1-160)"
    elif [[ "$M_NGINX_REQ" -lt 1 ]]; then
        skip "$mode" kload "ran but no request reached nginx"
    else
        record "$mode" kload "$(awk '$1=="Aggregated" {print $2; exit}' "$WORK/$mode-kload.out")" "$bin $file --insecure"
    fi
}

IFS=, read -ra TOOL_LIST <<<"$TOOLS"
IFS=, read -ra MODE_LIST <<<"$MODES"
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
    for mode in "${MODE_LIST[@]}"; do
        for t in "${TOOL_LIST[@]}"; do
            [[ -n "${SKIPPED[$mode-$t]:-}" ]] && continue   # skipped once (missing, failing): stays skipped
            case "$mode:$t" in
                keepalive:oha|keepalive:kload|close:oha|close:kload) "run_$t" "$mode" ;;
                *) skip "$mode" "$t" "unknown mode or tool" ;;
            esac
            sleep 2   # let the previous tool's connections close before the next one starts
        done
    done
done

mkdir -p "$(dirname "$OUT")"
python3 - "$ROWS" "$OUT" "$DURATION" "$CONC" "$PORT" "$STAMP" <<'EOF'
import json, os, platform, statistics, sys
rows_f, out, dur, conc, port, stamp = sys.argv[1:]
rows = [json.loads(l) for l in open(rows_f)]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
resume = os.environ.get("BENCH_TLS_RESUME", "on")
doc = dict(kind="tls", timestamp=stamp, duration_s=int(dur), connections=int(conc), rounds=max([r.get("round", 1) for r in rows] or [1]),
           target=f"nginx 1 worker on CPU {os.environ.get('NGINX_CPU','1')}, https://127.0.0.1:{port} (HTTP/1.1 over TLS, EC P-256 self-signed, resumption {resume}), 51-byte JSON",
           tls_resumption=resume, load_cpu=int(os.environ.get("LOAD_CPU", "0")),
           priority=("SCHED_FIFO 10" if os.environ.get("BENCH_RT") == "1" else f"nice {os.environ.get('BENCH_NICE', '0')}"),
           cpu_model=cpu, nproc=os.cpu_count(), kernel=platform.release(),
           loadavg_at_end=open("/proc/loadavg").read().split()[:3], results=rows)
json.dump(doc, open(out, "w"), indent=2)
def f(v, fmt="{:,}"):
    return "–" if v is None else fmt.format(v)
print()
print(f"{dur} s, {conc} connections over HTTPS (TLS resumption {resume} at nginx), generator on CPU {doc['load_cpu']}, nginx (1 worker) on CPU {os.environ.get('NGINX_CPU','1')}, {doc['priority']}; load average at end {' '.join(doc['loadavg_at_end'])}")
print()
print("| mode | round | tool | requests (nginx) | requests (tool) | non-200 | TLS conns opened | of which resumed | req / conn | wall s | CPU s (user+sys) | **req / CPU-s** | req / s | **CPU-µs / new conn** | peak RSS MiB | nginx CPU % | other load on gen. core % |")
print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    if r["status"] != "ok":
        print(f"| {r['mode']} | | {r['tool']} | skipped: {r['note']} |" + " |" * 13)
        continue
    print(f"| {r['mode']} | {r['round']} | {r['tool']} | {f(r['requests_nginx'])} | {f(r['requests_tool'])} | {r['non200_access_log']} | {f(r['tls_connections_access_log'])} "
          f"| {f(r['tls_resumed_connections'])} | {f(r['requests_per_connection'])} | {r['wall_s']:.2f} | {r['cpu_user_sys_s']:.2f} | **{f(r['req_per_cpu_s'])}** | {f(r['req_per_wall_s'])} "
          f"| **{f(r['cpu_us_per_connection'], '{:,.1f}')}** | {r['peak_rss_kb']/1024:.1f} | {r['nginx_worker_cpu_pct']} | {r['load_cpu_other_pct']} |")
ok = [r for r in rows if r["status"] == "ok"]
# close mode is only a handshake benchmark if every request had its own connection
for r in ok:
    if r["mode"] == "close" and r["tls_connections_access_log"] != r["requests_access_log"]:
        print(f"\nWARNING: close mode, {r['tool']} round {r['round']}: {r['tls_connections_access_log']:,} connections for {r['requests_access_log']:,} requests (not one per request)")
print()
print(f"Summary over {doc['rounds']} interleaved round(s) (median, min–max):")
print()
print("| mode | tool | runs | **req / CPU-s** | req / s | **CPU-µs / new TLS conn** | req / conn | resumed % | user / sys CPU % | peak RSS MiB | nginx CPU % | other load on gen. core % |")
print("|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
def col(sel, k, fmt="{:,.0f}"):
    v = [r[k] for r in sel if r[k] is not None]
    if not v:
        return "–"
    return f"{fmt.format(statistics.median(v))} ({fmt.format(min(v))}–{fmt.format(max(v))})"
for mode in dict.fromkeys(r["mode"] for r in ok):
    for tool in dict.fromkeys(r["tool"] for r in ok if r["mode"] == mode):
        sel = [r for r in ok if r["mode"] == mode and r["tool"] == tool]
        conns = sum(r["tls_connections_access_log"] for r in sel)
        res = 100 * sum(r["tls_resumed_connections"] for r in sel) / conns if conns else 0
        u = sum(r["cpu_user_s"] for r in sel); s = sum(r["cpu_sys_s"] for r in sel)
        print(f"| {mode} | {tool} | {len(sel)} | **{col(sel, 'req_per_cpu_s')}** | {col(sel, 'req_per_wall_s')} | **{col(sel, 'cpu_us_per_connection', '{:,.1f}')}** "
              f"| {statistics.median(r['requests_per_connection'] or 0 for r in sel):,.2f} | {res:.0f} | {100*u/max(u+s,1e-9):.0f} / {100*s/max(u+s,1e-9):.0f} "
              f"| {statistics.median(r['peak_rss_kb'] for r in sel)/1024:.1f} | {col(sel, 'nginx_worker_cpu_pct', '{:.0f}')} | {col(sel, 'load_cpu_other_pct', '{:.0f}')} |")
# kload / oha, round by round (they run one after the other, so host drift mostly cancels)
print()
for mode in dict.fromkeys(r["mode"] for r in ok):
    by = {(r["tool"], r["round"]): r for r in ok if r["mode"] == mode}
    rounds = sorted({rd for (t, rd) in by if (("oha", rd) in by and ("kload", rd) in by)})
    if not rounds:
        continue
    rq = [by["kload", rd]["req_per_cpu_s"] / by["oha", rd]["req_per_cpu_s"] for rd in rounds]
    line = f"{mode}: kload / oha req/CPU-s per round " + ", ".join(f"{x:.2f}" for x in rq) + f" (median {statistics.median(rq):.2f})"
    if mode == "close":
        hs = [by["kload", rd]["cpu_us_per_connection"] / by["oha", rd]["cpu_us_per_connection"] for rd in rounds]
        line += "; CPU-µs per new connection per round " + ", ".join(f"{x:.2f}" for x in hs) + f" (median {statistics.median(hs):.2f})"
    print(line)
print()
print(f"JSON: {out}")
EOF
