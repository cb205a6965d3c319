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
#   alloc  784-Wx{2,3}-10 (the paper-ffdnn family, its float recipe; W from
#          WIDTH, default 256), seeds 1..3: resq allocate at the bytes of
#          uniform 3 bits (seed-1 float model), then both retrained with the
#          same budget.                                      -> alloc-wW.csv
#
# Usage: examples/prune/run.sh [all|lenet|speed|alloc ...]   (default: all)
# Env:   OUT=DIR     models, sweeps, logs (default /tmp/resq-prune)
#        HEAVY=CMD   prefix of training commands (e.g. a CPU-sharing wrapper)
#        QUIET=CMD   prefix of the timing runs (e.g. a wrapper that waits for an idle machine)
#        SEEDS="1 2 3"  WIDTH=256 (alloc)
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
  w=${WIDTH:-256}
  sw=$out/alloc-w$w
  spec_head() {
    cat <<YAML
name: prune-alloc
dataset: mnist
mlp: {widths: [$w], depths: [2, 3], act: relu, dropout: 0.2}
seeds: [$(echo $seeds | tr ' ' ',')]
float: {epochs: 10, batch: 100, lr: 0.05, optimizer: sgd, momentum: 0.9, schedule: cosine}
retrain: {epochs: 5, lr: 0.01}
quant: {rule: l2}
YAML
  }
  { spec_head; echo "bits: [3]"; echo "modes: [float]"; } > "$out/alloc-float-w$w.yaml"
  $heavy "$resq" sweep "$out/alloc-float-w$w.yaml" --out "$sw" > "$out/alloc-float-w$w.log" 2>&1
  allocs=()
  echo "depth,float_checkpoint,uniform3_bytes,allocation,allocation_bytes" > "$res/alloc-choice-w$w.csv"
  s=$(echo $seeds | cut -d' ' -f1)
  for d in 2 3; do
    id=$(python3 -c '
import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r["mode"]=="float" and r["depth"]==int(sys.argv[2]) and r["seed"]==int(sys.argv[3]) and r["status"]=="ok": print(r["id"])' "$sw/results.jsonl" "$d" "$s" | tail -1)
    ck=$sw/models/$id.safetensors
    b3=$("$resq" quantize "$ck" --bits 3 --out "$out/u3-d$d-w$w.st" --json >/dev/null && "$resq" export "$out/u3-d$d-w$w.st" --out "$out/u3-d$d-w$w.rq" --json | jget 'd["stored_bytes"]')
    aj=$($heavy "$resq" allocate "$ck" --data mnist --max-weight-bytes "$b3" --out "$res/alloc-d$d-w$w.json" --json)
    a=$(echo "$aj" | jget '",".join(map(str, d["bits_per_layer"]))')
    ab=$(echo "$aj" | jget 'd["stored_bytes"]')
    echo "$d,$ck,$b3,\"$a\",$ab" >> "$res/alloc-choice-w$w.csv"
    allocs+=("\"$a\"")
  done
  { spec_head; echo "bits: [3]"; echo "modes: [float, retrain]"; echo "bits_per_layer: [$(IFS=,; echo "${allocs[*]}")]"; } > "$out/alloc-w$w.yaml"
  cp "$out/alloc-w$w.yaml" "$res/alloc-spec-w$w.yaml"
  $heavy "$resq" sweep "$out/alloc-w$w.yaml" --out "$sw" > "$out/alloc-w$w.log" 2>&1
  "$resq" report "$sw" > /dev/null
  python3 - "$sw/results.jsonl" > "$res/alloc-w$w.csv" <<'PY'
import json, sys, statistics as st
recs = [json.loads(l) for l in open(sys.argv[1])]
ok = [r for r in recs if r["status"] == "ok" and r["mode"] == "retrain"]
print("depth,precision,seeds,test_error_mean_pct,test_error_std_pct,stored_bytes,per_seed")
for d in sorted({r["depth"] for r in ok}):
    for alloc in (False, True):
        rs = sorted([r for r in ok if r["depth"] == d and bool(r.get("bits_per_layer")) == alloc], key=lambda r: r["seed"])
        if not rs: continue
        e = [r["test_error_pct"] for r in rs]
        name = ",".join(map(str, rs[0]["bits_per_layer"])) if alloc else "3 uniform"
        sd = st.stdev(e) if len(e) > 1 else 0
        print(f'{d},"{name}",{len(e)},{st.mean(e):.3f},{sd:.3f},{rs[0]["stored_bytes"]},"{" ".join("%.2f" % x for x in e)}"')
PY
  cat "$res/alloc-choice-w$w.csv" "$res/alloc-w$w.csv"
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

