#!/usr/bin/env bash
# fault-inject.sh: kill resq with SIGKILL at random moments and check that
# nothing is lost, duplicated or torn.
#
#   scripts/fault-inject.sh [sweep|fetch|heal|changed|all]     (default: all)
#
# sweep: runs a real sweep (SPEC below, ~100 cells on MNIST), kills it
#   KILLS times (default 25) after a random sleep, restarts it each time,
#   lets it finish, then checks that every cell has exactly one ok record,
#   that no results file has a torn or unparsable line, and that the report
#   (results.csv without the timing columns, and summary.csv) equals the one
#   of an uninterrupted run in another folder. Every 8th kill also leaves a
#   simulated torn last line (half a record, no newline) in results.jsonl.
# fetch: serves the MNIST files from a throttled HTTP server on 127.0.0.1
#   (python3; Range requests supported, one request in five ignores the
#   Range header, one response corrupts a byte), runs
#   `resq data fetch mnist --offline --cache TMP` with RESQ_MIRROR pointing
#   at it and no Go module cache (so the mirror is the only source), kills it
#   KILLS times mid-download, and checks after every kill that each file
#   in the cache that is not a .part is complete and verified, and at the end
#   that `resq data list` says verified and no .part remains.
# heal: a small sweep on synthetic NPY data (written by python3, no numpy)
#   is run to the end; then every non-float record is dropped from
#   results.jsonl and every float model is damaged, each in its own way
#   (truncated, emptied, replaced by garbage, a byte flipped in its header,
#   replaced by the model of another width, a weight set to NaN), and the
#   sweep is run again: it must exit 0 with every cell ok and a report equal
#   to the first run's.
# changed: a sweep on NPY data is run, the data files are rewritten under
#   the same paths with other rows, and the sweep is run again: it must
#   exit non-zero saying the data changed and leave results.jsonl as it
#   was; the records of the two data sets merged into one folder must give
#   a report with one group per checksum.
#
# Environment: KILLS (default 25), SEED (default: $RANDOM), WORK (default:
# a fresh temp folder, removed on success), RESQ (a resq binary; default:
# built from this checkout). Needs bash, python3, md5sum. Runs under nice.
# Exit status 0 and a line "PASS ..." per part when everything holds.
set -u -o pipefail

MODE=${1:-all}
KILLS=${KILLS:-25}
SEED=${SEED:-$RANDOM}
RANDOM=$SEED
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-$(mktemp -d /tmp/resq-fault.XXXXXX)}
mkdir -p "$WORK"
FAILED=0
echo "fault-inject: mode $MODE, $KILLS kills, seed $SEED, work folder $WORK"

command -v python3 >/dev/null || { echo "fault-inject: python3 is required" >&2; exit 2; }
if [ -z "${RESQ:-}" ]; then
	RESQ=$WORK/resq
	(cd "$ROOT" && CGO_ENABLED=0 nice -n 19 go build -o "$RESQ" ./cmd/resq) || { echo "fault-inject: build failed" >&2; exit 2; }
fi

# rsleep MIN_MS MAX_MS sleeps a random time in [MIN, MAX] milliseconds.
rsleep() {
	local ms=$(( $1 + RANDOM % ($2 - $1 + 1) ))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
}

# check.py: the record checks, shared by the sweep part.
cat > "$WORK/check.py" <<'PY'
import csv, glob, json, os, sys
def scan(d):
    """torn/bad lines (a torn line = last line without newline), ok ids, failed count"""
    torn = bad = failed = 0
    ok = []
    for f in sorted(glob.glob(os.path.join(d, "results*.jsonl"))):
        b = open(f, "rb").read()
        lines = b.split(b"\n")
        if lines and lines[-1] != b"":
            torn += 1
        for ln in lines[:-1]:
            try:
                r = json.loads(ln)
            except Exception:
                bad += 1
                continue
            if r.get("status") == "ok":
                ok.append(r["id"])
            else:
                failed += 1
    return torn, bad, failed, ok
