#!/usr/bin/env bash
# Browser tests: records a HAR of the demo target with headless Chromium and imports it (see
# record-har.mjs), then renders fixture reports from Rust, opens each in headless Chromium and
# checks it (see check-report.mjs). Installs what it needs on a fresh Debian
# machine, once: the chromium package when /usr/bin/chromium is missing, node_modules when
# missing (npm ci, from package-lock.json). Run from anywhere; ends with
# `browser: N passed, M failed` and exits non-zero on a failure.
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

# The pages: the golden fixture run, one with markup in its names and messages, one with a
# single time point and one without requests (notes instead of charts).
rm -rf "$out"
mkdir -p "$out"
(cd "$root" && KLOAD_BROWSER_DIR="$out" cargo test --quiet --lib \
    report::html::tests::write_browser_fixture -- --exact >/dev/null)
for page in report hostile single-point empty; do
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
node "$here/check-report.mjs" \
    "$out/report.html" "$out/hostile.html" "$out/single-point.html:0" "$out/empty.html:0"
