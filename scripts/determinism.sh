#!/usr/bin/env bash
# determinism.sh: the same sweep must give the same records (timings
# aside) however it is run:
#   A  the tiny sweep, default workers
#   B  the same again, in another folder
#   C  --workers 1
#   D  --workers 2
#   E  three shards (--shard 0/3, 1/3, 2/3) into one folder, merged by
#      `resq report`
# Records are compared field by field with train_seconds and eval_seconds
# removed (and, for the reports, results.csv without those columns and
# summary.csv). Prints one PASS/FAIL line per comparison.
#
# Environment: WORK (default: a fresh temp folder, removed on success),
# RESQ (a resq binary; default: built from this checkout), SPEC (a sweep
# spec; default: the tiny spec below). Needs bash and python3.
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-$(mktemp -d /tmp/resq-determinism.XXXXXX)}
mkdir -p "$WORK"
command -v python3 >/dev/null || { echo "determinism: python3 is required" >&2; exit 2; }
if [ -z "${RESQ:-}" ]; then
	RESQ=$WORK/resq
	(cd "$ROOT" && CGO_ENABLED=0 nice -n 19 go build -o "$RESQ" ./cmd/resq) || { echo "determinism: build failed" >&2; exit 2; }
fi
if [ -z "${SPEC:-}" ]; then
	SPEC=$WORK/tiny.yaml
	cat > "$SPEC" <<'YAML'
name: tiny
dataset: mnist
limit: 3000
family: mlp
mlp: {widths: [16, 32, 64], depths: [2], act: relu}
bits: [2, 3]
modes: [float, direct, retrain]
seeds: [1]
float: {epochs: 2, batch: 100, lr: 0.1}
retrain: {epochs: 1, lr: 0.01}
YAML
fi
"$RESQ" data fetch mnist >/dev/null 2>&1 || { echo "determinism: cannot fetch mnist" >&2; exit 2; }

cat > "$WORK/cmp.py" <<'PY'
import csv, glob, json, os, sys
def records(d):
    out = {}
    for f in sorted(glob.glob(os.path.join(d, "results*.jsonl"))):
        for ln in open(f):
            r = json.loads(ln)
            r.pop("train_seconds", None); r.pop("eval_seconds", None)
            if r["id"] in out:
                print("%s: duplicate record %s" % (d, r["id"]))
            out[r["id"]] = r
    return out
def table(path, drop):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    keep = [i for i, h in enumerate(rows[0]) if h not in drop]
    return sorted([[r[i] for i in keep] for r in rows[1:]])
a, b = sys.argv[1], sys.argv[2]
ra, rb = records(a), records(b)
diff = 0
if set(ra) != set(rb):
    print("cells differ: %d only in A, %d only in B" % (len(set(ra) - set(rb)), len(set(rb) - set(ra)))); diff += 1
maxd = 0.0
for k in sorted(set(ra) & set(rb)):
    if ra[k] != rb[k]:
        diff += 1
        fields = sorted(f for f in set(ra[k]) | set(rb[k]) if ra[k].get(f) != rb[k].get(f))
        if "test_error_pct" in fields:
            maxd = max(maxd, abs(ra[k]["test_error_pct"] - rb[k]["test_error_pct"]))
        if diff <= 4:
            print("  %s (%s %s %sb): %s" % (k[:8], ra[k].get("mode"), ra[k].get("model"), ra[k].get("bits"),
                  ", ".join("%s %s vs %s" % (f, ra[k].get(f), rb[k].get(f)) for f in fields if f != "config")))
for name, drop in (("results.csv", {"train_seconds", "eval_seconds"}), ("summary.csv", set())):
    pa, pb = os.path.join(a, "report", name), os.path.join(b, "report", name)
    if os.path.exists(pa) and os.path.exists(pb) and table(pa, drop) != table(pb, drop):
        print("  report/%s differs" % name); diff += 1
print("records %d vs %d, differing %d, max |test error difference| %.4f pp" % (len(ra), len(rb), diff, maxd))
sys.exit(1 if diff else 0)
PY

sweep() { local out=$1; shift; nice -n 19 "$RESQ" sweep "$SPEC" --out "$out" "$@" >"$out.log" 2>&1 || { echo "determinism: sweep $out failed (see $out.log)"; return 1; }; }
FAILED=0
rm -rf "$WORK"/{A,B,C,D,E}
sweep "$WORK/A" && sweep "$WORK/B" && sweep "$WORK/C" --workers 1 && sweep "$WORK/D" --workers 2 || exit 1
for i in 0 1 2; do sweep "$WORK/E" --shard $i/3 || exit 1; done
nice -n 19 "$RESQ" report "$WORK/E" >"$WORK/E.report.log" 2>&1 || { echo "determinism: resq report E failed"; exit 1; }
check() {
	local what=$1 a=$2 b=$3 out
	out=$(python3 "$WORK/cmp.py" "$WORK/$a" "$WORK/$b")
	if [ $? -eq 0 ]; then echo "PASS $what: ${out##*$'\n'}"; else echo "FAIL $what: ${out##*$'\n'}"; echo "$out" | sed '$d'; FAILED=1; fi
}
check "two runs (A vs B)" A B
check "workers 1 vs 2 (C vs D)" C D
check "default vs workers 1 (A vs C)" A C
check "unsharded vs 3 shards merged (A vs E)" A E
if [ $FAILED -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; fi
[ $FAILED -ne 0 ] && echo "determinism: FAIL (work folder kept: $WORK)"
exit $FAILED
