#!/usr/bin/env bash
# Where kload's CPU goes on the Kibray workload: perf profile of one bench/kibray.sh-style run.
#
#   bench/profile-kibray.sh [-d SECONDS] [-u USERS] [-F HZ]
#
# Runs `kload run bench/kibray-nowait.kload` against a fresh `kload demo --serve --latency-scale 0`
# (target on CPU $TARGET_CPU, kload on CPU $LOAD_CPU, as bench/kibray.sh) under
# `perf record -g -F HZ`, then prints
#   - `perf report --no-children --sort symbol` (top 40 symbols, self time), and
#   - a breakdown by category: kernel vs user, and in user space templating, JSON building and
#     parsing, JSONPath, checks, header maps, hyper, metrics, tokio, allocator, memcpy, ...
# The categories are matched on the symbol's name (self time only, no callers): the table at the
# end of this file says which pattern goes where; the first that matches wins.
# perf.data and the reports stay in the work dir (printed at the end).
#
# Environment: KLOAD_BIN (default target/release/kload; a release build has debug=1 symbols),
# PERF (/usr/bin/perf), BENCH_RT=1, LOAD_CPU, TARGET_CPU, DEMO_ARGS (default --no-throttle).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export DEMO_ARGS="${DEMO_ARGS---no-throttle}"

DURATION=10
USERS=50
FREQ=2999
while getopts "d:u:F:h" opt; do
    case "$opt" in
        d) DURATION="${OPTARG%s}" ;;
        u) USERS="$OPTARG" ;;
        F) FREQ="$OPTARG" ;;
        *) sed -n '2,18p' "$0"; exit 2 ;;
    esac
done
TARGET_CPU="${TARGET_CPU:-1}"
PERF="${PERF:-/usr/bin/perf}"
bench_setup kibray-profile
cd "$REPO_DIR"
ensure_base
[[ -x "$PERF" ]] || { say "perf not found at $PERF"; exit 1; }
if ! KLOAD="$(resolve_kload)"; then say "$KLOAD"; exit 1; fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
read -ra PRIO <<<"$(prio_prefix)"
# shellcheck disable=SC2086  # DEMO_ARGS is a list of flags
"${PRIO[@]}" taskset -c "$TARGET_CPU" "$KLOAD" demo --serve --port "$PORT" --latency-scale 0 ${DEMO_ARGS-} \
    >"$WORK/target.log" 2>&1 &
TARGET_PID=$!
trap 'kill "$TARGET_PID" 2>/dev/null || true' EXIT
for ((i = 0; i < 100; i++)); do curl -fsS -o /dev/null "$URL/api/v1/health/" 2>/dev/null && break; sleep 0.05; done

say "perf record -g -F $FREQ: kload on CPU $LOAD_CPU, ${DURATION}s x $USERS users, target $URL; work dir $WORK"
set +e
"${PRIO[@]}" taskset -c "$LOAD_CPU" "$PERF" record -q -g -F "$FREQ" -o "$WORK/perf.data" -- \
    timeout -k 5 $((DURATION + 60)) "$KLOAD" run "$BENCH_DIR/kibray-nowait.kload" --host "$URL" \
    --users "$USERS" --spawn-rate 1000 --run-time "${DURATION}s" --headless --only-summary >"$WORK/kload.out" 2>&1
rc=$?
set -e
[[ $rc == 0 || $rc == 1 ]] || { say "kload exited $rc: $(tail -3 "$WORK/kload.out")"; exit 1; }
REQS=$(awk '$1=="Aggregated" {print $2; exit}' "$WORK/kload.out")

"$PERF" report -i "$WORK/perf.data" --no-children --sort symbol --stdio -g none 2>/dev/null \
    >"$WORK/report-symbol.txt"
"$PERF" report -i "$WORK/perf.data" --no-children --sort dso,symbol --stdio -g none \
    --field-separator=$'\t' 2>/dev/null >"$WORK/report-dso-symbol.tsv"

