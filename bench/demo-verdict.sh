#!/usr/bin/env bash
# Does `kload demo` (the README's first command: the demo target and scenarios/kibray.kload in
# one process, 100 users, 10/s, 30 s) reach the same verdict every time? Runs it N times and
# prints each run's exit code and what each threshold measured, then each threshold's spread
# (min, median, max, and the max as a share of the bound) and how many runs exited with each code.
#
#   bench/demo-verdict.sh                      20 runs of `kload demo --only-summary`
#   bench/demo-verdict.sh -n 5                 5 runs
#   bench/demo-verdict.sh -n 5 -- -u 50 -t 10s extra flags for `kload demo`
#   KLOAD_BIN=/path/to/kload bench/demo-verdict.sh
#
# kload is not built here: KLOAD_BIN (default target/release/kload) must exist. Every run is
# bounded by `timeout`. Writes bench/results/demo-verdict-<UTC timestamp>.json (every run's
# figures, load average, CPU model) and prints markdown tables.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

RUNS=20
OUT=""
usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        -n) RUNS="$2"; shift 2 ;;
        -o) OUT="$2"; shift 2 ;;
        -h|--help) usage ;;
        --) shift; break ;;
        *) echo "unknown argument: $1" >&2; usage 2 ;;
    esac
done
EXTRA=("$@")
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "-n wants a positive number, not $RUNS" >&2; exit 2; }

KLOAD="$(resolve_kload)" || { say "$KLOAD"; exit 1; }
bench_setup demo-verdict
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="${OUT:-$BENCH_DIR/results/demo-verdict-$STAMP.json}"
mkdir -p "$(dirname "$OUT")"

for ((i = 1; i <= RUNS; i++)); do
    say "run $i/$RUNS: kload demo --only-summary ${EXTRA[*]}"
    set +e
    # NO_COLOR: plain threshold lines to parse. 30 s of load, a 5 s stop timeout, slack.
    NO_COLOR=1 timeout -k 5 "${RUN_TIMEOUT:-300}" "$KLOAD" demo --only-summary "${EXTRA[@]}" \
        >"$WORK/run-$i.out" 2>&1
    echo $? >"$WORK/run-$i.rc"
    set -e
done

python3 - "$WORK" "$RUNS" "$OUT" "${EXTRA[*]}" <<'EOF'
import json, os, platform, re, statistics, sys

work, runs, out, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
# `✓ PASS  p95(tag list) < 200ms  measured 97.215 ms` (and `(expected ...)` when not passed)
line_re = re.compile(r"^\S+ (PASS|WARN|FAIL|SKIP)  (.+?)\s+(?:measured (\S+)(?: (ms|req/s))?|no requests)")
runs_doc, order = [], []
for i in range(1, runs + 1):
    text = open(os.path.join(work, f"run-{i}.out"), encoding="utf-8", errors="replace").read()
    rc = int(open(os.path.join(work, f"run-{i}.rc")).read())
    thresholds = {}
    for line in text.splitlines():
        m = line_re.match(line)
        if not m:
            continue
        word, source, value, unit = m.groups()
        if source not in order:
            order.append(source)
        number = None
        if value is not None:
            number = float(value.rstrip("%"))
        thresholds[source] = dict(result=word, measured=number,
                                  unit=unit or ("%" if value and value.endswith("%") else ""))
    tally = re.search(r"^\s+Aggregated\s+(\d+)\s+(\d+)\(", text, re.M)
    runs_doc.append(dict(run=i, exit_code=rc, thresholds=thresholds,
                         requests=int(tally.group(1)) if tally else None,
                         failures=int(tally.group(2)) if tally else None))

def bound(source):
    # `p95(tag list) < 200ms` → (200.0, "ms"); `error_rate < 1%` → (1.0, "%")
    m = re.search(r"[<>]=?\s*([0-9.]+)\s*(ms|s|%)?(?: warn)?$", source)
    if not m:
        return None
    value, unit = float(m.group(1)), m.group(2) or ""
    return (value * 1000, "ms") if unit == "s" else (value, unit)

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
doc = dict(kind="demo-verdict", command=f"kload demo --only-summary {extra}".strip(), runs=runs_doc,
           cpu_model=cpu, nproc=os.cpu_count(), kernel=platform.release(),
           loadavg_at_end=open("/proc/loadavg").read().split()[:3])
json.dump(doc, open(out, "w"), indent=2)

short = lambda s: s.replace("p95(", "p95 ").replace(")", "")
print(f"`{doc['command']}`, {runs} runs; {cpu}, {doc['nproc']} CPUs; load average at end {' '.join(doc['loadavg_at_end'])}")
print()
print("| run | exit | requests | failures | " + " | ".join(short(s) for s in order) + " |")
print("|---:|---:|---:|---:|" + "---:|" * len(order))
for r in runs_doc:
    cells = []
    for s in order:
        t = r["thresholds"].get(s)
        if t is None or t["measured"] is None:
            cells.append("–")
        else:
            mark = {"FAIL": " **FAIL**", "WARN": " (warn)"}.get(t["result"], "")
            cells.append(f"{t['measured']:g}{mark}")
    print(f"| {r['run']} | {r['exit_code']} | {r['requests']} | {r['failures']} | " + " | ".join(cells) + " |")
print()
print("| threshold | min | median | max | worst / bound | results |")
print("|---|---:|---:|---:|---:|---|")
for s in order:
    values = [r["thresholds"][s]["measured"] for r in runs_doc
              if s in r["thresholds"] and r["thresholds"][s]["measured"] is not None]
    results = {}
    for r in runs_doc:
        word = r["thresholds"].get(s, {}).get("result", "missing")
        results[word] = results.get(word, 0) + 1
    b = bound(s)
    if values:
        # The worst run: the largest value for `<` bounds, the smallest for `>` ones.
        worst = min(values) if re.search(r">=?", s) else max(values)
        share = f"{worst / b[0] * 100:.0f} %" if b and b[0] else "–"
        print(f"| `{s}` | {min(values):g} | {statistics.median(values):g} | {max(values):g} | {share} | "
              + ", ".join(f"{k} {v}" for k, v in sorted(results.items())) + " |")
    else:
        print(f"| `{s}` | – | – | – | – | " + ", ".join(f"{k} {v}" for k, v in sorted(results.items())) + " |")
codes = {}
for r in runs_doc:
    codes[r["exit_code"]] = codes.get(r["exit_code"], 0) + 1
print()
print("exit codes: " + ", ".join(f"{k}: {v} runs" for k, v in sorted(codes.items())))
print(f"written: {out}")
EOF
