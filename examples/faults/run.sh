#!/usr/bin/env bash
# Bit errors in weight memory, per precision, on real MNIST.
#
#   examples/faults/run.sh            (OUT=/tmp/resq-faults by default)
#
# Trains mlp:784-256x2-10 in float (EPOCHS, default 5), retrains it at 8, 3
# and 2 bits (RETRAIN_EPOCHS, default 2), exports each as a packed model
# (and the 2-bit one as an integer-only model too), and runs resq faults on
# the float32 checkpoint and every packed model at BER 1e-7..1e-2, TRIALS
# (default 20) trials per rate, each part of the weight memory (codes,
# scales, all) under every protection, plus the activation codes of the
# 2-bit packed and integer models. Prints the tables (table.py) and times
# resq faults at 5 rates x 20 trials over the 10,000 test samples. Every command is seeded: a rerun
# prints the same tables.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/examples/lib.sh"
build_resq faults
out=${OUT:-/tmp/resq-faults}
epochs=${EPOCHS:-5}
repochs=${RETRAIN_EPOCHS:-2}
trials=${TRIALS:-20}
bers=1e-7,1e-6,1e-5,1e-4,1e-3,1e-2
mkdir -p "$out"
cd "$out"
"$resq" data fetch mnist >&2
[ -f f32.ckpt ] || "$resq" train --model mlp:784-256x2-10 --data mnist --epochs "$epochs" --seed 1 --out f32.ckpt >&2
for b in 8 3 2; do
  [ -f q$b.ckpt ] || "$resq" retrain f32.ckpt --bits "$b" --epochs "$repochs" --data mnist --out q$b.ckpt >&2
  [ -f q$b.rqp ] || "$resq" export q$b.ckpt --out q$b.rqp >&2
done
[ -f i2.rqp ] || "$resq" export q2.ckpt --integer --data mnist --out i2.rqp >&2
for m in f32.ckpt q8.rqp q3.rqp q2.rqp i2.rqp; do
  echo "faults: $m" >&2
  "$resq" faults "$m" --data mnist --ber "$bers" --trials "$trials" --part codes,scales,all --protect all --json > "faults-${m%.*}.json"
done
"$resq" faults q2.rqp --data mnist --ber "$bers" --trials "$trials" --target activations --json > faults-q2-acts.json
"$resq" faults i2.rqp --data mnist --ber "$bers" --trials "$trials" --target activations --json > faults-i2-acts.json
python3 "$root/examples/faults/table.py" faults-f32.json faults-q8.json faults-q3.json faults-q2.json faults-q2-acts.json faults-i2.json faults-i2-acts.json

echo
echo "timing: resq faults q2.rqp, 5 rates x 20 trials, part all, over the 10,000 test samples"
echo "cpu: $("$resq" version --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["cpu"])'), $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(date +%s.%N)
"$resq" faults q2.rqp --data mnist --ber 1e-7,1e-6,1e-5,1e-4,1e-3 --trials 20 --part all > /dev/null
t1=$(date +%s.%N)
echo "wall $(python3 -c "print(f'{$t1-$t0:.1f}')") s (load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
