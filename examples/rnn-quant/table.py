#!/usr/bin/env python3
"""Prints the error-vs-size table of a resq report's summary.csv, one
Markdown table per group: per size the weights, the float error and, per
precision (direct and retrained, 2 and 3 bits), the test error, its gap to
float and the ECR. Usage: table.py REPORT_DIR/summary.csv"""
import csv, sys
from collections import OrderedDict

rows = list(csv.DictReader(open(sys.argv[1])))
groups = OrderedDict()
for r in rows:
    groups.setdefault(r["group"], []).append(r)
for g, rs in groups.items():
    unit = "bpc" if g.startswith("fortunes") else "%"
    sizes = OrderedDict()
    for r in rs:
        sizes.setdefault(int(r["size_value"]), {})[(r["mode"], r["bits"])] = r
    precs = [("direct", "2"), ("retrain", "2"), ("direct", "3"), ("retrain", "3")]
    print(f"\n{g} (error in {unit})\n")
    head = ["size", "weights", "float"] + [f"{m} {b}b (gap, ECR)" for m, b in precs]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for s in sorted(sizes):
        c = sizes[s]
        fl = c.get(("float", "32"))
        w = (fl or next(iter(c.values())))["weights"]
        line = [str(s), w, f"{float(fl['test_error_mean_pct']):.2f}" if fl else "-"]
        for p in precs:
            r = c.get(p)
            if not r or r["seeds_ok"] == "0":
                line.append("-")
                continue
            gap = r["gap_to_float_pp"]
            gap = f"{float(gap):+.2f}" if gap else "?"
            ecr = r["ecr_text"] or "n/a"
            line.append(f"{float(r['test_error_mean_pct']):.2f} ({gap}, {ecr})")
        print("| " + " | ".join(line) + " |")
