#!/usr/bin/env python3
"""Every maximal per-layer allocation of 784-Wx{depth}-10 within the stored
bytes of uniform 3 bits, for the exhaustive comparison of docs/PRUNING.md.

  allocenum.py spec WIDTH SEEDS DEPTHS   a sweep spec (the alloc recipe of
                                         run.sh) retraining uniform 3 bits
                                         and every maximal allocation,
                                         e.g. allocenum.py spec 64 1,2,3,4,5 2,3,4
  allocenum.py table RESULTS.jsonl       per (width, depth, allocation): mean
                                         validation and test error of the
                                         retrained models and the test error
                                         against uniform 3 bits, paired by seed

An allocation is maximal when no layer can take one more bit within the
budget. Bytes are those of packed.StoredBytes for a dense, unpruned model
with one step per layer: ceil(n*b/8) code bytes, a float32 step and float32
biases per layer (21156 bytes for 784-64x2-10 at 3 bits).
"""
import itertools
import json
import statistics as st
import sys


def layers(w, d):
    dims = [784] + [w] * d + [10]
    return [(dims[i] * dims[i + 1], dims[i + 1]) for i in range(d + 1)]


def nbytes(ls, bits):
    return sum((n * b + 7) // 8 + 4 * o + 4 for (n, o), b in zip(ls, bits))


def maximal(w, d, lo=2, hi=8):
    ls = layers(w, d)
    budget = nbytes(ls, [3] * (d + 1))
    out = []
    for bits in itertools.product(range(lo, hi + 1), repeat=d + 1):
        if nbytes(ls, bits) > budget:
            continue
        if all(bits[i] == hi or nbytes(ls, bits[:i] + (bits[i] + 1,) + bits[i + 1:]) > budget for i in range(d + 1)):
            out.append((bits, nbytes(ls, bits)))
    return budget, out


def spec(w, seeds, depths):
    allocs = [",".join(map(str, b)) for d in depths for b, _ in maximal(w, d)[1] if set(b) != {3}]
    return f"""name: alloc-enum
dataset: mnist
val_size: 5000
mlp: {{widths: [{w}], depths: [{",".join(map(str, depths))}], act: relu, dropout: 0.2}}
seeds: [{seeds}]
float: {{epochs: 10, batch: 100, lr: 0.05, optimizer: sgd, momentum: 0.9, schedule: cosine}}
retrain: {{epochs: 5, lr: 0.01}}
quant: {{rule: l2}}
bits: [3]
modes: [float, retrain]
bits_per_layer: [{", ".join('"%s"' % a for a in allocs)}]"""


def table(path):
    recs = {}
    for line in open(path):
        r = json.loads(line)
        if r["status"] == "ok" and r["mode"] == "retrain":
            recs[(r["width"], r["depth"], r["seed"], tuple(r.get("bits_per_layer") or [3] * (r["depth"] + 1)))] = r
    print("width,depth,allocation,stored_bytes,seeds,val_error_mean_pct,test_error_mean_pct,test_delta_mean_pp,test_delta_std_pp,test_per_seed")
    for w, d in sorted({(k[0], k[1]) for k in recs}):
        seeds = sorted({k[2] for k in recs if k[:2] == (w, d)})
        rows = []
        for a, nb in maximal(w, d)[1]:
            ss = [s for s in seeds if (w, d, s, a) in recs and (w, d, s, (3,) * (d + 1)) in recs]
            if not ss:
                continue
            rs = [recs[(w, d, s, a)] for s in ss]
            dl = [r["test_error_pct"] - recs[(w, d, s, (3,) * (d + 1))]["test_error_pct"] for r, s in zip(rs, ss)]
            rows.append((st.mean(r["val_error_pct"] for r in rs), a, nb, len(rs), st.mean(r["test_error_pct"] for r in rs),
                         st.mean(dl), st.stdev(dl) if len(dl) > 1 else 0, " ".join("%.2f" % r["test_error_pct"] for r in rs)))
        for v, a, nb, n, t, dm, ds, ps in sorted(rows):
            print(f'{w},{d},"{",".join(map(str, a))}",{nb},{n},{v:.3f},{t:.3f},{dm:+.3f},{ds:.3f},"{ps}"')


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "spec":
        print(spec(int(sys.argv[2]), sys.argv[3], [int(x) for x in sys.argv[4].split(",")]))
    elif len(sys.argv) == 3 and sys.argv[1] == "table":
        table(sys.argv[2])
    else:
        sys.exit(__doc__)
