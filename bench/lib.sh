# Shared helpers for bench/peers.sh and bench/memory.sh (sourced, not run).
# shellcheck shell=bash

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
LOAD_CPU="${LOAD_CPU:-0}"         # the load generator runs here (taskset)
export NGINX_CPU="${NGINX_CPU:-1}" # nginx runs here (bench/nginx.sh)
VENV="${BENCH_VENV:-/work/bench-venv}"
KLOAD_BIN="${KLOAD_BIN:-target/release/kload}"
OHA_BIN="${OHA_BIN:-$(command -v oha || echo "$HOME/.cargo/bin/oha")}"
CLK_TCK="$(getconf CLK_TCK)"
# Priority of nginx and the generator. On a box shared with compiles, -10 keeps a nice-0 rustc on
# the same core from taking a large share of a 10 s run (it still gets ~10%); the contention that
# remains is reported as "other load on gen. core %".
export BENCH_NICE="${BENCH_NICE:-0}"
# BENCH_RT=1: run nginx and the generator SCHED_FIFO (chrt -f 10) instead. On a core shared with
# compiles this is the only way found to get quiet-machine figures (EEVDF wakeup latency behind a
# CPU-bound rustc hurts a ping-pong benchmark even at nice -10). Runs are bounded by `timeout`, and
# the kernel's RT throttling (sched_rt_runtime_us, 95%) leaves the others a little CPU meanwhile.
export BENCH_RT="${BENCH_RT:-0}"
prio_prefix() {   # the command words that set the priority of a process started after them
    if [[ "$BENCH_RT" == 1 ]]; then echo "chrt -f 10"; else echo "nice -n $BENCH_NICE"; fi
}

say() { echo "==> $*" >&2; }

# bench_setup KIND: one benchmark at a time on this machine (two would share CPUs 0 and 1 and spoil
# each other's figures), and an nginx of our own in the work dir, so that nobody else's
# `bench/nginx.sh` (default prefix /tmp/kload-bench-nginx) is touched and nobody touches ours.
bench_setup() {
    WORK="$(mktemp -d "/tmp/kload-$1.XXXXXX")"
    export BENCH_NGINX_PREFIX="$WORK/nginx"
    exec 9>/tmp/kload-bench.lock
    if ! flock -n 9; then
        say "another bench run holds /tmp/kload-bench.lock; waiting for it (up to 30 min)"
        flock -w 1800 9 || { say "gave up waiting for /tmp/kload-bench.lock"; exit 1; }
    fi
}

apt_install() {   # apt_install PKG... (once per script run: apt-get update first)
    if [[ -z "${_APT_UPDATED:-}" ]]; then
        say "apt-get update"
        apt-get update -qq
        _APT_UPDATED=1
    fi
    say "apt-get install -y $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_base() {
    [[ -x /usr/bin/time ]] || apt_install time
    command -v taskset >/dev/null || apt_install util-linux
    command -v curl >/dev/null || apt_install curl
    command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || apt_install nginx
    command -v python3 >/dev/null || apt_install python3 python3-venv
    command -v ss >/dev/null || apt_install iproute2
}

ensure_wrk() { command -v wrk >/dev/null || apt_install wrk; }

ensure_locust() {
    if [[ ! -x "$VENV/bin/locust" ]]; then
        say "creating venv $VENV and pip install locust"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q locust
    fi
}

# oha is a slow compile (several minutes on 2 cores): we do not build it inline unless asked.
ensure_oha() {
    [[ -x "$OHA_BIN" ]] && return 0
    if [[ "${INSTALL_OHA:-0}" == 1 ]]; then
        say "cargo install oha --locked (slow; nice -n 19)"
        nice -n 19 cargo install oha --locked
        OHA_BIN="$HOME/.cargo/bin/oha"
        return 0
    fi
    return 1
}

resolve_kload() {   # prints an absolute path, or fails with a reason on stdout
    local bin="$KLOAD_BIN"
    [[ "$bin" == /* ]] || bin="$REPO_DIR/$bin"
    if [[ ! -x "$bin" ]]; then echo "binary not found: $bin (set KLOAD_BIN)"; return 1; fi
    echo "$bin"
}

# "busy idle" jiffies of one CPU from /proc/stat (busy excludes idle and iowait)
cpu_jiffies() {
    awk -v c="cpu$1" '$1==c {idle=$5+$6; t=0; for(i=2;i<=9;i++) t+=$i; print t-idle, idle}' /proc/stat
}

proc_cpu_ticks() {   # utime+stime of a pid, in clock ticks
    awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# measure NAME -- CMD...
#   Runs CMD pinned to $LOAD_CPU under /usr/bin/time (bounded by `timeout`), and writes
#   $WORK/NAME.{out,time} plus shell variables: M_RC M_WALL M_USER M_SYS M_CPU M_RSS_KB M_NGINX_REQ M_LOG_REQ
#   M_LOG_NON200 M_LOG_CONNS M_NGINX_CPU_PCT M_CPU0_OTHER_PCT.
measure() {
    local name="$1"; shift; [[ "$1" == -- ]] && shift
    local wpid n0 n1 l0 l1 bad0 bad1 w0 w1 c0 c1 t_limit
    wpid=$("$BENCH_DIR/nginx.sh" worker-pid)
    n0=$("$BENCH_DIR/nginx.sh" requests)
    read -r l0 bad0 < <("$BENCH_DIR/nginx.sh" logcount)
    w0=$(proc_cpu_ticks "$wpid")
    read -r c0 _ < <(cpu_jiffies "$LOAD_CPU")
    t_limit="${MEASURE_TIMEOUT:-120}"
    local prio; read -ra prio <<<"$(prio_prefix)"
    say "$name: ${prio[*]} taskset -c $LOAD_CPU $*"
    set +e
    "${prio[@]}" taskset -c "$LOAD_CPU" /usr/bin/time -o "$WORK/$name.time" -f '%e %U %S %M' \
        timeout -k 5 "$t_limit" "$@" >"$WORK/$name.out" 2>&1
    M_RC=$?
    set -e
    read -r c1 _ < <(cpu_jiffies "$LOAD_CPU")
    w1=$(proc_cpu_ticks "$wpid")
    n1=$("$BENCH_DIR/nginx.sh" requests)
    read -r l1 bad1 < <("$BENCH_DIR/nginx.sh" logcount)
    # /usr/bin/time writes "Command exited with non-zero status N" first when rc != 0
    read -r M_WALL u s M_RSS_KB < <(tail -1 "$WORK/$name.time")
    M_USER="$u"; M_SYS="$s"
    M_CPU=$(python3 -c "print(round($u+$s,2))")
    M_NGINX_REQ=$((n1 - n0))
    M_LOG_REQ=$((l1 - l0))
    M_LOG_NON200=$((bad1 - bad0))
    # distinct nginx connection serial numbers among this run's log lines = TCP connections used
    M_LOG_CONNS=$(awk -v a="$l0" -v b="$l1" 'NR>a && NR<=b {c[$4]=1} END {print length(c)}' \
        "$BENCH_NGINX_PREFIX/access.log")
    M_NGINX_CPU_PCT=$(python3 -c "print(round(100*($w1-$w0)/$CLK_TCK/max($M_WALL,0.001),1))")
    # CPU time spent on the generator's core by anything other than the generator (other engineers'
    # builds, kernel softirq for nginx, ...). High values mean the figure is noisy.
    M_CPU0_OTHER_PCT=$(python3 -c "print(round(max(0,100*(($c1-$c0)/$CLK_TCK-$M_CPU)/max($M_WALL,0.001)),1))")
}
