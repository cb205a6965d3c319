#!/usr/bin/env bash
# slurm-e2e.sh: a sharded sweep on a real Slurm, one node, this machine.
#
#  1. installs Debian's slurm-wlm and munge when slurmctld is missing (root);
#  2. starts munged, slurmctld and slurmd by hand, every file (key, socket,
#     state, spool, logs, pid files) under WORK, on ports 16817/16818;
#  3. makes a digits-sized dataset (8x8 images, 10 classes, npy files);
#  4. submits deploy/slurm-sweep.sbatch as a job array of 3 tasks, waits,
#     and checks that the records in the shared folder equal those of a
#     single-process `resq sweep` of the same spec, record for record (IDs,
#     status, errors, weights, bytes), and that `resq report` of both gives
#     the same results.csv (timing columns aside);
#  5. submits it again into a new folder, cancels one array task (scancel)
#     once it has written a record and before it has written all of them,
#     requeues it (scontrol requeue, StartTime=now) and checks that the
#     sweep ends with every cell recorded exactly once and equal to the
#     single-process run;
#  6. stops every daemon it started, by pid.
#
# Prints one PASS/FAIL line per check and exits non-zero on any FAIL.
# Environment: WORK (default: a fresh temp folder, removed on success),
# RESQ (a resq binary; default: built from this checkout), EPOCHS (float
# epochs of each cell, default 20, retraining half that: long enough for a task to be caught
# mid-run). Needs root (the daemons run as root), bash and python3.
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-$(mktemp -d /tmp/resq-slurm.XXXXXX)}
EPOCHS=${EPOCHS:-20}
mkdir -p "$WORK"
chmod 755 "$WORK"
say() { echo "slurm-e2e: $*" >&2; }
die() { say "$*"; exit 2; }
fails=0
check() { # check NAME CMD...: one PASS/FAIL line
	local name=$1
	shift
	if "$@"; then echo "PASS $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}

[ "$(id -u)" = 0 ] || die "needs root (the Slurm and munge daemons run as root)"
command -v python3 >/dev/null || die "python3 is required"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
	say "installing slurm-wlm and munge"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge >"$WORK/apt.log" 2>&1 ||
		die "apt-get install slurm-wlm munge failed (see $WORK/apt.log)"
fi
if [ -z "${RESQ:-}" ]; then
	mkdir -p "$WORK/bin"
	RESQ=$WORK/bin/resq
	(cd "$ROOT" && CGO_ENABLED=0 go build -buildvcs=auto -o "$RESQ" ./cmd/resq) || die "build failed"
fi
BIN=$(cd "$(dirname "$RESQ")" && pwd)
[ "$(basename "$RESQ")" = resq ] || { mkdir -p "$WORK/bin" && cp "$RESQ" "$WORK/bin/resq" && BIN=$WORK/bin; }
export PATH=$BIN:$PATH

# --- daemons -----------------------------------------------------------------
pids=()
stop_daemons() {
	local f p
	for f in "$WORK/run/slurmd.pid" "$WORK/run/slurmctld.pid" "$WORK/run/munged.pid"; do
		[ -s "$f" ] || continue
		p=$(cat "$f")
		kill "$p" 2>/dev/null || continue
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
}
trap stop_daemons EXIT
mkdir -p "$WORK/munge" "$WORK/run" "$WORK/log" "$WORK/state" "$WORK/spool" "$WORK/jobs"
chmod 700 "$WORK/munge"
chmod 755 "$WORK/run"
mungekey -c -f -k "$WORK/munge/munge.key" 2>/dev/null ||
	{ dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 status=none && chmod 600 "$WORK/munge/munge.key"; }
SOCK=$WORK/run/munge.socket
munged --key-file="$WORK/munge/munge.key" --socket="$SOCK" --pid-file="$WORK/run/munged.pid" \
	--log-file="$WORK/log/munged.log" --seed-file="$WORK/munge/munge.seed" --force >"$WORK/log/munged.out" 2>&1 ||
	die "munged did not start: $(tail -3 "$WORK/log/munged.out" "$WORK/log/munged.log" 2>/dev/null)"

HOST=$(hostname -s)
CPUS=$(nproc)
MEM=$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.8}' /proc/meminfo)
export SLURM_CONF=$WORK/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=resqe2e
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$SOCK
CredType=cred/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/run/slurmctld.pid
SlurmdPidFile=$WORK/run/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
MinJobAge=600
SchedulerParameters=defer_batch=0
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=e2e Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -c -f "$SLURM_CONF" >"$WORK/log/slurmctld.out" 2>&1 || die "slurmctld did not start: $(tail -5 "$WORK/log/slurmctld.log")"
slurmd -f "$SLURM_CONF" >"$WORK/log/slurmd.out" 2>&1 || die "slurmd did not start: $(tail -5 "$WORK/log/slurmd.log")"
up=
for _ in $(seq 100); do
	if sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then up=1; break; fi
	sleep 0.2
done
[ -n "$up" ] || die "the node did not come up: $(sinfo 2>&1; tail -5 "$WORK/log/slurmctld.log" "$WORK/log/slurmd.log")"
say "slurm up: $HOST, $CPUS CPUs ($(sinfo -V))"

