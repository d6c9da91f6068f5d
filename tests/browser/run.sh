#!/usr/bin/env bash
# Browser tests in headless Chromium: the HTML report (fixture reports rendered from Rust,
# see check-report.mjs), the HAR import of a fresh recording of the demo target (see
# record-har.mjs) and the web UI (see check-webui.mjs), twice: served by the fake controller
# of the `web` module (with a second UI of 608 names), then by a real `kload run
# scenarios/kibray.kload` against `kload demo --serve`, the seed guide's "Basic Test" from the
# browser. Installs what it needs on a fresh Debian machine, once: the chromium package when
# /usr/bin/chromium is missing, node_modules when missing (npm ci, from package-lock.json).
# Run from anywhere; each script ends with `browser: N passed, M failed`, and this one exits
# non-zero if any failed. Screenshots and downloads: target/browser/ (the fake's) and
# target/browser/run/ (the real run's).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/target/browser"

if [ ! -x /usr/bin/chromium ]; then
    echo "browser: installing chromium" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if ! command -v node >/dev/null; then
    echo "browser: node is missing (apt-get install nodejs npm, Node 20 or newer)" >&2
    exit 1
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
    echo "browser: npm ci" >&2
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

# The pages: the golden fixture run (a paced class, so it has the corrected view; a pause of
# the generator; abandoned requests; a scenario error), the same run gone wrong in every way
# (interrupted, killed, aborted, merged, out of users), one with markup in its names and
# messages, one with a single time point and one without requests (notes instead of charts).
rm -rf "$out"
mkdir -p "$out"
(cd "$root" && KLOAD_BROWSER_DIR="$out" cargo test --quiet --lib \
    report::html::tests::write_browser_fixture -- --exact >/dev/null)
for page in report troubled hostile single-point empty; do
    [ -s "$out/$page.html" ] || { echo "browser: $out/$page.html was not written" >&2; exit 1; }
done

# The HAR import on a fresh recording: headless Chromium uses the demo target like a web app
# while playwright-core records a HAR (record-har.mjs); `kload import har` of it must pass
# `check`, `fmt --check` and a smoke run against the demo. The files stay in $out/import.
mkdir -p "$out/import"
(cd "$root" && KLOAD_BROWSER_DIR="$out/import" cargo test --quiet --test kload \
    import::a_fresh_chromium_recording_imports_and_runs -- --exact --ignored >/dev/null) || {
    echo "browser: FAIL the import of a fresh Chromium recording (run: KLOAD_BROWSER_DIR=$out/import cargo test --test kload a_fresh_chromium -- --ignored)" >&2
    exit 1
}
echo "ok   HAR import of a fresh Chromium recording ($out/import/recorded.har)"

cd "$root"
status=0
node "$here/check-report.mjs" \
    "$out/report.html:3:corrected,outcome,suspect" \
    "$out/troubled.html:3:corrected,outcome,interrupted,suspect" \
    "$out/hostile.html" "$out/single-point.html:0" "$out/empty.html:0" || status=1

# The web UI: an ignored Rust test serves two fake-controller UIs on 127.0.0.1 (one with
# more than 500 request names), prints their URLs, and serves until its stdin closes.
fifo="$out/webui-server.stdin"
log="$out/webui-server.log"
mkfifo "$fifo"
(cd "$root" && exec cargo test --quiet --lib web::tests::serve_for_browser -- \
    --exact --ignored --nocapture <"$fifo" >"$log" 2>&1) &
server=$!
exec 3>"$fifo"
trap 'exec 3>&- 2>/dev/null || true' EXIT
for _ in $(seq 1 1200); do
    grep -q '^KLOAD_WEBUI_MANY_URL=' "$log" && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.5
done
url="$(sed -n 's/^KLOAD_WEBUI_URL=//p' "$log")"
many="$(sed -n 's/^KLOAD_WEBUI_MANY_URL=//p' "$log")"
if [ -z "$url" ] || [ -z "$many" ]; then
    echo "browser: the web UI test server did not start:" >&2
    cat "$log" >&2
    exit 1
fi
node "$here/check-webui.mjs" "$url" "$many" || status=1
exec 3>&-   # end of stdin: the server shuts down
wait "$server" || status=1

# The web UI of a real run: the demo target on a free port, `kload run` without --headless
# on another (-P 0 prints the real URL), the same browser checks, then Ctrl-C for both.
echo "browser: the web UI of a real kload run" >&2
(cd "$root" && cargo build --quiet --bin kload)
built="${CARGO_TARGET_DIR:-$root/target}/debug/kload"
[[ "$built" = /* ]] || built="$root/$built"
# A copy: another checkout building into the same CARGO_TARGET_DIR replaces debug/kload.
kload="$out/kload"
cp "$built" "$kload"
demo_log="$out/demo.log"
run_out="$out/run.stdout"
run_log="$out/run.stderr"
"$kload" demo --serve --port 0 >"$demo_log" 2>&1 &
demo=$!
run=""
cleanup() {
    exec 3>&- 2>/dev/null || true
    for pid in $run $demo; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
wait_for() {  # FILE PATTERN PID
    for _ in $(seq 1 200); do
        grep -q "$2" "$1" && return 0
        kill -0 "$3" 2>/dev/null || break
        sleep 0.1
    done
    echo "browser: no \"$2\" in $1:" >&2
    cat "$1" >&2
    return 1
}
wait_for "$demo_log" 'serving the Kibray API at http://' "$demo"
target="$(sed -n 's/.*serving the Kibray API at \(http:[^ ]*\).*/\1/p' "$demo_log")"
(cd "$root" && exec "$kload" run scenarios/kibray.kload -H "$target" -P 0 >"$run_out" 2>"$run_log") &
run=$!
wait_for "$run_log" '^web UI: http://127\.0\.0\.1:[1-9]' "$run"
web="$(sed -n 's/^web UI: \(http:[^ ]*\) .*/\1/p' "$run_log")/"
KLOAD_BROWSER_DIR="$out/run" node "$here/check-webui.mjs" "$web" || status=1
# Ctrl-C: the last test's result is printed, and kload quits with its verdict (the checks
# stop every test they start, so no test runs any more).
kill -INT "$run"
code=0
wait "$run" || code=$?
run=""
if [ "$code" -gt 1 ] || ! grep -q 'Aggregated' "$run_out"; then
    echo "browser: kload run ended with exit code $code and no result:" >&2
    cat "$run_log" >&2
    status=1
else
    echo "browser: kload run quit on Ctrl-C with its last test's verdict ($code)" >&2
fi
kill -INT "$demo"
wait "$demo" || true
demo=""
exit "$status"
