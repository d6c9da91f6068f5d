#!/usr/bin/env bash
# Side-by-side throughput of load generators against one nginx worker, one tool after another.
#
#   bench/peers.sh [-d SECONDS] [-c CONNECTIONS] [-t wrk,oha,locust,kload] [-r ROUNDS] [-o results/FILE.json]
#
# With -r N the tools run N rounds, interleaved (wrk oha locust kload wrk oha ...), and a summary
# gives the median and range of requests per CPU-second: on a shared box one run is not enough.
#
# Each generator is pinned to CPU $LOAD_CPU (0) with taskset, nginx to CPU $NGINX_CPU (1).
# Per tool it reports requests completed (nginx stub_status delta, access-log delta, tool's own
# figure), wall time, user+sys CPU of the generator (/usr/bin/time), requests per CPU-second,
# peak RSS, nginx worker CPU and how busy the generator's core was with other work.
#
# Environment: KLOAD_BIN (default target/release/kload, relative to the repo root), OHA_BIN,
# BENCH_VENV (/work/bench-venv), BENCH_NICE (0), BENCH_RT=1 (SCHED_FIFO, for a busy box), BENCH_ACCESS_LOG (on|off), INSTALL_OHA=1 (build oha with cargo if missing), LOAD_CPU, NGINX_CPU.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION=10
CONC=50
TOOLS="wrk,oha,locust,kload"
OUT=""
ROUNDS=1
while getopts "d:c:t:o:r:h" opt; do
    case "$opt" in
        d) DURATION="${OPTARG%s}" ;;
        c) CONC="$OPTARG" ;;
        t) TOOLS="$OPTARG" ;;
        o) OUT="$OPTARG" ;;
        r) ROUNDS="$OPTARG" ;;
        *) sed -n '2,16p' "$0"; exit 2 ;;
    esac
done
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="${OUT:-$BENCH_DIR/results/peers-$STAMP.json}"
bench_setup peers   # sets WORK and BENCH_NGINX_PREFIX, takes the bench lock
MEASURE_TIMEOUT=$((DURATION + 60))
cd "$REPO_DIR"

ensure_base
trap '"$BENCH_DIR/nginx.sh" stop || true' EXIT
PORT=$("$BENCH_DIR/nginx.sh" start | sed -n 's/^PORT=\([0-9]*\).*/\1/p')
URL="http://127.0.0.1:$PORT"
say "nginx on $URL (CPU $NGINX_CPU); generators on CPU $LOAD_CPU; ${DURATION}s x $CONC connections; work dir $WORK"

ROWS="$WORK/rows.jsonl"
: >"$ROWS"

# record TOOL TOOL_REQUESTS STATUS [NOTE]
record() {
    python3 - "$@" >>"$ROWS" <<EOF
import json, sys
tool, tool_req, status = sys.argv[1:4]
note = sys.argv[4] if len(sys.argv) > 4 else ""
cpu = float("$M_CPU"); wall = float("$M_WALL"); req = int("$M_NGINX_REQ")
print(json.dumps(dict(
    tool=tool, round=int("$ROUND"), status=status, note=note, exit_code=int("$M_RC"),
    requests_nginx=req, requests_access_log=int("$M_LOG_REQ"), non200_access_log=int("$M_LOG_NON200"), connections_access_log=int("$M_LOG_CONNS"),
    requests_tool=int(tool_req) if tool_req.isdigit() else None,
    wall_s=wall, cpu_user_s=float("$M_USER"), cpu_sys_s=float("$M_SYS"), cpu_user_sys_s=cpu,
    req_per_cpu_s=round(req / cpu) if cpu > 0 else None,
    req_per_wall_s=round(req / wall) if wall > 0 else None,
    peak_rss_kb=int("$M_RSS_KB"),
    nginx_worker_cpu_pct=float("$M_NGINX_CPU_PCT"),
    load_cpu_other_pct=float("$M_CPU0_OTHER_PCT"))))
EOF
}

declare -A SKIPPED=()
skip() {   # skip TOOL REASON
    echo "$1: skipped ($2)"
    SKIPPED[$1]=1
    python3 -c 'import json,sys; print(json.dumps(dict(tool=sys.argv[1], status="skipped", note=sys.argv[2])))' "$1" "$2" >>"$ROWS"
}

run_wrk() {
    ensure_wrk
    measure wrk -- wrk -t1 -c"$CONC" -d"${DURATION}s" "$URL/"
    record wrk "$(awk '/requests in/ {print $1}' "$WORK/wrk.out")" ok "wrk -t1 -c$CONC"
}

run_oha() {
    if ! ensure_oha; then skip oha "not installed: cargo install oha --locked, or INSTALL_OHA=1"; return; fi
    measure oha -- "$OHA_BIN" -c "$CONC" -z "${DURATION}s" --no-tui "$URL/"
    # "[200] 123456 responses" lines of the status code distribution
    record oha "$(awk '/^ *\[[0-9]+\] [0-9]+ responses/ {n+=$2} END {print n+0}' "$WORK/oha.out")" ok \
        "oha -c $CONC -z ${DURATION}s --no-tui ($("$OHA_BIN" --version | head -1))"
}