# --- data and spec -----------------------------------------------------------
DATA=$WORK/data
mkdir -p "$DATA"
python3 - "$DATA" <<'PY'
# 8x8 "digits": 10 random prototypes, each sample a prototype shifted by up
# to one pixel plus noise, as uint8 features [N, 64] and int64 labels [N].
import random, struct, sys
def npy(path, descr, shape, payload):
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else ""))
    pad = 64 - (10 + len(hdr) + 1) % 64
    hdr = hdr + " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() + payload)
rng = random.Random(1)
protos = [[rng.random() < 0.4 for _ in range(64)] for _ in range(10)]
def sample(c):
    dx, dy = rng.randint(-1, 1), rng.randint(-1, 1)
    out = bytearray(64)
    for y in range(8):
        for x in range(8):
            sx, sy = x - dx, y - dy
            on = 0 <= sx < 8 and 0 <= sy < 8 and protos[c][sy * 8 + sx]
            v = (200 if on else 30) + rng.gauss(0, 60)
            out[y * 8 + x] = max(0, min(255, int(v)))
    return bytes(out)
for name, n in (("train", 6000), ("test", 1000)):
    ys = [rng.randrange(10) for _ in range(n)]
    npy("%s/%s_x.npy" % (sys.argv[1], name), "|u1", (n, 64), b"".join(sample(c) for c in ys))
    npy("%s/%s_y.npy" % (sys.argv[1], name), "<i8", (n,), struct.pack("<%dq" % n, *ys))
PY
[ -s "$DATA/test_y.npy" ] || die "could not write the dataset"
SPEC=$WORK/e2e.yaml
cat >"$SPEC" <<EOF
name: slurm-e2e
dataset: npy:$DATA/train_x.npy,$DATA/train_y.npy,$DATA/test_x.npy,$DATA/test_y.npy
family: mlp
mlp: {widths: [32, 64, 128], depths: [2], act: relu}
bits: [2, 3]
modes: [float, direct, retrain]
seeds: [1]
float: {epochs: $EPOCHS, batch: 50, lr: 0.1}
retrain: {epochs: $((EPOCHS / 2)), lr: 0.01}
workers: 1
EOF
CELLS=15 # 3 sizes x (float + 2 bits x (direct, retrain))

# --- helpers -------------------------------------------------------------------
submit() { # submit OUT: prints the array job's id
	sbatch --parsable --array=0-2 --cpus-per-task=1 --mem=512M --time=00:30:00 \
		--chdir="$WORK/jobs" --output="$WORK/jobs/%x-%A-%a.log" \
		"$ROOT/deploy/slurm-sweep.sbatch" "$SPEC" "$1"
}
wait_job() { # wait_job ID SECONDS: until no task of the job is pending or running
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		[ -z "$(squeue -h -j "$1" -o %i 2>/dev/null)" ] && return 0
		sleep 1
	done
	say "job $1 still queued after $2 s: $(squeue -j "$1" 2>&1)"
	return 1
}
states() { scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | sort | uniq -c | tr -s ' \n' ' '; }
all_completed() { ! scontrol -o show job "$1" | grep -o 'JobState=[A-Z_]*' | grep -qv COMPLETED; }
okcount() { cat "$1"/results*.jsonl 2>/dev/null | grep -c '"status":"ok"'; }
cat >"$WORK/cmp.py" <<'PY'
# cmp.py A B: the ok records of two sweep folders, field by field except
# timings, version and host; every ID exactly once in each.
import glob, json, os, sys
def records(d):
    out, dup = {}, []
    for f in sorted(glob.glob(os.path.join(d, "results*.jsonl"))):
        for ln in open(f):
            r = json.loads(ln)
            if r.get("status") != "ok":
                continue
            for k in ("train_seconds", "eval_seconds", "resq_version", "build", "host"):
                r.pop(k, None)
            if r["id"] in out:
                dup.append(r["id"])
            out[r["id"]] = r
    return out, dup
(a, da), (b, db) = records(sys.argv[1]), records(sys.argv[2])
bad = False
for d, dups in ((sys.argv[1], da), (sys.argv[2], db)):
    for i in dups:
        print("  %s: record %s twice" % (d, i)); bad = True
for i in sorted(set(a) | set(b)):
    if i not in a or i not in b:
        print("  %s only in %s" % (i, sys.argv[1] if i in a else sys.argv[2])); bad = True
    elif a[i] != b[i]:
        keys = sorted(k for k in set(a[i]) | set(b[i]) if a[i].get(k) != b[i].get(k))
        print("  %s differs in %s" % (i, ", ".join(keys))); bad = True
print("  %d records each, %s" % (len(a), "different" if bad else "equal in id, status, errors, weights, bytes and config"))
sys.exit(1 if bad else 0)
PY
cat >"$WORK/cmpcsv.py" <<'PY'
# cmpcsv.py A B: two report results.csv files without their timing columns.
import csv, sys
def table(p):
    rows = list(csv.reader(open(p, newline="")))
    keep = [i for i, h in enumerate(rows[0]) if "seconds" not in h and "version" not in h and "latency" not in h]
    return [[r[i] for i in keep] for r in rows]
