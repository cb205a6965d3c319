#!/usr/bin/env bash
# resq vs PyTorch on the same machine and data:
#   1. one MNIST training epoch of mlp:784-1024x3-10,drop=0.2 (batch 100, SGD
#      momentum 0.9, lr 0.05);
#   2. one MNIST training epoch of the CNN 32c5-p2-64c5-p2-fc512-10 (same
#      optimiser, no dropout, as in the peer);
#   3. inference throughput of 784-1024x3-10 over the MNIST test set, batch
#      100: resq packed ternary (resq infer), resq float32 (resq eval) and
#      PyTorch float32.
# PyTorch runs at each thread setting of TORCH_SETTINGS (torch threads :
# OpenBLAS threads; default "1:2 2:1": torch.set_num_threads(1) with OpenBLAS
# on 2 threads is its best for the MLP on 2 cores (shared/method.md), 2 torch
# threads with OpenBLAS on 1 for the CNN, whose convolutions run in oneDNN on
# torch's threads); each row shows its fastest setting beside it. It runs on OpenBLAS's best kernels
# for this CPU: Debian's OpenBLAS falls back to its SSE3 (Prescott) kernels
# on CPUs it does not know, so the script asks it which core type it runs
# (OPENBLAS_VERBOSE=2) and, when `resq bench openblas-core` calls that a
# fallback (or an OPENBLAS_CORETYPE in the environment weaker than this CPU
# allows, unless RESQ_KEEP_OPENBLAS_CORETYPE=1), sets OPENBLAS_CORETYPE to the
# best one. Prints a table with ratios;
# ratio > 1 means resq is faster. Timings are only meaningful on a quiet
# machine: the load average is printed with them.
#
# Usage: examples/peer-compare/run.sh [mlp] [cnn] [infer]   (default: all three)
# Env:   OUT=DIR (default /tmp/resq-peer-compare)  PYTHON=/usr/bin/python3
#        TORCH_SETTINGS="1:2 2:1"  INFER_SECONDS=5
#        ROUNDS=N  train epochs per side, taking turns; the table shows each
#                  side's fastest (default 1; 3 on a VM whose speed drifts)
#        BUSY=1   run a niced CPU-bound busy loop (nice -n 19) beside both sides
#                 for the whole run: a shared machine, as users' machines are
#        LIMIT=N  smoke test only: resq trains on the first N rows (its epoch
#                 time is then not comparable)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${OUT:-/tmp/resq-peer-compare}
py=${PYTHON:-/usr/bin/python3}
read -r -a settings <<<"${TORCH_SETTINGS:-1:2 2:1}"
for st in "${settings[@]}"; do
  [[ $st =~ ^[0-9]+:[0-9]+$ ]] || { echo "peer-compare: TORCH_SETTINGS entry $st is not TORCH:OPENBLAS threads, e.g. 1:2" >&2; exit 2; }
done
isec=${INFER_SECONDS:-5}
rounds=${ROUNDS:-1}
busy=${BUSY:-0}
[[ $busy =~ ^[01]$ ]] || { echo "peer-compare: BUSY=$busy, want 0 or 1" >&2; exit 2; }
peer=$root/peers/torch_peer.py
limit=()
[ -n "${LIMIT:-}" ] && limit=(--limit "$LIMIT")

parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(mlp cnn infer)
for p in "${parts[@]}"; do
  case $p in mlp|cnn|infer) ;; *) echo "peer-compare: unknown part $p (want mlp, cnn or infer)" >&2; exit 2 ;; esac
done
want() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

[ -x "$py" ] || { echo "peer-compare: $py not found; install Debian's PyTorch: apt-get install -y python3-torch" >&2; exit 2; }
"$py" -c 'import torch' 2>/dev/null || {
  echo "peer-compare: $py cannot import torch; install it with: apt-get install -y python3-torch" >&2
  echo "  (use Debian's /usr/bin/python3, not a pyenv or venv python, or set PYTHON=...)" >&2
  exit 2
}

. "$root/examples/lib.sh"
build_resq peer-compare
if [ "$busy" = 1 ]; then
  nice -n 19 sh -c 'while :; do :; done' &
  busy_pid=$!
  trap 'kill "$busy_pid" 2>/dev/null' EXIT
  echo "peer-compare: busy loop $busy_pid (nice 19) beside the whole run" >&2
fi

