#!/usr/bin/env bash
# Trains resq's three accuracy targets (an MLP and two CNNs) with the
# settings found in docs/NOTES.md and prints a table: model,
# dataset, epochs, wall time, test error, target, PASS/FAIL.
#
# Usage: examples/targets/run.sh [all|mlp|cnn|fcnn ...]   (default: all)
# Env:   OUT=DIR      checkpoints and logs (default /tmp/resq-targets)
#        THREADS=N    GEMM threads per run (default 0: all cores)
#        EPOCHS=N LIMIT=N  smoke test only: override every target's epochs and
#                     use the first N train/test rows (the targets then FAIL)
# Time:  measured on 2 busy cores (load ~5-10) after the GEMM rewrite: MLP
#        ~45 s/epoch (10 epochs), 3x3 CNN ~100 s/epoch; on a quiet machine less.
#        Exit status 1 if a target fails. Runs and results: docs/NOTES.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${OUT:-/tmp/resq-targets}
threads=${THREADS:-0}
limit=()
[ -n "${LIMIT:-}" ] && limit=(--limit "$LIMIT")

# name | dataset | model spec | epochs | extra train flags | target test error %
targets=(
  "mlp|mnist|mlp:784-1024x3-10,drop=0.2|10|--lr 0.05 --schedule cosine --momentum 0.9 --batch 100|1.4"
  "cnn|mnist|cnn:32c3-p2-64c3-p2-fc256-10,drop=0.25|5|--lr 0.05 --schedule cosine --momentum 0.9 --batch 100|0.8"
  "fcnn|fashion-mnist|cnn:32c3-bn-p2-64c3-bn-p2-fc256-10,drop=0.3|5|--lr 0.05 --schedule cosine --momentum 0.9 --batch 100|9.0"
)

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(all)
selected() {
  local w
  for w in "${want[@]}"; do [ "$w" = all ] || [ "$w" = "$1" ] && return 0; done
  return 1
}
for w in "${want[@]}"; do
  case $w in all|mlp|cnn|fcnn) ;; *) echo "targets: unknown target $w (want all, mlp, cnn or fcnn)" >&2; exit 2 ;; esac
done

. "$root/examples/lib.sh"
build_resq targets
mkdir -p "$out"

# Datasets: MNIST is offline in a Go module; Fashion-MNIST needs a Debian package.
need_fashion=0
selected fcnn && need_fashion=1
"$resq" data fetch mnist >&2
if [ $need_fashion = 1 ]; then
  if ! "$resq" data fetch fashion-mnist >&2; then
    echo "targets: Fashion-MNIST missing: install it with 'apt-get install -y dataset-fashion-mnist'" >&2
    exit 2
  fi
fi

# num KEY FILE: the number after "KEY": in the last JSON line of FILE.
num() { tail -n 1 "$2" | sed -n "s/.*\"$1\":\([-0-9.eE+]*\).*/\1/p"; }

rows=()
fail=0
for t in "${targets[@]}"; do
  IFS='|' read -r name data spec epochs flags target <<<"$t"
  selected "$name" || continue
  epochs=${EPOCHS:-$epochs}
  log=$out/$name.log
  echo "targets: $name: resq train --model $spec --data $data --epochs $epochs $flags (log $log)" >&2
  start=$(date +%s.%N)
  # shellcheck disable=SC2086 # flags is a word list on purpose
  "$resq" train --model "$spec" --data "$data" --epochs "$epochs" $flags --threads "$threads" "${limit[@]}" \
    --out "$out/$name.st" --json >"$log" 2>"$out/$name.err" || { cat "$out/$name.err" >&2; exit 1; }
  wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.0f", b-a}')
  err=$(num test_error_pct "$log")
  [ -n "$err" ] || { echo "targets: $name: no test_error_pct in $log" >&2; exit 1; }
  verdict=$(awk -v e="$err" -v t="$target" 'BEGIN{print (e <= t) ? "PASS" : "FAIL"}')
  [ "$verdict" = PASS ] || fail=1
  rows+=("$spec|$data|$epochs|$wall|$err|$target|$verdict")
done

echo
printf '%-42s %-14s %6s %9s %10s %8s %s\n' model dataset epochs wall_s test_err% target result
for r in "${rows[@]}"; do
  IFS='|' read -r spec data epochs wall err target verdict <<<"$r"
  printf '%-42s %-14s %6s %9s %10.2f %8s %s\n' "$spec" "$data" "$epochs" "$wall" "$err" "<= $target" "$verdict"
done
echo "(wall_s: whole command, data loading and test evaluation included; load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
exit $fail