a, b = table(sys.argv[1]), table(sys.argv[2])
print("  results.csv: %d rows, %s" % (len(a) - 1, "equal" if a == b else "different"))
sys.exit(0 if a == b else 1)
PY

# --- 1. a job array against one process -------------------------------------
t0=$SECONDS
say "single-process sweep"
resq sweep "$SPEC" --out "$WORK/single" >"$WORK/single.log" 2>&1 || die "single-process sweep failed: $(tail -3 "$WORK/single.log")"
say "single-process sweep: $((SECONDS - t0)) s"
t1=$SECONDS
JOB=$(submit "$WORK/array") || die "sbatch failed"
say "submitted array job $JOB (3 tasks)"
wait_job "$JOB" 600
say "array job $JOB: $((SECONDS - t1)) s, $(states "$JOB")"
check "array job: 3 tasks COMPLETED" all_completed "$JOB"
check "array job: 3 shard files" test "$(ls "$WORK/array"/results-shard-*-of-3.jsonl 2>/dev/null | wc -l)" = 3
check "array job: records equal the single-process run's" python3 "$WORK/cmp.py" "$WORK/single" "$WORK/array"
resq report "$WORK/single" >/dev/null 2>&1 && resq report "$WORK/array" >/dev/null 2>&1
check "array job: resq report equals the single-process report" python3 "$WORK/cmpcsv.py" "$WORK/single/report/results.csv" "$WORK/array/report/results.csv"

# --- 2. one task cancelled mid-run, requeued ----------------------------------
t2=$SECONDS
JOB=$(submit "$WORK/resume") || die "sbatch failed"
say "submitted array job $JOB; cancelling task 1 once it has a record"
victim=${JOB}_1
shard=$WORK/resume/results-shard-1-of-3.jsonl
caught=
for _ in $(seq 1200); do
	n=$(grep -c '"status":"ok"' "$shard" 2>/dev/null)
	n=${n:-0}
	if [ "$n" -ge 1 ] && [ "$n" -lt 5 ]; then
		scancel "$victim" && caught=$n
		break
	fi
	if [ "$n" -ge 5 ]; then break; fi
	sleep 0.1
done
[ -n "$caught" ] && say "cancelled $victim with $caught of 5 records written"
check "resume: task 1 cancelled mid-run" test -n "$caught"
for _ in $(seq 100); do
	scontrol -o show job "$victim" | grep -q 'JobState=CANCELLED' && break
	sleep 0.2
done
left_n=$(grep -c '"status":"ok"' "$shard")
say "task 1: $(scontrol -o show job "$victim" | grep -o 'JobState=[A-Z_]*'), $left_n of 5 records"
check "resume: the cancelled task left cells to do" test "$left_n" -lt 5
if scontrol requeue "$victim" 2>"$WORK/requeue.err"; then
	how=requeued
else
	# Slurms that refuse to requeue a cancelled task: resubmit that shard alone.
	how=resubmitted
	say "requeue refused ($(cat "$WORK/requeue.err")); resubmitting shard 1"
	RESQ_SHARD=1/3 sbatch --parsable --cpus-per-task=1 --mem=512M --chdir="$WORK/jobs" \
		--output="$WORK/jobs/%x-%j.log" "$ROOT/deploy/slurm-sweep.sbatch" "$SPEC" "$WORK/resume" >"$WORK/resubmit.id"
fi
# A requeued task starts only after a delay (about 120 s) unless told to start now.
[ $how = requeued ] && scontrol update jobid="$victim" StartTime=now >/dev/null 2>&1
wait_job "$JOB" 600
[ -s "$WORK/resubmit.id" ] && wait_job "$(cat "$WORK/resubmit.id")" 600
say "resume: $how; $((SECONDS - t2)) s, $(states "$JOB")"
check "resume: every task COMPLETED" all_completed "$JOB"
[ $how = requeued ] && check "resume: task 1 ran again (Restarts=1)" eval 'scontrol -o show job "$victim" | grep -q "Restarts=1"'
check "resume: $CELLS cells, each recorded once" test "$(okcount "$WORK/resume")" = $CELLS
check "resume: records equal the single-process run's" python3 "$WORK/cmp.py" "$WORK/single" "$WORK/resume"
resq report "$WORK/resume" >/dev/null 2>&1
check "resume: resq report equals the single-process report" python3 "$WORK/cmpcsv.py" "$WORK/single/report/results.csv" "$WORK/resume/report/results.csv"

stop_daemons
trap - EXIT
left=$(for f in "$WORK"/run/*.pid; do p=$(cat "$f" 2>/dev/null) && kill -0 "$p" 2>/dev/null && echo "$f"; done)
check "daemons stopped" test -z "$left"
say "total $SECONDS s"
if [ $fails -eq 0 ]; then
	[ -z "${KEEP:-}" ] && case $WORK in /tmp/resq-slurm.*) rm -rf "$WORK" ;; esac
	exit 0
fi
say "$fails check(s) failed; logs in $WORK/log and $WORK/jobs"
exit 1