echo
echo "kload: $REQS requests in ${DURATION} s ($(awk '$1=="Aggregated" {print $3; exit}' "$WORK/kload.out") failed); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Top 40 symbols, self time (perf report --no-children --sort symbol):"
echo
# awk rather than `| head`: with pipefail, head's early exit would SIGPIPE grep and stop the script
awk '!/^#/ && NF {sub(/[ \t]+$/, ""); print; if (++n == 40) exit}' "$WORK/report-symbol.txt"
echo
python3 - "$WORK/report-dso-symbol.tsv" <<'EOF'
import re, sys
# (category, regex on "dso<TAB>symbol"); first match wins. Kernel first, then kload's own code by
# module, then the libraries.
CATS = [
    ("kernel", r"\[kernel|\[k\]|^\[unknown\]"),
    ("templating (runtime::eval, render)", r"runtime::eval|render|Template|template"),
    ("JSONPath (jsonpath-rust)", r"jsonpath_rust|pest"),
    ("JSON building (serde_json::ser, Value)", r"serde_json::ser|serde_json::value::ser|to_vec|Serializer|format_escaped|itoa|ryu"),
    ("JSON parsing (serde_json::de)", r"serde_json::de|serde_json::read|Deserializ|serde_json::value::de|parse_str|ignore_str"),
    ("serde_json::Value drop/clone/map", r"serde_json|indexmap|drop_in_place<serde_json|BTreeMap<alloc::string::String,serde_json"),
    ("secret redaction (kload::redact)", r"kload::redact|aho_corasick|percent_encoding::|html_escaped"),
    ("checks (runtime::http::run_check)", r"run_check|Predicate|Check"),
    ("multipart form", r"multipart|Form|Part"),
    ("URL (url crate, query pairs)", r"\burl::|form_urlencoded|percent_encoding|idna"),
    ("header maps (http::header)", r"http::header|HeaderMap|HeaderValue|HeaderName"),
    ("hyper (HTTP/1.1)", r"hyper|httparse|h1::"),
    ("metrics / aggregation (kload::metrics)", r"kload::metrics|histogram|Histogram|hdrhistogram|Aggregat|Recorder|Sample"),
    ("other kload runtime (user loop, exchange, transport)", r"kload::runtime|kload::session|kload::"),
    ("tokio", r"tokio|mio::"),
    ("rand", r"\brand::|rand_core|rand_chacha|SmallRng|Xoshiro"),
    ("hashing (hashbrown, siphash, foldhash)", r"hashbrown|SipHash|sip::|foldhash|ahash|Hasher"),
    ("allocator (malloc/free)", r"malloc|free|realloc|calloc|_int_|tcache|arena|alloc::alloc|__rust_alloc|__rust_dealloc|__rdl_|RawVec|cfree"),
    ("memcpy/memmove/memset/strlen", r"memcpy|memmove|memset|memcmp|strlen|__memc|bcmp"),
    ("bytes / Vec / String (core, alloc)", r"bytes::|alloc::|core::|std::"),
    ("libc other", r"libc\.so|ld-linux"),
]
rx = [(n, re.compile(p)) for n, p in CATS]
tot = {}
kernel = user = 0.0
for line in open(sys.argv[1]):
    if line.startswith("#") or not line.strip():
        continue
    parts = line.rstrip("\n").split("\t")
    if len(parts) < 3:
        continue
    try:
        pct = float(parts[0].strip().rstrip("%"))
    except ValueError:
        continue
    dso, sym = parts[1].strip(), parts[2].strip()
    key = f"{dso}\t{sym}"
    is_k = sym.startswith("[k]") or "kernel" in dso
    if is_k:
        kernel += pct
    else:
        user += pct
    name = next((n for n, r in rx if r.search(key)), "other (user)")
    tot[name] = tot.get(name, 0.0) + pct
print(f"Kernel {kernel:.1f} %, user space {user:.1f} % of kload's samples")
print()
print("| category (self time, by symbol name) | % of all samples | % of user space |")
print("|---|---:|---:|")
for n, v in sorted(tot.items(), key=lambda kv: -kv[1]):
    share = "" if n == "kernel" or user == 0 else f"{100 * v / user:.1f}"
    print(f"| {n} | {v:.1f} | {share} |")
EOF
echo
echo "perf data and reports: $WORK (perf report -i $WORK/perf.data --no-children --sort symbol)"