def table(path, drop):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    keep = [i for i, h in enumerate(rows[0]) if h not in drop]
    return [rows[0][i] for i in keep], sorted([[r[i] for i in keep] for r in rows[1:]])
cmd = sys.argv[1]
if cmd == "scan":  # prints: torn bad failed ok unique
    torn, bad, failed, ok = scan(sys.argv[2])
    print(torn, bad, failed, len(ok), len(set(ok)))
elif cmd == "same":  # same REPORT_DIR_A REPORT_DIR_B: exit 1 and say where they differ
    a, b = sys.argv[2], sys.argv[3]
    diffs = 0
    for name, drop in (("results.csv", {"train_seconds", "eval_seconds"}), ("summary.csv", set())):
        ha, ra = table(os.path.join(a, name), drop)
        hb, rb = table(os.path.join(b, name), drop)
        if ha != hb:
            print("%s: headers differ" % name); diffs += 1; continue
        if len(ra) != len(rb):
            print("%s: %d rows vs %d" % (name, len(ra), len(rb))); diffs += 1
        for x, y in zip(ra, rb):
            if x != y:
                diffs += 1
                cols = [ha[i] for i in range(len(x)) if x[i] != y[i]]
                if diffs <= 5:
                    print("%s: row differs in %s: %s vs %s" % (name, ",".join(cols),
                          [x[i] for i in range(len(x)) if x[i] != y[i]][:3], [y[i] for i in range(len(y)) if x[i] != y[i]][:3]))
    print("differing rows: %d" % diffs)
    sys.exit(1 if diffs else 0)
PY

