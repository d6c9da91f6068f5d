#!/usr/bin/env bash
# What a failure that differs on every request costs: 50 users, no think time, against an
# nginx route whose body has a new id each time, with a check that fails on it (so each
# failure's text is new). Runs the kload under test and, for comparison, an older kload
# (KLOAD_OLD, when set), and reports peak memory, report sizes and failure rows.
#
#   bench/failures.sh [-d SECONDS] [-o results/FILE.json]
#
# Environment: KLOAD_BIN (default target/release/kload), KLOAD_OLD (another kload binary),
# BENCH_NICE, BENCH_RT=1, LOAD_CPU, NGINX_CPU (see bench/lib.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION=20
OUT=""
while getopts "d:o:h" opt; do
    case "$opt" in
        d) DURATION="${OPTARG%s}" ;;
        o) OUT="$OPTARG" ;;
        *) sed -n '2,10p' "$0"; exit 2 ;;
    esac
done
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="${OUT:-$BENCH_DIR/results/failures-$STAMP.json}"
bench_setup failures
MEASURE_TIMEOUT=$((DURATION + 120))
cd "$REPO_DIR"

ensure_base
NEW="$(resolve_kload)" || { say "kload: skipped ($NEW)"; exit 1; }
trap '"$BENCH_DIR/nginx.sh" stop || true' EXIT
PORT=$("$BENCH_DIR/nginx.sh" start | sed -n 's/^PORT=\([0-9]*\).*/\1/p')
URL="http://127.0.0.1:$PORT"
say "nginx on $URL; ${DURATION}s, 50 users; work dir $WORK"

ROWS="$WORK/rows.jsonl"
: >"$ROWS"
run_one() {   # run_one LABEL BINARY
    local label="$1" bin="$2" dir="$WORK/$1"
    mkdir -p "$dir"
    measure "$label" -- "$bin" run "$BENCH_DIR/varying.kload" -H "$URL" -u 50 -r 1000 \
        -t "${DURATION}s" --headless --only-summary \
        --json "$dir/result.json" --html "$dir/report.html" --csv "$dir/run"
    python3 - "$dir" "$label" "$M_RC" "$M_RSS_KB" "$M_CPU" "$M_NGINX_REQ" >>"$ROWS" <<'PY'
import csv, json, os, sys
d, label, rc, rss, cpu, req = sys.argv[1:]
size = lambda f: os.path.getsize(os.path.join(d, f)) if os.path.exists(os.path.join(d, f)) else None
rows = None
if os.path.exists(os.path.join(d, "run_failures.csv")):
    with open(os.path.join(d, "run_failures.csv")) as f:
        rows = sum(1 for _ in csv.reader(f)) - 1
print(json.dumps(dict(label=label, exit_code=int(rc), peak_rss_kb=int(rss), cpu_s=float(cpu),
                      requests=int(req), json_bytes=size("result.json"), html_bytes=size("report.html"),
                      failure_rows=rows)))
PY
}
run_one new "$NEW"
if [[ -n "${KLOAD_OLD:-}" && -x "$KLOAD_OLD" ]]; then run_one old "$KLOAD_OLD"; fi

python3 - "$ROWS" "$OUT" "$DURATION" <<'PY'
import json, os, platform, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
mb = lambda b: "-" if b is None else f"{b / 1e6:.1f}"
print("| kload | requests (all failed) | peak RSS MB | result.json MB | report.html MB | failure rows (CSV) | CPU s | exit |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['label']} | {r['requests']} | {r['peak_rss_kb'] / 1024:.0f} | {mb(r['json_bytes'])} | "
          f"{mb(r['html_bytes'])} | {r['failure_rows']} | {r['cpu_s']} | {r['exit_code']} |")
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
json.dump(dict(kind="failures", seconds=float(sys.argv[3]), rows=rows, load_average=os.getloadavg(),
               kernel=platform.release()), open(sys.argv[2], "w"), indent=1)
print(f"\nwritten {sys.argv[2]}")
PY
