#!/usr/bin/env bash
# Pruning and per-layer bit widths on real MNIST; writes CSVs to
# examples/prune/results/ (the tables of docs/PRUNING.md).
#
#   lenet  LeNet-300-100 (mlp:784-300-100-10): float (20 epochs, resq's
#          default recipe) against ternary retraining with gradual pruning to
#          90% of the weights (global threshold), seeds 1..3: test error,
#          stored bytes with every index byte, the entropy bound, the packed
#          engine's agreement with the simulated forward.   -> lenet.csv
#   speed  the seed-1 network pruned once to 0, 50, 80, 90, 95% and quantized
#          ternary directly, and the retrained 90% model: bytes, error and
#          packed-engine samples/s at batch 1 and 100.       -> speed.csv
#   alloc  784-Wx{DEPTHS}-10 (the paper-ffdnn family, its float recipe, a
#          5000-row validation split; W from WIDTH, default 64): every
#          seed's float model gets resq allocate at its uniform 3-bit bytes
#          (ALLOC_FLAGS: extra flags, default none: the trade search,
#          measured after a one-epoch probe), then both are retrained (5
#          epochs, lr 0.01) and paired per seed.      -> alloc-retrain-wW/
#          (choice.csv, seeds.csv, summary.csv, spec.yaml, dD-sS.json)
#
# Usage: examples/prune/run.sh [all|lenet|speed|alloc ...]   (default: all)
# Env:   OUT=DIR     models, sweeps, logs (default /tmp/resq-prune)
#        HEAVY=CMD   prefix of training commands (e.g. a CPU-sharing wrapper)
#        QUIET=CMD   prefix of the timing runs (e.g. a wrapper that waits for an idle machine)
#        SEEDS="1 2 3"  WIDTH=64  DEPTHS="2 3 4"  ALLOC_FLAGS= (alloc)
# Time:  about 15 minutes on 2 cores.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../lib.sh
. "$root/examples/lib.sh"
out=${OUT:-/tmp/resq-prune}
heavy=${HEAVY:-}
quiet=${QUIET:-}
seeds=${SEEDS:-1 2 3}
res=$here/results
mkdir -p "$out" "$res"
build_resq prune
want=("$@")
[ ${#want[@]} -eq 0 ] && want=(all)
selected() {
  local w
  for w in "${want[@]}"; do [ "$w" = all ] || [ "$w" = "$1" ] && return 0; done
  return 1
}
jget() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(eval(sys.argv[1], {}, {"d": d}))' "$1"; }

lenet=mlp:784-300-100-10
prune_flags=(--bits 2 --prune-scope global --epochs 30 --lr 0.05)

if selected lenet; then
  echo "seed,float_test_error_pct,pruned_ternary_test_error_pct,delta_pp,float32_tensor_bytes,stored_bytes,file_bytes,tensor_ratio,file_ratio,entropy_bytes,entropy_bits_per_weight,sparse_layers,pruned_per_layer,predictions_differing" > "$res/lenet.csv"
  for s in $seeds; do
    f=$out/lenet-s$s.st p=$out/lenet-s$s-t2-s90.st m=$out/lenet-s$s-t2-s90.rq
    [ -f "$f" ] || $heavy "$resq" train --model $lenet --data mnist --epochs 20 --seed "$s" --out "$f" > "$out/train-s$s.log" 2>&1
    fe=$("$resq" eval "$f" --data mnist --json | jget 'd["test_error_pct"]')
    [ -f "$p" ] || $heavy "$resq" retrain "$f" --sparsity 0.9 "${prune_flags[@]}" --out "$p" > "$out/prune-s$s.log" 2>&1
    pj=$("$resq" eval "$p" --data mnist --json)
    pe=$(echo "$pj" | jget 'd["test_error_pct"]')
    sp=$(echo "$pj" | jget '" ".join("%.4f" % v for v in d["sparsity"])')
    ej=$("$resq" export "$p" --out "$m" --json)
    chk=$("$resq" infer "$m" --data mnist --check "$p" --json | jget 'd["check"]["disagree"]' 2>/dev/null || echo "n/a")
    echo "$ej" | python3 -c '
import json,sys
e=json.loads(sys.stdin.read().strip().splitlines()[-1]); s,fe,pe,sp,chk=sys.argv[1:6]
print(",".join(map(str,[s,fe,pe,"%.2f"%(float(pe)-float(fe)),e["float_bytes"],e["stored_bytes"],e["file_bytes"],
  "%.1f"%e["tensor_ratio"],"%.1f"%e["ratio"],e["entropy_bytes"],"%.3f"%e["entropy_bits_per_weight"],e["sparse_layers"],sp,chk])))' \
      "$s" "$fe" "$pe" "$sp" "$chk" >> "$res/lenet.csv"
  done
  cat "$res/lenet.csv"
fi

if selected alloc; then
  # Every seed's float model gets its own allocation (resq allocate with
  # ALLOC_FLAGS, chosen on the validation rows only); the sweep retrains
  # every allocation found at a depth for every seed, and the tables pair
  # each seed's allocation with that seed's uniform 3 bits.
  w=${WIDTH:-64}
  depths=${DEPTHS:-2 3 4}
  sw=$out/alloc-w$w
  ad=$res/alloc-retrain-w$w
  mkdir -p "$ad"
  spec_head() {
    cat <<YAML
name: prune-alloc
dataset: mnist
val_size: 5000
mlp: {widths: [$w], depths: [$(echo $depths | tr ' ' ',')], act: relu, dropout: 0.2}
seeds: [$(echo $seeds | tr ' ' ',')]
float: {epochs: 10, batch: 100, lr: 0.05, optimizer: sgd, momentum: 0.9, schedule: cosine}
retrain: {epochs: 5, lr: 0.01}
quant: {rule: l2}
YAML
  }
  { spec_head; echo "bits: [3]"; echo "modes: [float]"; } > "$out/alloc-float-w$w.yaml"
  $heavy "$resq" sweep "$out/alloc-float-w$w.yaml" --out "$sw" --no-report > "$out/alloc-float-w$w.log" 2>&1
  echo "depth,seed,float_checkpoint,uniform3_bytes,allocation,allocation_bytes,measured" > "$ad/choice.csv"
  for d in $depths; do
    for s in $seeds; do
      id=$(python3 -c '
import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r["mode"]=="float" and r["depth"]==int(sys.argv[2]) and r["seed"]==int(sys.argv[3]) and r["status"]=="ok": print(r["id"])' "$sw/results.jsonl" "$d" "$s" | tail -1)
      ck=$sw/models/$id.safetensors
      b3=$("$resq" quantize "$ck" --bits 3 --out "$out/u3-d$d-s$s-w$w.st" --json >/dev/null && "$resq" export "$out/u3-d$d-s$s-w$w.st" --out "$out/u3-d$d-s$s-w$w.rq" --json | jget 'd["stored_bytes"]')
      # shellcheck disable=SC2086
      aj=$($heavy "$resq" allocate "$ck" --data mnist --val 5000 --max-weight-bytes "$b3" ${ALLOC_FLAGS:-} --out "$ad/d$d-s$s.json" --json 2> "$out/alloc-d$d-s$s-w$w.log")
      echo "$aj" | python3 -c '
import json,sys
a=json.loads(sys.stdin.read().strip().splitlines()[-1]); d,s,ck,b3=sys.argv[1:5]
print(f"""{d},{s},{ck},{b3},"{",".join(map(str,a["bits_per_layer"]))}",{a["stored_bytes"]},{a["measured"]}""")' "$d" "$s" "$ck" "$b3" >> "$ad/choice.csv"
    done
  done
  allocs=$(python3 -c '
import csv,sys
seen=[]
for r in csv.DictReader(open(sys.argv[1])):
    a=r["allocation"]
    if len(set(a.split(",")))>1 and a not in seen: seen.append(a)
print(", ".join("\"%s\"" % a for a in seen))' "$ad/choice.csv")
  { spec_head; echo "bits: [3]"; echo "modes: [float, retrain]"; if [ -n "$allocs" ]; then echo "bits_per_layer: [$allocs]"; fi; } > "$ad/spec.yaml"
  $heavy "$resq" sweep "$ad/spec.yaml" --out "$sw" > "$out/alloc-w$w.log" 2>&1
  python3 - "$sw/results.jsonl" "$ad/choice.csv" "$ad/seeds.csv" "$ad/summary.csv" <<'PY'
import csv, json, sys, statistics as st
recs = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["status"] == "ok":
        recs[(r["mode"], r["depth"], r["seed"], ",".join(map(str, r.get("bits_per_layer") or [])))] = r
rows = []
with open(sys.argv[3], "w") as f:
    f.write("depth,seed,float_test_error_pct,uniform3_bytes,uniform3_val_error_pct,uniform3_test_error_pct,"
            "allocation,allocation_bytes,allocation_val_error_pct,allocation_test_error_pct,delta_pp\n")
    for c in csv.DictReader(open(sys.argv[2])):
        d, s, a = int(c["depth"]), int(c["seed"]), c["allocation"]
        fl, u = recs[("float", d, s, "")], recs[("retrain", d, s, "")]
        r = u if set(a.split(",")) == {"3"} else recs[("retrain", d, s, a)]
        rows.append((d, u["test_error_pct"], r["test_error_pct"]))
        f.write(f'{d},{s},{fl["test_error_pct"]:.2f},{u["stored_bytes"]},{u["val_error_pct"]:.2f},{u["test_error_pct"]:.2f},'
                f'"{a}",{r["stored_bytes"]},{r["val_error_pct"]:.2f},{r["test_error_pct"]:.2f},{r["test_error_pct"] - u["test_error_pct"]:+.2f}\n')
sd = lambda v: st.stdev(v) if len(v) > 1 else 0
with open(sys.argv[4], "w") as f:
    f.write("depth,seeds,uniform3_test_mean_pct,uniform3_test_std_pct,allocation_test_mean_pct,allocation_test_std_pct,"
            "delta_mean_pp,delta_std_pp,seeds_better,seeds_level,seeds_worse\n")
    for d in sorted({r[0] for r in rows}):
        u = [r[1] for r in rows if r[0] == d]
        a = [r[2] for r in rows if r[0] == d]
        dl = [y - x for x, y in zip(u, a)]
        f.write(f"{d},{len(u)},{st.mean(u):.3f},{sd(u):.3f},{st.mean(a):.3f},{sd(a):.3f},{st.mean(dl):+.3f},{sd(dl):.3f},"
                f"{sum(x < -1e-9 for x in dl)},{sum(abs(x) <= 1e-9 for x in dl)},{sum(x > 1e-9 for x in dl)}\n")
PY
  cat "$ad/choice.csv" "$ad/seeds.csv" "$ad/summary.csv"
fi

if selected speed; then
  # Speed depends on the codes' sparsity, not on how they were trained: the
  # rows are one-shot pruned (global threshold) and directly quantized
  # ternary copies of the seed-1 float model, plus the retrained 90% model
  # of the lenet part. All timings run in one QUIET call.
  s=$(echo $seeds | cut -d' ' -f1)
  f=$out/lenet-s$s.st
  [ -f "$f" ] || $heavy "$resq" train --model $lenet --data mnist --epochs 20 --seed "$s" --out "$f" > "$out/train-s$s.log" 2>&1
  rows=()
  for sp in 0 0.5 0.8 0.9 0.95; do
    p=$out/lenet-s$s-d2-sp$sp.st
    "$resq" quantize "$f" --bits 2 --sparsity "$sp" --prune-scope global --out "$p" > /dev/null
    rows+=("direct|$sp|$p")
  done
  [ -f "$out/lenet-s$s-t2-s90.st" ] && rows+=("retrain|0.9|$out/lenet-s$s-t2-s90.st")
  : > "$out/speed-models.txt"
  for r in "${rows[@]}"; do
    IFS='|' read -r mode sp p <<< "$r"
    m=${p%.st}.rq
    ej=$("$resq" export "$p" --out "$m" --json)
    pe=$("$resq" eval "$p" --data mnist --json | jget 'd["test_error_pct"]')
    echo "$mode|$sp|$m|$pe|$ej" >> "$out/speed-models.txt"
  done
  # one timing session: every model at batch 1 and 100, 3 s each
  $quiet bash -c 'while IFS="|" read -r mode sp m pe ej; do
      for b in 1 100; do echo "$m $b $("$0" infer "$m" --data mnist --batch $b --seconds 3 --json | tail -1)"; done
    done < "$1"' "$resq" "$out/speed-models.txt" > "$out/speed-times.txt"
  python3 - "$out/speed-models.txt" "$out/speed-times.txt" > "$res/speed.csv" <<'PY'
import json, sys
times = {}
for l in open(sys.argv[2]):
    m, b, js = l.split(" ", 2)
    times[(m, int(b))] = json.loads(js)["samples_per_second"]
print("mode,sparsity,test_error_pct,stored_bytes,file_bytes,sparse_layers,samples_per_s_batch1,samples_per_s_batch100")
for l in open(sys.argv[1]):
    mode, sp, m, pe, ej = l.rstrip("\n").split("|", 4)
    e = json.loads(ej)
    print(f'{mode},{sp},{pe},{e["stored_bytes"]},{e["file_bytes"]},{e["sparse_layers"]},{times[(m, 1)]:.0f},{times[(m, 100)]:.0f}')
PY
  cat "$res/speed.csv"
fi