sweep_part() {
	local spec=$WORK/fault.yaml ref=$WORK/ref flt=$WORK/faulted
	cat > "$spec" <<'YAML'
name: fault
dataset: mnist
limit: 4000
family: mlp
mlp: {widths: [16, 32, 64, 128], depths: [1, 2], act: relu}
bits: [2, 3, 4]
modes: [float, direct, retrain]
seeds: [1, 2]
float: {epochs: 3, batch: 100, lr: 0.1}
retrain: {epochs: 1, lr: 0.01}
YAML
	rm -rf "$ref" "$flt"
	"$RESQ" data fetch mnist >/dev/null 2>&1 || { echo "fault-inject: cannot fetch mnist" >&2; return 1; }
	local t0=$(date +%s.%N)
	if ! nice -n 19 "$RESQ" sweep "$spec" --out "$ref" >"$WORK/ref.log" 2>&1; then
		echo "FAIL sweep: the uninterrupted run failed (see $WORK/ref.log)"; FAILED=1; return 1
	fi
	local tref=$(python3 -c "import time;print(round(time.time()-$t0,1))")
	read -r _ _ _ ncells _ < <(python3 "$WORK/check.py" scan "$ref")
	# Kill after a random time in [KMIN, KMAX] ms; scale with the reference run.
	local kmax=$(python3 -c "print(max(600, int($tref*1000*1.6/$KILLS)))") kmin=100
	echo "sweep: uninterrupted run: $ncells cells in ${tref}s; killing after ${kmin}..${kmax} ms"
	local kills=0 exits=0 starts=0 maxtorn=0 midbad=0 midviol=0 injected=0
	while :; do
		starts=$((starts + 1))
		nice -n 19 "$RESQ" sweep "$spec" --out "$flt" >>"$WORK/faulted.log" 2>&1 &
		local pid=$!
		if [ $kills -lt "$KILLS" ]; then
			rsleep $kmin "$kmax"
			if kill -KILL $pid 2>/dev/null; then
				wait $pid 2>/dev/null
				kills=$((kills + 1))
				read -r torn bad failed ok uniq < <(python3 "$WORK/check.py" scan "$flt")
				[ "$torn" -gt "$maxtorn" ] && maxtorn=$torn
				[ "$bad" -gt 0 ] && midbad=$((midbad + 1))
				[ "$ok" -ne "$uniq" ] && midviol=$((midviol + 1))
				# Every 8th kill, also simulate a write torn by the kill
				# (half a record, no newline), as a crash inside write(2) or
				# a full disk would leave it.
				if [ $((kills % 8)) -eq 4 ] && [ -s "$flt/results.jsonl" ]; then
					python3 -c "import sys;p=sys.argv[1];l=open(p,'rb').read().splitlines()[-1];open(p,'ab').write(l[:len(l)//2])" "$flt/results.jsonl"
					injected=$((injected + 1))
				fi
				continue
			fi
		fi
		wait $pid
		local rc=$?
		exits=$((exits + 1))
		read -r _ _ _ ok _ < <(python3 "$WORK/check.py" scan "$flt")
		if [ $rc -eq 0 ] && [ "$ok" -ge "$ncells" ] && [ $kills -ge "$KILLS" ]; then break; fi
		if [ $rc -ne 0 ]; then echo "sweep: run $starts exited with status $rc (see $WORK/faulted.log)"; fi
		if [ $rc -eq 0 ] && [ "$ok" -ge "$ncells" ]; then
			# Finished before enough kills: go on in a fresh folder next to it.
			echo "sweep: the faulted run finished after $kills kills; shortening the sleeps"
			kmax=$(( kmax * 2 / 3 > kmin + 50 ? kmax * 2 / 3 : kmin + 50 ))
			mv "$flt" "$flt.$starts"
		fi
		[ $starts -gt $((KILLS * 4)) ] && { echo "FAIL sweep: no progress after $starts starts"; FAILED=1; return 1; }
	done
	read -r torn bad failed ok uniq < <(python3 "$WORK/check.py" scan "$flt")
	local dups=$((ok - uniq)) same=0
	nice -n 19 "$RESQ" report "$flt" >"$WORK/faulted-report.log" 2>&1 || echo "sweep: resq report failed on $flt"
	python3 "$WORK/check.py" same "$ref/report" "$flt/report" >"$WORK/same.log" 2>&1 || same=1
	local verdict=PASS
	if [ "$uniq" -ne "$ncells" ] || [ $dups -ne 0 ] || [ "$torn" -ne 0 ] || [ "$bad" -ne 0 ] || [ $same -ne 0 ] || [ $midbad -ne 0 ] || [ $midviol -ne 0 ]; then
		verdict=FAIL; FAILED=1
	fi
	echo "$verdict sweep: kills $kills, starts $starts (clean exits $exits), cells $uniq/$ncells ok, ok records $ok, duplicates $dups, failed records $failed, final torn lines $torn, final bad lines $bad, max torn tail seen after a kill $maxtorn, torn tails injected $injected, kills leaving a bad line $midbad, kills leaving a duplicate $midviol, report equal to uninterrupted run: $([ $same -eq 0 ] && echo yes || echo no)"
	[ $same -ne 0 ] && sed 's/^/  /' "$WORK/same.log"
	return 0
}