# blas_core: the core type PyTorch's OpenBLAS runs, as it prints it.
blas_core() {
  OPENBLAS_VERBOSE=2 "$py" -c 'import torch; torch.ones(64, 64) @ torch.ones(64, 64)' 2>&1 |
    sed -n 's/^Core: //p' | head -n 1
}
core=$(blas_core)
if [ -n "$core" ]; then
  decision=$("$resq" bench openblas-core --running "$core")
  set_core=$(echo "$decision" | sed -n 's/^set=//p')
  if [ -n "$set_core" ]; then
    echo "peer-compare: PyTorch's OpenBLAS: $(echo "$decision" | sed -n 's/^# //p'); running it with OPENBLAS_CORETYPE=$set_core" >&2
    user_core=${OPENBLAS_CORETYPE:-}
    export OPENBLAS_CORETYPE=$set_core
    auto_core=$core
    core=$(blas_core)
    [ "$core" = "$set_core" ] || echo "peer-compare: warning: OpenBLAS runs core ${core:-unknown} with OPENBLAS_CORETYPE=$set_core" >&2
    if [ -n "$user_core" ]; then
      blas_note="core $core (OPENBLAS_CORETYPE=$set_core, replacing the environment's weaker $user_core; RESQ_KEEP_OPENBLAS_CORETYPE=1 keeps it)"
    else
      blas_note="core $core (OPENBLAS_CORETYPE=$set_core: it had fallen back to $auto_core)"
    fi
  else
    blas_note=$("$resq" bench openblas-core --running "$core" | sed -n 's/^# //p')
  fi
else
  blas_note="core unknown (OPENBLAS_VERBOSE=2 printed none: PyTorch may not use OpenBLAS)"
fi
# torch_best OUT WHAT ARGS...: runs the peer at every setting, keeps the
# JSON of the best (lowest epoch_seconds, or highest samples_per_second)
# in OUT and sets $best_setting; every setting's figure goes to stderr.
torch_best() {
  local dst=$1 what=$2 st tt ot v best=
  shift 2
  for st in "${settings[@]}"; do
    tt=${st%%:*} ot=${st##*:}
    OPENBLAS_NUM_THREADS=$ot "$py" "$peer" "$what" --mnist "$mnist" --threads "$tt" "$@" >"$dst.try"
    if [ "$what" = infer-mlp ]; then v=$(jget samples_per_second <"$dst.try"); else v=$(jget epoch_seconds 0 <"$dst.try"); fi
    echo "peer-compare: pytorch $what torch ${tt}t OpenBLAS ${ot}t: $v" >&2
    if [ -z "$best" ] || awk -v a="$v" -v b="$best" -v inf="$what" 'BEGIN{ exit !(inf == "infer-mlp" ? a > b : a < b) }'; then
      best=$v
      best_setting="torch ${tt}t, OpenBLAS ${ot}t ${core:-?}"
      mv "$dst.try" "$dst"
    fi
  done
  rm -f "$dst.try"
}
mkdir -p "$out"
"$resq" data fetch mnist >&2
mnist=$("$resq" data list | awk '$1 == "mnist" {print $3}')
[ -d "$mnist" ] || { echo "peer-compare: cannot find the MNIST folder (resq data list)" >&2; exit 2; }

# jget KEY [INDEX] < JSON: a top-level number, or element INDEX of a list.
jget() {
  "$py" -c 'import json,sys
v = json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]]
if isinstance(v, list): v = v[int(sys.argv[2]) if len(sys.argv) > 2 else 0]
print(v)' "$@"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a > 0 && b > 0) printf "%.2f", a / b; else print "-" }'; }

rows=()
# nice X: X with 2 decimals below 100, none above; other text unchanged.
nice() { awk -v x="$1" 'BEGIN{ if (x ~ /^[-0-9.eE+]+$/) printf (x < 100 ? "%.2f" : "%.0f"), x; else print x }'; }
row() { rows+=("$1|$2|$(nice "$3")|$(nice "$4")|$5|$6"); }

mlp_spec=mlp:784-1024x3-10,drop=0.2
if want mlp || want infer; then
  echo "peer-compare: resq train $mlp_spec, 1 epoch" >&2
  "$resq" train --model "$mlp_spec" --data mnist --epochs 1 --batch 100 --lr 0.05 --momentum 0.9 \
    --schedule constant "${limit[@]}" --out "$out/mlp.st" --json >"$out/resq-mlp.json"
