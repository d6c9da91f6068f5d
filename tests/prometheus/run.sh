#!/usr/bin/env bash
# The Prometheus exporter against a real Prometheus: installs Debian's `prometheus` package
# when it is missing, starts a private instance on 127.0.0.1 (temporary data directory,
# remote-write receiver and native histograms on, scraping the targets the test writes into
# a file), runs the ignored tests of tests/kload/prometheus.rs against it, and stops it by
# its pid. Run from anywhere; ends with `prometheus: passed` and exits non-zero on a failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
    echo "prometheus: installing Debian's prometheus package" >&2
    apt-get update -qq
    # The package's own service is not used (and not started where there is no systemd).
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

# "prometheus, version 2.42.0+ds (branch: …)" → 2 42
read -r major minor < <(prometheus --version 2>&1 | head -1 |
    sed -E 's/^prometheus, version ([0-9]+)\.([0-9]+).*/\1 \2/')
flags=(--web.enable-remote-write-receiver)
scrape_native=""
if [ "$major" -lt 2 ] || { [ "$major" -eq 2 ] && [ "$minor" -lt 40 ]; }; then
    echo "prometheus: version $major.$minor has no native histograms (2.40 or newer needed)" >&2
    exit 1
elif [ "$major" -eq 2 ] || { [ "$major" -eq 3 ] && [ "$minor" -lt 8 ]; }; then
    # 2.40–3.7: a feature flag turns on ingestion and protobuf scrape negotiation.
    flags+=(--enable-feature=native-histograms)
else
    # 3.8 and newer: native histograms are stable; scraping them is a per-job setting.
    scrape_native="    scrape_native_histograms: true"
fi
echo "prometheus: version $major.$minor, flags ${flags[*]}" >&2

tmp="$(mktemp -d)"
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

echo '[]' >"$tmp/targets.json"
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: kload
$scrape_native
    file_sd_configs:
      - files: ["$tmp/targets.json"]
        refresh_interval: 1s
EOF

# A free port: nothing answers on it.
port=""
for _ in $(seq 50); do
    candidate=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
        port=$candidate
        break
    fi
done
[ -n "$port" ] || { echo "prometheus: no free port found" >&2; exit 1; }

prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
    --web.listen-address="127.0.0.1:$port" "${flags[@]}" >"$tmp/prometheus.log" 2>&1 &
pid=$!

# Ready when /-/ready answers 200 (bash's /dev/tcp: no curl needed).
ready() {
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf 'GET /-/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    local status
    read -r _ status _ <&3 || true
    exec 3<&-
    [ "$status" = 200 ]
}
for _ in $(seq 150); do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "prometheus: exited at start:" >&2
        cat "$tmp/prometheus.log" >&2
        exit 1
    fi
    ready 2>/dev/null && break
    sleep 0.2
done
ready 2>/dev/null || { echo "prometheus: not ready after 30 s" >&2; cat "$tmp/prometheus.log" >&2; exit 1; }
echo "prometheus: ready on 127.0.0.1:$port (pid $pid)" >&2

cd "$root"
if ! KLOAD_PROMETHEUS_URL="http://127.0.0.1:$port" KLOAD_PROMETHEUS_TARGETS="$tmp/targets.json" \
    cargo test --quiet --test kload prometheus:: -- --ignored --test-threads=1 --nocapture; then
    echo "prometheus: FAILED; Prometheus' log:" >&2
    tail -n 40 "$tmp/prometheus.log" >&2
    exit 1
fi
echo "prometheus: passed"
