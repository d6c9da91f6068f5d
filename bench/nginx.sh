#!/usr/bin/env bash
# Start/stop the benchmark nginx (bench/nginx.conf) from a temp prefix dir, pinned to one CPU.
#
#   bench/nginx.sh start [PORT]   start (PORT default: a free port); prints PORT=... PREFIX=...
#   bench/nginx.sh stop           stop it and keep the prefix dir (logs) for inspection
#   bench/nginx.sh port           print the port it listens on
#   bench/nginx.sh requests       total requests served so far (stub_status, minus the status requests)
#   bench/nginx.sh logcount       flush the access log and print "lines non200"
#   bench/nginx.sh worker-pid     pid of the single worker (for CPU accounting)
#   bench/nginx.sh scheme         http or https (what `start` set up)
#
# BENCH_TLS=1 start: the listener speaks HTTPS (HTTP/1.1 only, no http2) with a self-signed EC P-256
# certificate that `start` makes in the prefix dir with openssl (installed if missing); clients need
# --insecure / -k. The access log then has a 5th field, "r" for a resumed TLS session, "." for a full
# handshake. BENCH_TLS_RESUME=off turns session tickets and the session cache off (full handshakes only).
#
# peers.sh and memory.sh give each run its own prefix (BENCH_NGINX_PREFIX under their work dir); the
# default prefix is for using this script by hand, and `start` replaces an nginx already running there.
# Environment: BENCH_ACCESS_LOG=off (no access log), BENCH_TLS=1, BENCH_TLS_RESUME=off, BENCH_NICE (e.g. -10), BENCH_RT=1 (SCHED_FIFO), BENCH_NGINX_PREFIX (default /tmp/kload-bench-nginx), NGINX_CPU (default 1),
#              NGINX (default: nginx on PATH or /usr/sbin/nginx).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREFIX="${BENCH_NGINX_PREFIX:-/tmp/kload-bench-nginx}"
NGINX_CPU="${NGINX_CPU:-1}"
NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"

log() { echo "[nginx.sh] $*" >&2; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

master_pid() {
    [[ -s "$PREFIX/nginx.pid" ]] && kill -0 "$(cat "$PREFIX/nginx.pid")" 2>/dev/null && cat "$PREFIX/nginx.pid"
}

port() { cat "$PREFIX/port"; }
scheme() { cat "$PREFIX/scheme" 2>/dev/null || echo http; }

# stub_status "requests" counter. Every read is itself a request, so subtract the reads made so far.
requests() {
    local total reads
    total=$(curl -kfsS "$(scheme)://127.0.0.1:$(port)/nginx_status" | awk 'NR==3 {print $3}')
    reads=$(( $(cat "$PREFIX/status_reads" 2>/dev/null || echo 0) + 1 ))
    echo "$reads" > "$PREFIX/status_reads"
    echo $(( total - reads ))
}

logcount() {
    local pid
    pid=$(master_pid) || { log "not running"; exit 1; }
    kill -USR1 "$pid"       # reopen logs = flush the access-log buffer
    sleep 0.5
    awk '{n++} $2!=200 {bad++} END {print n+0, bad+0}' "$PREFIX/access.log"
}

start() {
    if [[ ! -x "$NGINX" ]]; then
        log "nginx missing: apt-get install -y nginx"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
        NGINX=$(command -v nginx || echo /usr/sbin/nginx)
    fi
    command -v curl >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
    if master_pid >/dev/null; then
        log "already running (pid $(master_pid), port $(port)); stopping it first"
        stop
    fi
    local p="${1:-$(free_port)}"
    rm -rf "$PREFIX"
    mkdir -p "$PREFIX"/tmp/{body,proxy,fastcgi,uwsgi,scgi}
    chmod -R a+rwx "$PREFIX/tmp"
    local logsed=() tlssed=(-e 's#@SSL@##' -e 's#@LOGFMT@#bench#') sch=http
    # BENCH_ACCESS_LOG=off: no access log (to measure its cost); counts then come from stub_status only
    [[ "${BENCH_ACCESS_LOG:-on}" == off ]] && logsed=(-e 's#^\( *\)access_log .*/access.log .*buffer.*#\1access_log off;#')
    if [[ "${BENCH_TLS:-0}" == 1 ]]; then
        make_cert
        sch=https
        tlssed=(-e 's#@SSL@#ssl #' -e 's#@LOGFMT@#bench_tls#' -e 's/^#tls //')
        [[ "${BENCH_TLS_RESUME:-on}" == off ]] && tlssed+=(-e 's/^#tlsnoresume //')
    fi
    sed -e "s#@PREFIX@#$PREFIX#g" -e "s#@PORT@#$p#g" "${tlssed[@]}" "${logsed[@]}" "$HERE/nginx.conf" > "$PREFIX/nginx.conf"
    echo "$sch" > "$PREFIX/scheme"
    touch "$PREFIX/access.log"
    echo "$p" > "$PREFIX/port"
    echo 0 > "$PREFIX/status_reads"
    ulimit -n "$(ulimit -Hn)"   # nginx.conf asks for 20000 fds; the hard limit here is 20000
    local prio=(nice -n "${BENCH_NICE:-0}")
    [[ "${BENCH_RT:-0}" == 1 ]] && prio=(chrt -f 10)
    log "starting $NGINX -p $PREFIX on $sch://127.0.0.1:$p, pinned to CPU $NGINX_CPU (taskset), 1 worker, ${prio[*]}"
    "${prio[@]}" taskset -c "$NGINX_CPU" "$NGINX" -p "$PREFIX" -c "$PREFIX/nginx.conf" -e "$PREFIX/error.log" 9>&-   # not the bench lock
    for _ in $(seq 50); do
        curl -kfsS -o /dev/null "$sch://127.0.0.1:$p/nginx_status" 2>/dev/null && break
        sleep 0.1
    done
    echo 1 > "$PREFIX/status_reads"     # the one successful readiness probe above
    echo "PORT=$p PREFIX=$PREFIX"
}

# A self-signed certificate for 127.0.0.1/localhost, EC P-256 (what a current server would use; the
# client's share of a full handshake is then the key exchange, not an RSA signature check).
make_cert() {
    command -v openssl >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
        -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -keyout "$PREFIX/key.pem" -out "$PREFIX/cert.pem" 2>/dev/null
    log "self-signed certificate $PREFIX/cert.pem (EC P-256, CN=127.0.0.1)"
}

stop() {
    local pid
    if pid=$(master_pid); then
        log "stopping nginx (pid $pid)"
        kill -QUIT "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
}

worker_pid() { pgrep -P "$(master_pid)" | head -1; }

case "${1:-}" in
    start) shift; start "$@" ;;
    stop) stop ;;
    port) port ;;
    requests) requests ;;
    logcount) logcount ;;
    worker-pid) worker_pid ;;
    scheme) scheme ;;
    *) sed -n '2,22p' "$0"; exit 2 ;;
esac