fi
# epochs NAME RESQ_MODEL PEER_WHAT [PEER_ARGS...]: ROUNDS epochs of each,
# taking turns (resq, PyTorch, resq, ...), so that a slow spell of a shared
# machine hits both; the row shows each side's fastest epoch and the
# stderr line every epoch.
epochs() {
  local name=$1 model=$2 what=$3 rs=() ts=() i r t v tbest= tset=
  shift 3
  for ((i = 1; i <= rounds; i++)); do
    if [ "$i" -gt 1 ] || ! [ -s "$out/resq-$name.json" ]; then
      echo "peer-compare: resq train $model, 1 epoch (round $i/$rounds)" >&2
      "$resq" train --model "$model" --data mnist --epochs 1 --batch 100 --lr 0.05 --momentum 0.9 \
        --schedule constant "${limit[@]}" --out "$out/$name.st" --json >"$out/resq-$name.json"
    fi
    rs+=("$(jget epoch_seconds 0 <"$out/resq-$name.json")")
    echo "peer-compare: pytorch $what, 1 epoch (round $i/$rounds)" >&2
    torch_best "$out/torch-$name.json" "$what" "$@"
    v=$(jget epoch_seconds 0 <"$out/torch-$name.json")
    ts+=("$v")
    if [ -z "$tbest" ] || awk -v a="$v" -v b="$tbest" 'BEGIN{ exit !(a < b) }'; then tbest=$v tset=$best_setting; fi
  done
  echo "$tset" >"$out/torch-$name.setting"
  r=$(printf '%s\n' "${rs[@]}" | sort -g | head -n 1)
  t=$(printf '%s\n' "${ts[@]}" | sort -g | head -n 1)
  echo "$name epochs (s), in turn: resq ${rs[*]}; pytorch ${ts[*]}" >"$out/$name-epochs.txt"
  echo "$r $t"
}
if want mlp; then
  read -r r t < <(epochs mlp "$mlp_spec" train-mlp --drop 0.2)
  row "MLP 784-1024x3-10 drop 0.2, 1 epoch" "s/epoch" "$r" "$t" "$(ratio "$t" "$r")" "$(cat "$out/torch-mlp.setting")"
fi
if want cnn; then
  rm -f "$out/resq-cnn.json"
  read -r r t < <(epochs cnn cnn:32c5-p2-64c5-p2-fc512-10 train-cnn)
  row "CNN 32c5-p2-64c5-p2-fc512-10, 1 epoch" "s/epoch" "$r" "$t" "$(ratio "$t" "$r")" "$(cat "$out/torch-cnn.setting")"
fi
if want infer; then
  echo "peer-compare: pytorch infer-mlp, ${isec} s" >&2
  torch_best "$out/torch-infer.json" infer-mlp --batch 100 --seconds "$isec"
  t=$(jget samples_per_second <"$out/torch-infer.json")
  echo "peer-compare: resq eval (float32)" >&2
  "$resq" eval "$out/mlp.st" --data mnist --batch 100 --seconds "$isec" --json >"$out/resq-eval.json"
  f=$(jget throughput <"$out/resq-eval.json" | "$py" -c 'import ast,sys; print("%.0f" % ast.literal_eval(sys.stdin.read())["samples_per_second"])')
  row "infer 784-1024x3-10 float32 (resq eval)" "samples/s" "$f" "$t" "$(ratio "$f" "$t")" "$best_setting"
  echo "peer-compare: resq quantize --bits 2, export, infer" >&2
  if "$resq" quantize "$out/mlp.st" --bits 2 --data mnist --out "$out/mlp-t.st" >"$out/quantize.log" 2>&1 &&
     "$resq" export "$out/mlp-t.st" --out "$out/mlp-t.rq" >"$out/export.log" 2>&1 &&
     "$resq" infer "$out/mlp-t.rq" --data mnist --batch 100 --seconds "$isec" --json >"$out/resq-infer.json" 2>"$out/infer.log"; then
    q=$(jget samples_per_second <"$out/resq-infer.json")
    row "infer 784-1024x3-10 packed ternary (resq infer)" "samples/s" "$q" "$t" "$(ratio "$q" "$t")" "$best_setting"
  else
    echo "peer-compare: packed ternary path failed:" >&2
    cat "$out/quantize.log" "$out/export.log" "$out/infer.log" 2>/dev/null | tail -n 3 >&2
    row "infer 784-1024x3-10 packed ternary (resq infer)" "samples/s" "failed" "$t" "-" "$best_setting"
  fi
fi

echo
printf '%-48s %-10s %12s %12s %8s  %s\n' measurement unit resq pytorch ratio "pytorch setting"
for r in "${rows[@]}"; do
  IFS='|' read -r what unit rv tv ra ps <<<"$r"
  printf '%-48s %-10s %12s %12s %8s  %s\n' "$what" "$unit" "$rv" "$tv" "$ra" "$ps"
done
for f in mlp cnn; do
  want "$f" && [ -s "$out/$f-epochs.txt" ] && cat "$out/$f-epochs.txt"
done
echo "PyTorch's OpenBLAS: $blas_note"
echo "(ratio > 1: resq faster. PyTorch at each of TORCH_SETTINGS=\"${settings[*]}\" (torch:OpenBLAS threads), its best shown; resq GEMM threads: all cores;"
[ "$busy" = 1 ] && echo " both sides timed beside a niced CPU-bound busy loop (BUSY=1)"
echo " load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores: timings on a busy machine are not comparable)"
