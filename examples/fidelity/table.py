#!/usr/bin/env python3
"""Prints the resq-versus-PyTorch table of examples/fidelity.

  table.py --resq DIR[,DIR...] --torch FILE.jsonl[,FILE...]

DIR holds a resq sweep's results*.jsonl; FILE is torch_ref.py's output.
Each row is one (dataset, width, mode, bits): mean ± sample std over the
seeds, min-max and the seed count on each side, and the difference of the
means, marked "within noise" when it is smaller than twice the larger of the
two seed standard deviations (resq's report.CompareNoise, in the same words;
", < 3 seeds" when a side has fewer than 3 seeds); and the worst (highest)
seed of each side against the other's. Standard library only.
"""
import argparse, glob, json, math, os, statistics, sys


def read_resq(dirs):
    pts = {}
    for d in dirs:
        for f in sorted(glob.glob(os.path.join(d, "results*.jsonl"))):
            for line in open(f):
                line = line.strip()
                if not line:
                    continue
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if r.get("status") != "ok" or r.get("family") != "mlp":
                    continue
                k = (r["dataset"], r["width"], r["mode"], r["bits"])
                put(pts, k, r["seed"], r["test_error_pct"], f)
    return pts


def put(pts, k, seed, v, f):
    """Records one seed's error; two different results for one point and
    seed (runs of another config or init mixed) are an error."""
    old = pts.setdefault(k, {}).get(seed)
    if old is not None and old != v:
        sys.exit("table: %s: %s seed %d has two results (%.2f, %.2f): runs of different configs mixed; give one run per side" % (f, k, seed, old, v))
    pts[k][seed] = v


def read_torch(files):
    pts = {}
    for f in files:
        for line in open(f):
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            k = (r["dataset"], r["width"], r["mode"], r["bits"])
            put(pts, k, r["seed"], r["test_err_pct"], f)
    return pts


def stats(v):
    v = list(v)
    m = statistics.fmean(v)
    s = statistics.stdev(v) if len(v) > 1 else 0.0
    return m, s, min(v), max(v), len(v)


def cell(st):
    if st is None:
        return "-"
    m, s, lo, hi, n = st
    return "%.2f ± %.2f [%.2f-%.2f] (%d)" % (m, s, lo, hi, n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--resq", default="")
    ap.add_argument("--torch", default="")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--targets", action="store_true",
                    help="instead: PASS/FAIL per width and dataset: float, resq's worst seed within 0.3 pp (width 32), 0.15 (128), "
                         "0.1 (others) of PyTorch's worst; retrained 2 and 3 bits, resq's mean within 0.4 pp (32) or 0.2 (others) of PyTorch's mean")
    ap.add_argument("--csv", action="store_true", help="instead: every seed's error, one line each (side,dataset,width,mode,bits,seed,test_err_pct)")
    ap.add_argument("--stall", action="store_true",
                    help="instead: per float point, every seed's error against the median of the other seeds (stalled: > 1.5x)")
    a = ap.parse_args()
    rq = read_resq([d for d in a.resq.split(",") if d])
    pt = read_torch([f for f in a.torch.split(",") if f])
    if a.csv:
        print("side,dataset,width,mode,bits,seed,test_err_pct")
        for side, pts in (("resq", rq), ("pytorch", pt)):
            for k in sorted(pts):
                for seed in sorted(pts[k]):
                    print("%s,%s,%d,%s,%d,%d,%.2f" % ((side,) + k + (seed, pts[k][seed])))
        return
    if a.targets:
        fails = 0
        for k in sorted(set(rq) & set(pt)):
            ds, w, mode, bits = k
            r, t = stats(rq[k].values()), stats(pt[k].values())
            if mode == "float":
                lim = {32: 0.3, 128: 0.15}.get(w, 0.1)
                d, what = r[3] - t[3], "worst seed"
            elif mode == "retrain":
                lim = 0.4 if w <= 32 else 0.2
                d, what = r[0] - t[0], "mean"
            else:
                continue
            ok = d <= lim + 1e-9
            fails += not ok
            print("%s %s w=%d %s: resq %s - PyTorch %s = %+.2f pp (limit +%.2f; seeds %d/%d) %s" % (
                "PASS" if ok else "FAIL", ds, w, "float" if mode == "float" else "%s %db" % (mode, bits),
                what, what, d, lim, r[4], t[4], "" if min(r[4], t[4]) >= 3 else "(fewer than 3 seeds)"))
        sys.exit(1 if fails else 0)
    if a.stall:
        for side, pts in (("resq", rq), ("pytorch", pt)):
            for k in sorted(pts):
                if k[2] != "float" or len(pts[k]) < 2:
                    continue
                v = pts[k]
                worst = max(v[s] / statistics.median([v[o] for o in v if o != s]) for s in v)
                stalled = [s for s in sorted(v) if v[s] > 1.5 * statistics.median([v[o] for o in v if o != s])]
                print("%s %s w=%d: %d seeds, %s; worst ratio to the others' median %.2f; stalled: %s" % (
                    side, k[0], k[1], len(v), " ".join("%.2f" % v[s] for s in sorted(v)), worst,
                    ",".join(map(str, stalled)) or "none"))
        return
    order = {"float": 0, "direct": 1, "retrain": 2}
    keys = sorted(set(rq) | set(pt), key=lambda k: (k[0], k[1], order.get(k[2], 9), k[3]))
    hdr = ["dataset", "width", "point", "resq % (seeds)", "PyTorch % (seeds)", "resq - PyTorch", "vs seed noise", "resq worst - PyTorch worst"]
    rows = []
    for k in keys:
        r = stats(rq[k].values()) if k in rq else None
        t = stats(pt[k].values()) if k in pt else None
        diff = noise = worst = ""
        if r and t:
            d = r[0] - t[0]
            diff = "%+.2f" % d
            noise = "within noise" if abs(d) < 2 * max(r[1], t[1]) else "beyond noise"
            if min(r[4], t[4]) < 3:
                noise += ", < 3 seeds"
            worst = "%+.2f" % (r[3] - t[3])
        name = k[2] if k[2] == "float" else "%s %db" % (k[2], k[3])
        rows.append([k[0], str(k[1]), name, cell(r), cell(t), diff, noise, worst])
    if a.markdown:
        print("| " + " | ".join(hdr) + " |")
        print("|" + "---|" * len(hdr))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    w = [max(len(x[i]) for x in rows + [hdr]) for i in range(len(hdr))]
    for row in [hdr] + rows:
        print("  ".join(x.ljust(w[i]) for i, x in enumerate(row)).rstrip())


if __name__ == "__main__":
    main()
