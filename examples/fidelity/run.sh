#!/usr/bin/env bash
# resq against the same recipe written directly in PyTorch
# (torch_ref.py): 784-WIDTHx3-10 ReLU MLPs, dropout 0.2, SGD momentum 0.9,
# lr 0.05 cosine over 8 epochs, batch 100, inputs /255; then direct
# quantization with the L2-optimal step and 4 retraining epochs at lr 0.01
# with quantized weights, at 2 (ternary) and 3 bits. Both sides run every
# width and seed on each dataset; the table shows mean ± std [min-max]
# (seed count) per side, the difference of the means and whether it is
# within seed noise (report.CompareNoise's rule). Then the stall check:
# STALL_SEEDS float runs of width 32 per dataset (resq), each seed's error
# against the median of the others (stalled: more than 1.5x).
#
# Usage: examples/fidelity/run.sh [OUT]        (default OUT: /tmp/resq-fidelity)
# Env:   WIDTHS=32,128,512,1024  SEEDS=1,2,3  DATASETS="mnist fashion-mnist"
#        STALL_SEEDS=10 (0: skip)  TORCH=1 (0: resq side only)
#        PYTHON=/usr/bin/python3 (needs Debian's python3-torch)
#        LIMIT=N EPOCHS=E RETRAIN_EPOCHS=R: smoke test on the first N samples
#        INIT=he: resq with its former initialisation (He normal)
# Both sides resume: finished resq cells and torch result files are kept.
# Time: about 70 min on 2 quiet cores with the defaults (width 1024 is most
# of it; the PyTorch side takes about twice resq's time).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-/tmp/resq-fidelity}
widths=${WIDTHS:-32,128,512,1024}
seeds=${SEEDS:-1,2,3}
datasets=${DATASETS:-mnist fashion-mnist}
stall=${STALL_SEEDS:-10}
torch=${TORCH:-1}
py=${PYTHON:-/usr/bin/python3}
limit=${LIMIT:-0}
epochs=${EPOCHS:-8}
repochs=${RETRAIN_EPOCHS:-4}
init=${INIT:-uniform}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}
cache=${RESQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/resq}

if [ "$torch" = 1 ] && ! "$py" -c 'import torch' 2>/dev/null; then
  echo "fidelity: $py cannot import torch (apt-get install -y python3-torch, or TORCH=0)" >&2
  exit 2
fi

. "$root/examples/lib.sh"
build_resq fidelity
mkdir -p "$out"

spec() { # spec NAME DATASET WIDTHS SEEDS MODES
  cat <<YAML
name: $1
dataset: $2
limit: $limit
family: mlp
mlp: {widths: [$3], depths: [3], act: relu, dropout: 0.2, init: $init}
bits: [2, 3]
modes: [$5]
seeds: [$4]
float: {epochs: $epochs, batch: 100, lr: 0.05, optimizer: sgd, momentum: 0.9, schedule: cosine}
retrain: {epochs: $repochs, lr: 0.01}
quant: {rule: l2}
workers: 2
YAML
}

dirs=() tfiles=() sdirs=()
for ds in $datasets; do
  "$resq" data fetch "$ds" >&2
  spec "fidelity-$ds" "$ds" "$widths" "$seeds" "float, direct, retrain" > "$out/$ds.yaml"
  start=$(date +%s)
  "$resq" sweep "$out/$ds.yaml" --out "$out/resq-$ds" --no-report >&2
  echo "fidelity: resq $ds took $(( $(date +%s) - start )) s" >&2
  dirs+=("$out/resq-$ds")
  if [ "$torch" = 1 ]; then
    t=$out/torch-$ds-$init-e$epochs-r$repochs-l$limit.jsonl
    tfiles+=("$t")
    # One file per width and seed, so an interrupted run resumes.
    for w in ${widths//,/ }; do
      for s in ${seeds//,/ }; do
        f=$out/torch-$ds-w$w-s$s-e$epochs-r$repochs-l$limit.jsonl
        if [ ! -s "$f" ] || [ "$(wc -l < "$f")" -lt 5 ]; then
          start=$(date +%s)
          "$py" "$here/torch_ref.py" --data "$cache/$ds" --name "$ds" --widths "$w" --seeds "$s" \
            --epochs "$epochs" --retrain-epochs "$repochs" --limit "$limit" > "$f.part"
          mv "$f.part" "$f"
          echo "fidelity: torch $ds w=$w seed $s took $(( $(date +%s) - start )) s" >&2
        fi
        cat "$f"
      done
    done > "$t"
  fi
  if [ "$stall" -gt 0 ]; then
    spec "stall-$ds" "$ds" 32 "$(seq -s, 1 "$stall")" float > "$out/stall-$ds.yaml"
    "$resq" sweep "$out/stall-$ds.yaml" --out "$out/stall-$ds" --no-report >&2
    sdirs+=("$out/stall-$ds")
  fi
done

join() { local IFS=,; echo "$*"; }
echo
echo "resq (init=$init) against PyTorch, test error in % (mean ± std [min-max] (seeds)):"
"$py" "$here/table.py" --resq "$(join "${dirs[@]}")" --torch "$(join "${tfiles[@]+"${tfiles[@]}"}")"
if [ "$torch" = 1 ]; then
  echo
  echo "targets:"
  "$py" "$here/table.py" --targets --resq "$(join "${dirs[@]}")" --torch "$(join "${tfiles[@]}")" || true
fi
if [ ${#sdirs[@]} -gt 0 ]; then
  echo
  echo "stall check (width 32, float):"
  "$py" "$here/table.py" --stall --resq "$(join "${sdirs[@]}")"
fi
