#!/usr/bin/env bash
# Is kload on time? The open model at 1,000 arrivals/s against one nginx worker (a server that
# answers in well under 1 ms), next to a closed model at the same rate (10 users pacing 10 ms).
#
#   bench/lateness.sh [-d SECONDS] [-r ROUNDS] [-o results/FILE.json]
#
# Per run it reports, from the --json result's HDR histograms (decoded by bench/hdr.py):
# requests, achieved rate, latency p50/p90/p99 (plain and corrected), and the generator's
# lateness (actual send minus due time) p50/p99/max. The targets (issue "Numbers you can
# trust"): open-model lateness p99 under 1 ms, and open p50 within 1 ms of the closed p50.
#
# Environment: KLOAD_BIN (default target/release/kload), BENCH_VENV (/work/bench-venv, gets the
# `hdrhistogram` package), BENCH_NICE, BENCH_RT=1, LOAD_CPU, NGINX_CPU (see bench/lib.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION=20
ROUNDS=1
OUT=""
while getopts "d:r:o:h" opt; do
    case "$opt" in
        d) DURATION="${OPTARG%s}" ;;
        r) ROUNDS="$OPTARG" ;;
        o) OUT="$OPTARG" ;;
        *) sed -n '2,13p' "$0"; exit 2 ;;
    esac
done
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="${OUT:-$BENCH_DIR/results/lateness-$STAMP.json}"
bench_setup lateness
MEASURE_TIMEOUT=$((DURATION + 60))
cd "$REPO_DIR"

ensure_base
if ! "$VENV/bin/python" -c "import hdrh" 2>/dev/null; then
    say "pip install hdrhistogram into $VENV"
    [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q hdrhistogram
fi
KLOAD="$(resolve_kload)" || { say "kload: skipped ($KLOAD)"; exit 1; }
trap '"$BENCH_DIR/nginx.sh" stop || true' EXIT
PORT=$("$BENCH_DIR/nginx.sh" start | sed -n 's/^PORT=\([0-9]*\).*/\1/p')
URL="http://127.0.0.1:$PORT"
say "nginx on $URL (CPU $NGINX_CPU); kload on CPU $LOAD_CPU; ${DURATION}s per run; work dir $WORK"

ROWS="$WORK/rows.jsonl"
: >"$ROWS"
for round in $(seq 1 "$ROUNDS"); do
    for model in open paced; do
        scenario="$BENCH_DIR/open-rate.kload"
        [[ "$model" == paced ]] && scenario="$BENCH_DIR/paced.kload"
        json="$WORK/$model-$round.json"
        measure "$model-$round" -- "$KLOAD" run "$scenario" -H "$URL" -t "${DURATION}s" \
            --headless --only-summary --json "$json"
        if [[ "$M_RC" != 0 || ! -s "$json" ]]; then
            say "$model round $round: kload exited $M_RC"; tail -5 "$WORK/$model-$round.out" >&2
            continue
        fi
        "$VENV/bin/python" "$BENCH_DIR/hdr.py" "$json" | python3 -c "
import json, sys
row = json.load(sys.stdin)
row.update(model='$model', round=$round, seconds=$DURATION, cpu_s=$M_CPU, rss_kb=$M_RSS_KB,
           other_load_pct=$M_CPU0_OTHER_PCT, nginx_requests=$M_NGINX_REQ)
print(json.dumps(row))" >>"$ROWS"
    done
done

python3 - "$ROWS" "$OUT" "$DURATION" <<'PY'
import json, os, platform, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
out, seconds = sys.argv[2], float(sys.argv[3])
ms = lambda us: "-" if us is None else f"{us / 1000:.2f}"
get = lambda r, k, p: (r.get(k) or {}).get(p)
print("| run | requests | rate/s | p50 ms | p90 ms | p99 ms | corrected p99 ms | lateness p50 ms | lateness p99 ms | lateness max ms | CPU s | other load % |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['model']} #{r['round']} | {r['requests']} | {r['requests'] / seconds:.0f} | "
          f"{ms(get(r, 'latency', 'p50_us'))} | {ms(get(r, 'latency', 'p90_us'))} | {ms(get(r, 'latency', 'p99_us'))} | "
          f"{ms(get(r, 'corrected', 'p99_us'))} | {ms(get(r, 'lateness', 'p50_us'))} | {ms(get(r, 'lateness', 'p99_us'))} | "
          f"{ms(get(r, 'lateness', 'max_us'))} | {r['cpu_s']} | {r['other_load_pct']} |")
verdicts = []
for rnd in sorted({r["round"] for r in rows}):
    o = next((r for r in rows if r["round"] == rnd and r["model"] == "open"), None)
    p = next((r for r in rows if r["round"] == rnd and r["model"] == "paced"), None)
    if not (o and p and o.get("latency") and p.get("latency")):
        continue
    late = get(o, "lateness", "p99_us")
    gap = abs(o["latency"]["p50_us"] - p["latency"]["p50_us"])
    verdicts.append(dict(round=rnd, open_lateness_p99_us=late, p50_gap_us=gap,
                         lateness_ok=late is not None and late < 1000, p50_ok=gap < 1000))
print()
for v in verdicts:
    print(f"round {v['round']}: open-model lateness p99 {ms(v['open_lateness_p99_us'])} ms "
          f"({'under' if v['lateness_ok'] else 'NOT under'} 1 ms); open vs closed p50 differ by "
          f"{ms(v['p50_gap_us'])} ms ({'within' if v['p50_ok'] else 'NOT within'} 1 ms)")
os.makedirs(os.path.dirname(out), exist_ok=True)
json.dump(dict(kind="lateness", seconds=seconds, rows=rows, verdicts=verdicts,
               load_average=os.getloadavg(), kernel=platform.release()), open(out, "w"), indent=1)
print(f"\nwritten {out}")
PY