fetch_part() {
	local src=$WORK/mnist-src cache=$WORK/fetch-cache port
	mkdir -p "$src/mnist"
	"$RESQ" data fetch mnist --cache "$WORK/srccache" >/dev/null 2>&1 || { echo "FAIL fetch: cannot get the MNIST source files" ; FAILED=1; return 1; }
	cp "$WORK/srccache/mnist/"*.gz "$src/mnist/"
	(cd "$src/mnist" && md5sum *.gz) > "$WORK/md5.txt"
	cat > "$WORK/server.py" <<'PY'
# Throttled HTTP file server with Range support, for fault injection.
# Every 5th request ignores Range (200, whole file); the first complete
# response of t10k-labels has one byte flipped.
import http.server, os, re, sys, threading, time
root, chunk, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
lock = threading.Lock(); count = [0]; corrupted = [False]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        path = os.path.join(root, self.path.lstrip("/"))
        if not os.path.isfile(path):
            self.send_error(404); return
        data = open(path, "rb").read()
        with lock:
            count[0] += 1; n = count[0]
            corrupt = path.endswith("t10k-labels-idx1-ubyte.gz") and not corrupted[0]
            if corrupt: corrupted[0] = True
        if corrupt:
            data = bytearray(data); data[len(data) // 2] ^= 0xFF; data = bytes(data)
        start = 0
        m = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
        if m and n % 5 != 0:
            start = int(m.group(1))
            if start >= len(data):
                self.send_response(416); self.send_header("Content-Range", "bytes */%d" % len(data)); self.end_headers(); return
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start)); self.end_headers()
        try:
            for i in range(start, len(data), chunk):
                self.wfile.write(data[i:i + chunk]); time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
	# ~11.6 MB at 32 KiB per 25 ms (~1.3 MB/s): about 9 s uninterrupted.
	python3 "$WORK/server.py" "$src" 32768 0.025 >"$WORK/port" 2>"$WORK/server.log" &
	local spid=$!
	for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
	port=$(head -1 "$WORK/port")
	[ -n "$port" ] || { echo "FAIL fetch: server did not start"; kill $spid; FAILED=1; return 1; }
	rm -rf "$cache"
	local kills=0 starts=0 fails=0 badcached=0 partseen=0 resumed=0 rounds=0
	export RESQ_MIRROR=http://127.0.0.1:$port
	while :; do
		starts=$((starts + 1))
		GOMODCACHE=$WORK/no-modcache GOFLAGS=-mod=mod nice -n 19 "$RESQ" data fetch mnist --offline --cache "$cache" >>"$WORK/fetch.log" 2>&1 &
		local pid=$!
		if [ $kills -lt "$KILLS" ]; then
			rsleep 150 1200
			if kill -KILL $pid 2>/dev/null; then
				wait $pid 2>/dev/null
				kills=$((kills + 1))
			else
				wait $pid; local rc=$?
				if [ $rc -ne 0 ]; then
					fails=$((fails + 1))
				elif [ $kills -lt "$KILLS" ]; then
					# Finished before enough kills: check it, then start over.
					"$RESQ" data list --cache "$cache" | awk '$1=="mnist"{print $2}' | grep -qx verified || { badcached=$((badcached + 1)); echo "fetch: round $((rounds + 1)) finished but mnist is not verified"; }
					rounds=$((rounds + 1))
					rm -rf "$cache"
				fi
			fi
		else
			wait $pid; local rc=$?
			[ $rc -eq 0 ] && break
			fails=$((fails + 1))
		fi
		# Invariant: a file without .part in the cache is complete and verified.
		for f in "$cache"/mnist/*; do
			[ -e "$f" ] || continue
			case "$f" in
			*.part) partseen=$((partseen + 1)) ;;
			*) grep -q "^$(md5sum <"$f" | cut -d' ' -f1)  $(basename "$f")\$" "$WORK/md5.txt" || { badcached=$((badcached + 1)); echo "fetch: unverified file in cache after a kill: $f"; } ;;
			esac
		done
		[ $starts -gt $((KILLS * 6)) ] && { echo "FAIL fetch: no progress after $starts starts"; break; }
	done
	kill $spid 2>/dev/null; wait $spid 2>/dev/null
	unset RESQ_MIRROR
	resumed=$(grep -c "resuming at byte" "$WORK/fetch.log")
	local restart corrupt listed leftover
	restart=$(grep -c "server cannot resume" "$WORK/fetch.log")
	corrupt=$(grep -c "^data: .*\(invalid checksum\|mismatch\|cached copy is bad\)" "$WORK/fetch.log")
	"$RESQ" data list --cache "$cache" >"$WORK/list.txt" 2>&1
	listed=$(awk '$1=="mnist"{print $2}' "$WORK/list.txt")
	leftover=$(ls "$cache"/mnist/*.part 2>/dev/null | wc -l)
	local verdict=PASS
	if [ "$listed" != verified ] || [ $badcached -ne 0 ] || [ "$leftover" -ne 0 ] || [ $kills -lt "$KILLS" ]; then verdict=FAIL; FAILED=1; fi
	echo "$verdict fetch: kills $kills, starts $starts, complete downloads before the last round $rounds, runs that exited with an error $fails, resumes (Range) $resumed, restarts from 0 (server ignored Range) $restart, downloads rejected by verification $corrupt, unverified non-.part files seen after a kill $badcached, .part files seen after kills $partseen, final state '$listed', .part left $leftover"
}

# npy.py DIR SEED: four NPY files (train 300 x 8 float32, test 100 x 8;
# labels uint8 of 3 classes) with rows drawn from SEED.
cat > "$WORK/npy.py" <<'PY'
import random, struct, sys
d, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
def save(path, shape, fmt, vals):
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        "<f4" if fmt == "f" else "|u1", ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else ""))
    hdr += " " * ((64 - (10 + len(hdr) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
        f.write(struct.pack("<%d%s" % (len(vals), fmt), *vals))
for part, n in (("train", 300), ("test", 100)):
    ys = [rng.randrange(3) for _ in range(n)]
    xs = [rng.gauss(0, 1) + (1.5 if j % 3 == ys[i] else 0) for i in range(n) for j in range(8)]
    save("%s/%s_x.npy" % (d, part), [n, 8], "f", xs)
    save("%s/%s_y.npy" % (d, part), [n], "B", ys)
PY

# damage.py MODEL KIND [OTHER]: damages a float checkpoint in place.
cat > "$WORK/damage.py" <<'PY'
import json, math, struct, sys
p, kind = sys.argv[1], sys.argv[2]
b = open(p, "rb").read()
if kind == "truncate":
    b = b[:len(b) // 2]
elif kind == "empty":
    b = b""
elif kind == "garbage":
    b = b"not a model at all\n" * 10
elif kind == "header":
    b = bytearray(b); b[12] ^= 0x5a; b = bytes(b)
elif kind == "other":
    b = open(sys.argv[3], "rb").read()
elif kind == "nan":
    n = struct.unpack("<Q", b[:8])[0]
    hdr = json.loads(b[8:8 + n])
    name = sorted(k for k in hdr if k != "__metadata__")[0]
    off = 8 + n + hdr[name]["data_offsets"][0]
    b = b[:off] + struct.pack("<f", math.nan) + b[off + 4:]
open(p, "wb").write(b)
PY

npy_spec() { # npy_spec DATADIR WIDTHS
	cat <<YAML
name: npyfault
dataset: "npy:$1/train_x.npy,$1/train_y.npy,$1/test_x.npy,$1/test_y.npy"
family: mlp
mlp: {widths: [$2], depths: [1]}
bits: [2, 3]
modes: [float, direct, retrain]
seeds: [1]
float: {epochs: 2, batch: 50, lr: 0.1}
retrain: {epochs: 1, lr: 0.01}
YAML
}

heal_part() {
	local data=$WORK/heal-data ref=$WORK/heal-ref out=$WORK/heal kinds=(truncate empty garbage header other nan)
	mkdir -p "$data" && python3 "$WORK/npy.py" "$data" 1
	npy_spec "$data" "4, 5, 6, 7, 8, 9" >"$WORK/heal.yaml"
	npy_spec "$data" "11" >"$WORK/heal-other.yaml"
	rm -rf "$ref" "$out"
	nice -n 19 "$RESQ" sweep "$WORK/heal.yaml" --out "$ref" >"$WORK/heal-ref.log" 2>&1 || { echo "FAIL heal: reference run failed (see $WORK/heal-ref.log)"; FAILED=1; return 1; }
	nice -n 19 "$RESQ" sweep "$WORK/heal-other.yaml" --out "$WORK/heal-other" --no-report >>"$WORK/heal-ref.log" 2>&1 || { echo "FAIL heal: run of another width failed"; FAILED=1; return 1; }
	local other
	other=$(ls "$WORK/heal-other/models/"*.safetensors | head -1)
	cp -r "$ref" "$out" && rm -rf "$out/report"
	python3 - "$out/results.jsonl" <<'PY'
import json, sys
p = sys.argv[1]
keep = [l for l in open(p) if json.loads(l)["mode"] == "float"]
open(p, "w").writelines(keep)
PY
	local i=0 m
	for m in "$out"/models/*.safetensors; do
		python3 "$WORK/damage.py" "$m" "${kinds[$((i % ${#kinds[@]}))]}" "$other"
		i=$((i + 1))
	done
	local rc=0 same=0
	nice -n 19 "$RESQ" sweep "$WORK/heal.yaml" --out "$out" >"$WORK/heal.log" 2>&1 || rc=$?
	local retrained
	retrained=$(grep -c "saved model cannot be used" "$WORK/heal.log")
	read -r torn bad failed ok uniq < <(python3 "$WORK/check.py" scan "$out")
	read -r _ _ _ ncells _ < <(python3 "$WORK/check.py" scan "$ref")
	python3 "$WORK/check.py" same "$ref/report" "$out/report" >"$WORK/heal-same.log" 2>&1 || same=1
	local verdict=PASS
	if [ $rc -ne 0 ] || [ "$failed" -ne 0 ] || [ "$uniq" -ne "$ncells" ] || [ "$retrained" -ne "$i" ] || [ $same -ne 0 ]; then verdict=FAIL; FAILED=1; fi
	echo "$verdict heal: $i float models damaged (${kinds[*]}), rerun exit $rc, models trained again $retrained, cells $uniq/$ncells ok, failed records $failed, report equal to the undamaged run: $([ $same -eq 0 ] && echo yes || echo no)"
}

changed_part() {
	local data=$WORK/changed-data out=$WORK/changed out2=$WORK/changed2
	mkdir -p "$data" && python3 "$WORK/npy.py" "$data" 1
	npy_spec "$data" "4, 8" >"$WORK/changed.yaml"
	rm -rf "$out" "$out2"
	nice -n 19 "$RESQ" sweep "$WORK/changed.yaml" --out "$out" >"$WORK/changed.log" 2>&1 || { echo "FAIL changed: first run failed (see $WORK/changed.log)"; FAILED=1; return 1; }
	local before after rc=0
	before=$(md5sum <"$out/results.jsonl")
	python3 "$WORK/npy.py" "$data" 2
	nice -n 19 "$RESQ" sweep "$WORK/changed.yaml" --out "$out" >>"$WORK/changed.log" 2>&1 || rc=$?
	after=$(md5sum <"$out/results.jsonl")
	local said=0
	grep -q "the data changed" "$WORK/changed.log" && said=1
	# The new data in its own folder, then both sets of records in one.
	nice -n 19 "$RESQ" sweep "$WORK/changed.yaml" --out "$out2" --no-report >>"$WORK/changed.log" 2>&1
	cp "$out2/results.jsonl" "$out/results-shard-0-of-1.jsonl"
	nice -n 19 "$RESQ" report "$out" >"$WORK/changed-report.log" 2>&1
	local groups
	groups=$(grep -c "best float error" "$WORK/changed-report.log")
	local verdict=PASS
	if [ $rc -eq 0 ] || [ $said -ne 1 ] || [ "$before" != "$after" ] || [ "$groups" -ne 2 ]; then verdict=FAIL; FAILED=1; fi
	echo "$verdict changed: rerun on changed data exit $rc, said the data changed: $([ $said -eq 1 ] && echo yes || echo no), results.jsonl unchanged: $([ "$before" = "$after" ] && echo yes || echo no), report groups of the merged records: $groups (want 2, one per checksum)"
}

case $MODE in
sweep) sweep_part ;;
heal) heal_part ;;
changed) changed_part ;;
fetch) fetch_part ;;
all) sweep_part; fetch_part; heal_part; changed_part ;;
*) echo "usage: $0 [sweep|fetch|heal|changed|all]" >&2; exit 2 ;;
esac
if [ $FAILED -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; fi
[ $FAILED -ne 0 ] && echo "fault-inject: FAIL (work folder kept: $WORK)"
exit $FAILED
