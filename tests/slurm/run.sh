#!/usr/bin/env bash
# A distributed run on a real job scheduler: a one-node Slurm (Debian's slurm-wlm and
# munge) started here, with its state in a temporary folder, runs a 3-task job array the
# way a cluster would run kload's segments, then the results are merged.
#
#   bash tests/slurm/run.sh          install what is missing, run, stop the daemons
#   KLOAD_SLURM_KEEP=1 bash ...      keep the temporary folder (logs, results) for a look
#   KLOAD_BIN=path bash ...          test that kload binary instead of building one
#
# What the array tasks run depends on the kload under test:
#   - with `kload run --segment` and `kload merge`: each task runs its segment of an
#     arrival-rate scenario with `--segment auto --start-at T --json DIR/seg-ID.json`
#     against a demo target started here; `kload merge` joins the three results, and the
#     request counts per name must equal those of a single-process run.
#   - without them: each task records its environment and when it ran; the check is that
#     Slurm gives the three tasks the indexes 0..2 and the count 3 that `--segment auto`
#     reads, and runs them at the same time.
#
# Needs root (it installs packages and runs slurmd as root, as on this project's CI
# machines). The daemons are started in the foreground, in the background of this shell,
# and stopped by their process ids on exit. Ends with `slurm: N passed, M failed`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
TASKS=3
started=$SECONDS

say() { printf 'slurm: %s\n' "$*" >&2; }
passed=0
failed=0
pass() { passed=$((passed + 1)); say "ok: $*"; }
fail() { failed=$((failed + 1)); say "FAILED: $*"; }
finish() {
    say "took $((SECONDS - started)) s in all"
    echo "slurm: $passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
}
setup_failed() { fail "$1"; finish; }

if [ "$(id -u)" != 0 ]; then
    setup_failed "needs root (slurmd runs the jobs as their users)"
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge"
    t=$SECONDS
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge; } >&2 \
        || setup_failed "apt-get install slurm-wlm munge"
    say "installed in $((SECONDS - t)) s"
fi

# ----------------------------------------------------------------------------- kload
dir="$(mktemp -d /tmp/kload-slurm.XXXXXX)"
chmod 755 "$dir"
# A copy, so that another build into a shared target folder cannot swap it mid-run.
kload="$dir/kload"
if [ -n "${KLOAD_BIN:-}" ]; then
    cp "$KLOAD_BIN" "$kload"
else
    t=$SECONDS
    (cd "$root" && cargo build --quiet --locked --bin kload) || setup_failed "cargo build"
    say "kload built in $((SECONDS - t)) s"
    cp "$target/debug/kload" "$kload"
fi
if "$kload" run --help | grep -q -- '--segment' && "$kload" merge --help >/dev/null 2>&1; then
    mode=kload
else
    mode=placeholder
    say "this kload has no \`run --segment\` or \`merge\` yet: the tasks record their environment instead"
fi

# ----------------------------------------------------------------------------- daemons
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "${KLOAD_SLURM_KEEP:-}" = 1 ]; then
        say "kept $dir"
    else
        rm -rf "$dir"
    fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
host="$(hostname -s)"
mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/logs" "$dir/results"
chmod 700 "$dir/munge"
t=$SECONDS

# munge: its own key and socket, so that nothing of the machine's is used or changed.
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/munge.key"
munged --foreground --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/socket" \
    --pid-file="$dir/munge/pid" --log-file="$dir/munge/log" --seed-file="$dir/munge/seed" 2>>"$dir/munge/log" &
pids+=($!)
for _ in $(seq 100); do [ -S "$dir/munge/socket" ] && break; sleep 0.1; done
[ -S "$dir/munge/socket" ] || setup_failed "munged did not start: $(tail -3 "$dir/munge/log")"

# One node with the machine's CPUs; FORCE:4 lets the array's tasks share them, as a real
# cluster's nodes would each run one task.
cpus="$(nproc)"
cat > "$dir/slurm.conf" <<EOF
ClusterName=kload
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/logs/slurmctld.log
SlurmdLogFile=$dir/logs/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=kload Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -D -i -f "$SLURM_CONF" >>"$dir/logs/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >>"$dir/logs/slurmd.out" 2>&1 &
pids+=($!)
state=""
for _ in $(seq 120); do
    state="$(sinfo -h -N -o %T 2>/dev/null | head -1 || true)"
    [ "$state" = idle ] && break
    sleep 0.5
done
if [ "$state" = idle ]; then
    pass "slurmctld and slurmd up, node idle after $((SECONDS - t)) s"
else
    setup_failed "the node is not idle (state: ${state:-none}): $(tail -5 "$dir/logs/slurmctld.log" "$dir/logs/slurmd.log" 2>&1)"
fi

# ----------------------------------------------------------------------------- the job
scenario="$dir/scenario/test.kload"
mkdir -p "$dir/scenario/data"
{ echo username; for i in $(seq -w 1 40); do echo "user$i"; done; } > "$dir/scenario/data/accounts.csv"
cat > "$scenario" <<'EOF'
# An arrival every 100 ms for 1.25 s (the end falls between two), each with its own account.
data accounts from "data/accounts.csv" unique

