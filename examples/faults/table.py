#!/usr/bin/env python3
"""Prints the tables of examples/faults/run.sh from resq faults --json files.

Per file and part: one row per protection with its stored-bit cost, the
mean test error (%) at each bit error rate and the tolerated rate; then
one summary table of the tolerated rate per precision (protection none,
part all)."""
import json
import sys


def ber(b):
    return "none" if b == 0 else f"{b:.0e}"


def main(paths):
    summary = []
    for p in paths:
        with open(p) as f:
            r = json.load(f)
        name = f"{r['model']} ({r['format']}, {r['bits'].split(',')[0]}-bit)"
        print(f"\n{name}: fault-free {r['fault_free_err_pct']:.2f}%, {r['stored_bits']} stored bits, {r['trials']} trials per rate")
        bers = [pt["ber"] for pt in r["curves"][0]["points"]]
        print("| part | protection | extra bits | " + " | ".join(ber(b) for b in bers) + " | tolerated | broken at 1e-2 |")
        print("|---|---|---|" + "---|" * len(bers) + "---|---|")
        for c in r["curves"]:
            cells = [f"{pt['mean_err_pct']:.2f} ± {pt['std_err_pct']:.2f}" for pt in c["points"]]
            print(f"| {c['part']} | {c['protection']} | {c['extra_bits']} ({c['extra_pct']:.1f}%) | " + " | ".join(cells) +
                  f" | {ber(c['tolerated_ber'])} | {100 * c['points'][-1]['broken_frac']:.0f}% |")
            if c["protection"] == "none" and c["part"] in ("all", "activations"):
                summary.append((name, c["part"], r["fault_free_err_pct"], c["tolerated_ber"], c["points"]))
    print("\nTolerated BER (mean error within 0.5 pp of fault-free; no protection)")
    print("| model | part | fault-free | tolerated BER | mean error at 1e-4 | at 1e-3 | at 1e-2 |")
    print("|---|---|---|---|---|---|---|")
    for name, part, ff, tol, pts in summary:
        at = {pt["ber"]: pt["mean_err_pct"] for pt in pts}
        print(f"| {name} | {part} | {ff:.2f}% | {ber(tol)} | " + " | ".join(f"{at.get(b, float('nan')):.2f}%" for b in (1e-4, 1e-3, 1e-2)) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
