#!/bin/bash
# One sequential-MNIST epoch of lstm:28-128-10 (batch 100, Adam, clip 1):
# resq, then PyTorch 1.13 (torch threads 1, OpenBLAS 2 threads), in one quiet run.
# This is the record of the command behind the speed-*.log files, run in a
# scratch folder holding a resq binary and a copy of peers/torch_peer.py; from
# a checkout, `examples/rnn-quant/run.sh speed` makes the same measurement.
cd /tmp/w20/speed
export OPENBLAS_NUM_THREADS=2
echo "start $(date -u +%T) load $(cat /proc/loadavg)"
OPENBLAS_VERBOSE=2 /usr/bin/python3 -c 'import torch; torch.ones(64, 64) @ torch.ones(64, 64)' 2>&1 | grep Core
for r in 1 2; do
./resq train --model lstm:28-128-10 --data seq-mnist --epochs 1 --optimizer adam --lr 0.002 --clip 1 --batch 100 --schedule constant --out /tmp/w20/speed/r.st --json 2>&1 | tail -1 | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); print("resq epoch_s", r["epoch_seconds"], "test_err", r["test_error_pct"])'
/usr/bin/python3 torch_peer.py train-lstm --mnist ~/.cache/resq/mnist --threads 1 --epochs 1
done
echo "end $(date -u +%T) load $(cat /proc/loadavg)"