load {
  arrival_rate 10/s
  max_users 12
  run_time 1250ms
}

user Member {
  task health {
    GET "/api/v1/health/" {
      query account: "{{ accounts.username }}"
      check status 200
    }
  }
}
EOF

if [ "$mode" = kload ]; then
    "$kload" demo --serve --port 0 --latency-scale 0 2>"$dir/logs/target.log" &
    pids+=($!)
    url=""
    for _ in $(seq 100); do
        url="$(grep -o 'http://127.0.0.1:[0-9]*' "$dir/logs/target.log" | head -1 || true)"
        [ -n "$url" ] && break
        sleep 0.1
    done
    [ -n "$url" ] || setup_failed "the demo target did not start: $(cat "$dir/logs/target.log")"
fi

# All tasks start on one instant, a few seconds after submission.
start_at="$(date -u -d '+6 seconds' +%Y-%m-%dT%H:%M:%SZ)"
cat > "$dir/job.sh" <<EOF
#!/usr/bin/env bash
#SBATCH --job-name=kload
#SBATCH --output=$dir/logs/task-%a.out
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
set -euo pipefail
if [ "$mode" = kload ]; then
    exec "$kload" run "$scenario" --headless --only-summary --host "${url:-}" \\
        --segment auto --start-at "$start_at" --json "$dir/results/seg-\$SLURM_ARRAY_TASK_ID.json"
fi
# Placeholder: what --segment auto would read, and when the task ran.
out="$dir/results/seg-\$SLURM_ARRAY_TASK_ID.env"
{
    echo "started=\$(date +%s.%N)"
    env | grep -E '^SLURM_(ARRAY_TASK_(ID|MIN|MAX|COUNT)|ARRAY_JOB_ID)=' | sort
} > "\$out.tmp"
sleep 2
echo "ended=\$(date +%s.%N)" >> "\$out.tmp"
mv "\$out.tmp" "\$out"
EOF
t=$SECONDS
if timeout 300 sbatch --wait --quiet --array=0-$((TASKS - 1)) "$dir/job.sh" >"$dir/logs/sbatch.out" 2>&1; then
    pass "sbatch --array=0-$((TASKS - 1)) finished in $((SECONDS - t)) s"
else
    fail "the job array failed: $(cat "$dir/logs/sbatch.out" "$dir"/logs/task-*.out 2>/dev/null | tail -20)"
fi

# ----------------------------------------------------------------------------- checks
if [ "$mode" = placeholder ]; then
    if out="$(python3 - "$dir/results" "$TASKS" <<'PY' 2>&1
import pathlib, sys
results, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
tasks = {}
for f in sorted(results.glob("seg-*.env")):
    tasks[f.name] = dict(line.split("=", 1) for line in f.read_text().split())
assert len(tasks) == n, f"{len(tasks)} task files, expected {n}"
ids = sorted(int(t["SLURM_ARRAY_TASK_ID"]) - int(t["SLURM_ARRAY_TASK_MIN"]) for t in tasks.values())
assert ids == list(range(n)), f"segment indexes {ids}"
counts = {t["SLURM_ARRAY_TASK_COUNT"] for t in tasks.values()}
assert counts == {str(n)}, f"segment counts {counts}"
latest_start = max(float(t["started"]) for t in tasks.values())
earliest_end = min(float(t["ended"]) for t in tasks.values())
assert latest_start < earliest_end, "the tasks did not run at the same time"
print(f"indexes {ids}, count {n}, all running together for {earliest_end - latest_start:.2f} s")
PY
)"; then
        pass "array tasks: $out"
    else
        fail "array tasks: $out"
    fi
else
    t=$SECONDS
    "$kload" run "$scenario" --headless --only-summary --host "$url" \
        --csv "$dir/results/single" >"$dir/logs/single.out" 2>&1 || fail "the single-process run failed"
    if "$kload" merge "$dir"/results/seg-*.json --csv "$dir/results/merged" >"$dir/logs/merge.out" 2>&1; then
        pass "kload merge of $TASKS results"
    else
        fail "kload merge: $(tail -20 "$dir/logs/merge.out")"
    fi
    if out="$(python3 - "$dir/results/single_stats.csv" "$dir/results/merged_stats.csv" <<'PY' 2>&1
import csv, sys
def counts(path):
    with open(path, newline="") as f:
        return {(r["Type"], r["Name"]): (r["Request Count"], r["Failure Count"]) for r in csv.DictReader(f)}
single, merged = counts(sys.argv[1]), counts(sys.argv[2])
assert single == merged, f"single {single} != merged {merged}"
print(single[("", "Aggregated")][0])
PY
)"; then
        pass "merged request counts equal the single run's ($out requests)"
    else
        fail "merged != single: $out"
    fi
fi
finish