run_locust() {
    ensure_locust
    measure locust -- "$VENV/bin/locust" -f "$BENCH_DIR/locustfile.py" OneRequestUser --headless \
        -u "$CONC" -r 1000 -t "${DURATION}s" -H "$URL" --only-summary --loglevel WARNING
    # summary table: "         Aggregated   123456  0(0.00%) | ..."
    record locust "$(awk '$1=="Aggregated" {print $2; exit}' "$WORK/locust.out")" ok \
        "locust FastHttpUser, -u $CONC -r 1000 ($("$VENV/bin/locust" --version 2>&1 | awk '{print $2; exit}'))"
}

run_kload() {
    local bin
    if ! bin=$(resolve_kload); then skip kload "$bin"; return; fi
    measure kload -- "$bin" run "$BENCH_DIR/one-request.kload" --host "$URL" --users "$CONC" \
        --spawn-rate 1000 --run-time "${DURATION}s" --headless --only-summary
    if [[ "$M_RC" != 0 ]]; then
        skip kload "exit $M_RC: $(grep -v '^\s*$' "$WORK/kload.out" | tail -1 | cut -c1-160)"
    elif [[ "$M_NGINX_REQ" -lt 1 ]]; then
        skip kload "ran but no request reached nginx"
    else
        # kload prints a Locust-style summary; its "Aggregated" line is optional here
        record kload "$(awk '$1=="Aggregated" {print $2; exit}' "$WORK/kload.out")" ok "$bin"
    fi
}

IFS=, read -ra TOOL_LIST <<<"$TOOLS"
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
    for t in "${TOOL_LIST[@]}"; do
        [[ -n "${SKIPPED[$t]:-}" ]] && continue   # a tool skipped once (missing, failing) stays skipped
        case "$t" in
            wrk|oha|locust|kload) "run_$t" ;;
            *) skip "$t" "unknown tool" ;;
        esac
        sleep 2   # let the previous tool's connections close before the next one starts
    done
done

mkdir -p "$(dirname "$OUT")"
python3 - "$ROWS" "$OUT" "$DURATION" "$CONC" "$PORT" "$STAMP" <<'EOF'
import json, os, platform, sys
rows_f, out, dur, conc, port, stamp = sys.argv[1:]
rows = [json.loads(l) for l in open(rows_f)]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
doc = dict(kind="peers", timestamp=stamp, duration_s=int(dur), connections=int(conc), rounds=max([r.get("round", 1) for r in rows] or [1]),
           target=f"nginx 1 worker on CPU {os.environ.get('NGINX_CPU','1')}, 127.0.0.1:{port}, 51-byte JSON",
           load_cpu=int(os.environ.get("LOAD_CPU", "0")), nginx_access_log=os.environ.get("BENCH_ACCESS_LOG", "on"), priority=("SCHED_FIFO 10" if os.environ.get("BENCH_RT") == "1" else f"nice {os.environ.get('BENCH_NICE', '0')}"), cpu_model=cpu, nproc=os.cpu_count(),
           kernel=platform.release(), loadavg_at_end=open("/proc/loadavg").read().split()[:3], results=rows)
json.dump(doc, open(out, "w"), indent=2)
def f(v, fmt="{:,}"):
    return "–" if v is None else fmt.format(v)
print()
print(f"{dur} s, {conc} connections, generator on CPU {doc['load_cpu']}, nginx (1 worker) on CPU {os.environ.get('NGINX_CPU','1')}, access log {doc['nginx_access_log']}, {doc['priority']}; load average at end {' '.join(doc['loadavg_at_end'])}")
print()
print("| tool | requests (nginx) | requests (tool) | non-200 | TCP conns | wall s | CPU s (user+sys) | **req / CPU-s** | req / s | peak RSS MiB | nginx CPU % | other load on gen. core % |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    if r["status"] != "ok":
        print(f"| {r['tool']} | skipped: {r['note']} |" + " |" * 10)
        continue
    print(f"| {r['tool']} | {f(r['requests_nginx'])} | {f(r['requests_tool'])} | {r['non200_access_log']} | {r['connections_access_log']} | {r['wall_s']:.2f} | {r['cpu_user_sys_s']:.2f} "
          f"| **{f(r['req_per_cpu_s'])}** | {f(r['req_per_wall_s'])} | {r['peak_rss_kb']/1024:.1f} | {r['nginx_worker_cpu_pct']} | {r['load_cpu_other_pct']} |")
if doc["rounds"] > 1:
    import statistics
    print()
    print(f"Summary over {doc['rounds']} interleaved rounds (median, min–max):")
    print()
    print("| tool | runs | **req / CPU-s** | req / s | peak RSS MiB | nginx CPU % | other load on gen. core % |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for tool in dict.fromkeys(r["tool"] for r in rows):
        ok = [r for r in rows if r["tool"] == tool and r["status"] == "ok"]
        if not ok:
            continue
        def col(k, fmt="{:,.0f}"):
            v = [r[k] for r in ok]
            return f"{fmt.format(statistics.median(v))} ({fmt.format(min(v))}–{fmt.format(max(v))})"
        print(f"| {tool} | {len(ok)} | **{col('req_per_cpu_s')}** | {col('req_per_wall_s')} | {statistics.median(r['peak_rss_kb'] for r in ok)/1024:.1f} "
              f"| {col('nginx_worker_cpu_pct', '{:.0f}')} | {col('load_cpu_other_pct', '{:.0f}')} |")
print()
print(f"JSON: {out}")
EOF
